"""The fact space of a policy as SMT formulas (z3), for the constructs a partition of
the space cannot cut exactly: arithmetic by constants, min/max and rounding, calendars,
lists of records, optional facts. Exact over the integers and rationals: no float.

    space = SmtSpace(policy)
    space.valid                 formula: the facts decide() takes (domains and requires)
    space.cond(expr)            formula: where a condition holds
    space.example(formula)      (JSON facts, typed facts) satisfying it, or None
    space.describe(typed)       the facts in the policy's own labels

Encoding: an enum is an Int (its index), a bool a Bool, a number a Real, money, instants
and durations (µs), dates (day numbers) and times of day (µs) are Ints; every amount is
read as a Real so that `20%` and `/ 4` stay exact. An optional fact or field has a presence
Bool beside its value. A list fact of at most N items is its length and N items of
variables; an aggregate is a sum, an Or, an And or a chain of Ifs over the items below the
length. `floor(x, u)` is `u * ToInt(x / u)`; the calendar of an instant is integer division
of its local µs by one day (the zone is a fixed offset, E0313).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from typing import Any

import z3

from ..middle import ir
from ..middle.values import duration_text, fraction_text, to_number
from ..runtime.support import DURATION_LIMIT

DAY = 86_400_000_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_MIN_INSTANT = int((dt.datetime(1, 1, 2, tzinfo=dt.timezone.utc) - _EPOCH) / dt.timedelta(microseconds=1))
_MAX_INSTANT = int((dt.datetime(9999, 12, 30, tzinfo=dt.timezone.utc) - _EPOCH) / dt.timedelta(microseconds=1))
_MAX_DURATION = DURATION_LIMIT - 1  # decide() takes shorter durations only
_LIMIT = 10 ** 15  # numbers and money decide() takes are below this (runtime.support.NUMBER_LIMIT)
_KINDS_AS_INT = ("money", "timestamp", "duration", "date", "time", "enum")


def codes_of(policy: ir.Policy, enum: str) -> tuple[str, ...]:
    """The codes of an enum type, by the name its type carries."""
    if enum == "weekday":
        return tuple(code for code, _ in ir.WEEKDAYS)
    if "." in enum:
        record, field_name = enum.split(".", 1)
        return policy.records_by_name[record].fields_by_name[field_name].codes
    return policy.fact(enum).codes


def literal(value: Any, kind: str) -> Any:
    """A constant as a z3 term of the encoding."""
    if kind == "bool":
        return z3.BoolVal(bool(value))
    if kind == "date":
        return z3.IntVal(value.toordinal() - _EPOCH_ORDINAL)
    if kind == "time":
        return z3.IntVal(((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond)
    q = Fraction(to_number(value))
    if kind != "number" and q.denominator == 1:  # whole µs, days, won: integer arithmetic (z3 is fast on it)
        return z3.IntVal(q.numerator)
    return z3.RealVal(f"{q.numerator}/{q.denominator}")


def _real(x: Any) -> Any:
    return z3.ToReal(x) if z3.is_int(x) else x


class _Var:
    """One fact or field: its z3 variable and, if it may be left out, its presence."""

    def __init__(self, decl: ir.Fact, prefix: str, space: "SmtSpace") -> None:
        kind = decl.type.kind
        name = prefix + decl.name
        self.decl = decl
        self.present = z3.Bool(name + "?") if decl.optional else None
        if kind == "bool":
            self.var = z3.Bool(name)
        elif kind in _KINDS_AS_INT:
            self.var = z3.Int(name)
        elif kind == "number":
            self.var = z3.Real(name)
        else:  # text: shown, never compared
            self.var = None
        self.domain = space.domain_of(decl, self.var)

    def value(self) -> Any:
        return self.var


class SmtSpace:
    def __init__(self, policy: ir.Policy) -> None:
        self.policy = policy
        self.offset = int(policy.zone_offset / dt.timedelta(microseconds=1)) if policy.zone_offset else 0
        self.facts: dict[str, _Var] = {}
        self.lists: dict[str, tuple[z3.ArithRef, list[dict[str, _Var]]]] = {}
        self.consts = {c.name: c for c in policy.consts}
        self.derived = {d.name: d for d in policy.derived}
        self._items: list[dict[str, _Var]] = []  # the list items being looked at, innermost last
        self._memo: dict[str, Any] = {}
        self.extra: list[Any] = []  # what decide() also needs: dates inside a holiday table
        domain = []
        for f in policy.facts:
            if f.type.kind == "list":
                record = policy.records_by_name[f.type.item]
                length = z3.Int(f.name + "#")
                items = [{x.name: _Var(x, f"{f.name}[{i}].", self) for x in record.fields}
                         for i in range(f.max_items)]
                self.lists[f.name] = (length, items)
                domain += [length >= 0, length <= f.max_items]
                domain += [v.domain for item in items for v in item.values() if v.domain is not None]
            else:
                var = self.facts[f.name] = _Var(f, "", self)
                if var.domain is not None:
                    domain.append(var.domain)
        self.domain = z3.And(*domain) if domain else z3.BoolVal(True)
        requires = [self.cond(r.cond) for r in policy.requires]
        # every condition once, so that what decide() needs of the facts to compute them
        # (dates inside a holiday table) is known before `valid` is
        for d in policy.derived:
            self.value(ir.DerivedRef(d.name, d.type))
        for d in policy.decisions:
            for r in d.rules:
                self.cond(r.cond)
        self.valid = z3.And(self.domain, *requires, *self.extra)

    # ── domains ──
    def domain_of(self, decl: ir.Fact, var: Any) -> Any:
        kind = decl.type.kind
        if kind == "enum":
            return z3.And(var >= 0, var < len(decl.values))
        if kind == "number":  # decide() takes at most 9 places: whole billionths
            return z3.And(var > -_LIMIT, var < _LIMIT, z3.IsInt(var * 1_000_000_000))
        if kind == "money":
            return z3.And(var > -_LIMIT, var < _LIMIT)
        if kind == "timestamp":
            return z3.And(var >= _MIN_INSTANT, var <= _MAX_INSTANT)
        if kind == "duration":
            return z3.And(var >= -_MAX_DURATION, var <= _MAX_DURATION)
        if kind == "date":
            return z3.And(var >= 1 - _EPOCH_ORDINAL, var <= dt.date.max.toordinal() - _EPOCH_ORDINAL)
        if kind == "time":
            return z3.And(var >= 0, var < DAY)
        return None

    # ── expressions ──
    def cond(self, e: ir.Expr | None) -> Any:
        return z3.BoolVal(True) if e is None else self.value(e)

    def value(self, e: ir.Expr) -> Any:
        return getattr(self, "_" + type(e).__name__)(e)

    def _FactRef(self, e: ir.FactRef) -> Any:
        return self.facts[e.name].value()

    def _DerivedRef(self, e: ir.DerivedRef) -> Any:  # a let never reads a list item: one term per let
        if e.name not in self._memo:
            self._memo[e.name] = self.value(self.derived[e.name].expr)
        return self._memo[e.name]

    def _ConstRef(self, e: ir.ConstRef) -> Any:
        c = self.consts[e.name]
        return self._constant(c.value, e.type)

    def _Value(self, e: ir.Value) -> Any:
        return self._constant(e.value, e.type)

    def _constant(self, value: Any, typ: ir.Type) -> Any:
        if typ.kind == "enum":
            return z3.IntVal(codes_of(self.policy, typ.enum).index(value))
        if typ.kind in ("set", "window", "holidays", "map", "tuple", "string", "text"):
            return value  # read by In, Lookup and outputs
        return literal(value, typ.kind)

    def _Arith(self, e: ir.Arith) -> Any:
        a, b = self.value(e.left), self.value(e.right)
        return {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "/": lambda: _real(a) / _real(b)}[e.op]()

    def _Call(self, e: ir.Call) -> Any:
        args = [self.value(a) for a in e.args]
        if e.fn in ("min", "max"):
            out = args[0]
            for x in args[1:]:
                out = z3.If(x < out, x, out) if e.fn == "min" else z3.If(x > out, x, out)
            return out
        if e.fn in ("floor", "ceil", "round"):
            x, u = _real(args[0]), _real(args[1])
        if e.fn == "floor":
            return u * z3.ToReal(z3.ToInt(x / u))
        if e.fn == "ceil":
            return -u * z3.ToReal(z3.ToInt(-x / u))
        if e.fn == "round":  # half away from zero, as ROUND_HALF_UP
            up = u * z3.ToReal(z3.ToInt(x / u + z3.RealVal("1/2")))
            down = -u * z3.ToReal(z3.ToInt(-x / u + z3.RealVal("1/2")))
            return z3.If(x >= 0, up, down)
        local = args[0] + self.offset  # whole µs: integer division and remainder (floor, as Python's)
        day = local / DAY
        if e.fn == "date_of":
            return day
        if e.fn == "time_of":
            return local % DAY
        return (day + _EPOCH_ORDINAL - 1) % 7  # weekday: Monday is 0, as ir.WEEKDAYS

    def _IfElse(self, e: ir.IfElse) -> Any:
        return z3.If(self.cond(e.cond), self.value(e.then), self.value(e.else_))

    def _Given(self, e: ir.Given) -> Any:
        return self.present(e.item)

    def present(self, e: ir.Expr) -> Any:
        """Formula: the value `e` stands for is there."""
        if isinstance(e, ir.FactRef):
            var = self.facts[e.name]
            return var.present if var.present is not None else z3.BoolVal(True)
        if isinstance(e, ir.Item):
            var = self._items[-1][e.name]
            return var.present if var.present is not None else z3.BoolVal(True)
        if isinstance(e, ir.DerivedRef):
            return z3.And(True, *[self.present(ir.FactRef(what) if kind == "fact" else what)
                                  for kind, what in self.derived[e.name].needs])
        if isinstance(e, ir.Aggregate) and e.op in ("max", "min", "first"):
            return z3.Or(False, *[c for c, _ in self._chosen(e)])
        return z3.BoolVal(True)

    def _Item(self, e: ir.Item) -> Any:
        return self._items[-1][e.name].value()

    def _chosen(self, e: ir.Aggregate) -> list[tuple[Any, Any]]:
        """For each item slot: (it is in the list and counts, its field's value or None)."""
        length, items = self.lists[e.list]
        out = []
        for i, item in enumerate(items):
            self._items.append(item)
            try:
                counts = z3.And(i < length, self.cond(e.where))
                value = None
                if e.field is not None:
                    var = item[e.field]
                    if var.present is not None:
                        counts = z3.And(counts, var.present)
                    value = var.value()
            finally:
                self._items.pop()
            out.append((counts, value))
        return out

    def _Aggregate(self, e: ir.Aggregate) -> Any:
        chosen = self._chosen(e)
        length = self.lists[e.list][0]
        if e.op == "count":
            return z3.Sum([z3.If(c, z3.IntVal(1), z3.IntVal(0)) for c, _ in chosen]) if chosen else z3.IntVal(0)
        if e.op == "any":
            return z3.Or(False, *[c for c, _ in chosen])
        if e.op == "all":  # every item in the list counts
            _, items = self.lists[e.list]
            return z3.And(True, *[z3.Implies(i < length, self._where(e, items[i])) for i in range(len(items))])
        if e.op == "sum":
            zero = z3.IntVal(0) if chosen and z3.is_int(chosen[0][1]) else z3.RealVal(0)
            return z3.Sum([z3.If(c, v, zero) for c, v in chosen]) if chosen else zero
        if e.op == "first":
            if not chosen or chosen[0][1] is None:  # a text field: shown, never compared
                return z3.RealVal(0)
            out = chosen[-1][1]
            for c, v in reversed(chosen[:-1]):
                out = z3.If(c, v, out)
            return out
        best, seen = None, z3.BoolVal(False)
        for c, v in chosen:
            if best is None:
                best = v
            else:
                better = v > best if e.op == "max" else v < best
                best = z3.If(z3.And(c, z3.Or(z3.Not(seen), better)), v, best)
            seen = z3.Or(seen, c)
        return best if best is not None else z3.RealVal(0)

    def _where(self, e: ir.Aggregate, item: dict[str, _Var]) -> Any:
        self._items.append(item)
        try:
            return self.cond(e.where)
        finally:
            self._items.pop()

    def _Cmp(self, e: ir.Cmp) -> Any:
        a, b = self.value(e.left), self.value(e.right)
        return {"=": lambda: a == b, "!=": lambda: a != b, "<": lambda: a < b, "<=": lambda: a <= b,
                ">": lambda: a > b, ">=": lambda: a >= b}[e.op]()

    def _In(self, e: ir.In) -> Any:
        item = self.value(e.item)
        group = self.value(e.set)
        kind = e.set.type.kind
        if kind == "window":
            start, end = literal(group[0], "time"), literal(group[1], "time")
            found = z3.And(start <= item, item < end) if group[0] < group[1] else z3.Or(item >= start, item < end)
        elif kind == "holidays":
            first = dt.date(group.first_year, 1, 1).toordinal() - _EPOCH_ORDINAL
            last = dt.date(group.last_year, 12, 31).toordinal() - _EPOCH_ORDINAL
            self.extra.append(z3.And(item >= first, item <= last))  # decide() turns down a date outside the table
            found = z3.Or(False, *[item == literal(d, "date") for d, _ in sorted(group.dates)])
        else:
            codes = codes_of(self.policy, e.item.type.enum)
            found = z3.Or(False, *[item == codes.index(c) for c in group])
        return z3.Not(found) if e.negated else found

    def _Not(self, e: ir.Not) -> Any:
        return z3.Not(self.cond(e.operand))

    def _And(self, e: ir.And) -> Any:
        return z3.And(*[self.cond(x) for x in e.operands])

    def _Or(self, e: ir.Or) -> Any:
        return z3.Or(*[self.cond(x) for x in e.operands])

    # ── examples ──
    def solver(self, *formulas) -> z3.Solver:
        s = z3.Solver()
        s.set("timeout", 20_000)
        s.add(self.valid, *formulas)
        return s

    def sat(self, *formulas) -> bool:
        solver = self.solver(*formulas)
        result = solver.check()
        if result == z3.unknown:
            raise SmtUnknown(f"z3: {solver.reason_unknown()}")
        return result == z3.sat

    def example(self, *formulas) -> tuple[dict[str, Any], dict[str, Any]] | None:
        s = self.solver(*formulas)
        if s.check() != z3.sat:
            return None
        self._prefer(s)
        for length, _ in self.lists.values():  # the shortest lists: examples a person can read
            found = s.model().eval(length, model_completion=True).as_long()
            for k in range(found):
                s.push()
                s.add(length == k)
                if s.check() == z3.sat:
                    break
                s.pop()
            else:
                s.add(length == found)
            s.check()
        model = s.model()
        typed: dict[str, Any] = {}
        for f in self.policy.facts:
            if f.type.kind == "list":
                length, items = self.lists[f.name]
                n = model.eval(length, model_completion=True).as_long()
                typed[f.name] = tuple(self._record(model, items[i]) for i in range(n))
                continue
            var = self.facts[f.name]
            if var.present is not None and not z3.is_true(model.eval(var.present, model_completion=True)):
                continue
            typed[f.name] = self._read(model, var)
        return {k: _jsonable(v) for k, v in typed.items()}, typed

    def _prefer(self, s: z3.Solver) -> None:
        """Examples a person can read where the region allows: instants in 2024, whole
        numbers. Each preference is kept only if the region still has facts with it."""
        start = int((dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc) - _EPOCH) / dt.timedelta(microseconds=1))
        stamps, numbers = [], []
        for var in self._all_vars():
            if var.decl.type.kind == "timestamp":
                stamps.append(z3.And(var.var >= start, var.var < start + 366 * DAY))
            elif var.decl.type.kind == "number":
                numbers.append(z3.IsInt(var.var))
        for wish in (stamps, numbers):
            if not wish:
                continue
            s.push()
            s.add(*wish)
            if s.check() == z3.sat:
                continue  # kept (the pushed scope stays)
            s.pop()
        s.check()

    def _all_vars(self):
        yield from self.facts.values()
        for _, items in self.lists.values():
            for item in items:
                yield from item.values()

    def _record(self, model, item: dict[str, _Var]) -> dict[str, Any]:
        out = {}
        for name, var in item.items():
            if var.present is not None and not z3.is_true(model.eval(var.present, model_completion=True)):
                continue
            out[name] = self._read(model, var)
        return out

    def _read(self, model, var: _Var) -> Any:
        kind = var.decl.type.kind
        if var.var is None:
            return "가나다"  # text: never compared; any text will do
        got = model.eval(var.var, model_completion=True)
        if kind == "bool":
            return z3.is_true(got)
        if kind == "number":
            q = Fraction(got.numerator_as_long(), got.denominator_as_long())
            return _decimal(q)
        n = got.as_long()
        if kind == "enum":
            return var.decl.values[n].code
        if kind == "money":
            return n
        if kind == "timestamp":
            zone = dt.timezone(dt.timedelta(microseconds=self.offset))
            return (_EPOCH + dt.timedelta(microseconds=n)).astimezone(zone)
        if kind == "duration":
            return dt.timedelta(microseconds=n)
        if kind == "date":
            return dt.date.fromordinal(n + _EPOCH_ORDINAL)
        micros = n
        return dt.time(micros // 3_600_000_000, micros // 60_000_000 % 60, micros // 1_000_000 % 60, micros % 1_000_000)

    def describe(self, typed: dict[str, Any]) -> str:
        """The facts of an example in the policy's own labels."""
        parts = []
        for f in self.policy.facts:
            if f.name not in typed:
                parts.append(f"{f.label}: 없음")
                continue
            parts.append(f"{f.label}: {self._show(f, typed[f.name])}")
        return ", ".join(parts)

    def _show(self, decl: ir.Fact, value: Any) -> str:
        kind = decl.type.kind
        if kind == "list":
            record = self.policy.records_by_name[decl.type.item]
            if not value:
                return "없음"
            items = ["(" + ", ".join(f"{x.label} {self._show(x, item[x.name])}" for x in record.fields
                                     if x.name in item and x.type.kind != "text") + ")" for item in value]
            return f"{len(value)}개 " + " ".join(items)
        if kind == "enum":
            return next(v.label for v in decl.values if v.code == value)
        if kind == "bool":
            return "예" if value else "아니오"
        if kind == "money":
            return f"{value:,}원"
        if kind == "timestamp":
            return value.isoformat()
        if kind == "duration":
            return duration_text(value)
        if kind in ("date", "time"):
            return value.isoformat()
        return fraction_text(Fraction(value)) if isinstance(value, (int, Decimal)) else str(value)


class SmtUnknown(Exception):
    """The solver gave up: the analysis says so instead of guessing."""


def _decimal(q: Fraction) -> Decimal:
    """A rational as the Decimal decide() would read (cut to 9 places when it has more:
    the example is then verified before it is shown)."""
    if q.denominator == 1:
        return Decimal(q.numerator)
    out = Decimal(q.numerator) / Decimal(q.denominator)
    return out.quantize(Decimal("0.000000001")).normalize()


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return duration_text(value)
    return value
