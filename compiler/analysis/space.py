"""The fact space, cut into finitely many exact pieces.

Every enum fact and bool fact is a dimension with its own values. Every number,
duration and timestamp comparison is read as `axis op threshold`, where an axis is a
linear form over the numeric facts (`elapsed` is `asked_at - ride_at`; a require
`asked_at >= ride_at` is the same axis at 0). Each axis is cut at every threshold any
condition names into points and open intervals, so `<` and `<=` differ exactly.
Durations and instants count whole microseconds, as Python's datetime does, and numbers
whole billionths under 10**15, as decide() takes them: a piece with no such value inside
is empty and dropped.

The analysis is exact when the axes are linearly independent (then the pieces of
different axes combine freely); `Space.problem` says when they are not.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass, field
from fractions import Fraction

from ..middle import ir
from ..middle.values import NUMBER_STEP, to_number
from ..runtime.support import DURATION_LIMIT, NUMBER_LIMIT

_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}


Form = tuple[tuple[str, Fraction], ...]  # sorted (fact, coefficient), no zero coefficients


def whole_scale(values) -> int:
    """The least number that makes every one of `values` (Fractions) whole: scaled by it,
    they sort and compare as ints, a hundred times faster than as Fractions."""
    return math.lcm(*{v.denominator for v in values})


@dataclass(frozen=True)
class Linear:
    coeffs: Form
    const: Fraction

    def __sub__(self, other: "Linear") -> "Linear":
        merged = dict(self.coeffs)
        for name, c in other.coeffs:
            merged[name] = merged.get(name, Fraction(0)) - c
        return Linear(tuple(sorted((k, v) for k, v in merged.items() if v)), self.const - other.const)

    def __add__(self, other: "Linear") -> "Linear":
        merged = dict(self.coeffs)
        for name, c in other.coeffs:
            merged[name] = merged.get(name, Fraction(0)) + c
        return Linear(tuple(sorted((k, v) for k, v in merged.items() if v)), self.const + other.const)


@dataclass
class Axis:
    """A linear form over numeric facts, cut at `thresholds` into pieces.

    The form takes only whole multiples of `step` (a fact's unit: 1 microsecond, or 10**-9
    for a number, times its coefficient), and, for numbers, only values between `low` and
    `high` (each number fact is under 10**15): a piece with no such value is empty."""

    form: Form
    kind: str  # "timestamp" | "duration" | "number"
    step: Fraction
    label: str
    low: Fraction | None = None
    high: Fraction | None = None
    thresholds: list[Fraction] = field(default_factory=list)
    pieces: list[tuple[str, Fraction | None, Fraction | None]] = field(default_factory=list)
    offset: dt.timezone = dt.timezone.utc  # for showing instants
    shift: Fraction = Fraction(0)  # a value shown under `label` is value * scale + shift
    scale: Fraction = Fraction(1)

    @functools.cached_property
    def name(self) -> str:
        """The form as text: the axis's dimension name (a Fraction hashes slowly, so a table's
        100,000 comparisons ask the axis, not form_text)."""
        return form_text(self.form)

    @property
    def integral(self) -> bool:
        """Its values are whole microseconds (so days, hours... read naturally)."""
        return self.kind != "number" and self.step.denominator == 1

    def cut(self) -> None:
        """Pieces in order: ("open", lo, hi) with None for ±infinity, or ("point", t, t)."""
        # told apart by numerator and denominator: a Fraction's own hash is a Python function,
        # seconds over the 100,000 thresholds of a long table
        unique = list({(t.numerator, t.denominator): t for t in self.thresholds}.values())
        # in whole numbers of 1/scale (a table of thousands of thresholds: Fractions took seconds)
        bounds = [b for b in (self.step, self.low, self.high) if b is not None]
        scale = whole_scale(unique + bounds)

        def whole(t: Fraction) -> int:
            return t.numerator * (scale // t.denominator)

        ts = sorted(unique, key=whole)
        raw: list[tuple[str, Fraction | None, Fraction | None]] = []
        lo = None
        for t in ts:
            raw.append(("open", lo, t))
            raw.append(("point", t, t))
            lo = t
        raw.append(("open", lo, None))
        # the pieces where `least(p) is not None`, decided in those whole numbers
        step = whole(self.step)
        low = None if self.low is None else whole(self.low)
        high = None if self.high is None else whole(self.high)
        bottom = None if low is None else -(-low // step) * step
        top = None if high is None else high // step * step

        def has_value(piece) -> bool:
            kind, lo, hi = piece
            if kind == "point":
                t = whole(lo)
                return t % step == 0 and (low is None or t >= low) and (high is None or t <= high)
            first = None if lo is None else whole(lo) // step * step + step
            if bottom is not None:
                first = bottom if first is None else max(first, bottom)
            last = None if hi is None else -(-whole(hi) // step) * step - step
            if top is not None:
                last = top if last is None else min(last, top)
            return first is None or last is None or first <= last

        self.pieces = [p for p in raw if has_value(p)]

    def least(self, piece) -> Fraction | None:
        """The least value the form can take in `piece` (None: none at all; for a piece
        unbounded below with no `low`, the point 0 stands in when it is inside)."""
        kind, lo, hi = piece
        s = self.step
        if kind == "point":
            return lo if (lo / s).denominator == 1 and self._allowed(lo) else None
        first = None if lo is None else (lo / s).__floor__() * s + s
        if self.low is not None:
            bottom = (self.low / s).__ceil__() * s
            first = bottom if first is None else max(first, bottom)
        last = None if hi is None else (hi / s).__ceil__() * s - s
        if self.high is not None:
            top = (self.high / s).__floor__() * s
            last = top if last is None else min(last, top)
        if first is not None and last is not None:
            return first if first <= last else None
        return first if first is not None else (last if last is not None else Fraction(0))

    def _allowed(self, t: Fraction) -> bool:
        return (self.low is None or t >= self.low) and (self.high is None or t <= self.high)

    def allows(self, t: Fraction, piece) -> bool:
        """Whether `t` is a value the form can take, inside `piece`."""
        kind, lo, hi = piece
        if (t / self.step).denominator != 1 or not self._allowed(t):
            return False
        if kind == "point":
            return t == lo
        return (lo is None or t > lo) and (hi is None or t < hi)

    def pieces_where(self, op: str, t: Fraction) -> list[int]:
        """Indices of the pieces on which `axis op t` holds (t is one of the thresholds)."""
        out = []
        for i, (kind, lo, hi) in enumerate(self.pieces):
            if kind == "point":
                value_cmp = (lo > t) - (lo < t)
            elif hi is not None and hi <= t:
                value_cmp = -1
            elif lo is not None and lo >= t:
                value_cmp = 1
            else:  # pragma: no cover — t is a threshold, so it never falls inside a piece
                raise AssertionError("threshold inside a piece")
            holds = {"<": value_cmp < 0, "<=": value_cmp <= 0, ">": value_cmp > 0, ">=": value_cmp >= 0,
                     "=": value_cmp == 0, "!=": value_cmp != 0}[op]
            if holds:
                out.append(i)
        return out


@dataclass
class Dim:
    """One variable of the diagrams: an enum fact, a bool fact or an axis."""

    kind: str  # "enum" | "bool" | "axis"
    name: str  # fact name, or the axis's form as text
    label: str
    values: tuple  # enum codes, (False, True), or axis piece indices
    axis: Axis | None = None
    fact: ir.Fact | None = None


class Space:
    """The dimensions of one policy's fact space (built from every condition in it)."""

    def __init__(self, policy: ir.Policy) -> None:
        self.policy = policy
        self.facts = policy.facts_by_name
        self.consts = policy.consts_by_name
        self.axes: dict[Form, Axis] = {}
        self._linear = _Linear(policy)
        self._numeric: dict[int, tuple] = {}  # each comparison is read by several passes
        self.problem: str | None = None
        tz = next((c.value.tzinfo for c in policy.consts if c.type.kind == "timestamp"), dt.timezone.utc)
        self.offset = tz
        uses: dict[str, int] = {}
        for cond in self._conditions():
            self._collect(cond, uses)
        for axis in self.axes.values():
            axis.cut()
        self.problem = self.problem or self._dependence()
        order = []
        for f in policy.facts:
            if f.type.kind in ("enum", "bool"):
                values = f.codes if f.type.kind == "enum" else (False, True)
                order.append(Dim(f.type.kind, f.name, f.label, tuple(values), fact=f))
        for axis in self.axes.values():
            order.append(Dim("axis", axis.name, axis.label, tuple(range(len(axis.pieces))), axis))
        # most-tested first: diagrams stay small when the dimension that splits the rules comes first
        position = {id(d): i for i, d in enumerate(order)}
        order.sort(key=lambda d: (-uses.get(d.name, 0), position[id(d)]))
        self.dims = order
        self.index = {d.name: i for i, d in enumerate(order)}

    # ── reading conditions ──
    def _conditions(self):
        for r in self.policy.requires:
            yield r.cond
        for d in self.policy.decisions:
            for rule in d.rules:
                if rule.cond is not None:
                    yield rule.cond
        for inv in self.policy.invariants:
            if inv.cond is not None:
                yield inv.cond

    def _collect(self, cond: ir.Expr, uses: dict[str, int]) -> None:
        """Count how often each fact or axis is tested, and note every threshold."""
        for atom in ir.atoms(cond):
            if isinstance(atom, ir.In):
                if isinstance(atom.item, ir.FactRef):
                    uses[atom.item.name] = uses.get(atom.item.name, 0) + 1
            elif isinstance(atom, ir.FactRef):
                uses[atom.name] = uses.get(atom.name, 0) + 1
            elif isinstance(atom, ir.Cmp):
                found = self.numeric(atom)
                if found is None:
                    for side in (atom.left, atom.right):
                        if isinstance(side, ir.FactRef):
                            uses[side.name] = uses.get(side.name, 0) + 1
                elif found[0] is not None:
                    axis, _, t = found
                    axis.thresholds.append(t)
                    uses[axis.name] = uses.get(axis.name, 0) + 1

    def linear(self, e: ir.Expr) -> Linear:
        return self._linear.visit(e)

    def numeric(self, e: ir.Cmp):
        """(axis or None, op, threshold) for a numeric comparison; axis None means the
        comparison does not depend on the facts (`op` then holds for `threshold` vs 0).
        None when the comparison is not numeric."""
        known = self._numeric.get(id(e))  # by identity: hashing a comparison hashes its whole tree
        if known is not None and known[0] is e:
            return known[1]
        found = self._read_numeric(e)
        self._numeric[id(e)] = (e, found)  # e kept alive, so its id is not reused
        return found

    def _read_numeric(self, e: ir.Cmp):
        if not e.left.type.numeric:
            return None
        left, right = e.left, e.right
        if type(left) is ir.FactRef and type(right) in _CONSTANT:  # `fact op constant`: most of a table
            form, op, threshold = ((left.name, _ONE),), e.op, self.linear(right).const
        elif type(right) is ir.FactRef and type(left) in _CONSTANT:
            form, op, threshold = ((right.name, _ONE),), _FLIP[e.op], self.linear(left).const
        else:
            diff = self.linear(left) - self.linear(right)  # diff op 0
            op = e.op
            if not diff.coeffs:
                return None, op, diff.const
            scale = diff.coeffs[0][1]
            form = tuple((k, v / scale) for k, v in diff.coeffs)
            if scale < 0:
                op = _FLIP[op]
            threshold = -diff.const / scale
        axis = self.axes.get(form)
        if axis is None:
            names = [k for k, _ in form]
            kinds = {k: self.facts[k].type.kind for k in names}
            stamp_weight = sum(v for k, v in form if kinds[k] == "timestamp")
            kind = "number" if "number" in kinds.values() else ("timestamp" if stamp_weight != 0 else "duration")
            units = [v * (NUMBER_STEP if kinds[k] == "number" else 1) for k, v in form]
            low = high = None
            if kind == "number":  # each number fact lies in [-largest, largest]
                largest = Fraction(NUMBER_LIMIT) - NUMBER_STEP
                high = sum(abs(v) for _, v in form) * largest
                low = -high
            elif kind == "duration":  # and each duration fact in (-DURATION_LIMIT, DURATION_LIMIT) µs
                high = sum(abs(v) for _, v in form) * (DURATION_LIMIT - 1)
                low = -high
            label, shift, scale = self._axis_label(form, (e.left, e.right))
            axis = Axis(form, kind, _gcd(units), label, low, high, shift=shift, scale=scale, offset=self.offset)
            self.axes[form] = axis
        return axis, op, threshold

    def _axis_label(self, form: Form, sides: tuple[ir.Expr, ...]) -> tuple[str, Fraction, Fraction]:
        """What the axis is called in messages, and how a value of the form becomes the
        named thing's value (times `scale`, plus `shift`): `net = price - 0.3` names the
        axis `price` shifted by -0.3, so its threshold 0.3 reads "순액: 0 초과"."""
        # the value the comparison that made the axis names, else any derived value on it
        named = [(self.policy.derived_by_name[x.name].label, x) for x in sides if isinstance(x, ir.DerivedRef)]
        named += [(d.label, d.expr) for d in self.policy.derived if d.type.numeric]
        for label, expr in named:
            lin = self.linear(expr)
            scale = lin.coeffs[0][1] / form[0][1] if lin.coeffs and lin.coeffs[0][0] == form[0][0] else 0
            if scale > 0 and lin.coeffs == tuple((k, v * scale) for k, v in form):
                return label, lin.const, scale
        if len(form) == 1 and form[0][1] == 1:
            return self.facts[form[0][0]].label, Fraction(0), Fraction(1)
        return form_text(form), Fraction(0), Fraction(1)

    def _dependence(self) -> str | None:
        """None when the axes are linearly independent, else a description of the problem."""
        rows = [dict(a.form) for a in self.axes.values()]
        names = sorted({k for r in rows for k in r})
        matrix = [[r.get(k, Fraction(0)) for k in names] for r in rows]
        if rank(matrix) < len(matrix):
            forms = ", ".join(a.label for a in self.axes.values())
            return f"비교하는 수치들({forms})이 서로 독립이 아니어서 사실 공간을 정확히 나눌 수 없습니다"
        return None


_ONE = Fraction(1)
_CONSTANT = (ir.Value, ir.ConstRef)


class _Linear(ir.Visitor):
    """A numeric expression as a linear form over the numeric facts (derived values
    written out, constants as numbers)."""

    def __init__(self, policy: ir.Policy) -> None:
        self.policy = policy
        # each derived value's form, in declaration order (a `let` reads only earlier ones):
        # a chain of lets is followed once, without recursion, however long
        self.forms: dict[str, Linear] = {}
        for d in policy.derived:
            if d.type.numeric:
                self.forms[d.name] = self.visit(d.expr)

    def visit_FactRef(self, e: ir.FactRef) -> Linear:
        return Linear(((e.name, Fraction(1)),), Fraction(0))

    def visit_DerivedRef(self, e: ir.DerivedRef) -> Linear:
        return self.forms[e.name]

    def visit_ConstRef(self, e: ir.ConstRef) -> Linear:
        return Linear((), to_number(self.policy.consts_by_name[e.name].value))

    def visit_Value(self, e: ir.Value) -> Linear:
        return Linear((), to_number(e.value))

    def visit_Arith(self, e: ir.Arith) -> Linear:
        left, right = self.visit(e.left), self.visit(e.right)
        return left + right if e.op == "+" else left - right


def _gcd(values: list[Fraction]) -> Fraction:
    """The largest rational every one of `values` is a whole multiple of (and every
    whole combination of them is a multiple of it: the lattice the form's values lie on)."""
    num, den = 0, 1
    for v in values:
        v = abs(v)
        num = math.gcd(num * v.denominator, v.numerator * den)
        den = den * v.denominator
        g = math.gcd(num, den)
        num, den = num // g, den // g
    return Fraction(num, den)


@functools.lru_cache(maxsize=4096)  # asked per threshold of a long table; its axes are few
def form_text(form: Form) -> str:
    parts = []
    for i, (name, c) in enumerate(form):
        sign = "-" if c < 0 else ("+" if i else "")
        mag = abs(c)
        parts.append(f"{sign} {'' if mag == 1 else str(mag) + '*'}{name}".strip())
    return " ".join(parts)


def rank(matrix: list[list[Fraction]]) -> int:
    m = [row[:] for row in matrix]
    rank, cols = 0, len(m[0]) if m else 0
    for col in range(cols):
        pivot = next((r for r in range(rank, len(m)) if m[r][col] != 0), None)
        if pivot is None:
            continue
        m[rank], m[pivot] = m[pivot], m[rank]
        for r in range(len(m)):
            if r != rank and m[r][col] != 0:
                factor = m[r][col] / m[rank][col]
                m[r] = [a - factor * b for a, b in zip(m[r], m[rank])]
        rank += 1
    return rank


# what the partition reads: enum and bool facts, and linear forms (+, -) over number,
# duration and timestamp facts compared with constants
_PARTITION_NODES = (ir.FactRef, ir.DerivedRef, ir.ConstRef, ir.Value, ir.Arith, ir.Cmp, ir.In, ir.Not, ir.And, ir.Or,
                    ir.Lookup, ir.TupleOf)
_PARTITION_TYPES = ("enum", "bool", "timestamp", "duration", "number", "set", "string", "tuple", "map", "outcome")


def partition_for(policy: ir.Policy) -> "Space | None":
    """The partition of `policy`'s fact space where it is exact, else None (then the SMT
    analysis takes the policy): None for a construct the partition does not cut (arithmetic
    by constants, rounding, calendars, lists, optional facts, money, dates, `always`
    invariants) or for dependent axes. Built once: the analysis and the regions use it."""
    if _outside_partition(policy):
        return None
    space = Space(policy)
    return None if space.problem else space


def _outside_partition(policy: ir.Policy) -> str | None:
    """The first construct of `policy` the partition does not cut, or None."""
    for f in policy.facts:
        if f.optional or f.type.kind not in ("enum", "bool", "timestamp", "duration", "number"):
            return f"사실 {f.name}"
    cut = all(cls in _PARTITION_NODES and (cls is not ir.Arith or detail in ("+", "-"))
              and (kind in _PARTITION_TYPES or kind == "?") for marks in ir.census(policy).values()
              for cls, kind, detail in marks)
    if not cut:  # some node is not cut: the walk names the first (one walk, shared, said whether)
        exprs = [d.expr for d in policy.derived] + [r.cond for r in policy.requires]
        exprs += [x for d in policy.decisions for r in d.rules for x in (r.cond, r.output) if x is not None]
        exprs += [i.cond for i in policy.invariants if i.cond is not None]
        for e in exprs:
            for x in ir.walk(e):
                if not isinstance(x, _PARTITION_NODES) or (isinstance(x, ir.Arith) and x.op not in "+-") or (
                        x.type.kind not in _PARTITION_TYPES and x.type.kind != "?"):
                    return type(x).__name__
    if any(i.subject_kind == "always" for i in policy.invariants):
        return "always"
    return None


def coupled(space: Space) -> bool:
    """Whether two axes of the partition share a fact (`asked_at - ride_at` and `ride_at`):
    then a combination of their pieces may hold no value decide() takes (a fact's range or
    lattice ties them), and the partition's findings are confirmed by the SMT analysis."""
    seen: set[str] = set()
    for form in space.axes:
        names = {name for name, _ in form}
        if names & seen:
            return True
        seen |= names
    return False

