"""A long decision table as an index over its facts, for the generated decide().

    plan(policy, decision) -> Plan | None

A rule's condition is read as boxes: for each fact it tests against a constant, the
values it allows (a set of enum codes or bools, or intervals of an ordered fact: numbers,
money, durations, dates, times, instants). An `or` of such tests becomes one box per
alternative, in order; whatever else the condition says (a derived value, two facts
compared, an aggregate) stays as a residual test, tried only on the rules the index
leaves. decide() then asks `RuleTable.candidates` (runtime/support.py) for the rules whose
boxes hold and takes the first whose residual holds: the same rule the if/elif chain
would fire, in about the same time at 10,000 rules as at 10.

A decision is indexed when it has at least INDEX rules, first-match (or unique: check
proved no two rules meet) and yields an outcome or constant values; anything else keeps
the chain. `None` says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..middle import ir
from ..runtime.support import RuleTable, anchoring, kept_entries

INDEX = 64  # rules from which a decision is an index rather than an if/elif chain
_MAX_ALTERNATIVES = 16  # boxes one rule may become (an `or` of `or`s multiplies)
_BUDGET = 1 << 27  # bits of the index's tables at most (16 MB); a larger one keeps the chain
_ORDERED = {"number", "money", "duration", "date", "time", "timestamp"}
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}


@dataclass(frozen=True)
class Plan:
    facts: tuple[str, ...]  # the dimensions, in order
    dims: tuple[tuple | None, ...]  # keys of a keyed fact, None for an ordered one
    split: int  # the keyed dimension buckets are made on, or -1
    entries: tuple[tuple[tuple[int, Any], ...], ...]  # boxes, in rule order
    exact: tuple[bool, ...]  # the box is all its rule tests
    rule_of: tuple[int, ...]  # the rule of each box
    residual: tuple[ir.Expr | None, ...]  # what else the rule of a box tests (None: nothing)


def packed(pl: Plan) -> tuple[tuple, str]:
    """The plan's boxes in the form `RuleTable.load` reads: each ordered dimension's
    thresholds (sorted, None for a keyed one) and a JSON text, one entry per line."""
    cuts: list = [None if keys is not None else set() for keys in pl.dims]
    for box in pl.entries:
        for d, allowed in box:
            if cuts[d] is not None:
                cuts[d].update(t for lo, _, hi, _ in allowed for t in (lo, hi) if t is not None)
    cuts = [None if c is None else tuple(sorted(c)) for c in cuts]
    where = [None if c is None else {t: i for i, t in enumerate(c)} for c in cuts]
    bit = [None if keys is None else {k: 1 << i for i, k in enumerate(keys)} for keys in pl.dims]
    lines = []
    for box, exact in zip(pl.entries, pl.exact):
        parts = ["1" if exact else "0"]
        for d, allowed in box:
            if bit[d] is not None:
                parts.append(f"[{d},{sum(bit[d][k] for k in allowed)}]")
            else:
                at = where[d]
                parts.append(f"[{d}," + ",".join(f"{-1 if lo is None else at[lo]},{int(lo_in)},"
                                                  f"{-1 if hi is None else at[hi]},{int(hi_in)}"
                                                  for lo, lo_in, hi, hi_in in allowed) + "]")
        lines.append("[" + ",".join(parts) + "]")
    return tuple(cuts), "[\n" + ",\n".join(lines) + "\n]"


def plan(policy: ir.Policy, d: ir.Decision) -> Plan | None:
    if len(d.rules) < INDEX or d.yields_actions or d.hit_policy == "all":
        return None
    if not d.yields_outcome and not all(isinstance(r.output, (ir.Value, ir.ConstRef)) for r in d.rules):
        return None
    reader = _Reader(policy)
    entries, rule_of, residual = [], [], []
    for i, r in enumerate(d.rules):
        for box, rest in reader.rule(r.cond):
            entries.append(box)
            rule_of.append(i)
            residual.append(rest)
    facts = tuple(reader.order)
    if not facts:
        return None
    dims = tuple(reader.keys.get(f) for f in facts)
    index = {f: k for k, f in enumerate(facts)}
    boxes = [tuple(sorted((index[f], allowed) for f, allowed in box.items())) for box in entries]
    exact = tuple(r is None for r in residual)
    as_dicts = [dict(b) for b in boxes]
    split = RuleTable.best_split(dims, as_dicts)
    if _bits(dims, split, as_dicts, exact) > _BUDGET:
        return None
    return Plan(facts, dims, split, tuple(boxes), exact, tuple(rule_of), tuple(residual))


def _bits(dims, split, boxes, exact) -> int:
    """The bits the index's tables will hold, bucket by bucket as `RuleTable` makes them:
    a table of the first entry per piece; an anchored bucket's positions per key or piece
    (a word each) and each entry's other tests; else pieces times entries."""
    keys = dims[split] if split >= 0 else (None,)
    total = 0
    for key in keys:
        members = [e for e, b in enumerate(boxes) if split < 0 or split not in b or key in b[split]]
        kept = kept_entries(members, boxes, exact, split)
        tested = {d for e in kept for d in boxes[e] if d != split}
        pieces = {}
        for d in tested:
            if dims[d] is not None:
                pieces[d] = len(dims[d])
            else:
                cuts = {t for e in kept if d in boxes[e] for lo, _, hi, _ in boxes[e][d] for t in (lo, hi)}
                pieces[d] = 2 * len(cuts) + 1
        if len(tested) <= 1 and all(exact[e] for e in kept):
            total += sum(pieces.values())
        elif (anchored := anchoring(kept, boxes, exact, dims, split)) is not None:
            total += 64 * (anchored[4] + len(kept))
        else:
            total += sum(pieces.values()) * len(kept)
    return total


class _Reader:
    """Conditions as (box, residual) alternatives over the facts they test."""

    def __init__(self, policy: ir.Policy) -> None:
        self.p = policy
        self.order: list[str] = []  # facts in the order first tested
        self.keys: dict[str, tuple] = {}

    def rule(self, cond: ir.Expr | None) -> list[tuple[dict, ir.Expr | None]]:
        if cond is None:
            return [({}, None)]
        parts = cond.operands if isinstance(cond, ir.And) else (cond,)
        alternatives: list[dict] = [{}]
        rest: list[ir.Expr] = []
        for part in parts:
            options = self.options(part)
            if options is None or len(alternatives) * len(options) > _MAX_ALTERNATIVES:
                rest.append(part)
                continue
            alternatives = [merged for a in alternatives for o in options
                            if (merged := _meet(a, o)) is not None]
        residual = None if not rest else rest[0] if len(rest) == 1 else ir.And(tuple(rest))
        for a in alternatives:
            for name in a:
                if name not in self.order:
                    self.order.append(name)
        return [(a, residual) for a in alternatives]  # none: the rule never matches, and has no box

    def options(self, e: ir.Expr) -> list[dict] | None:
        """`e` as boxes (an `or` as several), or None when it tests something else."""
        if isinstance(e, ir.Or):
            out = []
            for x in e.operands:
                found = self.options(x)
                if found is None:
                    return None
                out += found
            return out
        if isinstance(e, ir.And):
            out = [{}]
            for x in e.operands:
                found = self.options(x)
                if found is None or len(out) * len(found) > _MAX_ALTERNATIVES:
                    return None
                out = [m for a in out for o in found if (m := _meet(a, o)) is not None]
            return out
        atom = self.atom(e)
        return None if atom is None else [atom]

    def fact(self, e: ir.Expr) -> ir.Fact | None:
        if not isinstance(e, ir.FactRef):
            return None
        f = self.p.facts_by_name.get(e.name)
        if f is None or f.optional:
            return None
        if f.type.kind == "enum":
            self.keys[f.name] = f.codes
        elif f.type.kind == "bool":
            self.keys[f.name] = (False, True)
        elif f.type.kind not in _ORDERED:
            return None
        return f

    def constant(self, e: ir.Expr):
        if isinstance(e, ir.Value):
            return True, e.value
        if isinstance(e, ir.ConstRef):
            return True, self.p.const(e.name).value
        return False, None

    def atom(self, e: ir.Expr) -> dict | None:
        if isinstance(e, ir.Not):
            inner = self.atom(e.operand)
            if inner is None:
                return None
            (name, allowed), = inner.items()
            return {name: _complement(allowed, self.keys.get(name))}
        if isinstance(e, ir.FactRef):
            f = self.fact(e)
            return {f.name: frozenset((True,))} if f is not None and f.type.kind == "bool" else None
        if isinstance(e, ir.In):
            f = self.fact(e.item)
            known, codes = self.constant(e.set)
            if f is None or not known or f.type.kind != "enum" or not isinstance(codes, (tuple, frozenset)):
                return None
            allowed = frozenset(codes)
            return {f.name: _complement(allowed, f.codes) if e.negated else allowed}
        if isinstance(e, ir.Cmp):
            left, right, op = e.left, e.right, e.op
            if not isinstance(left, ir.FactRef):
                left, right, op = right, left, _FLIP[op]
            f = self.fact(left)
            known, value = self.constant(right)
            if f is None or not known or value is None:
                return None
            if f.type.kind in ("enum", "bool"):
                if op not in ("=", "!="):
                    return None
                allowed = frozenset((value,))
                return {f.name: _complement(allowed, self.keys[f.name]) if op == "!=" else allowed}
            return {f.name: _INTERVALS[op](value)}
        return None


_INTERVALS = {
    "<": lambda t: ((None, False, t, False),),
    "<=": lambda t: ((None, False, t, True),),
    ">": lambda t: ((t, False, None, False),),
    ">=": lambda t: ((t, True, None, False),),
    "=": lambda t: ((t, True, t, True),),
    "!=": lambda t: ((None, False, t, False), (t, False, None, False)),
}


def _complement(allowed, keys):
    if keys is not None:
        return frozenset(k for k in keys if k not in allowed)
    out, lo, lo_in = [], None, False
    for a, a_in, b, b_in in allowed:  # disjoint, in order
        if a is not None:
            out.append((lo, lo_in, a, not a_in))
        lo, lo_in = b, not b_in
        if b is None:
            break
    else:
        out.append((lo, lo_in, None, False))
    return tuple(x for x in out if _nonempty(x))


def _nonempty(interval) -> bool:
    lo, lo_in, hi, hi_in = interval
    return lo is None or hi is None or lo < hi or (lo == hi and lo_in and hi_in)


def _meet(a: dict, b: dict) -> dict | None:
    """The intersection of two boxes (None when it is empty)."""
    out = dict(a)
    for name, allowed in b.items():
        if name not in out:
            out[name] = allowed
            continue
        mine = out[name]
        both = mine & allowed if isinstance(mine, frozenset) else _cut(mine, allowed)
        if not both:
            return None
        out[name] = both
    return out


def _cut(xs, ys):
    out = []
    for a in xs:
        for b in ys:
            lo, lo_in = (a[0], a[1]) if b[0] is None or (a[0] is not None and (a[0], not a[1]) > (b[0], not b[1])) \
                else (b[0], b[1])
            hi, hi_in = (a[2], a[3]) if b[2] is None or (a[2] is not None and (a[2], a[3]) < (b[2], b[3])) \
                else (b[2], b[3])
            if _nonempty((lo, lo_in, hi, hi_in)):
                out.append((lo, lo_in, hi, hi_in))
    return tuple(sorted(out, key=lambda x: (x[0] is not None, x[0] if x[0] is not None else 0, not x[1])))
