"""Values that may be missing are read only where the policy checked they are there.

An optional fact (`fact paid: money optional`), an optional field of a list item, a derived
value that reads one, and `max`/`min`/`first` over items that may not be there have no
value in some inputs. Reading one is fine only where `x is given` is known to hold:
earlier in the same `and` chain, after `x is missing or` in an `or` chain, in the `then`
of `if x is given`, or after an earlier rule of a `(first)` decision that took every input
where it is missing. A reply or an action argument may show one only if every rule that
leads to it knows it is there. Nothing falls back to a silent default.

    unguarded(expr, known, deps) -> {(key, span)}   reads of missing-able values not known present
    check(policy) -> [Diagnostic]                   every condition, output, reply of the policy
"""

from __future__ import annotations

from ..diagnostics import Diagnostic, Related
from ..korean import quoted
from ..source import Span
from . import ir

Key = tuple  # ("fact", name) | ("item", name) | ("agg", Aggregate)


def may_be_missing(e: ir.Expr, policy_facts: dict, record: ir.Record | None, deps: dict,
                   records: dict | None = None) -> frozenset:
    """The keys whose presence `e` stands for (empty: it is always there). `first(…).field`
    of a required field is there when an item is: one key for every such field."""
    if isinstance(e, ir.FactRef):
        f = policy_facts.get(e.name)
        return frozenset({("fact", e.name)}) if f is not None and f.optional else frozenset()
    if isinstance(e, ir.Item):
        f = record.fields_by_name.get(e.name) if record is not None else None
        return frozenset({("item", e.name)}) if f is not None and f.optional else frozenset()
    if isinstance(e, ir.DerivedRef):
        return frozenset(deps.get(e.name, ()))
    if isinstance(e, ir.Aggregate) and e.op == "first" and records is not None and e.field is not None:
        fact = policy_facts.get(e.list)
        item = records.get(fact.type.item) if fact is not None else None
        if item is not None and not item.fields_by_name[e.field].optional:
            return frozenset({("agg", ir.Aggregate("first", e.list, e.where))})
    if isinstance(e, ir.Aggregate) and e.op in ("max", "min", "first"):
        return frozenset({("agg", e)})
    return frozenset()


class Guards:
    """Reads of values that may be missing, with what each condition tells about presence."""

    def __init__(self, facts: dict, records: dict, deps: dict) -> None:
        self.facts = facts
        self.records = records
        self.deps = deps  # derived value -> the keys it needs
        self.inner: list[tuple[Key, Span]] = []  # unguarded reads inside aggregates' conditions

    def keys(self, e: ir.Expr, record: ir.Record | None = None) -> frozenset:
        return may_be_missing(e, self.facts, record, self.deps, self.records)

    def pos(self, e: ir.Expr, record=None) -> frozenset:
        """Keys known present when `e` is true."""
        if isinstance(e, ir.Given):
            return self.keys(e.item, record)
        if isinstance(e, ir.Not):
            return self.neg(e.operand, record)
        if isinstance(e, ir.And):
            return frozenset().union(*(self.pos(x, record) for x in e.operands))
        if isinstance(e, ir.Or):
            return frozenset.intersection(*(self.pos(x, record) for x in e.operands))
        return frozenset()

    def neg(self, e: ir.Expr, record=None) -> frozenset:
        """Keys known present when `e` is false."""
        if isinstance(e, ir.Not):
            return self.pos(e.operand, record)
        if isinstance(e, ir.And):
            return frozenset.intersection(*(self.neg(x, record) for x in e.operands))
        if isinstance(e, ir.Or):
            return frozenset().union(*(self.neg(x, record) for x in e.operands))
        return frozenset()

    def unguarded(self, e: ir.Expr, known: frozenset, record: ir.Record | None = None) -> list[tuple[Key, Span]]:
        """Reads in `e` of values that may be missing and are not known present."""
        out: list[tuple[Key, Span]] = []
        if isinstance(e, ir.Given):
            if isinstance(e.item, ir.Aggregate):
                self._aggregate(e.item)
            return out
        if isinstance(e, (ir.FactRef, ir.Item, ir.DerivedRef)):
            return [(k, e.span) for k in sorted(self.keys(e, record) - known, key=repr)]
        if isinstance(e, ir.Aggregate):
            self._aggregate(e)
            return [(k, e.span) for k in self.keys(e, record) if k not in known]
        if isinstance(e, (ir.And, ir.Or)):
            acc = known
            for x in e.operands:
                out += self.unguarded(x, acc, record)
                acc = acc | (self.pos(x, record) if isinstance(e, ir.And) else self.neg(x, record))
            return out
        if isinstance(e, ir.IfElse):
            return (self.unguarded(e.cond, known, record)
                    + self.unguarded(e.then, known | self.pos(e.cond, record), record)
                    + self.unguarded(e.else_, known | self.neg(e.cond, record), record))
        for x in ir.children(e):
            out += self.unguarded(x, known, record)
        return out

    def _aggregate(self, a: ir.Aggregate) -> None:
        """An aggregate's condition and field are read per item: guarded there."""
        fact = self.facts.get(a.list)
        record = self.records.get(fact.type.item) if fact is not None else None
        self.inner += self.unguarded(a.where, frozenset(), record)
        if a.field is not None and record is not None and record.fields_by_name[a.field].optional:
            key = ("item", a.field)
            if key not in self.pos(a.where, record):
                self.inner.append((key, a.span))


def name_of(key: Key) -> str:
    return key[1] if key[0] != "agg" else f"{key[1].op}({key[1].list} …)"


def _subject(key: Key) -> str:
    """`paid`은 / `max(pets …)`은: the value, with its particle."""
    if key[0] == "agg":
        return f"`{key[1].op}({key[1].list} …)`은 맞는 항목이 없으면 값이 없어,"
    return f"{quoted(key[1], '은/는')}"


def _error(key: Key, span: Span, where: str = "") -> Diagnostic:
    name = name_of(key)
    return Diagnostic("E0311", span, f"{_subject(key)} 없을 수 있는 값입니다{where}",
                      f"먼저 있는지 확인하세요: `{name} is given and …` (없을 때의 규칙은 `{name} is missing` 으로 앞에 두세요)",
                      "있는지 확인하지 않고 읽는 값")


def check(policy: ir.Policy) -> list[Diagnostic]:
    if not any(f.optional for f in policy.facts) and not _aggregates(policy):
        return []  # every value is always there (a long table of required facts: no walk of it)
    deps = {d.name: frozenset(d.needs) for d in policy.derived}
    g = Guards(policy.facts_by_name, policy.records_by_name, deps)
    diags: list[Diagnostic] = []
    for d in policy.derived:  # what a derived value reads unguarded makes it optional; inside aggregates is checked
        g.unguarded(d.expr, frozenset())

    def report(found, where=""):
        seen = set()
        for key, span in found:
            if (key, span) not in seen:
                seen.add((key, span))
                diags.append(_error(key, span, where))

    for r in policy.requires:
        report(g.unguarded(r.cond, frozenset()))
    for inv in policy.invariants:
        if inv.cond is not None:
            report(g.unguarded(inv.cond, frozenset()))
    reaching: dict[str, list[tuple[ir.Rule, frozenset]]] = {}
    for d in policy.decisions:
        before = frozenset()  # under (first): present wherever every earlier rule failed
        for rule in d.rules:
            known = before if d.hit_policy == "first" else frozenset()
            if rule.cond is not None:
                report(g.unguarded(rule.cond, known))
                there = known | g.pos(rule.cond)
            else:
                there = known
            report(g.unguarded(rule.output, there))
            if d.yields_outcome:
                reaching.setdefault(rule.output.value, []).append((rule, there))
            if rule.cond is not None and d.hit_policy == "first":
                before = before | g.neg(rule.cond)
    for outcome in policy.outcomes:
        needed = [(call.span, x) for call in outcome.calls for x in call.args]
        reads = [n for n in outcome.reply.uses if n in policy.facts_by_name or n in policy.derived_by_name]
        for rule, there in reaching.get(outcome.name, []):
            for span, arg in needed:
                report(g.unguarded(arg, there), f" (결과 `{outcome.name}` 의 조치, 규칙 `{rule.name}`)")
            for name in reads:
                ref = ir.DerivedRef(name) if name in policy.derived_by_name else ir.FactRef(name)
                missing = g.keys(ref) - there
                for key in sorted(missing, key=repr):
                    diags.append(Diagnostic(
                        "E0311", rule.span,
                        f"결과 `{outcome.name}` 의 답변이 보여 주는 {_subject(key)} 규칙 `{rule.name}` 에서는 "
                        "없을 수 있습니다",
                        f"이 규칙의 조건에 `{name_of(key)} is given and …` 을 더하세요", "있는지 확인하지 않는 규칙",
                        (Related(outcome.reply.origin, "이 값을 보여 주는 답변"),)))
    report(g.inner)
    return diags


def _aggregates(policy: ir.Policy) -> bool:
    """Whether `policy` has an aggregate anywhere (`max`, `min` and `first` may have no
    value; an item's optional field is read only inside one)."""
    if any(cls is ir.Aggregate for marks in ir.census(policy).values() for cls, _, _ in marks):
        return True
    return any(isinstance(x, ir.Aggregate) for o in policy.outcomes for call in o.calls for arg in call.args
               for x in ir.walk(arg))
