"""IR conditions -> decision diagrams over a Space, and regions -> concrete facts.

    Encoder(space).cond(expr) -> diagram id
    Encoder(space).example(box) -> facts a decide() accepts (JSON-ready), typed facts
    Encoder(space).describe(box) -> one Korean sentence in the policy's labels
"""

from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction
from itertools import compress
from typing import Any

from ..middle import ir
from ..middle.values import DAY, HOUR, MINUTE, SECOND, duration_text, fraction_text, from_micros, instant_text, \
    korean_duration, to_number
from ..runtime.support import josa
from .mdd import FALSE, MDD, TRUE
from .space import Axis, Space, rank


class Encoder(ir.Visitor):
    def __init__(self, space: Space) -> None:
        self.space = space
        self.mdd = MDD([len(d.values) for d in space.dims])
        self._cache: dict[ir.Expr, int] = {}
        self._boxes: dict[ir.Expr, dict[int, frozenset[int]]] = {}
        self._plan: dict[tuple, list] = {}
        self._representatives: dict[tuple, Fraction] = {}
        self.valid = self.mdd.all_of(self.cond(r.cond) for r in space.policy.requires)

    # ── conditions ──
    def cond(self, e: ir.Expr) -> int:
        found = self._cache.get(e)
        if found is None:
            found = self._cond(e)
            self._cache[e] = found
        return found

    def _cond(self, e: ir.Expr) -> int:
        return self.visit(e)

    def visit_And(self, e: ir.And) -> int:
        return self.mdd.all_of(self.cond(x) for x in e.operands)

    def visit_Or(self, e: ir.Or) -> int:
        return self.mdd.any_of(self.cond(x) for x in e.operands)

    def visit_Not(self, e: ir.Not) -> int:
        return self.mdd.not_(self.cond(e.operand))

    def visit_FactRef(self, e: ir.FactRef) -> int:  # a bool fact on its own
        return self.mdd.var_in(self.space.index[e.name], [1])

    def visit_ConstRef(self, e: ir.ConstRef) -> int:
        return TRUE if self.space.consts[e.name].value else FALSE

    def visit_Value(self, e: ir.Value) -> int:
        return TRUE if e.value else FALSE

    def visit_In(self, e: ir.In) -> int:
        codes = self._set(e.set)
        if isinstance(e.item, ir.Value):  # a fact written as its default (policyc diff)
            return TRUE if (e.item.value in codes) != e.negated else FALSE
        var = self.space.index[e.item.name]
        inside = [i for i, code in enumerate(self.space.dims[var].values) if code in codes]
        node = self.mdd.var_in(var, inside)
        return self.mdd.not_(node) if e.negated else node

    def visit_Cmp(self, e: ir.Cmp) -> int:
        return self._cmp(e)

    def box(self, e: ir.Expr | None) -> dict[int, frozenset[int]]:
        """An over-approximation of a condition as allowed values per variable, read off
        its top-level `and` parts that test one variable (cheap disjointness tests)."""
        if e is None:
            return {}
        found = self._boxes.get(e)
        if found is None:
            found = self._box(e)
            self._boxes[e] = found
        return found

    def _box(self, e: ir.Expr) -> dict[int, frozenset[int]]:
        out: dict[int, frozenset[int]] = {}
        for part in (e.operands if isinstance(e, ir.And) else (e,)):
            node = self.cond(part)
            var = self.mdd.top(node)
            if var >= len(self.space.dims):
                continue
            children = self.mdd.children(node)
            if max(children) <= TRUE:
                allowed = frozenset(compress(range(len(children)), children))
                out[var] = out[var] & allowed if var in out else allowed
        return out

    def _set(self, e: ir.Expr) -> frozenset:
        return e.value if isinstance(e, ir.Value) else self.space.consts[e.name].value

    def _side(self, e: ir.Expr):
        """("var", index) for an enum/bool fact, ("value", v) for a constant."""
        if isinstance(e, ir.FactRef):
            return "var", self.space.index[e.name]
        if isinstance(e, ir.ConstRef):
            return "value", self.space.consts[e.name].value
        return "value", e.value

    def _cmp(self, e: ir.Cmp) -> int:
        m, sp = self.mdd, self.space
        numeric = sp.numeric(e)
        if numeric is not None:
            axis, op, t = numeric
            if axis is None:
                holds = {"<": t < 0, "<=": t <= 0, ">": t > 0, ">=": t >= 0, "=": t == 0, "!=": t != 0}[op]
                return TRUE if holds else FALSE
            return m.var_in(sp.index[axis.name], axis.pieces_where(op, t))
        (lk, lv), (rk, rv) = self._side(e.left), self._side(e.right)
        if lk == "value" and rk == "value":
            same = lv == rv
        elif lk == "var" and rk == "var":
            values = sp.dims[lv].values
            same_node = m.any_of(m.and_(m.var_in(lv, [i]), m.var_in(rv, [sp.dims[rv].values.index(v)]))
                                 for i, v in enumerate(values) if v in sp.dims[rv].values)
            return same_node if e.op == "=" else m.not_(same_node)
        else:
            var, value = (lv, rv) if lk == "var" else (rv, lv)
            values = sp.dims[var].values
            node = m.var_in(var, [i for i, v in enumerate(values) if v == value and type(v) is type(value)])
            return node if e.op == "=" else m.not_(node)
        return TRUE if (same if e.op == "=" else not same) else FALSE

    # ── examples ──
    def pick(self, box: dict[int, frozenset[int]]) -> dict[int, int]:
        """One value per dimension: inside the box where it constrains, a plain one elsewhere."""
        chosen = {}
        for var, dim in enumerate(self.space.dims):
            allowed = sorted(box.get(var, range(len(dim.values))))
            if dim.kind == "bool" and var not in box:
                chosen[var] = 0
            elif dim.kind == "axis" and var not in box:
                chosen[var] = _plainest_piece(dim.axis)
            else:
                chosen[var] = allowed[0] if dim.kind != "axis" else _plainest(dim.axis, allowed)
        return chosen

    def example(self, box: dict[int, frozenset[int]]) -> tuple[dict[str, Any], dict[str, Any]]:
        """(JSON-ready facts, typed facts) inside `box`."""
        chosen = self.pick(box)
        sp = self.space
        typed: dict[str, Any] = {}
        for var, dim in enumerate(sp.dims):
            if dim.kind in ("enum", "bool"):
                typed[dim.name] = dim.values[chosen[var]]
        targets = {dim.axis.form: self._representative(dim.axis, chosen[var])
                   for var, dim in enumerate(sp.dims) if dim.kind == "axis"}
        numeric = _solve(sp, targets, self._plan)
        for f in sp.policy.facts:
            if f.type.kind in ("timestamp", "duration", "number"):
                typed[f.name] = from_micros(f.type.kind, numeric.get(f.name, _default(f.type.kind, sp)), sp.offset)
        return {k: _jsonable(v) for k, v in typed.items()}, typed

    def _representative(self, axis: Axis, index: int) -> Fraction:
        """_representative, once per piece (a long table's findings ask for the same ones)."""
        key = (axis.form, index)
        found = self._representatives.get(key)
        if found is None:
            found = self._representatives[key] = _representative(axis, index)
        return found

    def describe(self, box: dict[int, frozenset[int]]) -> str:
        """The box in the policy's own labels: "요청 정보: 연락처, 탑승 후 경과 시간: 3일 초과"."""
        parts = []
        for var in sorted(box, key=lambda v: _declared_order(self.space, v)):
            dim = self.space.dims[var]
            if isinstance(box[var], tuple):  # an axis as (first, last) piece ranges, in order
                if sum(b - a + 1 for a, b in box[var]) == len(dim.values):
                    continue
                parts.append(f"{dim.label}: {_ranges(dim.axis, _runs(box[var]))}")
                continue
            allowed = sorted(box[var])
            if len(allowed) == len(dim.values):
                continue
            if dim.kind == "enum":
                labels = dim.fact.values
                if len(allowed) * 2 <= len(labels):
                    text = " 또는 ".join(labels[i].label for i in allowed)
                else:
                    others = " 또는 ".join(labels[j].label for j in range(len(labels)) if j not in box[var])
                    text = josa(others, "이/가") + " 아님"
            elif dim.kind == "bool":
                text = "예" if allowed == [1] else "아니오"
            else:
                text = _ranges(dim.axis, _runs((i, i) for i in allowed))
            parts.append(f"{dim.label}: {text}")
        return ", ".join(parts) if parts else "모든 경우"


def fires(enc: "Encoder", decision: ir.Decision) -> list[int]:
    """For each rule of a decision, the valid facts on which it is the one that decides."""
    m = enc.mdd
    remaining, out = enc.valid, []
    for rule in decision.rules:
        cond = TRUE if rule.cond is None else enc.cond(rule.cond)
        out.append(m.and_(cond, remaining))
        remaining = m.and_not(remaining, cond)
    return out


def _declared_order(space: Space, var: int) -> int:
    dim = space.dims[var]
    names = [f.name for f in space.policy.facts]
    if dim.fact is not None:
        return names.index(dim.fact.name)
    first = dim.axis.form[0][0]
    return len(names) + names.index(first)


# ── choosing plain representatives ──

def _units(axis: Axis) -> list[Fraction]:
    """Round steps to try first (a day, an hour...; a whole number, a tenth...), then the
    axis's own step: examples read plainly where the piece allows."""
    if axis.kind == "number":
        base = [Fraction(1, 10 ** k) for k in range(10)]
    else:
        base = [Fraction(u) for u in (DAY, HOUR, MINUTE, SECOND, 1)]
    return [u for u in base if (u / axis.step).denominator == 1] + [axis.step]


def _representative(axis: Axis, index: int) -> Fraction:
    piece = axis.pieces[index]
    kind, lo, hi = piece
    if kind == "point":
        return lo
    if lo is None and hi is None and axis.allows(Fraction(0), piece):
        return Fraction(0)
    for unit in _units(axis):
        if lo is None:
            candidate = Fraction(math.ceil(hi / unit) - 1) * unit
            if axis.kind == "duration" and candidate < 0 < hi:
                candidate = Fraction(0)
        else:
            candidate = Fraction(math.floor(lo / unit) + 1) * unit
        if axis.allows(candidate, piece):
            return candidate
    return axis.least(piece)  # a piece at the edge of what the facts allow


def _plainest_piece(axis: Axis) -> int:
    """With no constraint: the piece holding 0 for durations and numbers, else the last."""
    if axis.kind in ("duration", "number"):
        for i, (kind, lo, hi) in enumerate(axis.pieces):
            if (lo is None or lo <= 0) and (hi is None or hi >= 0) and not (kind == "open" and hi == 0):
                return i
    return len(axis.pieces) - 1


def _plainest(axis: Axis, allowed: list[int]) -> int:
    """Prefer an interval over a single point: examples away from a boundary read easier."""
    opens = [i for i in allowed if axis.pieces[i][0] == "open"]
    return opens[0] if opens else allowed[0]


def _default(kind: str, space: Space) -> Fraction:
    if kind == "timestamp":
        anchor = next((c.value for c in space.policy.consts if c.type.kind == "timestamp"),
                      dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc))
        return to_number(anchor)
    return Fraction(0)


def _solve(space: Space, targets: dict, plans: dict) -> dict[str, Fraction]:
    """Values of the numeric facts that put every axis at its target value.

    The axes are independent (Space checks), so add unit rows for facts until the
    system is square and solve it exactly; facts no axis reads take plain defaults.
    The inverse depends only on the axes, so it is computed once per policy."""
    forms = tuple(targets)
    plan = plans.get(forms)
    if plan is None:
        plan = plans[forms] = _plan(space, forms)
    names, inverse, extra = plan
    values = [targets[f] for f in forms] + [_default(space.facts[k].type.kind, space) for k in extra]
    return {k: sum((c * v for c, v in zip(row, values) if c), Fraction(0)) for k, row in zip(names, inverse)}


def _plan(space: Space, forms: tuple) -> tuple[list[str], list[list[Fraction]], list[str]]:
    names = sorted({k for form in forms for k, _ in form})
    rows = [[dict(form).get(k, Fraction(0)) for k in names] for form in forms]
    extra = []
    for k in names:
        unit = [Fraction(1 if j == k else 0) for j in names]
        if len(rows) < len(names) and rank(rows + [unit]) > rank(rows):
            rows.append(unit)
            extra.append(k)
    n = len(names)
    # invert the square matrix by Gauss-Jordan
    a = [row[:] + [Fraction(1 if i == j else 0) for j in range(n)] for i, row in enumerate(rows)]
    for col in range(n):
        pivot = next(r for r in range(col, n) if a[r][col] != 0)
        a[col], a[pivot] = a[pivot], a[col]
        p = a[col][col]
        a[col] = [x / p for x in a[col]]
        for r in range(n):
            if r != col and a[r][col] != 0:
                factor = a[r][col]
                a[r] = [x - factor * y for x, y in zip(a[r], a[col])]
    return names, [row[n:] for row in a], extra


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return duration_text(value)
    return value


def _show(axis: Axis, t: Fraction) -> str:
    t = t * axis.scale + axis.shift
    if axis.kind == "timestamp" and axis.integral and len(axis.form) == 1:
        return instant_text(from_micros("timestamp", t, axis.offset))
    if axis.integral:
        return korean_duration(t)
    return fraction_text(t)


def _runs(ranges) -> list[list[int]]:
    """(first, last) piece ranges, sorted and merged where they touch or overlap."""
    runs: list[list[int]] = []
    for a, b in sorted(ranges):
        if runs and runs[-1][1] >= a - 1:
            runs[-1][1] = max(runs[-1][1], b)
        else:
            runs.append([a, b])
    return runs


def _ranges(axis: Axis, runs) -> str:
    """Runs of pieces, in order, as "3일 초과 5일 이하 또는 ..."."""
    texts = []
    for a, b in runs:
        ka, lo, _ = axis.pieces[a]
        kb, _, hi = axis.pieces[b]
        if a == b and ka == "point":
            texts.append(f"정확히 {_show(axis, lo)}")
            continue
        low = None if lo is None else (f"{_show(axis, lo)} 이상" if ka == "point" else f"{_show(axis, lo)} 초과")
        high = None if hi is None else (f"{_show(axis, hi)} 이하" if kb == "point" else f"{_show(axis, hi)} 미만")
        texts.append(" ".join(x for x in (low, high) if x) or "모든 값")
    return " 또는 ".join(texts)

