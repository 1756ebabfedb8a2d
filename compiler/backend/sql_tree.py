"""A long decision table as a tree of tests, for the SQL back end.

    tree(plan) -> Node | None

The Python module looks the rules of a long table up in an index (backend/table.py); SQL
has no such index to call, and a CASE of 10,000 WHENs makes every row try the rules one
by one. Here the same boxes become a tree of binary tests: each node halves the facts
it is reached with, on a threshold of an ordered fact (`amount < 5000`) or on half the
keys of a keyed one (`kind IN (...)`), choosing the test that leaves the fewest rules on
its worse side. A leaf keeps the rules whose boxes meet its part of the facts, in rule
order, and is written as a short CASE over their whole conditions (so residual tests and
SQL's NULLs read exactly as in the chain); its first rule whose box is exact and holds
on all of the leaf is its ELSE. A staircase or a grid of 10,000 rules becomes a tree about
fourteen tests deep with one rule per leaf.

A test that does not shrink the worse side below _SHRINK of the node's rules is not made
(rules that do not test the fact fall on both sides), and the rules of all leaves
together stay under _GROWTH times the table's boxes: past that the tree is cut short and
its leaves are longer. `None` when the plan has no box to test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .table import Plan, _cut

_LEAF = 1  # rules from which a node is split further
_SHRINK = 0.85  # a split must leave at most this share of the rules on its worse side
_GROWTH = 2  # leaves may hold this many times the table's boxes in all


@dataclass(frozen=True)
class Leaf:
    rules: tuple[int, ...]  # the rules to try, in order, on their whole conditions
    otherwise: int | None  # the rule that holds on all of the leaf when none of them does


@dataclass(frozen=True)
class Below:
    dim: int
    threshold: Any  # facts below it (or at it, when `at` is True) go left, the others right
    at: bool
    left: "Node"
    right: "Node"


@dataclass(frozen=True)
class Among:
    dim: int
    keys: tuple  # facts with one of these keys go left, the others right
    left: "Node"
    right: "Node"


Node = Leaf | Below | Among


def tree(plan: Plan) -> Node | None:
    if not plan.entries:
        return None
    region = tuple(frozenset(keys) if keys is not None else (None, False, None, False) for keys in plan.dims)
    return _Builder(plan).build(region, list(range(len(plan.entries))))


def mean_leaf(node: Node) -> float:
    """The rules a leaf of the tree tries, on average over its leaves."""
    stack, leaves, rules = [node], 0, 0
    while stack:
        n = stack.pop()
        if isinstance(n, Leaf):
            leaves, rules = leaves + 1, rules + len(n.rules) + (n.otherwise is not None)
        else:
            stack += [n.left, n.right]
    return rules / leaves


class _Builder:
    def __init__(self, plan: Plan) -> None:
        self.p, self.boxes = plan, [dict(b) for b in plan.entries]
        self.budget = (_GROWTH - 1) * len(self.boxes)  # how many more rules all leaves may hold than the table has boxes

    def build(self, region: tuple, members: list[int]) -> Node:
        members, sure = self.cut(region, members)
        before = members[:-1] if sure is not None else members  # the entries tried before the sure one
        rules = list(dict.fromkeys(self.p.rule_of[e] for e in before))
        if len(rules) > _LEAF:
            split = self._split(region, members)
            more = 0 if split is None else len(split[1][1]) + len(split[2][1]) - len(members)
            if split is not None and more <= self.budget:
                make, (left_region, left), (right_region, right) = split
                self.budget -= more
                return make(self.build(left_region, left), self.build(right_region, right))
        return Leaf(tuple(r for r in rules if r != sure), sure)

    def cut(self, region: tuple, members: list[int]) -> tuple[list[int], int | None]:
        """The members up to the first whose box is exact and holds on all of the region,
        and that one's rule (None when there is none)."""
        p, boxes = self.p, self.boxes
        for k, e in enumerate(members):
            if p.exact[e] and all(_within(region[d], allowed) for d, allowed in boxes[e].items()):
                return members[: k + 1], p.rule_of[e]
        return members, None

    def _split(self, region: tuple, members: list[int]):
        """(make the node from its two sides, left side, right side) for the test that
        leaves the fewest members on its worse side, when it shrinks; each side is (its
        region, its members)."""
        best, best_size = None, int(_SHRINK * len(members))
        split = self.p.split
        for dim, keys in enumerate(self.p.dims):
            tested = [e for e in members if dim in self.boxes[e]]
            forced = dim == split and len(region[dim]) > 1  # the index's buckets first, as decide() does
            if len(tested) < 2 and not forced:
                continue
            if keys is not None:
                inside = sorted(region[dim], key=keys.index)
                if len(inside) < 2:
                    continue
                half = frozenset(inside[: len(inside) // 2])
                parts = (half, region[dim] - half)
                among = tuple(k for k in keys if k in half)
                make = lambda left, right, dim=dim, among=among: Among(dim, among, left, right)  # noqa: E731
            else:
                lo, _, hi, _ = region[dim]
                cuts = sorted({t for e in tested for a, _, b, _ in self.boxes[e][dim] for t in (a, b)
                               if t is not None and (lo is None or t > lo) and (hi is None or t < hi)})
                if not cuts:
                    continue
                t = cuts[len(cuts) // 2]
                # the threshold itself goes where the boxes bounded by it put it: `> t` and
                # `<= t` keep it below, `>= t` and `< t` above
                votes = sum((1 if b_in else -1) if b == t else (-1 if a_in else 1) if a == t else 0
                            for e in tested for a, a_in, b, b_in in self.boxes[e][dim])
                at = votes > 0
                parts = ((region[dim][0], region[dim][1], t, at), (t, not at, region[dim][2], region[dim][3]))
                make = lambda left, right, dim=dim, t=t, at=at: Below(dim, t, at, left, right)  # noqa: E731
            sides = []
            for part in parts:
                narrowed = region[:dim] + (part,) + region[dim + 1:]
                sides.append((narrowed, self.cut(narrowed, [e for e in members if dim not in self.boxes[e]
                                                            or _meets(part, self.boxes[e][dim])])[0]))
            size = max(len(sides[0][1]), len(sides[1][1]))
            if forced:
                return make, sides[0], sides[1]
            if size < best_size or (best is None and size <= best_size):
                best, best_size = (make, sides[0], sides[1]), size
        return best


def _meets(part, allowed) -> bool:
    """Whether a region's part of one dimension meets a box's allowed keys or intervals."""
    if isinstance(part, frozenset):
        return not part.isdisjoint(allowed)
    return bool(_cut((part,), allowed))


def _within(part, allowed) -> bool:
    """Whether a region's part of one dimension lies inside a box's allowed keys or intervals."""
    if isinstance(part, frozenset):
        return part <= allowed
    lo, lo_in, hi, hi_in = part
    for a, a_in, b, b_in in allowed:
        above = a is None or (lo is not None and (lo > a or (lo == a and (a_in or not lo_in))))
        below = b is None or (hi is not None and (hi < b or (hi == b and (b_in or not hi_in))))
        if above and below:
            return True
    return False
