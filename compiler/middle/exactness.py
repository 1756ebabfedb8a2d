"""How large a computed number can get, and how many places it needs: every number a
policy computes must fit 38 digits, so Python (runtime.support.NUMBERS) and SQL
(DECIMAL(38, places)) hold it exactly (E0308).

    Exactness(scope).check(expr, name=None)   reports E0308 where a value could outgrow 38 digits
    Exactness(scope).declare(name, expr)      remembers a derived value's bound
    bound(expr) -> (largest size, places) | None   for numbers and money (None: not a number)
"""

from __future__ import annotations

from fractions import Fraction

from ..korean import quoted
from ..runtime.support import NUMBER_LIMIT, NUMBER_PLACES
from . import ir
from .exprs import MAX_DIGITS, constant_value, places_of

Bound = tuple[Fraction, int]  # (largest absolute value, digits after the point)


_FACTS = (ir.FactRef, ir.Item)


class Exactness:
    def __init__(self, scope) -> None:
        self.s = scope
        self.derived: dict[str, Bound] = {}
        self._constants: dict[tuple, Bound] = {}  # a long table repeats its few thresholds

    def declare(self, name: str, expr: ir.Expr | None) -> None:
        """A derived value's bound (None: it was reported, and counts as 0 so nothing
        built on it is reported again)."""
        found = self.bound(expr) if expr is not None else (Fraction(0), 0)
        if found is not None:
            self.derived[name] = found

    def check(self, expr: ir.Expr, name: str | None = None) -> bool:
        """Report the first part of `expr` that could need more than 38 digits."""
        for node in ir.walk(expr):
            if type(node) in _FACTS:
                continue  # under 10**15 with 9 places at most: 25 digits
            found = self.bound(node)
            if found is None:
                continue
            largest, places = found
            digits = len(str(int(largest))) + places
            if digits > MAX_DIGITS:
                what = quoted(name, "은/는") if name else "이 값은"
                self.s.error("E0308", node.span, f"{what} {digits}자리(소수점 아래 {places}자리)까지 커질 수 있어 "
                             f"정확히 계산할 수 없습니다 ({MAX_DIGITS}자리까지)",
                             "숫자 사실은 10의 15제곱 미만입니다. 같은 값을 여러 번 더하거나 곱하지 않았는지, "
                             "floor(x, 1원) 처럼 끝자리를 정할 수 있는지 보세요", f"최대 {digits}자리 수")
                return False
        return True

    def bound(self, e: ir.Expr) -> Bound | None:
        kind = e.type.kind
        if kind not in ("number", "money"):
            return None
        if isinstance(e, (ir.Value, ir.ConstRef)):
            key = (type(e), type(e.value), e.value) if isinstance(e, ir.Value) else (type(e), e.name)
            found = self._constants.get(key)
            if found is None:
                value = constant_value(e, self.s.const_values)
                if value is None:
                    return None
                found = self._constants[key] = abs(value), places_of(value)
            return found
        if isinstance(e, _FACTS):
            return Fraction(NUMBER_LIMIT), (NUMBER_PLACES if kind == "number" else 0)
        if isinstance(e, ir.DerivedRef):
            return self.derived.get(e.name, (Fraction(0), 0))  # an unbounded one was reported where it is declared
        if isinstance(e, ir.Arith):
            return self._arith(e)
        if isinstance(e, ir.Call) and e.fn in ("floor", "ceil", "round"):
            value, unit = self.bound(e.args[0]), constant_value(e.args[1], self.s.const_values)
            return value[0] + unit, places_of(unit)
        if isinstance(e, (ir.Call, ir.IfElse)):
            parts = [self.bound(x) for x in ir.children(e) if x.type.kind == kind]
            return max(p[0] for p in parts), max(p[1] for p in parts)
        if isinstance(e, ir.Aggregate):
            items = self.s.facts[e.list].max_items if e.list in self.s.facts else 0
            if e.op == "count":
                return Fraction(items), 0
            field = self.s.record_of(e.list).fields_by_name[e.field]
            one = Fraction(NUMBER_LIMIT), (NUMBER_PLACES if field.type.kind == "number" else 0)
            return (one[0] * items, one[1]) if e.op == "sum" else one
        return None  # pragma: no cover — every number-valued node is above

    def _arith(self, e: ir.Arith) -> Bound:
        left, right = self.bound(e.left), self.bound(e.right)
        if e.op in "+-":
            return left[0] + right[0], max(left[1], right[1])
        if e.op == "*":
            return left[0] * right[0], left[1] + right[1]
        divisor = 1 / constant_value(e.right, self.s.const_values)
        return left[0] * abs(divisor), left[1] + places_of(divisor)
