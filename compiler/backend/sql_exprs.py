"""IR expressions as SQL, for backend/sql.py's query (both engines).

Values in SQL terms: instants and durations as BIGINT microseconds (instants since the
epoch), dates as BIGINT days since 1970-01-01, times of day as BIGINT microseconds since
midnight, numbers and money as DECIMAL(38, s) where s is the places the value can have
(middle/exactness.py proves 38 digits hold it), a weekday as its code, a list as a LIST of
STRUCTs (DuckDB), a missing optional value as NULL.

DuckDB unifies DECIMAL(38, 2) and DECIMAL(38, 9) in a CASE, `least` or `greatest` by
cutting to 2 places, and computes DECIMAL `%` and `/` in DOUBLE: every number is therefore
cast to its own scale where branches meet (`Scales.cast`), division by a constant is a
product by its exact reciprocal, and rounding is floor/ceil/round of such a product (both
engines keep DECIMAL there). Calendar parts use integer arithmetic on microseconds with a
floored remainder, so instants before 1970 fall on the right day.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

from ..middle import ir
from ..middle.exactness import Exactness
from ..middle.exprs import constant_value, places_of
from ..runtime.support import _WIDE
from ..middle.values import offset_micros, to_number
from .sql_dialect import _CMP, _INSTANT_BOUND

DAY = 86_400_000_000
EPOCH = dt.date(1970, 1, 1)
NUMERIC = ("number", "money")


def decimal(sql: str, places: int) -> str:
    return f"CAST({sql} AS DECIMAL(38, {places}))"


def pmod(x: str, m: int) -> str:
    """x mod m, never negative (SQL's % takes the sign of x)."""
    return f"((({x}) % {m} + {m}) % {m})"


class _Scope:
    """What middle/exactness.py asks of the resolver, answered from a finished policy."""

    def __init__(self, policy: ir.Policy) -> None:
        self.p = policy
        self.const_values = {c.name: c.value for c in policy.consts}
        self.facts = policy.facts_by_name

    def record_of(self, list_fact: str) -> ir.Record:
        return self.p.record_of(list_fact)

    def error(self, *args) -> None:  # pragma: no cover — the policy was checked already
        raise AssertionError(args)


class Scales:
    """The places (digits after the point) of each number a policy computes, and its bound."""

    def __init__(self, policy: ir.Policy) -> None:
        self.ex = Exactness(_Scope(policy))
        for d in policy.derived:
            self.ex.declare(d.name, d.expr)

    def places(self, e: ir.Expr) -> int:
        found = self.ex.bound(e)
        return 0 if found is None else found[1]

    def largest(self, e: ir.Expr) -> Fraction:
        return self.ex.bound(e)[0]

    def cast(self, sql: str, e: ir.Expr, places: int | None = None) -> str:
        """A number as DECIMAL(38, places) (its own places by default); other values as they are."""
        if e.type.kind not in NUMERIC:
            return sql
        return decimal(sql, self.places(e) if places is None else places)

    def reciprocal(self, e: ir.Expr):
        """1 / a constant divisor or rounding unit, as the exact Decimal it is (E0310 made
        sure it is a finite decimal; the runtime's wide context traps anything inexact)."""
        value = constant_value(e, self.ex.s.const_values)
        return _WIDE.divide(Decimal(value.denominator), Decimal(value.numerator))

    def common(self, exprs) -> int:
        return max((self.places(e) for e in exprs if e.type.kind in NUMERIC), default=0)


def number_text(v) -> str:
    """An ordered value as the number its SQL column holds, written out: instants and
    durations in microseconds, dates in days, times of day in microseconds, numbers and
    money exactly as they are (no exponent)."""
    if isinstance(v, (dt.datetime, dt.timedelta)):
        return str(int(to_number(v)))
    if isinstance(v, dt.date):
        return str((v - EPOCH).days)
    if isinstance(v, dt.time):
        return str(time_micros(v))
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    if hasattr(v, "as_tuple"):  # a Decimal
        return format(v, "f")
    raise TypeError(v)


def literal_value(v, d) -> str:
    """A constant as SQL (`d` the dialect, for strings)."""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (dt.date, dt.time, dt.timedelta)):  # a datetime is a date too
        return f"CAST({number_text(v)} AS BIGINT)"
    if isinstance(v, int):
        return str(v)
    if hasattr(v, "as_tuple"):  # a Decimal: exact, with the places it is written with
        return decimal(f"'{number_text(v)}'", places_of(Fraction(v)))
    if isinstance(v, str):
        return d.text(v)
    raise TypeError(v)


def time_micros(t: dt.time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


class Expr(ir.Visitor):
    """An IR expression in the engine's SQL, over the typed fact columns (`__f_<fact>`) and
    derived columns (`__d_<name>`); inside an aggregate, over the item (`it<depth>`)."""

    def __init__(self, q) -> None:
        self.q = q
        self.d = q.d
        self.items: list[str] = []  # lambda variables of the aggregates being written, innermost last

    def visit_FactRef(self, e: ir.FactRef) -> str:
        return self.d.ident(f"__f_{e.name}")

    def visit_DerivedRef(self, e: ir.DerivedRef) -> str:
        return self.d.ident(f"__d_{e.name}")  # a column of its own (query: one CTE per level)

    def visit_ConstRef(self, e: ir.ConstRef) -> str:
        return self.q.literal(self.q.consts[e.name].value)

    def visit_Value(self, e: ir.Value) -> str:
        if e.type.kind == "set":
            return "(" + ", ".join(self.d.text(c) for c in e.value) + ")"
        return self.q.literal(e.value)

    def visit_Arith(self, e: ir.Arith) -> str:
        left, right = self.visit(e.left), self.visit(e.right)
        if e.type.kind not in NUMERIC or e.op in "+-":
            return f"({left} {e.op} {right})"
        if e.op == "/":  # by a constant whose reciprocal is a finite decimal (E0310): a product
            right = self.q.literal(self.q.scales.reciprocal(e.right))
        return decimal(f"({left} * {right})", self.q.scales.places(e))

    def visit_Call(self, e: ir.Call) -> str:
        s = self.q.scales
        if e.fn in ("min", "max"):
            places = s.common(e.args)
            args = ", ".join(s.cast(self.visit(a), a, places) for a in e.args)
            return f"{'least' if e.fn == 'min' else 'greatest'}({args})"
        if e.fn in ("floor", "ceil", "round"):
            value, unit = e.args
            inverse = self.q.literal(self.q.scales.reciprocal(unit))
            rounded = f"{e.fn}({self.visit(value)} * {inverse})"  # DECIMAL(38, 0): whole units
            return decimal(f"({rounded} * {self.visit(unit)})", s.places(e))
        local = f"({self.visit(e.args[0])} + {self.q.zone_micros})"
        if e.fn == "time_of":
            return pmod(local, DAY)
        days = self.d.int_div(f"({local} - {pmod(local, DAY)})", DAY)
        if e.fn == "date_of":
            return days
        return ("(CASE " + pmod(f"{days} + 3", 7) + " "  # 1970-01-01 was a Thursday
                + " ".join(f"WHEN {i} THEN {self.d.text(code)}" for i, (code, _) in enumerate(ir.WEEKDAYS)) + " END)")

    def visit_IfElse(self, e: ir.IfElse) -> str:
        s = self.q.scales
        places = s.common((e.then, e.else_))
        return (f"(CASE WHEN {self.visit(e.cond)} THEN {s.cast(self.visit(e.then), e.then, places)} "
                f"ELSE {s.cast(self.visit(e.else_), e.else_, places)} END)")

    def visit_Given(self, e: ir.Given) -> str:
        return f"({self.visit(e.item)} IS NOT NULL)"

    def visit_Item(self, e: ir.Item) -> str:
        return f"{self.items[-1]}.{self.d.ident(e.name)}"

    def visit_Aggregate(self, e: ir.Aggregate) -> str:
        items = self.d.ident(f"__f_{e.list}")
        var = f"it{len(self.items)}"
        self.items.append(var)
        try:
            where = self.visit(e.where)
        finally:
            self.items.pop()
        chosen = items if where == "TRUE" else self.d.list_filter(items, var, where)
        if e.op == "count":
            return f"CAST({self.d.length(chosen)} AS BIGINT)"
        if e.op == "any":
            return f"({self.d.length(chosen)} > 0)"
        if e.op == "all":
            return f"({self.d.length(chosen)} = {self.d.length(items)})"
        if e.op == "first":  # without a field: whether there is such an item (a derived value's need)
            return self.d.first(chosen) + ("" if e.field is None else f".{self.d.ident(e.field)}")
        field = self.d.ident(e.field)
        values = self.d.list_map(chosen, "v", f"v.{field}")
        if e.op == "sum":
            total = f"COALESCE({self.d.list_sum(values)}, 0)"
            return (self.q.scales.cast(total, e) if e.type.kind in NUMERIC else f"CAST({total} AS BIGINT)")
        return f"{self.d.list_max(values) if e.op == 'max' else self.d.list_min(values)}"

    def visit_Cmp(self, e: ir.Cmp) -> str:
        return f"({self.visit(e.left)} {_CMP[e.op]} {self.visit(e.right)})"

    def visit_In(self, e: ir.In) -> str:
        kind = e.set.type.kind
        item = self.visit(e.item)
        if kind == "window":
            start, end = (time_micros(t) for t in self.q.set_value(e.set))
            found = (f"({item} >= {start} AND {item} < {end})" if start < end
                     else f"({item} >= {start} OR {item} < {end})")
        elif kind == "holidays":
            table = self.q.set_value(e.set)
            days = ", ".join(str((day - EPOCH).days) for day in sorted(d for d, _ in table.dates))
            found = f"({item} IN ({days or 'NULL'}))"
        else:
            codes = self.q.set_value(e.set)
            inside = ", ".join(self.d.text(c) for c in codes) or "NULL"  # in the order written
            return f"({item} {'NOT IN' if e.negated else 'IN'} ({inside}))"
        return f"(NOT {found})" if e.negated else found

    def visit_Not(self, e: ir.Not) -> str:
        return f"(NOT {self.visit(e.operand)})"

    def visit_And(self, e: ir.And) -> str:
        return "(" + " AND ".join(self.visit(x) for x in e.operands) + ")"

    def visit_Or(self, e: ir.Or) -> str:
        return "(" + " OR ".join(self.visit(x) for x in e.operands) + ")"

    def visit_Lookup(self, e: ir.Lookup) -> str:
        table = self.q.consts[e.map].value
        places = max((places_of(Fraction(v)) for _, v in table if hasattr(v, "as_tuple")), default=None)

        def value(v) -> str:  # numbers at one scale: a CASE would cut them to the first one's
            sql = self.q.literal(v)
            return decimal(sql, places) if places is not None and not isinstance(v, (bool, str)) else sql

        pairs = " ".join(f"WHEN {self.d.text(k)} THEN {value(v)}" for k, v in table)
        return f"(CASE {self.visit(e.key)} {pairs} END)"

    def visit_TupleOf(self, e: ir.TupleOf) -> str:
        return self.d.array([self.visit(x) for x in e.items])


class Output(Expr):
    """A rule's output with its texts typed as the engine's enum `enum`."""

    def __init__(self, q, enum: str) -> None:
        super().__init__(q)
        self.enum = enum

    def visit_Value(self, e: ir.Value) -> str:
        return self.d.enum_literal(e.value, self.enum)

    def visit_ConstRef(self, e: ir.ConstRef) -> str:
        return self.d.enum_literal(self.q.consts[e.name].value, self.enum)

    def visit_Lookup(self, e: ir.Lookup) -> str:
        pairs = " ".join(f"WHEN {self.d.text(k)} THEN {self.d.enum_literal(v, self.enum)}"
                         for k, v in self.q.consts[e.map].value)
        return f"(CASE {self.q.expr(e.key)} {pairs} END)"

    def visit_FactRef(self, e: ir.FactRef) -> str:
        return f"CAST({self.q.expr(e)} AS {self.enum})"


class Offset(ir.Visitor):
    """The UTC offset, in microseconds, of a timestamp expression: the generated module
    adds durations to an instant's local time (and turns down a result outside years 1 to
    9999 there), so the SQL needs the offset the instant was given with. Read from the
    fact's text with casts that give NULL, never an error, on text that is no timestamp
    (such a row is turned down for its fact before this matters)."""

    def __init__(self, q) -> None:
        self.q = q
        self.memo: dict[str, str] = {}
        for d in q.p.derived:  # in declaration order: a chain of lets without recursion
            if d.type.kind == "timestamp":
                self.memo[d.name] = self.visit(d.expr)

    def visit_FactRef(self, e: ir.FactRef) -> str:
        q = self.q
        f = q.p.fact(e.name)
        if f.name in q.direct:  # a typed instant: given in UTC
            text_offset = "0"
        else:
            col = q.raw(f)
            hours, minutes = q.d.to_bigint(f"substr({col}, -5, 2)"), q.d.to_bigint(f"substr({col}, -2, 2)")
            text_offset = (f"(CASE WHEN substr({col}, -1, 1) = 'Z' THEN 0 ELSE "
                           f"(CASE WHEN substr({col}, -6, 1) = '-' THEN -1 ELSE 1 END) * "
                           f"({hours} * 60 + {minutes}) * 60000000 END)")
        if f.has_default:
            return f"(CASE WHEN {q.col(f)} IS NULL THEN {offset_micros(f.default)} ELSE {text_offset} END)"
        return text_offset

    def visit_DerivedRef(self, e: ir.DerivedRef) -> str:
        return self.memo[e.name]

    def visit_ConstRef(self, e: ir.ConstRef) -> str:
        return str(offset_micros(self.q.consts[e.name].value))

    def visit_Value(self, e: ir.Value) -> str:
        return str(offset_micros(e.value))

    def visit_Arith(self, e: ir.Arith) -> str:  # timestamp ± duration keeps the timestamp's offset
        return self.visit(e.left if e.left.type.kind == "timestamp" else e.right)

    def visit_IfElse(self, e: ir.IfElse) -> str:
        return f"(CASE WHEN {self.q.expr(e.cond)} THEN {self.visit(e.then)} ELSE {self.visit(e.else_)} END)"

    def visit_Call(self, e: ir.Call) -> str:
        """min/max of instants: Python keeps the first of equals (`min(a, b)` is a unless b < a)."""
        a, b, *rest = e.args
        if rest:
            return self.visit(ir.Call(e.fn, (ir.Call(e.fn, (a, b), e.type), *rest), e.type))
        takes_b = f"{self.q.expr(b)} {'<' if e.fn == 'min' else '>'} {self.q.expr(a)}"
        return f"(CASE WHEN {takes_b} THEN {self.visit(b)} ELSE {self.visit(a)} END)"


class Bound(ir.Visitor):
    """An upper bound of |e| in microseconds for instants and durations (instants as
    local or UTC times within years 0 to 10000)."""

    def __init__(self, policy: ir.Policy) -> None:
        self.p = policy
        self.memo: dict[str, int] = {}
        for d in policy.derived:  # in declaration order: a chain of lets without recursion
            if d.type.kind in ("timestamp", "duration"):
                self.memo[d.name] = self.visit(d.expr)

    def visit_Arith(self, e: ir.Arith) -> int:
        return self.visit(e.left) + self.visit(e.right)

    def visit_DerivedRef(self, e: ir.DerivedRef) -> int:
        return self.memo[e.name]

    def visit_ConstRef(self, e: ir.ConstRef) -> int:
        return abs(int(to_number(self.p.const(e.name).value)))

    def visit_Value(self, e: ir.Value) -> int:
        return abs(int(to_number(e.value)))

    def visit_FactRef(self, e: ir.FactRef) -> int:
        return _INSTANT_BOUND

    visit_Item = visit_FactRef

    def visit_Call(self, e: ir.Call) -> int:
        return max(self.visit(a) for a in e.args)

    def visit_IfElse(self, e: ir.IfElse) -> int:
        return max(self.visit(e.then), self.visit(e.else_))

    def visit_Aggregate(self, e: ir.Aggregate) -> int:
        return _INSTANT_BOUND * (self.p.fact(e.list).max_items if e.op == "sum" else 1)
