"""The decision diagrams against brute force: every operation, on random sets over a
small space, equals the set computed point by point."""

from __future__ import annotations

import itertools
import random

from compiler.analysis.mdd import FALSE, MDD, TRUE

SIZES = [5, 2, 3, 7]
POINTS = list(itertools.product(*[range(s) for s in SIZES]))


def members(m: MDD, node: int) -> set:
    out = set()
    for p in POINTS:
        n = node
        while n > TRUE:
            var, children = m._nodes[n]
            n = children[p[var]]
        if n == TRUE:
            out.add(p)
    return out


def random_set(m: MDD, rng: random.Random, depth: int = 0):
    if depth > 3 or rng.random() < 0.3:
        var = rng.randrange(len(SIZES))
        values = set(rng.sample(range(SIZES[var]), rng.randint(0, SIZES[var])))
        return m.var_in(var, values), {p for p in POINTS if p[var] in values}
    (a, sa), (b, sb) = random_set(m, rng, depth + 1), random_set(m, rng, depth + 1)
    op = rng.choice(["and", "or", "not", "and_not"])
    if op == "and":
        return m.and_(a, b), sa & sb
    if op == "or":
        return m.or_(a, b), sa | sb
    if op == "and_not":
        return m.and_not(a, b), sa - sb
    return m.not_(a), set(POINTS) - sa


def test_operations_match_brute_force():
    rng = random.Random(5)
    m = MDD(SIZES)
    for _ in range(2000):
        (a, sa), (b, sb), (c, sc) = (random_set(m, rng) for _ in range(3))
        assert members(m, a) == sa
        assert m.meets(a, b) == bool(sa & sb)
        assert m.meets_not(a, b, c) == bool((sa - sb) & sc)
        box = m.cube(a)
        if sa:
            cells = {p for p in POINTS if all(p[v] in box[v] for v in box)}
            assert cells and cells <= sa
        else:
            assert box is None and a == FALSE
        updated = m.with_children(a, 0, {1: b})
        assert members(m, updated) == {p for p in sa if p[0] != 1} | {p for p in sb if p[0] == 1}


def test_equal_sets_are_the_same_node():
    m = MDD(SIZES)
    x = m.or_(m.var_in(0, [1, 2]), m.var_in(1, [0]))
    y = m.not_(m.and_(m.not_(m.var_in(1, [0])), m.var_in(0, [0, 3, 4])))
    assert x == y
