"""Multi-valued decision diagrams: the exact representation of sets of regions.

A diagram over variables 0..n-1 (each with a finite domain: an enum's values, a
bool, or the pieces of a cut number line) is either a terminal (FALSE = 0, TRUE = 1)
or a node (var, children), one child per value of var. Nodes are hash-consed, so
equal sets are the same id and every operation is memoised. Variables are tested in
increasing order along every path (an ordered diagram), so emptiness is `id == FALSE`.
"""

from __future__ import annotations

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

    # ── building ──
    def node(self, var: int, children: Sequence[int]) -> int:
        children = tuple(children)
        first = children[0]
        if all(c == first for c in children):
            return first
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

    def child(self, a: int, var: int, value: int) -> int:
        if a <= TRUE:
            return a
        v, children = self._nodes[a]
        return children[value] if v == var else a

    # ── operations ──
    def not_(self, a: int) -> int:
        if a <= TRUE:
            return TRUE - a
        found = self._not.get(a)
        if found is None:
            var, children = self._nodes[a]
            found = self.node(var, [self.not_(c) for c in children])
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
            var = min(self.top(a), self.top(b))
            found = self.node(var, [self.and_(self.child(a, var, v), self.child(b, var, v))
                                    for v in range(self.sizes[var])])
            self._and[key] = found
        return found

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
            var = min(self.top(a), self.top(b))
            found = self.node(var, [self.or_(self.child(a, var, v), self.child(b, var, v))
                                    for v in range(self.sizes[var])])
            self._or[key] = found
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
