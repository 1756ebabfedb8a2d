"""Long decision tables, analysed rule by rule over their boxes.

    TableAnalysis.for_decision(analysis, decision) -> TableAnalysis | None

checks.py walks a decision's rules keeping R, the valid facts no earlier rule took, as
one decision diagram. For a table of thousands of rules that diagram grows with the
table (a staircase on one number rebuilds a node as wide as the table at every rule;
random tests of many enums make it explode). Here R is never built. Each rule is read as
boxes over the space's dimensions (an `or` of tests of one dimension each, as in
backend/table.py), the boxes go into a `RuleTable` (the index a generated decide() looks
rules up in), and each question checks.py asks of R is asked of one box Q instead:

    is there a valid point of Q that no rule before rule i matches?

First a few points of Q are tried, each looked up in the index (the first rule that
matches it is found at once): one outside every earlier rule answers yes, with the point
as the example. Otherwise the exact answer comes from a search that splits Q along the
dimensions the earlier boxes that meet it cut, cheapest side first, until a part meets
no earlier box (yes) or each part lies inside one (no). Validity (the requires) stays a
decision diagram, tested on boxes, and the findings are the same as checks.py's: the
answers are exact, and every example is checked against the reference evaluator.

A decision is analysed here when it has at least FAST rules, is `first` or `unique`, and
every condition, and the negation of every `and` part, is a union of at most a few boxes
(`None` otherwise, and checks.py takes it). `--overlaps` compares rules two by two and
stays in checks.py.
"""

from __future__ import annotations

import functools
import itertools
import operator
import random
from bisect import bisect_left, bisect_right
from typing import Any

from ..middle import ir
from ..runtime.support import RuleTable, bits_by_key, bits_of, piece_of
from .mdd import FALSE, TRUE
from .space import Space, whole_scale

FAST = 128  # rules from which a decision is analysed over its boxes
_MAX_BOXES = 16  # boxes one condition (or the negation of one part) may become
_TRIES = 6  # points of a box tried in the index before the exact search
_STEPS = 16  # steps of the walk out of earlier boxes (keyed dimensions) before the tries
_LONG_WALK = 256  # steps at most where every dimension is keyed (TableAnalysis.steps)
_NARROW = 8  # pieces of an axis range OR-ed one by one; a longer range by _reach
_SHOWN_PIECES = 2000  # a range of more pieces is shown by its example piece alone

Allowed = Any  # frozenset[int] for an enum or bool, tuple of (first, last) piece ranges for an axis
Box = dict[int, Allowed]


class Reader:
    """Conditions as unions of boxes over the space's dimensions (None: not boxes)."""

    def __init__(self, space: Space) -> None:
        self.sp = space
        self.widths = [len(d.values) for d in space.dims]
        self.keyed = [d.kind != "axis" for d in space.dims]
        self._keys: dict[int, list] = {}
        self._full = [frozenset(range(w)) if k else ((0, w - 1),) for w, k in zip(self.widths, self.keyed)]
        self.lowest = (0,) * len(self.widths)  # the least point
        self._minus: dict[tuple[int, Allowed], Allowed] = {}

    def full(self, var: int) -> Allowed:
        return self._full[var]

    def boxes(self, e: ir.Expr | None) -> list[Box] | None:
        if e is None:
            return [{}]
        if isinstance(e, ir.And):
            out: list[Box] = [{}]
            for x in e.operands:
                found = self.boxes(x)
                if found is None or len(out) * len(found) > _MAX_BOXES:
                    return None
                out = [m for a in out for b in found if (m := meet(a, b)) is not None]
            return out
        if isinstance(e, ir.Or):
            out = []
            for x in e.operands:
                found = self.boxes(x)
                if found is None:
                    return None
                out += found
            return out if len(out) <= _MAX_BOXES else None
        if isinstance(e, ir.Not):
            inner = self.boxes(e.operand)
            return None if inner is None else self.complement(inner)
        return self.atom(e)

    def complement(self, boxes: list[Box]) -> list[Box] | None:
        """The boxes of what none of `boxes` holds."""
        out: list[Box] = [{}]
        for box in boxes:
            if not box:
                return []
            outside = [{var: rest} for var, allowed in box.items() if (rest := self.minus(var, allowed))]
            out = [m for a in out for b in outside if (m := meet(a, b)) is not None]
            if len(out) > _MAX_BOXES:
                return None
        return out

    def minus(self, var: int, allowed: Allowed) -> Allowed:
        """What var takes besides `allowed` (the same few sets come back rule after rule)."""
        key = (var, allowed)
        found = self._minus.get(key)
        if found is None:
            found = self._minus[key] = self._minus_of(var, allowed)
        return found

    def _minus_of(self, var: int, allowed: Allowed) -> Allowed:
        if self.keyed[var]:
            return frozenset(range(self.widths[var])) - allowed
        out, start = [], 0
        for a, b in allowed:
            if a > start:
                out.append((start, a - 1))
            start = b + 1
        if start < self.widths[var]:
            out.append((start, self.widths[var] - 1))
        return tuple(out)

    def atom(self, e: ir.Expr) -> list[Box] | None:
        sp = self.sp
        if isinstance(e, (ir.Value, ir.ConstRef)):
            value = e.value if isinstance(e, ir.Value) else sp.consts[e.name].value
            return [{}] if value is True else [] if value is False else None
        if isinstance(e, ir.FactRef) and e.name in sp.index:  # a bool fact on its own
            return [{sp.index[e.name]: frozenset((1,))}]
        if isinstance(e, ir.In) and isinstance(e.item, ir.FactRef) and e.item.name in sp.index:
            codes = e.set.value if isinstance(e.set, ir.Value) else sp.consts[e.set.name].value
            var = sp.index[e.item.name]
            inside = frozenset(i for i, code in enumerate(sp.dims[var].values) if code in codes)
            return _one(var, self.minus(var, inside) if e.negated else inside)
        if not isinstance(e, ir.Cmp):
            return None
        numeric = sp.numeric(e)
        if numeric is not None:
            axis, op, t = numeric
            if axis is None:
                holds = {"<": t < 0, "<=": t <= 0, ">": t > 0, ">=": t >= 0, "=": t == 0, "!=": t != 0}[op]
                return [{}] if holds else []
            var = sp.index[axis.name]
            return _one(var, self.pieces(var, op, t))
        sides = [x for x in (e.left, e.right) if isinstance(x, ir.FactRef)]
        if len(sides) != 1 or sides[0].name not in sp.index or e.op not in ("=", "!="):
            return None
        var = sp.index[sides[0].name]
        other = e.right if sides[0] is e.left else e.left
        value = other.value if isinstance(other, ir.Value) else sp.consts[other.name].value
        values = sp.dims[var].values
        inside = frozenset(i for i, v in enumerate(values) if v == value and type(v) is type(value))
        return _one(var, inside if e.op == "=" else self.minus(var, inside))

    def pieces(self, var: int, op: str, t) -> Allowed:
        """The piece ranges of an axis where `axis op t` holds, by bisection on its pieces."""
        found = self._keys.get(var)
        if found is None:  # compared as whole numbers: a Fraction compares a hundred times slower
            pieces = self.sp.dims[var].axis.pieces
            scale = whole_scale(lo for _, lo, _ in pieces if lo is not None)
            found = self._keys[var] = scale, [(0, 0, 2) if lo is None else (1, lo.numerator * (scale // lo.denominator),
                                                                           1 if kind == "point" else 2)
                                              for kind, lo, _ in pieces]
        scale, keys = found
        last = self.widths[var] - 1
        scaled = t * scale
        at = (1, scaled.numerator if scaled.denominator == 1 else scaled, 1)
        if op == ">":
            return _ranges(bisect_right(keys, at), last)
        if op == ">=":
            return _ranges(bisect_left(keys, at), last)
        if op == "<":
            return _ranges(0, bisect_left(keys, at) - 1)
        if op == "<=":
            return _ranges(0, bisect_right(keys, at) - 1)
        i = bisect_left(keys, at)
        on = i < len(keys) and keys[i] == at
        if op == "=":
            return ((i, i),) if on else ()
        return tuple(r for r in ((0, i - 1), (i + 1 if on else i, last)) if r[0] <= r[1])


def _ranges(first: int, last: int) -> Allowed:
    return ((first, last),) if first <= last else ()


def _one(var: int, allowed: Allowed) -> list[Box]:
    return [{var: allowed}] if allowed else []


def meet_allowed(x: Allowed, y: Allowed) -> Allowed:
    if isinstance(x, frozenset):
        return x & y
    out, j = [], 0
    for a, b in x:
        while j < len(y) and y[j][1] < a:
            j += 1
        k = j
        while k < len(y) and y[k][0] <= b:
            lo, hi = max(a, y[k][0]), min(b, y[k][1])
            if lo <= hi:
                out.append((lo, hi))
            k += 1
    return tuple(out)


def meet(a: Box, b: Box) -> Box | None:
    """The intersection of two boxes, None when it is empty."""
    out = dict(a)
    for var, allowed in b.items():
        if var in out:
            allowed = meet_allowed(out[var], allowed)
            if not allowed:
                return None
        out[var] = allowed
    return out


def _overlap(x: Allowed, y: Allowed) -> bool:
    if isinstance(x, frozenset):
        return not x.isdisjoint(y)
    if len(x) == 1 and len(y) == 1:
        (a, b), (c, d) = x[0], y[0]
        return a <= d and c <= b
    return any(a <= d and c <= b for a, b in x for c, d in y)


def boxes_meet(a: Box, b: Box) -> bool:
    for var, allowed in a.items():
        other = b.get(var)
        if other is not None and not _overlap(allowed, other):
            return False
    return True


def _within(small: Allowed, big: Allowed) -> bool:
    if isinstance(small, frozenset):
        return small <= big
    return all(any(c <= a and b <= d for c, d in big) for a, b in small)


def _has(allowed: Allowed, value: int) -> bool:
    if isinstance(allowed, frozenset):
        return value in allowed
    return any(a <= value <= b for a, b in allowed)


def _least(allowed: Allowed) -> int:
    """The first of _values(allowed)."""
    return min(allowed) if isinstance(allowed, frozenset) else allowed[0][0]


def _values(allowed: Allowed):
    if isinstance(allowed, frozenset):
        yield from sorted(allowed)
    else:
        for a, b in allowed:
            yield from range(a, b + 1)


class TableAnalysis:
    """One decision's boxes, its index, and the question every finding asks."""

    def __init__(self, reader: Reader, enc, d: ir.Decision, rule_boxes: list[list[Box]],
                 part_boxes: list[list[tuple[list[Box], list[Box]]]]) -> None:
        self.r, self.enc, self.m, self.d = reader, enc, enc.mdd, d
        self.rule_boxes, self.part_boxes = rule_boxes, part_boxes
        self.entries: list[Box] = []
        self.rule_of: list[int] = []
        self.first_entry: list[int] = []
        for i, boxes in enumerate(rule_boxes):
            self.first_entry.append(len(self.entries))
            self.entries += boxes
            self.rule_of += [i] * len(boxes)
        self.first_entry.append(len(self.entries))
        dims = tuple(tuple(range(w)) if k else None for w, k in zip(reader.widths, reader.keyed))
        spec = [tuple(sorted((var, allowed if reader.keyed[var] else tuple((a, True, b, True) for a, b in allowed))
                             for var, allowed in box.items())) for box in self.entries]
        split = RuleTable.best_split(dims, [dict(s) for s in spec])
        self.table = RuleTable(dims, split, spec, (True,) * len(spec))
        self._covered_from: dict[tuple[int, int], tuple[int, int]] = {}
        self._reaches: dict[tuple[int, int], tuple[list[int], list[int], bool]] = {}
        self._known: list[tuple[int, ...] | None] = []  # remember(): rule i's free point, by i
        self._known_at: dict[int, list[int]] = {}  # per keyed dimension and value: bits by rule
        self._known_all = 0  # the rules remembered
        # per keyed dimension and value, the entries that allow it (bits by entry): guides
        # the first point tried in a box away from the earlier boxes
        self.admits: dict[int, list[int]] = {}
        for var, keyed in enumerate(reader.keyed):
            if keyed:
                values = range(reader.widths[var])
                by_value = bits_by_key([box.get(var) for box in self.entries], values, len(self.entries))
                self.admits[var] = [by_value[v] for v in values]
        # steps of the walk: where every dimension is keyed the exact search ANDs ints as
        # wide as the table, so a longer walk pays (enums at 40,000 rules: 42 s -> 25 s)
        self.steps = _STEPS if len(self.admits) < len(reader.widths) else \
            max(_STEPS, min(_LONG_WALK, len(self.entries) // 150))
        # per keyed dimension, the entries that allow every value of it (do not test it):
        # what a box that leaves the dimension whole keeps, one AND instead of one per value
        self.all_of = {var: functools.reduce(operator.and_, bits) for var, bits in self.admits.items()}
        # where a walk starts when it has no point to start near: on each keyed dimension the
        # value the fewest entries allow (the least on ties), so most earlier boxes are
        # already away (a value no rule tests: none is, and the first step may be the last)
        self.start = tuple(min(range(len(bits)), key=lambda v: (bits[v].bit_count(), v))
                           if (bits := self.admits.get(var)) else lowest for var, lowest in enumerate(reader.lowest))

    @classmethod
    def for_decision(cls, analysis, d: ir.Decision) -> "TableAnalysis | None":
        if len(d.rules) < FAST or d.hit_policy not in ("first", "unique") or analysis.overlaps:
            return None
        reader = Reader(analysis.space)
        rule_boxes, part_boxes = [], []
        for rule in d.rules:
            # each `and` part read once: the rule's boxes are its parts' boxes met, as
            # Reader.boxes meets an `and`'s operands (the same boxes, in the same order)
            boxes: list[Box] = [{}]
            parts = []
            for part in rule.conjuncts:
                inside = reader.boxes(part)
                outside = None if inside is None else reader.complement(inside)
                if outside is None or len(boxes) * len(inside) > _MAX_BOXES:
                    return None
                boxes = [m for a in boxes for b in inside if (m := meet(a, b)) is not None]
                parts.append((inside, outside))
            rule_boxes.append(boxes)
            part_boxes.append(parts)
        return cls(reader, analysis.enc, d, rule_boxes, part_boxes)

    # ── points, boxes and validity ──
    def first_rule(self, point: tuple[int, ...]) -> int | None:
        bits, at = self.table.candidates(point)
        return self.rule_of[at[bits.bit_length() - 1]] if bits else None

    def holds(self, f: int, point: tuple[int, ...]) -> bool:
        m = self.m
        while f > TRUE:
            var = m.top(f)
            f = m.child(f, var, point[var])
        return f == TRUE

    def meets(self, f: int, q: Box, memo: dict | None = None) -> bool:
        """Whether diagram f holds somewhere in box q."""
        if f <= TRUE:
            return f == TRUE
        memo = {} if memo is None else memo
        found = memo.get(f)
        if found is None:
            m = self.m
            var = m.top(f)
            children = m.children(f)
            allowed = q.get(var)
            seen = set(children) if allowed is None else {children[v] for v in _values(allowed)}
            found = memo[f] = any(self.meets(c, q, memo) for c in sorted(seen))
        return found

    def pick(self, f: int, q: Box) -> tuple[int, ...] | None:
        """A point of box q where f holds (the lowest pieces allowed), None if there is none."""
        if not self.meets(f, q):
            return None
        m, memo, point = self.m, {}, []
        for var in range(len(self.r.widths)):
            allowed = q.get(var, self.r.full(var))
            if f > TRUE and m.top(f) == var:
                children = m.children(f)
                rest = {k: v for k, v in q.items() if k > var}
                value = next(v for v in _values(allowed) if self.meets(children[v], rest, memo))
                f = children[value]
            else:
                value = next(_values(allowed))
            point.append(value)
        return tuple(point)

    def _walk(self, q: Box, before: int, f: int, near: tuple[int, ...] | None) -> tuple[int, ...] | None:
        """A point of q where f holds and no earlier box does, found by stepping out of the
        first earlier box that holds, one keyed value at a time (a seeded choice among the
        moves, so the same policy finds the same point); None after self.steps steps. A lookup
        per step: the cheap first answer for the many boxes that leave some point free. The
        walk starts from `near` where q allows it (a point already free of most earlier
        boxes), else from q's least values and `start` beside them."""
        if not self.admits:
            return None
        limit, entries, full, admits = self.first_entry[before], self.entries, self.r.full, self.admits
        point = list(self.start if near is None else near)
        for var, allowed in q.items():
            if near is None or not _has(allowed, point[var]):
                point[var] = _least(allowed)
        keys: dict[int, tuple[list[int], frozenset[int]]] = {}  # the keyed values q allows (sorted, and as a set)
        rng = None
        for _ in range(self.steps):
            if f != TRUE and not self.holds(f, point):
                return None
            bits, at = self.table.candidates(point)
            e = at[bits.bit_length() - 1] if bits else limit
            if e >= limit:
                return tuple(point)
            # the moves: (var, v) for each keyed var the box tests and each value of q it does
            # not allow, in that order; counted by set sizes, only the chosen one is listed
            counts = []
            for var, allowed in entries[e].items():
                if var in admits:
                    if var not in keys:
                        allowed_here = q.get(var, full(var))
                        keys[var] = (sorted(allowed_here), frozenset(allowed_here))
                    ordered, given = keys[var]
                    counts.append((var, ordered, allowed, len(given) - len(given & allowed)))
            total = sum(c[3] for c in counts)
            if not total:
                return None  # the box holds at every keyed value of q left: the exact search decides
            rng = rng or random.Random(before)
            k = rng.randrange(total)
            for var, ordered, allowed, count in counts:
                if k < count:
                    point[var] = [v for v in ordered if v not in allowed][k]
                    break
                k -= count
        return None

    def _least_covered(self, q: Box, before: int) -> tuple[int, ...]:
        """A point of q chosen dimension by dimension (keyed ones, most cut first) to leave
        as few earlier boxes as possible: where none is left, no earlier rule matches."""
        left = (1 << self.first_entry[before]) - 1
        chosen = {}
        for var, bits in self.admits.items():
            if left:
                allowed = q.get(var, self.r.full(var))
                chosen[var] = min(sorted(allowed), key=lambda v: (bits[v] & left).bit_count())
                left &= bits[chosen[var]]
        return tuple(chosen[var] if var in chosen else next(_values(q.get(var, self.r.full(var))))
                     for var in range(len(self.r.widths)))

    def _tries(self, q: Box, seed: int):
        rng = random.Random(seed)
        for k in range(_TRIES):
            point = []
            for var in range(len(self.r.widths)):
                allowed = q.get(var, self.r.full(var))
                if isinstance(allowed, frozenset):
                    ordered = sorted(allowed)
                    value = ordered[0] if k == 0 else ordered[-1] if k == 1 else rng.choice(ordered)
                else:
                    a, b = allowed[0] if k == 0 else allowed[-1] if k == 1 else rng.choice(allowed)
                    value = a if k == 0 else b if k == 1 else rng.randint(a, b)
                point.append(value)
            yield tuple(point)

    # ── points already known ──
    def remember(self, witnesses: dict[int, tuple]) -> None:
        """Rule i's free point (no rule before i matches it, rule i does) for every live
        rule: a point of a later rule j is free for any question about rules before j, so
        the questions asked once the dead rules are known (is a part implied? does a rule
        break an invariant?) are often answered by one of them, in a few ANDs. Kept where
        every dimension is keyed: there the walk is long (enums at 60,000 rules: 89 s -> 35 s
        of analysis), while a rule's free point seldom lies in another's axis ranges."""
        if len(self.admits) < len(self.r.widths):
            return
        n = len(self.d.rules)
        self._known = [None] * n
        at: dict[tuple[int, int], list[int]] = {}
        for i in sorted(witnesses):
            point = self._known[i] = witnesses[i][0]
            for var in self.admits:
                at.setdefault((var, point[var]), []).append(i)
        self._known_all = bits_of(sorted(witnesses), n)
        self._known_at = {var: [bits_of(at.get((var, v), ()), n) for v in range(self.r.widths[var])]
                          for var in self.admits}

    def _known_point(self, q: Box, before: int, f: int) -> tuple[int, ...] | None:
        """A remembered point of q where f holds and no rule before `before` matches: the
        latest rules' first (their points are the likeliest to be free of the rest)."""
        if not self._known:
            return None
        bits = -1
        for var, allowed in q.items():
            at = self._known_at.get(var)
            if at is not None:
                if 2 * len(allowed) <= len(at):
                    some = 0
                    for v in allowed:
                        some |= at[v]
                    bits &= some
                else:
                    for v in range(len(at)):
                        if v not in allowed:
                            bits &= ~at[v]
                if not bits:
                    return None
        bits &= self._known_all  # -1 (q tests no keyed dimension) or exclusions only: the rules remembered
        top = bits.bit_length() - 1
        if top < before:
            return None
        low = max(before, top - _TRIES + 1)  # keyed dimensions are in the bits; axes are checked point by point
        window = bits >> low
        while window:
            k = window.bit_length() - 1
            window ^= 1 << k
            point = self._known[low + k]
            if all(_has(allowed, point[var]) for var, allowed in q.items()) and (f == TRUE or self.holds(f, point)):
                return point
        return None

    # ── the question ──
    def uncovered(self, q: Box, before: int, f: int, whole_buckets: bool = True,
                  near: tuple[int, ...] | None = None) -> tuple[tuple[int, ...], Box] | None:
        """A point of q where f holds and no rule before rule `before` matches, with the
        box to describe it by; None when there is none (exact). `near`: a point to start
        looking from (the answer does not depend on it, only how soon it is found)."""
        if f == FALSE or (whole_buckets and self._bucket_known_covered(q, before, f)):
            return None
        point = self._known_point(q, before, f)
        if point is None:
            point = self._walk(q, before, f, near)
        if point is not None:
            return point, {var: frozenset((point[var],)) for var in q}
        for point in itertools.chain((self._least_covered(q, before),), self._tries(q, before)):
            if f != TRUE and not self.holds(f, point):
                continue
            first = self.first_rule(point)
            if first is None or first >= before:
                return point, {var: frozenset((point[var],)) for var in q}
        if self._inside_one(q, before) or (whole_buckets and self._bucket_covered(q, before, f)):
            return None
        if len(self.admits) == len(self.r.widths):  # every dimension keyed: the search on bits
            left = (1 << self.first_entry[before]) - 1
            for var, allowed in q.items():
                some = 0
                for v in allowed:
                    some |= self.admits[var][v]
                left &= some
            return self._search_bits(q, left, f)
        return self._search(q, self.earlier(q, before), f)

    def _search_bits(self, q: Box, left: int, f: int):
        """_search with the earlier boxes that meet q as the bits of an int (keyed
        dimensions only): a part is a value, the boxes allowing it one AND away."""
        if f != TRUE and not self.meets(f, q):
            return None
        if not left:
            point = self.pick(f, q)
            return None if point is None else (point, q)
        full, admits = self.r.full, self.admits
        best, best_cut = None, 0
        for var in admits:
            inside = self._allowing(var, q.get(var, full(var)), left)
            if not inside:
                cut = left.bit_count()
            else:
                cut = (left & ~inside).bit_count()
            if cut == 0:
                continue
            if best is None or cut > best_cut:
                best, best_cut = var, cut
        contain = left
        for var in admits:
            contain = self._allowing(var, q.get(var, full(var)), contain)
            if not contain:
                break
        if contain:
            return None  # q lies inside one earlier box
        if best is None:  # pragma: no cover — a box meeting q but not containing it cuts some dimension
            raise AssertionError("no dimension cuts q")
        parts = sorted(((left & admits[best][v]).bit_count(), v) for v in q.get(best, full(best)))
        for _, v in parts:
            found = self._search_bits({**q, best: frozenset((v,))}, left & admits[best][v], f)
            if found is not None:
                return found
        return None

    def _allowing(self, var: int, allowed, bits: int) -> int:
        """The entries among `bits` that allow every value of `allowed` on keyed dimension var."""
        if len(allowed) == self.r.widths[var]:
            return bits & self.all_of[var]
        for v in allowed:
            bits &= self.admits[var][v]
            if not bits:
                break
        return bits

    def _inside_one(self, q: Box, before: int) -> bool:
        """Whether q lies inside one box of a rule before `before`: the index's bits give
        the boxes whose keyed tests allow all of q's, each then checked whole."""
        table, limit = self.table, self.first_entry[before]
        split = table.split
        if table.buckets is not None and (split not in q or len(q[split]) != 1):
            return False
        kind, tables, at, bits = table.one if table.buckets is None else table.buckets[next(iter(q[split]))]
        if kind == 1:
            for var, keys in enumerate(table.dims):
                if keys is not None and var != split:
                    for value in q.get(var, keys):
                        bits &= tables[var][value]
        full = self.r.full
        while bits:
            k = bits.bit_length() - 1
            bits ^= 1 << k
            e = at[k]
            if e >= limit:
                return False  # the rest come later still
            if all(_within(q.get(var, full(var)), allowed) for var, allowed in self.entries[e].items()):
                return True
        return False

    def _bucket_known_covered(self, q: Box, before: int, f: int) -> bool:
        """Whether q's bucket is already known to be taken by rules before `before` (a
        lookup only: a long tail of dead rules is settled before any point is tried)."""
        split = self.table.split
        if split < 0 or split not in q or len(q[split]) != 1:
            return False
        known = self._covered_from.get((next(iter(q[split])), f))
        return known is not None and before >= known[1]

    def _bucket_covered(self, q: Box, before: int, f: int) -> bool:
        """Whether all of q's bucket (its one key of the split dimension) is taken by rules
        before `before`: found once per bucket, the first rule from which it is, so a long
        tail of rules a table's first rules already cover is settled at once."""
        split = self.table.split
        if split < 0 or split not in q or len(q[split]) != 1:
            return False
        key = next(iter(q[split]))
        known = self._covered_from.get((key, f))
        if known is not None:
            low, high = known  # not covered for rules before `low`; covered from `high` on
            if before >= high:
                return True
            if before <= low:
                return False
        found = self.uncovered({split: q[split]}, before, f, whole_buckets=False)
        low, high = known if known is not None else (0, len(self.d.rules) + 1)
        if found is None:
            self._covered_from[(key, f)] = (low, min(high, before))
            return True
        first = self.first_rule(found[0])
        self._covered_from[(key, f)] = (max(low, len(self.d.rules) if first is None else first), high)
        return False

    def earlier(self, q: Box, before: int) -> list[int]:
        """The entries of rules before `before` that meet q: those of the buckets of q's
        keys, narrowed by the index's bits for q's other keyed tests."""
        limit, table = self.first_entry[before], self.table
        if table.buckets is None:
            buckets = [table.one]
        elif table.split not in q or len(q[table.split]) * 4 > len(table.buckets):
            return [e for e in range(limit) if boxes_meet(self.entries[e], q)]
        else:
            buckets = [table.buckets[key] for key in sorted(q[table.split])]
        pool: set[int] = set()
        exact = True  # every dimension of q narrowed the pool: what is left meets q
        for bucket in buckets:
            kind, tables, at, bits = bucket
            if kind == 0:
                pool.update(at)
                exact = False
                continue
            for var, allowed in q.items():
                if var == table.split:
                    continue
                some = 0
                if isinstance(allowed, frozenset):
                    for value in allowed:
                        some |= tables[var][value]
                else:  # the entries whose intervals meet q's, piece by piece of the index
                    cuts, per = tables[var]
                    for a, b in allowed:
                        first, last = piece_of(cuts, a), piece_of(cuts, b)
                        if last - first <= _NARROW:
                            for k in range(first, last + 1):
                                some |= per[k]
                            continue
                        starts, ends, multi = self._reach(bucket, var)
                        some |= starts[last] & ends[first]
                        exact = exact and not multi
                bits &= some
            text = bin(bits)[:1:-1]  # bit k is text[k]
            k = text.find("1")
            while k >= 0:
                pool.add(at[k])
                k = text.find("1", k + 1)
        entries = self.entries
        return [e for e in sorted(pool) if e < limit and (exact or boxes_meet(entries[e], q))]

    def _reach(self, bucket, var: int) -> tuple[list[int], list[int], bool]:
        """For a bucket of the index and an axis: per piece k of the index, the entries
        starting at or before k and those ending at or after it, so the entries meeting
        pieces first..last are starts[last] & ends[first] whatever the distance (exactly,
        unless an entry tests the axis as several intervals: `multi`)."""
        key = (id(bucket), var)
        found = self._reaches.get(key)
        if found is None:
            _, tables, at, _ = bucket
            cuts = tables[var][0]
            n = 2 * len(cuts) + 1
            starts, ends, free, multi = [0] * n, [0] * n, 0, False
            for k, e in enumerate(at):
                allowed = self.entries[e].get(var)
                if allowed is None:
                    free |= 1 << k
                    continue
                multi = multi or len(allowed) > 1
                lo, hi = allowed[0][0], allowed[-1][1]
                starts[piece_of(cuts, lo)] |= 1 << k
                ends[piece_of(cuts, hi)] |= 1 << k
            for k in range(n):
                starts[k] |= starts[k - 1] if k else free
            for k in range(n - 1, -1, -1):
                ends[k] |= ends[k + 1] if k + 1 < n else free
            found = self._reaches[key] = (starts, ends, multi)
        return found

    def _search(self, q: Box, earlier: list[int], f: int):
        if f != TRUE and not self.meets(f, q):
            return None
        entries = self.entries
        earlier = [e for e in earlier if boxes_meet(entries[e], q)]
        full = self.r.full
        for e in earlier:
            if all(_within(q.get(var, full(var)), allowed) for var, allowed in entries[e].items()):
                return None  # q lies inside one earlier box
        if not earlier:
            point = self.pick(f, q)
            return None if point is None else (point, q)
        cuts: dict[int, int] = {}
        for e in earlier:
            for var, allowed in entries[e].items():
                if not _within(q.get(var, full(var)), allowed):
                    cuts[var] = cuts.get(var, 0) + 1
        var = max(sorted(cuts), key=lambda v: cuts[v])
        classes = self._classes(var, q.get(var, full(var)), earlier)
        counts = [0] * len(classes)  # the earlier boxes that meet each class: the emptiest is searched first
        if isinstance(classes[0], frozenset):
            where = {next(iter(c)): k for k, c in enumerate(classes)}
            for e in earlier:
                allowed = entries[e].get(var)
                for value in (where if allowed is None else allowed):
                    if value in where:
                        counts[where[value]] += 1
        else:
            starts = [c[0][0] for c in classes]
            for e in earlier:
                for a, b in entries[e].get(var, full(var)):
                    for k in range(max(0, bisect_right(starts, a) - 1), bisect_right(starts, b)):
                        counts[k] += 1
        for _, part in sorted(zip(counts, classes), key=lambda x: x[0]):
            found = self._search({**q, var: part}, earlier, f)
            if found is not None:
                return found
        return None

    def _classes(self, var: int, allowed: Allowed, earlier: list[int]) -> list[Allowed]:
        """`allowed` cut where an earlier box's test of var begins or ends."""
        if isinstance(allowed, frozenset):
            return [frozenset((v,)) for v in sorted(allowed)]
        marks = {a for a, _ in allowed} | {b + 1 for _, b in allowed}
        for e in earlier:
            for a, b in self.entries[e].get(var, ()):
                marks.update((a, b + 1))
        marks = sorted(marks)
        out = []
        for a, b in allowed:
            starts = [x for x in marks[bisect_left(marks, a):bisect_right(marks, b)]]
            for k, s in enumerate(starts):
                end = starts[k + 1] - 1 if k + 1 < len(starts) else b
                out.append(((s, end),))
        return out

    # ── what the findings show ──
    def describe_box(self, q: Box, point: tuple[int, ...]) -> tuple[dict, dict]:
        """(box for the example: the point itself, box for the sentence: q's tests, a long
        range of pieces shown by the point's piece)."""
        shown = {}
        for var, allowed in q.items():
            if isinstance(allowed, frozenset):
                shown[var] = allowed
            else:
                count = sum(b - a + 1 for a, b in allowed)
                shown[var] = tuple(allowed) if count <= _SHOWN_PIECES else ((point[var], point[var]),)
        return {var: frozenset((v,)) for var, v in enumerate(point)}, shown
