"""Expressions: AST -> typed IR, one rule per kind of expression, and the checks on
what arithmetic may do (exactly: every number a policy computes must fit 38 digits).

    ExprTyper(scope).expr(e, expect) -> ir.Expr | None   (None after reporting)
    ExprTyper(scope).cond(e) -> ir.Expr | None            (an expression of type bool)

`scope` is the resolver: it knows the names declared so far (facts, derived values,
constants), the enums, the records of list facts, and reports diagnostics. Inside an
aggregate's `where` (and in `pets.weight`) bare names are the list item's fields first.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ..frontend import nodes as n
from ..korean import particle, quoted
from . import ir
from .ir import BOOL, DATE, DURATION, MONEY, NUMBER, STRING, TIME, TIMESTAMP, WEEKDAY, WINDOW, Type
from .names import suggest

LITERAL_TYPES = {n.StringLit: STRING, n.NumberLit: NUMBER, n.DurationLit: DURATION, n.TimestampLit: TIMESTAMP,
                 n.BoolLit: BOOL, n.MoneyLit: MONEY, n.PercentLit: NUMBER, n.DateLit: DATE, n.TimeLit: TIME}
ADDITIVE = {("timestamp", "-", "timestamp"): DURATION, ("timestamp", "+", "duration"): TIMESTAMP,
            ("timestamp", "-", "duration"): TIMESTAMP, ("duration", "+", "duration"): DURATION,
            ("duration", "-", "duration"): DURATION, ("number", "+", "number"): NUMBER,
            ("number", "-", "number"): NUMBER, ("money", "+", "money"): MONEY, ("money", "-", "money"): MONEY,
            ("date", "-", "date"): DURATION}
ROUNDING = ("floor", "ceil", "round")
CALENDAR = {"date_of": DATE, "time_of": TIME, "weekday": WEEKDAY}
AGGREGATES = ("count", "any", "all", "sum", "max", "min", "first")
BUILTINS = ("min", "max", "holidays", *ROUNDING, *CALENDAR, *AGGREGATES)  # names a call can take
FUNCTIONS = ("min", "max", *ROUNDING, *CALENDAR, "count", "any", "all", "sum", "first", "holidays")
_HELP_FUNCTIONS = ("함수: min(a, b), max(a, b), floor(x, 100원), ceil(x, 1원), round(x, 10원), date_of(t), time_of(t), "
                   "weekday(t), count(목록 where 조건), any(목록 where 조건), all(목록 where 조건), sum(목록.필드), "
                   "max(목록.필드), min(목록.필드), first(목록 where 조건).필드")
# every number a policy computes fits DECIMAL(38, places) and runtime.support.NUMBERS
MAX_DIGITS = 38


def finite_decimal(q: Fraction) -> bool:
    """Whether q has a finite decimal expansion (its denominator is 2^a 5^b)."""
    d = q.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1


def places_of(q: Fraction) -> int:
    """Digits after the point q needs (q a finite decimal)."""
    k = 0
    while (q * 10 ** k).denominator != 1:
        k += 1
    return k


class ExprTyper:
    def __init__(self, scope) -> None:
        self.s = scope
        self.item: ir.Record | None = None  # the record whose fields bare names name, inside an aggregate
        self.item_list: str | None = None
        self._rules = {n.NameRef: self._name, n.SetLit: self._set, n.WindowLit: self._window,
                       n.Binary: self._binary, n.Negate: self._negate, n.Call: self._call, n.Field: self._field,
                       n.IfElse: self._if, n.IsGiven: self._given, n.Compare: self._compare, n.InSet: self._in,
                       n.Not: self._not, n.And: self._chain, n.Or: self._chain, n.Filtered: self._misplaced_filter}

    # ── entry points ──
    def expr(self, e, expect: Type | None = None) -> ir.Expr | None:
        if type(e) in LITERAL_TYPES:
            return ir.Value(e.value, LITERAL_TYPES[type(e)], e.span)
        return self._rules[type(e)](e, expect)

    def cond(self, e) -> ir.Expr | None:
        got = self.expr(e)
        if got is None:
            return None
        if got.type != BOOL:
            hint = ("`사실 = 값` 처럼 비교하세요" if got.type.kind == "enum"
                    else "비교 연산자(=, <, <= …)로 비교하세요")
            self.s.error("E0302", e.span, f"조건은 참이나 거짓이어야 하는데 {got.type} 입니다", hint)
            return None
        return got

    def error(self, *args, **kwargs) -> None:
        self.s.error(*args, **kwargs)

    # ── names and literals ──
    def _name(self, e: n.NameRef, expect: Type | None) -> ir.Expr | None:
        name = e.name.name
        if self.item is not None and name in self.item.fields_by_name:
            f = self.item.fields_by_name[name]
            return ir.Item(name, f.type, e.span)
        if name in self.s.values:
            kind, typ, _ = self.s.values[name]
            ref = {"fact": ir.FactRef, "derived": ir.DerivedRef, "const": ir.ConstRef}[kind]
            return ref(name, typ, e.span)
        if expect is not None and expect.kind == "enum":
            if name in self.s.enum(expect.enum).codes:
                return ir.Value(name, expect, e.span)
            self.unknown_value(e.name, expect.enum)
            return None
        fields = list(self.item.fields_by_name) if self.item is not None else []
        self.error("E0201", e.span, f"알 수 없는 이름: `{name}`",
                   suggest(name, list(self.s.values) + fields + self.s.all_codes()), "선언되지 않은 이름")
        return None

    def unknown_value(self, ident: n.Ident, enum: str) -> None:
        fact = self.s.enum(enum)
        self.error("E0202", ident.span, f"`{enum}` 에 없는 값: `{ident.name}`",
                   suggest(ident.name, fact.codes) or f"가능한 값: {', '.join(fact.codes)}",
                   f"{fact.label}의 값이 아님")

    def _set(self, e: n.SetLit, expect: Type | None) -> ir.Expr | None:
        codes = [i.name for i in e.items]
        if not codes:  # `x in {}` is never true: surely not what was meant
            self.error("E0304", e.span, "빈 집합은 쓸 수 없습니다", "집합에 값을 하나 이상 적으세요")
            return None
        if expect is not None and expect.kind == "enum":
            enum = expect.enum
            for i in e.items:
                if i.name not in self.s.enum(enum).codes:
                    self.unknown_value(i, enum)
                    return None
        else:
            enum = self.s.enum_of(codes, e.span)
            if enum is None:
                return None
        return ir.Value(tuple(dict.fromkeys(codes)), Type("set", enum), e.span)  # in the order written

    def _window(self, e: n.WindowLit, expect: Type | None) -> ir.Expr | None:
        if e.start.value == e.end.value:
            self.error("E0304", e.span, "시작과 끝이 같은 시간대는 비어 있습니다",
                       "22:00..04:00 처럼 시작(포함)과 끝(포함하지 않음)을 다르게 쓰세요")
            return None
        return ir.Value((e.start.value, e.end.value), WINDOW, e.span)

    # ── arithmetic ──
    def _binary(self, e: n.Binary, expect: Type | None) -> ir.Expr | None:
        left, right = self.expr(e.left), self.expr(e.right)
        if left is None or right is None:
            return None
        if e.op in "+-":
            result = ADDITIVE.get((left.type.kind, e.op, right.type.kind))
            if result is None:
                help_ = "시각 - 시각, 시각 ± 기간, 기간 ± 기간, 숫자 ± 숫자, 금액 ± 금액 만 됩니다"
                if {left.type.kind, right.type.kind} == {"money", "number"}:
                    help_ = "금액에는 원을 붙여 씁니다: 1,000원"
                self.error("E0303", e.span, f"{left.type} {e.op} {right.type}{particle(str(right.type), '은/는')} "
                           "계산할 수 없습니다", help_)
                return None
            return ir.Arith(e.op, left, right, result, e.span)
        return self._scale(e, left, right)

    def _scale(self, e: n.Binary, left: ir.Expr, right: ir.Expr) -> ir.Expr | None:
        """`*` and `/`: an amount by a constant number (30%, 2, a `const`), so the result is
        a straight line in the facts and the analysis stays exact."""
        kinds = (left.type.kind, right.type.kind)
        if e.op == "*" and left.type.amount and right.type.amount:
            if kinds != ("money", "money") and (constant(left) or constant(right)):
                return ir.Arith("*", left, right, MONEY if "money" in kinds else NUMBER, e.span)
            if kinds == ("money", "money"):
                self.error("E0310", e.span, "금액끼리는 곱할 수 없습니다", "금액에 비율(30%)이나 수를 곱하세요")
            else:
                self.error("E0310", e.span, "두 값을 곱할 수 없습니다: 한쪽은 상수여야 합니다",
                           "곱하기는 정해진 수(2, 30%, 기준 상수)로만 합니다. 두 사실의 곱은 정확히 검사할 수 없습니다")
            return None
        if e.op == "/" and left.type.amount and right.type == NUMBER:
            value = constant_value(right, self.s.const_values)
            if value is None:
                self.error("E0310", e.span, "나누는 수는 상수여야 합니다", "정해진 수(2, 4, 100)나 기준 상수로 나누세요")
                return None
            if value == 0:
                self.error("E0310", right.span, "0 으로 나눌 수 없습니다")
                return None
            if not finite_decimal(1 / value):
                self.error("E0310", right.span, f"{_text(value)} 으로 나누면 값이 끝없는 소수가 됩니다",
                           "2, 4, 5, 8, 10, 100 처럼 나누어떨어지는 소수가 되는 수로 나누거나, "
                           "비율을 곱하고 floor(x, 1원) 처럼 끝자리를 정하세요")
                return None
            return ir.Arith("/", left, right, left.type, e.span)
        self.error("E0301", e.span, f"{left.type}{particle(str(left.type), '과/와')} {right.type}에는 `{e.op}` 를 쓸 수 "
                   "없습니다", "곱하기와 나누기는 숫자나 금액에 상수를 곱하거나 상수로 나눌 때 씁니다")
        return None

    def _negate(self, e: n.Negate, expect: Type | None) -> ir.Expr | None:
        if isinstance(e.operand, (n.NumberLit, n.MoneyLit, n.PercentLit)):
            return ir.Value(-e.operand.value, LITERAL_TYPES[type(e.operand)], e.span)
        inner = self.expr(e.operand)
        if inner is None:
            return None
        if inner.type.kind not in ("number", "money", "duration"):
            self.error("E0301", e.span, f"{inner.type} 앞에는 `-` 를 쓸 수 없습니다", "숫자, 금액, 기간에만 씁니다")
            return None
        zero = ir.Value(0 if inner.type.kind != "duration" else dt.timedelta(0), inner.type, e.span)
        return ir.Arith("-", zero, inner, inner.type, e.span)

    def _if(self, e: n.IfElse, expect: Type | None) -> ir.Expr | None:
        cond = self.cond(e.cond)
        then = self.expr(e.then, expect)
        other = self.expr(e.else_, then.type if then is not None else expect)
        if cond is None or then is None or other is None:
            return None
        if then.type != other.type:
            help_ = ("금액이면 0원처럼 원을 붙여 쓰세요" if {then.type.kind, other.type.kind} == {"money", "number"}
                     else "두 값이 같은 종류여야 합니다")
            self.error("E0300", e.else_.span, f"`if` 의 두 값의 종류가 다릅니다: {then.type}, {other.type}", help_)
            return None
        return ir.IfElse(cond, then, other, then.type, e.span)

    # ── functions and aggregates ──
    def _call(self, e: n.Call, expect: Type | None) -> ir.Expr | None:
        fn = e.func.name
        if fn not in FUNCTIONS:
            self.error("E0312", e.func.span, f"없는 함수: `{fn}`",
                       (suggest(fn, FUNCTIONS) or "") + (". " if suggest(fn, FUNCTIONS) else "") + _HELP_FUNCTIONS,
                       "알 수 없는 함수")
            return None
        if fn == "holidays":
            self.error("E0312", e.span, "`holidays(...)` 는 기준(const)의 값으로만 씁니다",
                       "const HOLIDAYS \"법정 공휴일\" = holidays(\"KR\", 2024, 2030) 처럼 선언하고 그 이름을 쓰세요")
            return None
        if fn in ("min", "max") and len(e.args) >= 2:
            return self._extreme(e, fn)
        if fn in AGGREGATES:
            return self._aggregate(e, fn)
        if fn in ROUNDING:
            return self._rounding(e, fn)
        return self._calendar(e, fn)

    def _arity(self, e: n.Call, count: int, shape: str) -> bool:
        if len(e.args) != count or any(isinstance(a, n.Filtered) for a in e.args):
            self.error("E0312", e.span, f"`{e.func.name}` 는 {shape} 처럼 씁니다", _HELP_FUNCTIONS)
            return False
        return True

    def _extreme(self, e: n.Call, fn: str) -> ir.Expr | None:
        if any(isinstance(a, n.Filtered) for a in e.args):
            return self._arity(e, -1, f"{fn}(a, b) 나 {fn}(목록.필드)") and None
        args = [self.expr(a) for a in e.args]
        if any(a is None for a in args):
            return None
        first = args[0].type
        if not first.numeric:
            self.error("E0301", e.span, f"{first}에는 `{fn}` 를 쓸 수 없습니다",
                       "숫자, 금액, 기간, 시각, 날짜에 씁니다")
            return None
        for a in args[1:]:
            if a.type != first:
                self.error("E0300", a.span, f"`{fn}` 의 값들의 종류가 다릅니다: {first}, {a.type}",
                           "금액이면 0원처럼 원을 붙여 쓰세요" if {first.kind, a.type.kind} == {"money", "number"}
                           else "같은 종류의 값끼리 견주세요")
                return None
        return ir.Call(fn, tuple(args), first, e.span)

    def _rounding(self, e: n.Call, fn: str) -> ir.Expr | None:
        if not self._arity(e, 2, f"{fn}(값, 100원)"):
            return None
        value, unit = self.expr(e.args[0]), self.expr(e.args[1])
        if value is None or unit is None:
            return None
        if not value.type.amount or unit.type != value.type:
            self.error("E0300", e.span, f"`{fn}` 는 숫자나 금액을 같은 종류의 단위로 맞춥니다: {value.type}, {unit.type}",
                       f"{fn}(요금 * 20%, 100원) 이나 {fn}(몸무게, 0.1) 처럼 쓰세요")
            return None
        step = constant_value(unit, self.s.const_values)
        if step is None or step <= 0 or not finite_decimal(1 / step):
            self.error("E0310", e.args[1].span, "단위는 0 보다 큰 상수여야 하고, 1원, 10원, 100원, 0.5 처럼 "
                       "나누어떨어지는 소수가 되는 값이어야 합니다", f"{fn}(값, 100원) 처럼 쓰세요")
            return None
        return ir.Call(fn, (value, unit), value.type, e.span)

    def _calendar(self, e: n.Call, fn: str) -> ir.Expr | None:
        if not self._arity(e, 1, f"{fn}(시각)"):
            return None
        arg = self.expr(e.args[0])
        if arg is None:
            return None
        if arg.type != TIMESTAMP:
            self.error("E0300", e.args[0].span, f"`{fn}` 는 시각(timestamp)에 씁니다: {arg.type}",
                       f"{fn}(출발_시각) 처럼 쓰세요")
            return None
        return ir.Call(fn, (arg,), CALENDAR[fn], e.span)

    def _list_of(self, e, fn: str) -> str | None:
        """The name of the list fact `e` names, after reporting when it names none."""
        if isinstance(e, n.NameRef) and e.name.name in self.s.values:
            kind, typ, _ = self.s.values[e.name.name]
            if kind == "fact" and typ.kind == "list":
                return e.name.name
        lists = [k for k, v in self.s.values.items() if v[1].kind == "list"]
        self.error("E0312", e.span, f"`{fn}` 에는 목록 사실을 줍니다",
                   (f"목록 사실: {', '.join(lists)}" if lists else "`fact 이름: list of 레코드` 로 선언한 사실을 쓰세요"))
        return None

    def _aggregate(self, e: n.Call, fn: str) -> ir.Expr | None:
        if len(e.args) != 1:
            return self._arity(e, 1, f"{fn}(목록 where 조건)") and None
        arg = e.args[0]
        where_ast = arg.cond if isinstance(arg, n.Filtered) else None
        target = arg.item if isinstance(arg, n.Filtered) else arg
        field_name = None
        if isinstance(target, n.Field) and fn in ("sum", "max", "min"):
            field_name, target = target.name, target.base
        elif fn in ("sum", "max", "min"):
            self.error("E0312", e.span, f"`{fn}` 는 목록의 필드에 씁니다: {fn}(pets.weight)",
                       f"두 값을 견주려면 {fn}(a, b) 처럼 둘 이상을 주세요")
            return None
        if fn in ("any", "all", "first") and where_ast is None:
            self.error("E0312", e.span, f"`{fn}` 에는 조건이 필요합니다: {fn}(목록 where 조건)", _HELP_FUNCTIONS)
            return None
        name = self._list_of(target, fn)
        if name is None:
            return None
        record = self.s.record_of(name)
        outer = (self.item, self.item_list)
        self.item, self.item_list = record, name
        try:
            where = ir.Value(True, BOOL, e.span) if where_ast is None else self.cond(where_ast)
            field = None
            if field_name is not None:
                field = record.fields_by_name.get(field_name.name)
                if field is None:
                    self.error("E0201", field_name.span, f"`{record.name}` 에 없는 필드: `{field_name.name}`",
                               suggest(field_name.name, record.fields_by_name) or
                               f"필드: {', '.join(record.fields_by_name)}")
                    return None
        finally:
            self.item, self.item_list = outer
        if where is None:
            return None
        if fn == "first":
            return ir.Aggregate("first", name, where, None, Type("record", item=record.name), e.span)
        if fn == "count":
            return ir.Aggregate("count", name, where, None, NUMBER, e.span)
        if fn in ("any", "all"):
            return ir.Aggregate(fn, name, where, None, BOOL, e.span)
        if fn == "sum" and not field.type.kind in ("number", "money", "duration"):
            self.error("E0301", e.span, f"{field.type}{particle(str(field.type), '은/는')} 더할 수 없습니다",
                       "sum 은 숫자, 금액, 기간 필드에 씁니다")
            return None
        if fn in ("max", "min") and not field.type.numeric:
            self.error("E0301", e.span, f"{field.type}에는 `{fn}` 를 쓸 수 없습니다", "숫자, 금액, 기간, 시각, 날짜 필드에 씁니다")
            return None
        return ir.Aggregate(fn, name, where, field.name, field.type, e.span)

    def _field(self, e: n.Field, expect: Type | None) -> ir.Expr | None:
        base = self.expr(e.base)
        if base is None:
            return None
        if isinstance(base, ir.Aggregate) and base.op == "first":
            record = self.s.records[base.type.item]
            field = record.fields_by_name.get(e.name.name)
            if field is None:
                self.error("E0201", e.name.span, f"`{record.name}` 에 없는 필드: `{e.name.name}`",
                           suggest(e.name.name, record.fields_by_name) or f"필드: {', '.join(record.fields_by_name)}")
                return None
            return ir.Aggregate("first", base.list, base.where, field.name, field.type, e.span)
        self.error("E0312", e.span, "`.필드` 는 first(목록 where 조건).필드, 또는 sum/max/min(목록.필드) 안에서만 씁니다",
                   "목록의 항목 하나를 고르려면 first(목록 where 조건).필드 를 쓰세요")
        return None

    def _misplaced_filter(self, e: n.Filtered, expect: Type | None) -> ir.Expr | None:
        self.error("E0312", e.span, "`where` 는 count, any, all, sum, max, min, first 의 목록에만 붙입니다",
                   "count(pets where weight >= 15) 처럼 쓰세요")
        return None

    # ── optional values ──
    def _given(self, e: n.IsGiven, expect: Type | None) -> ir.Expr | None:
        inner = self.expr(e.operand)
        if inner is None:
            return None
        if not self.s.may_be_missing(inner):
            word = "missing" if e.negated else "given"
            self.error("E0311", e.span, f"이 값은 늘 있습니다: `is {word}` 는 {'늘 거짓' if word == 'missing' else '늘 참'}입니다",
                       "`is given` 은 `optional` 로 선언한 사실, 그것을 읽는 파생값, 항목이 없을 수 있는 "
                       "max/min/first 에 씁니다. 기본값이 있는 사실은 빠지면 기본값을 씁니다")
            return None
        given = ir.Given(inner, BOOL, e.span)
        return ir.Not(given, BOOL, e.span) if e.negated else given

    # ── conditions ──
    def pair(self, left, right):
        """Type both sides of a comparison; a bare enum value takes the other side's type."""
        def standalone(x):
            return isinstance(x, n.NameRef) and x.name.name not in self.s.values and not (
                self.item is not None and x.name.name in self.item.fields_by_name)
        if standalone(left) and not standalone(right):
            r = self.expr(right)
            lt = self.expr(left, r.type) if r else None
            return None if lt is None else (lt, r)
        lt = self.expr(left)
        r = self.expr(right, lt.type) if lt else None
        return None if r is None else (lt, r)

    def _compare(self, c: n.Compare, expect: Type | None) -> ir.Expr | None:
        pair = self.pair(c.left, c.right)
        if pair is None:
            return None
        le, re_ = pair
        lt, rt = le.type, re_.type
        if lt != rt:
            kinds = {lt.kind, rt.kind}
            help_ = ("기간에는 단위를 붙여 씁니다: 15분, 3일, 72시간" if kinds == {"duration", "number"}
                     else "금액에는 원을 붙여 씁니다: 10,000원" if kinds == {"money", "number"}
                     else "시각과 시각의 차이는 기간입니다: `let 경과 = 나중 - 먼저` 로 두고 기간끼리 비교하세요"
                     if kinds == {"timestamp", "duration"}
                     else "하루 중 시각은 22:00 처럼 씁니다: time_of(출발_시각) >= 22:00" if "time" in kinds
                     else "같은 종류의 값끼리 비교하세요")
            self.error("E0300", c.span, f"{lt}{particle(str(lt), '과/와')} {rt}{particle(str(rt), '은/는')} 비교할 수 없습니다",
                       help_, "종류가 다른 비교")
            return None
        if c.op not in ("=", "!=") and not lt.numeric:
            self.error("E0301", c.span, f"{lt} 에는 크기 비교 {quoted(c.op, '을/를')} 쓸 수 없습니다",
                       "= 나 != 로 비교하세요" + (", 여러 값이면 `in {...}`" if lt.kind == "enum" else ""))
            return None
        if lt.kind in ("set", "map", "tuple", "window", "holidays", "list", "record", "text"):
            self.error("E0301", c.span, f"{lt}{particle(str(lt), '은/는')} 비교할 수 없습니다", "`값 in 집합` 으로 쓰세요")
            return None
        return ir.Cmp(c.op, le, re_, span=c.span)

    def _in(self, c: n.InSet, expect: Type | None) -> ir.Expr | None:
        item = self.expr(c.item)
        if item is None:
            return None
        if item.type.kind == "time":
            got = self.expr(c.set)
            if got is None:
                return None
            if got.type != WINDOW:
                self.error("E0300", c.set.span, f"하루 중 시각이 {got.type}에 있는지 볼 수 없습니다",
                           "시간대를 씁니다: time_of(출발_시각) in 22:00..04:00")
                return None
            return ir.In(item, got, c.negated, span=c.span)
        if item.type.kind == "date":
            got = self.expr(c.set)
            if got is None:
                return None
            if got.type.kind != "holidays":
                self.error("E0300", c.set.span, f"날짜가 {got.type}에 있는지 볼 수 없습니다",
                           "공휴일 표를 씁니다: date_of(출발_시각) in HOLIDAYS (const HOLIDAYS = holidays(\"KR\", 2024, 2030))")
                return None
            return ir.In(item, got, c.negated, span=c.span)
        if item.type.kind != "enum":
            self.error("E0301", c.item.span, f"{item.type}에는 `in` 을 쓸 수 없습니다",
                       "열거형 사실을 `사실 in {값, 값}` 처럼, 하루 중 시각을 `time_of(t) in 22:00..04:00` 처럼 쓰세요")
            return None
        if isinstance(c.set, n.NameRef) and c.set.name.name not in self.s.values:
            # after `in`, a bare name is a set constant: suggest those first, then the values
            sets = [k for k, v in self.s.values.items() if v[1] == Type("set", item.type.enum)]
            codes = list(self.s.enum(item.type.enum).codes)
            name = c.set.name.name
            if name not in codes:
                close = suggest(name, sets + codes)
                self.error("E0201", c.set.span, f"알 수 없는 이름: `{name}`",
                           (close + ". " if close else "") + "`in` 뒤에는 {" + ", ".join(codes[:2]) + "} 같은 값 묶음"
                           + (f"이나 집합 기준({', '.join(sets)})" if sets else "") + "을 씁니다", "선언되지 않은 이름")
                return None
        got = self.expr(c.set, item.type)
        if got is None:
            return None
        if got.type != Type("set", item.type.enum):
            sets = [k for k, v in self.s.values.items() if v[1] == Type("set", item.type.enum)]
            help_ = (f"{item.type.enum} 의 값으로 만든 집합을 쓰세요"
                     + (f" (이 열거형의 집합 기준: {', '.join(sets)})" if sets else ""))
            if isinstance(c.set, n.NameRef) and sets:
                help_ = suggest(c.set.name.name, sets) or help_
            self.error("E0300", c.set.span, f"{item.type} 의 값이 {got.type} 에 있는지 볼 수 없습니다", help_)
            return None
        return ir.In(item, got, c.negated, span=c.span)

    def _not(self, c: n.Not, expect: Type | None) -> ir.Expr | None:
        inner = self.cond(c.operand)
        return None if inner is None else ir.Not(inner, span=c.span)

    def _chain(self, c, expect: Type | None) -> ir.Expr | None:
        parts = [self.cond(x) for x in c.operands]
        if any(x is None for x in parts):
            return None
        cls = ir.And if isinstance(c, n.And) else ir.Or
        ops = []  # a written `a and (b and c)` is three parts; what sugar lowers to stays one
        for written, part in zip(c.operands, parts):
            ops.extend(part.operands if isinstance(part, cls) and isinstance(written, type(c)) else (part,))
        return cls(tuple(ops), span=c.span)


# ── constants ──

def constant(e: ir.Expr) -> bool:
    """Whether `e` reads no fact: it is the same number for every input."""
    return not any(isinstance(x, (ir.FactRef, ir.DerivedRef, ir.Item, ir.Aggregate, ir.Call)) for x in ir.walk(e))


def constant_value(e: ir.Expr, consts: dict[str, Any] | None = None) -> Fraction | None:
    """The exact value of a constant number expression (None when it is not one)."""
    if isinstance(e, ir.Value) and isinstance(e.value, (int, Decimal)) and not isinstance(e.value, bool):
        return Fraction(e.value)
    if isinstance(e, ir.ConstRef) and consts is not None and isinstance(consts.get(e.name), (int, Decimal)):
        return Fraction(consts[e.name])
    if isinstance(e, ir.Arith):
        a, b = constant_value(e.left, consts), constant_value(e.right, consts)
        if a is None or b is None:
            return None
        return {"+": a + b, "-": a - b, "*": a * b}.get(e.op, a / b if b else None)
    return None


def _text(q: Fraction) -> str:
    return str(q.numerator) if q.denominator == 1 else str(float(q))


