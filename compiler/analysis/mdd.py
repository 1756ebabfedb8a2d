"""Multi-valued decision diagrams: the exact representation of sets of regions.

A diagram over variables 0..n-1 (each with a finite domain: an enum's values, a
bool, or the pieces of a cut number line) is either a terminal (FALSE = 0, TRUE = 1)
or a node (var, children), one child per value of var. Nodes are hash-consed, so
equal sets are the same id and every operation is memoised. Variables are tested in
increasing order along every path (an ordered diagram), so emptiness is `id == FALSE`.
"""

from __future__ import annotations

from itertools import compress
from typing import Iterator, Sequence

FALSE, TRUE = 0, 1


class MDD:
    def __init__(self, sizes: Sequence[int]) -> None:
        self.sizes = tuple(sizes)
        self._nodes: list[tuple[int, tuple[int, ...]] | None] = [None, None]  # 0, 1: terminals
        self._unique: dict[tuple[int, tuple[int, ...]], int] = {}
        self._and: dict[tuple[int, int], int] = {}
        self._or: dict[tuple[int, int], int] = {}
        self._not: dict[int, int] = {}
        self._meets: dict[tuple[int, int], bool] = {}
        self._nz: dict[int, tuple[int, ...]] = {}
        self._meets_not: dict[tuple[int, int, int], bool] = {}
        self._nt: dict[int, tuple[int, ...]] = {}

    # ── building ──
    def node(self, var: int, children: Sequence[int]) -> int:
        children = tuple(children)
        if children.count(children[0]) == len(children):
            return children[0]
        key = (var, children)
        found = self._unique.get(key)
        if found is None:
            found = len(self._nodes)
            self._nodes.append(key)
            self._unique[key] = found
        return found

    def var_in(self, var: int, values) -> int:
        """The set where variable `var` takes one of `values`."""
        allowed = set(values)
        return self.node(var, [TRUE if v in allowed else FALSE for v in range(self.sizes[var])])

    def top(self, a: int) -> int:
        """The variable a tests first (len(sizes) for terminals)."""
        return len(self.sizes) if a <= TRUE else self._nodes[a][0]

    def children(self, a: int) -> tuple[int, ...]:
        return self._nodes[a][1]

    def child(self, a: int, var: int, value: int) -> int:
        if a <= TRUE:
            return a
        v, children = self._nodes[a]
        return children[value] if v == var else a

    def meets_not(self, a: int, b: int, c: int) -> bool:
        """Whether a ∧ ¬b ∧ c is non-empty, without building it."""
        if a == FALSE or c == FALSE or b == TRUE:
            return False
        if b == FALSE:
            return self.meets(a, c)
        if a == TRUE and c == TRUE:
            return True
        key = (a, b, c)
        found = self._meets_not.get(key)
        if found is None:
            var = min(self.top(a), self.top(b), self.top(c))
            pool = [x for x in (a, c) if x > TRUE and self._nodes[x][0] == var]
            values = min((self._not_false(x) for x in pool), key=len) if pool else range(self.sizes[var])
            cof = self.cofactor
            found = any(self.meets_not(cof(a, var, v), cof(b, var, v), cof(c, var, v)) for v in values)
            self._meets_not[key] = found
        return found

    def cofactor(self, a: int, var: int, value: int) -> int:
        """The part of `a` where `var` = `value`, as a diagram over the other variables."""
        if a <= TRUE:
            return a
        v, children = self._nodes[a]
        return children[value] if v == var else a

    def with_children(self, a: int, var: int, updates: dict[int, int]) -> int:
        """`a` with its cofactors for some values of `var` (a variable no node above it
        tests) replaced: rebuilding one wide node instead of combining whole diagrams."""
        if a > TRUE and self._nodes[a][0] == var:
            children = list(self._nodes[a][1])
        else:
            children = [a] * self.sizes[var]
        for value, child in updates.items():
            children[value] = child
        return self.node(var, children)

    def _not_false(self, a: int) -> tuple[int, ...]:
        """Indices of a node's children that are not FALSE (wide enums make most of them FALSE)."""
        found = self._nz.get(a)
        if found is None:
            children = self._nodes[a][1]
            found = tuple(compress(range(len(children)), children))  # FALSE is 0: C-speed filter
            self._nz[a] = found
        return found

    def _not_true(self, a: int) -> tuple[int, ...]:
        found = self._nt.get(a)
        if found is None:
            children = self._nodes[a][1]
            found = tuple(compress(range(len(children)), map(TRUE.__ne__, children)))
            self._nt[a] = found
        return found

    # ── operations ──
    def not_(self, a: int) -> int:
        if a <= TRUE:
            return TRUE - a
        found = self._not.get(a)
        if found is None:
            var, children = self._nodes[a]
            not_ = self.not_
            found = self.node(var, [TRUE - c if c <= TRUE else not_(c) for c in children])
            self._not[a] = found
        return found

    def and_(self, a: int, b: int) -> int:
        if a == FALSE or b == FALSE:
            return FALSE
        if a == TRUE or a == b:
            return b
        if b == TRUE:
            return a
        key = (a, b) if a < b else (b, a)
        found = self._and.get(key)
        if found is None:
            found = self._and_step(a, b)
            self._and[key] = found
        return found

    def _and_step(self, a: int, b: int) -> int:
        nodes, and_ = self._nodes, self.and_
        va, ca = nodes[a]
        vb, cb = nodes[b]
        if va != vb:
            if vb < va:
                a, b, va, ca = b, a, vb, cb
            out = [FALSE] * len(ca)
            for i in self._not_false(a):
                out[i] = and_(ca[i], b)
            return self.node(va, out)
        # the same variable: only the children where one side could change the other
        nza, nzb, nta, ntb = self._not_false(a), self._not_false(b), self._not_true(a), self._not_true(b)
        cost = min(len(nza), len(nzb), len(nta), len(ntb))
        if cost == len(nza) or cost == len(nzb):
            small = nza if cost == len(nza) else nzb
            out = [FALSE] * len(ca)
            for i in small:
                out[i] = and_(ca[i], cb[i])
        elif cost == len(ntb):  # b is TRUE almost everywhere: keep a's children
            out = list(ca)
            for i in ntb:
                out[i] = and_(ca[i], cb[i])
        else:
            out = list(cb)
            for i in nta:
                out[i] = and_(ca[i], cb[i])
        return self.node(va, out)

    def or_(self, a: int, b: int) -> int:
        if a == TRUE or b == TRUE:
            return TRUE
        if a == FALSE or a == b:
            return b
        if b == FALSE:
            return a
        key = (a, b) if a < b else (b, a)
        found = self._or.get(key)
        if found is None:
            # De Morgan keeps one sparse implementation
            found = self.not_(self.and_(self.not_(a), self.not_(b)))
            self._or[key] = found
        return found

    def meets(self, a: int, b: int) -> bool:
        """Whether the sets share a point, without building their intersection."""
        if a == FALSE or b == FALSE:
            return False
        if a == TRUE or b == TRUE or a == b:
            return True
        key = (a, b) if a < b else (b, a)
        found = self._meets.get(key)
        if found is None:
            nodes, meets = self._nodes, self.meets
            va, ca = nodes[a]
            vb, cb = nodes[b]
            if va == vb:
                nza, nzb = self._not_false(a), self._not_false(b)
                small = nza if len(nza) <= len(nzb) else nzb
                found = any(meets(ca[i], cb[i]) for i in small)
            elif va < vb:
                found = any(meets(ca[i], b) for i in self._not_false(a))
            else:
                found = any(meets(a, cb[i]) for i in self._not_false(b))
            self._meets[key] = found
        return found

    def and_not(self, a: int, b: int) -> int:
        return self.and_(a, self.not_(b))

    def all_of(self, items) -> int:
        out = TRUE
        for item in items:
            out = self.and_(out, item)
            if out == FALSE:
                break
        return out

    def any_of(self, items) -> int:
        out = FALSE
        for item in items:
            out = self.or_(out, item)
        return out

    # ── reading ──
    def cube(self, a: int) -> dict[int, frozenset[int]] | None:
        """One box inside non-empty set `a`: for each variable on a path to TRUE, the
        values that lead to the same place as the chosen one (so the box is as large as
        that path allows). None when `a` is empty."""
        if a == FALSE:
            return None
        box: dict[int, frozenset[int]] = {}
        while a != TRUE:
            var, children = self._nodes[a]
            pick = next(c for c in children if c != FALSE)
            box[var] = frozenset(v for v, c in enumerate(children) if c == pick)
            a = pick
        return box

    def size(self) -> int:
        return len(self._nodes)

    def walk(self, a: int) -> Iterator[int]:
        seen, stack = set(), [a]
        while stack:
            x = stack.pop()
            if x in seen or x <= TRUE:
                continue
            seen.add(x)
            yield x
            stack.extend(self._nodes[x][1])
