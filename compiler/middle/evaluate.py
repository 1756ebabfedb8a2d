"""The reference evaluator: the IR's meaning, written as plainly as possible.

    evaluate(policy, facts) -> {"outcome", "rule", "source", "discloses", "actions",
                                "<decision>": value, "rules": {decision: rule name}}

`facts` are already-typed Python values (enum codes as str, bool, aware datetime,
timedelta, int/Decimal); missing optional facts take their defaults. It does no
input validation: the generated module's own validation is tested separately. Used
as the second implementation the generated code is tested against, input by input.
"""

from __future__ import annotations

import datetime as dt
import operator
from typing import Any, Mapping

from ..runtime.support import NUMBERS, ceil_to, check_number, exact_sum, floor_to, in_window, is_holiday, round_to
from . import ir

_EXACT = {"+": NUMBERS.add, "-": NUMBERS.subtract, "*": NUMBERS.multiply, "/": NUMBERS.divide}
_ROUNDING = {"floor": floor_to, "ceil": ceil_to, "round": round_to}
_CMP = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
        ">": operator.gt, ">=": operator.ge}


class Env(ir.Visitor):
    """The facts (defaults filled in), constants and derived values of one input, and
    `eval(expr)` over them. The analysis and the tools evaluate conditions with it too."""

    def __init__(self, policy: ir.Policy, facts: Mapping[str, Any]):
        self.policy = policy
        # an optional fact left out is None; a list item is a mapping of its fields
        self.facts = {f.name: facts[f.name] if f.name in facts else f.default for f in policy.facts}
        self.consts = {c.name: c.value for c in policy.consts}
        self.zone = dt.timezone(policy.zone_offset) if policy.zone_offset is not None else dt.timezone.utc
        self.items: list[Mapping[str, Any]] = []  # the list items aggregates are looking at, innermost last
        self.derived: dict[str, Any] = {}
        for d in policy.derived:
            self.derived[d.name] = None if self._missing(d.needs) else self.eval(d.expr)

    eval = ir.Visitor.visit

    def _missing(self, needs) -> bool:
        """Whether a value a derived value needs is not there (then it has none either)."""
        for kind, what in needs:
            if (self.facts.get(what) if kind == "fact" else self.eval(what)) is None:
                return True
        return False

    def visit_FactRef(self, e: ir.FactRef) -> Any:
        return self.facts[e.name]

    def visit_DerivedRef(self, e: ir.DerivedRef) -> Any:
        return self.derived[e.name]

    def visit_ConstRef(self, e: ir.ConstRef) -> Any:
        return self.consts[e.name]

    def visit_Value(self, e: ir.Value) -> Any:
        return e.value

    def visit_Arith(self, e: ir.Arith) -> Any:
        left, right = self.eval(e.left), self.eval(e.right)
        if e.type.kind in ("number", "money"):  # exactly, as decide() does
            return _EXACT[e.op](left, right)
        return left + right if e.op == "+" else left - right

    def visit_Call(self, e: ir.Call) -> Any:
        args = [self.eval(a) for a in e.args]
        if e.fn in ("min", "max"):
            return min(args) if e.fn == "min" else max(args)
        if e.fn in _ROUNDING:
            return _ROUNDING[e.fn](*args)
        local = args[0].astimezone(self.zone)
        if e.fn == "date_of":
            return local.date()
        if e.fn == "time_of":
            return local.time()
        return ir.WEEKDAYS[local.weekday()][0]

    def visit_IfElse(self, e: ir.IfElse) -> Any:
        return self.eval(e.then) if self.eval(e.cond) else self.eval(e.else_)

    def visit_Given(self, e: ir.Given) -> bool:
        return self.eval(e.item) is not None

    def visit_Item(self, e: ir.Item) -> Any:
        return self.items[-1].get(e.name)

    def visit_Aggregate(self, e: ir.Aggregate) -> Any:
        chosen = []
        for item in self.facts[e.list]:
            self.items.append(item)
            try:
                if self.eval(e.where):
                    chosen.append(item)
            finally:
                self.items.pop()
        if e.op == "count":
            return len(chosen)
        if e.op == "any":
            return bool(chosen)
        if e.op == "all":
            return len(chosen) == len(self.facts[e.list])
        values = [item if e.field is None else item.get(e.field) for item in chosen]
        if e.op == "first":
            return values[0] if values else None
        if e.op == "sum":
            return exact_sum(values, dt.timedelta(0) if e.type.kind == "duration" else 0)
        return (max(values) if e.op == "max" else min(values)) if values else None

    def visit_ActionCall(self, e: ir.ActionCall) -> tuple:
        return e.name, dict(zip(e.params, (self.eval(a) for a in e.args)))

    def visit_Actions(self, e: ir.Actions) -> tuple:
        return tuple(self.eval(c) for c in e.calls)

    def visit_Cmp(self, e: ir.Cmp) -> bool:
        return _CMP[e.op](self.eval(e.left), self.eval(e.right))

    def visit_In(self, e: ir.In) -> bool:
        item, group = self.eval(e.item), self.eval(e.set)
        if e.set.type.kind == "window":
            found = in_window(item, *group)
        elif e.set.type.kind == "holidays":
            found = is_holiday("date", item, (frozenset(d for d, _ in group.dates), group.first_year, group.last_year))
        else:
            found = item in group
        return not found if e.negated else found

    def visit_Not(self, e: ir.Not) -> bool:
        return not self.eval(e.operand)

    def visit_And(self, e: ir.And) -> bool:
        return all(self.eval(x) for x in e.operands)

    def visit_Or(self, e: ir.Or) -> bool:
        return any(self.eval(x) for x in e.operands)

    def visit_Lookup(self, e: ir.Lookup) -> Any:
        return dict(self.consts[e.map])[self.eval(e.key)]

    def visit_TupleOf(self, e: ir.TupleOf) -> tuple:
        return tuple(self.eval(x) for x in e.items)


def holiday_tests(policy: ir.Policy) -> list[ir.In]:
    if "holiday_tests" not in policy.memo:  # a walk of every rule: once per policy, where there is a table
        marks = ir.census(policy)
        there = any(cls is ir.In and detail == "holidays"
                    for part in ("derived", "requires", "conds") for cls, _, detail in marks[part])
        policy.memo["holiday_tests"] = _holiday_tests(policy) if there else []
    return list(policy.memo["holiday_tests"])


def _holiday_tests(policy: ir.Policy) -> list[ir.In]:
    """Every `date in HOLIDAYS` whose date is always there (not inside an aggregate, reading
    nothing optional): decide() checks each date against its table's years up front, so a
    date the table cannot tell is turned down whichever rules an input reaches."""
    found: dict[ir.In, None] = {}

    def visit(e: ir.Expr) -> None:
        if isinstance(e, ir.Aggregate):
            return  # per item: checked where it is read
        if isinstance(e, ir.In) and e.set.type.kind == "holidays" and _always_there(policy, e.item):
            found[e] = None
        for x in ir.children(e):
            visit(x)

    for d in policy.derived:
        visit(d.expr)
    for r in policy.requires:
        visit(r.cond)
    for d in policy.decisions:
        for rule in d.rules:
            if rule.cond is not None:
                visit(rule.cond)
    return list(found)


_CALENDAR = ("date_of", "time_of", "weekday")


def calendar_reads(policy: ir.Policy) -> tuple[list[ir.Call], list[ir.Call]]:
    if "calendar_reads" not in policy.memo:
        marks = ir.census(policy)
        there = any(cls is ir.Call and detail in _CALENDAR
                    for part in ("requires", "conds", "outputs") for cls, _, detail in marks[part])
        policy.memo["calendar_reads"] = _calendar_reads(policy) if there else ([], [])
    always, sometimes = policy.memo["calendar_reads"]
    return list(always), list(sometimes)


def _rules_only_compare(policy: ir.Policy) -> bool:
    """Whether the rules only compare facts (no derived value, calendar or holiday table)
    and yield constants: then applying them raises nothing for facts that passed the
    checks above."""
    if "rules_only_compare" not in policy.memo:
        plain = (ir.FactRef, ir.ConstRef, ir.Value, ir.Cmp, ir.In, ir.Not, ir.And, ir.Or)
        conds = ir.census(policy)["conds"]
        policy.memo["rules_only_compare"] = all(
            cls in plain and (cls is not ir.In or detail != "holidays") for cls, _, detail in conds) \
            and all(d.yields_outcome or isinstance(r.output, (ir.Value, ir.ConstRef))
                    for d in policy.decisions for r in d.rules) \
            and not any(c.params for o in policy.outcomes for c in o.calls)
    return policy.memo["rules_only_compare"]


def _calendar_reads(policy: ir.Policy) -> tuple[list[ir.Call], list[ir.Call]]:
    """The `date_of`/`time_of`/`weekday` calls of the requirements and rules (not inside an
    aggregate): those whose instant is always there, which decide() converts up front (an
    instant whose date in the zone has no Python date is turned down whichever rules an
    input reaches, as the SQL back end turns it down), and the others."""
    always: dict[ir.Expr, ir.Call] = {}
    sometimes: dict[ir.Expr, ir.Call] = {}
    stack = [r.cond for r in policy.requires]
    stack += [x for d in policy.decisions for rule in d.rules for x in (rule.cond, rule.output) if x is not None]
    while stack:
        e = stack.pop()
        if isinstance(e, ir.Aggregate):
            continue
        if isinstance(e, ir.Call) and e.fn in _CALENDAR:
            (always if _always_there(policy, e.args[0]) else sometimes).setdefault(e.args[0], e)
        stack.extend(ir.children(e))
    return list(always.values()), list(sometimes.values())


def _always_there(policy: ir.Policy, e: ir.Expr) -> bool:
    for x in ir.walk(e):
        if isinstance(x, ir.FactRef) and policy.fact(x.name).optional:
            return False
        if isinstance(x, ir.DerivedRef) and policy.derived_by_name[x.name].needs:
            return False
        if isinstance(x, (ir.Aggregate, ir.Item)):
            return False
    return True


def requirements_hold(policy: ir.Policy, facts: Mapping[str, Any]) -> bool:
    """Whether decide() takes these (typed) facts: each number is one it accepts (under
    10**15, at most 9 places), every derived value can be computed (an instant past year
    9999 cannot) and every `require` holds."""
    try:
        for f in policy.facts:
            if f.type.kind == "number" and f.name in facts:
                check_number(f.name, facts[f.name])
        env = Env(policy, facts)
        for test in holiday_tests(policy):
            env.eval(test)  # a date outside its table's years: turned down
        for call in calendar_reads(policy)[0]:
            env.eval(call)  # an instant whose local date Python has no date for: turned down
    except (OverflowError, ValueError):  # PolicyInputError is a ValueError
        return False
    if not all(env.eval(r.cond) for r in policy.requires):
        return False
    if _rules_only_compare(policy):
        return True  # nothing the rules read can turn these facts down (a long table: no pass over it)
    try:  # what the rules read: a date outside a holiday table is turned down there
        evaluate(policy, facts)
    except ValueError:
        return False
    except LookupError:  # no rule matches (a gap): the input itself is valid
        pass
    return True


def evaluate(policy: ir.Policy, facts: Mapping[str, Any]) -> dict[str, Any]:
    env = Env(policy, facts)
    result: dict[str, Any] = {"rules": {}}
    args: dict[str, dict] = {}
    for decision in policy.decisions:
        if decision.yields_actions:
            fired = [r for r in decision.rules if r.cond is None or env.eval(r.cond)]
            if decision.hit_policy != "all":
                fired = fired[:1]
            result["rules"][decision.name] = tuple(r.name for r in fired)
            for rule in fired:
                for name, given in env.eval(rule.output):
                    args.setdefault(name, given)  # the first rule to name an action gives its values
            continue
        rule = next((r for r in decision.rules if r.cond is None or env.eval(r.cond)), None)
        if rule is None:
            raise LookupError(f"no rule of decision {decision.name} matches")
        result["rules"][decision.name] = rule.name
        value = env.eval(rule.output)
        if decision.yields_outcome:
            outcome = policy.outcome(value)
            result.update(outcome=value, rule=rule.name, source=policy.source_of(rule),
                          discloses=frozenset(outcome.discloses))
            for name, given in (env.eval(c) for c in outcome.calls):
                args[name] = given
        else:
            result[decision.name] = value
    result["actions"] = frozenset(args)
    result["action_args"] = {name: given for name, given in args.items() if given}
    return result
