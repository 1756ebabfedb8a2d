"""IR -> SQL: a policy's decisions as one query over a table of facts, for DuckDB
(the embedded default) and Spark SQL (clusters).

    to_sql(policy, source, columns, dialect="duckdb" | "spark", types=None) -> str

The query keeps every input column and adds `policy_error` (the first thing wrong with
the row's facts, in the Python module's words, or NULL), and for valid rows `outcome`,
`rule`, one column per value decision, `discloses` and `actions`. Semantics follow the
generated Python module: instants are compared as whole microseconds since the epoch
(offsets respected, boundaries inclusive exactly as written), derived values are
computed in microseconds, a row with invalid facts is never decided.

Shape of the query (each step measured in bench/batch.py): every fact is read once into
a typed column (an enum fact as the engine's ENUM, so rules compare small integers; a
TIMESTAMPTZ or BOOLEAN column directly, text otherwise); one cheap test per fact gives
`__ok`, and only rows that fail it are asked which message applies; each decision's
conditions run once, into the index of the rule that fired, and the outputs are
constants picked by that index, typed as ENUMs so they leave DuckDB as dictionaries.

Duration facts are read from text as the module reads it ('3d', '1h30m', '3일', summed per
unit in DECIMAL(38, 0), then kept as BIGINT microseconds under runtime.support's
DURATION_LIMIT). What the SQL cannot run yet is listed by `batch_limits` (W0610).
"""

from __future__ import annotations

import datetime as dt
import difflib
from decimal import Decimal

from ..korean import quoted
from ..middle import ir
from ..middle.values import offset_micros, to_number
from ..runtime.support import DURATION_LIMIT, ISO_TEXT

# Timestamp text: the generated module's shape (one definition, runtime/support.py), and
# the same with the ranges Python's parser enforces and DuckDB's does not (year 0000, hour
# 24, offsets of 24 hours or more, offset minutes over 59): a row outside the second is
# turned down with the module's "없는 날짜나 시각" rather than decided.
_ISO = ISO_TEXT.pattern
_ISO_VALID = (r"(000[1-9]|00[1-9]\d|0[1-9]\d\d|[1-9]\d{3})-\d{2}-\d{2}[T ]([01]\d|2[0-3]):[0-5]\d"
              r"(:[0-5]\d(\.\d{1,6})?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)")
_INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "INT", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
             "UBIGINT", "UHUGEINT", "LONG", "SHORT", "BYTE"}
_FLOATS = {"FLOAT", "REAL", "DOUBLE", "FLOAT4", "FLOAT8"}
_BINARY = {"BLOB", "BINARY", "BYTEA", "VARBINARY"}
# numbers: exact decimals as runtime/support.py defines them (under 10**15, 9 places)
_DECIMAL = "DECIMAL(38, 9)"
_NUMBER_TEXT = r"-?[0-9]+(\.[0-9]+)?"            # what reads as a number at all
_NUMBER_OK = r"-?[0-9]{1,15}(\.[0-9]{1,9})?"    # and within the limits
_NUMBER_BIG = r"-?[0-9]{16,}(\.[0-9]+)?"
# the instants a Python datetime can hold (years 1 to 9999), in microseconds since the epoch
_INSTANTS = (int(to_number(dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc))),
             int(to_number(dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.timezone.utc))))
# the local times a Python datetime can hold, as if they were UTC: a derived instant's
# local time must stay inside (the module raises OverflowError past them)
_LOCAL = _INSTANTS
_LIMIT = 10 ** 15  # runtime/support.py NUMBER_LIMIT
_BIGINT = 2 ** 63 - 1
# an instant's microseconds, UTC or local, are within years 0 to 10000: below this
_INSTANT_BOUND = 320_000_000_000_000_000
_OVERFLOW = "계산할 수 없는 범위의 시각이나 기간입니다"  # the module's words (backend/python.py)
_ANCHORED = r"^(?:{})\z"  # Java regex: `$` would also match before a final newline
_CMP = {"=": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
# duration text, as runtime/support.py reads it: parts of digits and a unit, summed
_DURATION_UNITS = {"일": 86_400_000_000, "d": 86_400_000_000, "시간": 3_600_000_000, "h": 3_600_000_000,
                   "분": 60_000_000, "m": 60_000_000, "초": 1_000_000, "s": 1_000_000, "ms": 1000, "us": 1}
_DURATION_PART = "[0-9]+(일|시간|분|초|ms|us|d|h|m|s)"  # `ms` before `m`: both engines take the first that fits
_DURATION_TEXT = "([0-9]{1,15}(일|시간|분|초|ms|us|d|h|m|s))+"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class DuckDB:
    """The few places the two engines spell things differently."""

    name = "duckdb"
    string = "VARCHAR"
    # whether micros() reads only the module's timestamp text (so NULL means "not that
    # text"); DuckDB's cast is laxer and needs the shape checked beside it
    strict_micros = False

    def ident(self, name: str) -> str:
        return ident(name)

    def text(self, value: str) -> str:
        return text(value)

    def micros(self, col: str) -> str:
        return f"epoch_us(TRY_CAST({col} AS TIMESTAMPTZ))"

    def full_match(self, col: str, pattern: str) -> str:
        return f"regexp_full_match({col}, {self.text(pattern)})"

    def duration_micros(self, col: str) -> str:
        """The microseconds of duration text (its shape checked apart), as DECIMAL(38, 0)."""
        return (f"list_sum(list_transform(regexp_extract_all({col}, {self.text(_DURATION_PART)}), "
                f"lambda x: CAST(regexp_extract(x, '^[0-9]+') AS DECIMAL(38, 0)) * {self._unit('regexp_extract(x, ' + self.text('[^0-9]+$') + ')')}))")

    def _unit(self, unit: str) -> str:
        return f"CASE {unit} " + " ".join(f"WHEN {self.text(u)} THEN {n}" for u, n in _DURATION_UNITS.items()) + " END"


    def to_bigint(self, text: str) -> str:
        """Text as a BIGINT, NULL (never an error) when it is not one."""
        return f"TRY_CAST({text} AS BIGINT)"


    def array(self, items: list[str]) -> str:
        return "[" + ", ".join(items) + "]" + ("" if items else "::VARCHAR[]")

    def column_kind(self, type_name: str) -> str:
        """How a typed column can be read without going through text: "instant" (a
        timestamp with a time zone), "bool", "number" (integers and decimals, exact),
        "float" and "binary" (neither is read as a fact), or "text" (anything else is
        read as text, exactly as the module would see its string form)."""
        t = type_name.upper()
        if t in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ", "TIMESTAMPTZ_NS", "TIMESTAMP_NS WITH TIME ZONE"):
            return "instant"  # nanoseconds, as pandas writes them, are cut to microseconds as in Python
        if t == "BOOLEAN":
            return "bool"
        if t in _INTEGERS or t.startswith("DECIMAL"):
            return "number"
        if t in _FLOATS:
            return "float"
        if t in _BINARY:
            return "binary"
        return "text"

    def instant_micros(self, col: str) -> str:
        return f"epoch_us({col})"

    def pick(self, idx: str, values: list[str], constant: bool) -> str:
        """values[idx]: a constant list indexed once per row (measured: half the cost of
        a CASE), or a CASE when the values are computed per row."""
        if constant:
            return f"([{', '.join(values)}])[{idx} + 1]"
        return f"CASE {idx} " + " ".join(f"WHEN {n} THEN {v}" for n, v in enumerate(values)) + " END"

    def enum(self, codes) -> str | None:
        """The engine's dictionary type for a closed set of strings (None: plain text).
        An enum fact read as one compares as a small integer, and an output column of one
        leaves the engine as an Arrow dictionary (written to Parquet without re-encoding)."""
        return "ENUM(" + ", ".join(self.text(c) for c in codes) + ")"

    def of_enum(self, col: str, enum: str | None) -> str:
        """A text column as the enum: NULL for a value outside it."""
        return col if enum is None else f"TRY_CAST({col} AS {enum})"

    def enum_literal(self, value: str, enum: str | None) -> str:
        return self.text(value) if enum is None else f"CAST({self.text(value)} AS {enum})"


class Spark(DuckDB):
    name = "spark"
    string = "STRING"
    strict_micros = True  # micros() counts the instant only from text that has the shape

    def ident(self, name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    def text(self, value: str) -> str:  # Spark reads backslash escapes inside literals
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    def micros(self, col: str) -> str:
        """Counted from the text's fields: Spark's own parser needs seconds, takes offsets
        only up to 18 hours and depends on the session time zone; Python's does not."""
        z = f"substr({col}, -1, 1) = 'Z'"
        local = f"(length({col}) - CASE WHEN {z} THEN 1 ELSE 6 END)"  # up to the offset

        def num(start: int | str, length: int | str) -> str:
            return f"CAST(substr({col}, {start}, {length}) AS BIGINT)"

        seconds = f"CASE WHEN {local} >= 19 THEN {num(18, 2)} ELSE 0 END"
        fraction = f"CASE WHEN {local} > 20 THEN CAST(rpad(substr({col}, 21, {local} - 20), 6, '0') AS BIGINT) ELSE 0 END"
        offset = (f"CASE WHEN {z} THEN 0 ELSE (CASE WHEN substr({col}, -6, 1) = '-' THEN -1 ELSE 1 END)"
                  f" * ({num(-5, 2)} * 60 + {num(-2, 2)}) END")
        return (f"CASE WHEN {self.full_match(col, _ISO_VALID)} THEN "
                f"unix_date(try_to_date(substr({col}, 1, 10), 'yyyy-MM-dd')) * 86400000000"
                f" + (({num(12, 2)} * 60 + {num(15, 2)}) * 60 + {seconds}) * 1000000 + {fraction}"
                f" - {offset} * 60000000 END")

    def full_match(self, col: str, pattern: str) -> str:
        return f"{col} RLIKE {self.text(_ANCHORED.format(pattern))}"

    def duration_micros(self, col: str) -> str:
        part = self.text(f"({_DURATION_PART})")
        return (f"aggregate(regexp_extract_all({col}, {part}, 1), CAST(0 AS DECIMAL(38, 0)), "
                f"(acc, x) -> acc + CAST(regexp_extract(x, '^([0-9]+)', 1) AS DECIMAL(38, 0)) * "
                f"{self._unit('regexp_extract(x, ' + self.text('([^0-9]+)$') + ', 1)')})")


    def to_bigint(self, text: str) -> str:
        return f"try_cast({text} AS BIGINT)"


    def array(self, items: list[str]) -> str:
        return f"array({', '.join(items)})" if items else "CAST(array() AS ARRAY<STRING>)"

    def enum(self, codes) -> str | None:
        return None  # Spark SQL has no enum type: text throughout

    def column_kind(self, type_name: str) -> str:
        t = type_name.upper()
        if t == "TIMESTAMP":  # Spark's TIMESTAMP is an instant (TIMESTAMP_NTZ is not)
            return "instant"
        return super().column_kind(t)

    def instant_micros(self, col: str) -> str:
        return f"unix_micros({col})"

    def pick(self, idx: str, values: list[str], constant: bool) -> str:
        return super().pick(idx, values, constant=False)  # a CASE: no indexing into array literals


DIALECTS = {"duckdb": DuckDB(), "spark": Spark()}


class _Sql:
    def __init__(self, policy: ir.Policy, dialect: DuckDB, columns: list[str],
                 types: dict[str, str] | None = None) -> None:
        self.d = dialect
        self.p = policy
        self.consts = policy.consts_by_name
        self.columns = list(columns)
        self.expr = _Expr(self).visit
        # every input column gets an internal name as it is read; an optional fact the
        # input lacks is a NULL column of its own (its default)
        self.cols = {c: d_ident for c, d_ident in zip(columns, (dialect.ident(f"__in{i}") for i in range(len(columns))))}
        absent = [f.name for f in policy.facts if f.name not in self.cols]
        self.absent = {name: dialect.ident(f"__in{len(columns) + i}") for i, name in enumerate(absent)}
        self.cols.update(self.absent)
        # how each fact's column is read: typed columns whose type says what the fact is
        # skip the text round trip (a warehouse's TIMESTAMPTZ is an instant already)
        kinds = {n: dialect.column_kind(t) for n, t in (types or {}).items()}
        wanted = {"timestamp": "instant", "bool": "bool", "number": "number"}
        self.direct = {f.name for f in policy.facts if wanted.get(f.type.kind, "-") == kinds.get(f.name)}
        for f in policy.facts:
            if kinds.get(f.name) == "binary":
                raise ValueError(f"사실 `{f.name}` 의 열이 이진(BLOB) 열입니다: 문자열이나 맞는 종류의 열로 주세요")
            if kinds.get(f.name) == "float" and f.type.kind == "number":
                raise ValueError(f"숫자 사실 `{f.name}` 의 열이 부동소수점(DOUBLE/FLOAT) 열입니다: 정확한 값이 되도록 "
                                 "정수, DECIMAL, 또는 문자열 열로 주세요 (0.1 은 부동소수점으로 정확히 적을 수 없습니다)")

    def col(self, f: ir.Fact) -> str:
        """The fact's input column under its internal name (`__in<i>`): input columns are
        renamed as they are read, so no name an input brings can bind where the query
        means one of its own (`__ok`, `__f_request`, ...)."""
        return self.cols[f.name]

    def raw(self, f: ir.Fact) -> str:
        return f"CAST({self.col(f)} AS {self.d.string})"

    def typed(self, f: ir.Fact) -> str:
        """The fact's value in SQL terms: the enum (NULL outside it), BOOLEAN, microseconds
        for instants, DECIMAL(38, 9) for numbers; NULL when the text does not read as one."""
        col = self.raw(f)
        kind = f.type.kind
        enum = self.d.enum(f.codes) if kind == "enum" else None
        direct = f.name in self.direct
        if kind == "enum":
            value = self.d.of_enum(col, enum)
        elif kind == "bool":
            value = self.col(f) if direct else f"CASE {col} WHEN 'true' THEN TRUE WHEN 'false' THEN FALSE END"
        elif kind == "timestamp":
            value = self.d.instant_micros(self.col(f)) if direct else self.d.micros(col)
        elif kind == "number":  # an exact decimal; NULL for text that is not one within the limits
            value = (f"TRY_CAST({self.col(f)} AS {_DECIMAL})" if direct
                     else f"CASE WHEN {self.d.full_match(col, _NUMBER_OK)} THEN CAST({col} AS {_DECIMAL}) END")
        else:  # duration text; NULL when it is not one or is too long
            micros = self.d.duration_micros(col)
            value = (f"CASE WHEN {self.d.full_match(col, _DURATION_TEXT)} AND {micros} < {DURATION_LIMIT} "
                     f"THEN CAST({micros} AS BIGINT) END")
        if f.has_default:
            default = self.d.enum_literal(f.default, enum) if kind == "enum" else self.literal(f.default)
            value = f"CASE WHEN {self.col(f)} IS NULL THEN {default} ELSE {value} END"
        return value

    def valid(self, f: ir.Fact) -> str:
        """True exactly when `problem` finds nothing for this fact: what every row pays for.
        The typed column is NULL for anything missing or unreadable, so this is mostly one test."""
        typed = self.d.ident("__f_" + f.name)
        kind = f.type.kind
        if kind == "enum" and self.d.enum(f.codes) is None:
            return f"COALESCE({typed} IN ({', '.join(self.d.text(c) for c in f.codes)}), FALSE)"
        if kind == "timestamp" and f.name in self.direct:
            return _in_python_range(typed)
        if kind == "timestamp" and not self.d.strict_micros:  # the engine's parser is laxer than the module's text
            shape = self.d.full_match(self.raw(f), _ISO_VALID)
            if f.has_default:
                shape = f"({self.col(f)} IS NULL OR {shape})"
            return f"({typed} IS NOT NULL AND {shape})"
        if kind == "number" and f.name in self.direct:  # in range, and no place lost to the cast
            # compared only in range: DuckDB casts the column to DECIMAL(38, 9) to compare, which
            # fails (an error, not NULL) for a typed value of 10^29 or more
            test = (f"COALESCE(CASE WHEN abs({self.col(f)}) < {_LIMIT} THEN {typed} = {self.col(f)} END, FALSE)")
            return f"({self.col(f)} IS NULL OR {test})" if f.has_default else test
        return f"({typed} IS NOT NULL)"

    def problem(self, f: ir.Fact) -> list[tuple[str, str]]:
        """(condition, message) pairs that make the row invalid because of this fact;
        only rows that fail `valid` are asked."""
        col = self.raw(f)
        typed = self.d.ident("__f_" + f.name)
        out = []
        if not f.has_default:
            out.append((f"{self.col(f)} IS NULL", f"{f.name}: 필요한 사실이 없습니다"))
        guard = f"{self.col(f)} IS NOT NULL AND "
        kind = f.type.kind
        if kind == "enum":
            out.append((guard + f"{col} NOT IN ({', '.join(self.d.text(c) for c in f.codes)})",
                        f"{f.name}: 알 수 없는 값 (가능한 값: {', '.join(f.codes)})"))
        elif kind == "bool":
            out.append((guard + f"{col} NOT IN ('true', 'false')", f"{f.name}: 참/거짓(true/false)이어야 합니다"))
        elif kind == "timestamp" and f.name in self.direct:  # infinity, or a year Python has no date for
            out.append((guard + f"NOT {_in_python_range(typed)}", f"{f.name}: 없는 날짜나 시각입니다"))
        elif kind == "timestamp":
            out.append((guard + f"NOT {self.d.full_match(col, _ISO)}",
                        f"{f.name}: UTC 기준 차이가 있는 ISO 8601 시각이어야 합니다"))
            # the typed column already holds the parse (NULL when it failed): parse once per row
            out.append((guard + f"({typed} IS NULL OR NOT {self.d.full_match(col, _ISO_VALID)})",
                        f"{f.name}: 없는 날짜나 시각입니다"))
        elif kind == "duration":
            out.append((guard + f"NOT {self.d.full_match(col, _DURATION_TEXT)}",
                        f"{f.name}: 기간은 '3d', '72h', '1m30s', '3일' 같은 문자열이어야 합니다"))
            out.append((guard + f"{typed} IS NULL", f"{f.name}: 기간이 너무 깁니다 (1만 년 미만)"))
        elif kind == "number" and f.name in self.direct:
            out.append((guard + f"NOT COALESCE(abs({typed}) < {_LIMIT}, FALSE)",
                        f"{f.name}: 숫자가 너무 큽니다 (10의 15제곱 미만)"))
            out.append((guard + f"NOT COALESCE(CASE WHEN abs({self.col(f)}) < {_LIMIT} THEN {typed} = {self.col(f)} END, "
                        "FALSE)", f"{f.name}: 소수점 아래는 9자리까지 씁니다"))
        elif kind == "number":
            out.append((guard + f"NOT {self.d.full_match(col, _NUMBER_TEXT)}", f"{f.name}: 유한한 숫자여야 합니다"))
            out.append((guard + f"{self.d.full_match(col, _NUMBER_BIG)}", f"{f.name}: 숫자가 너무 큽니다 (10의 15제곱 미만)"))
            out.append((guard + f"NOT {self.d.full_match(col, _NUMBER_OK)}", f"{f.name}: 소수점 아래는 9자리까지 씁니다"))
        return out

    def literal(self, v) -> str:
        if isinstance(v, bool):
            return "TRUE" if v else "FALSE"
        if isinstance(v, (dt.datetime, dt.timedelta)):
            return f"CAST({int(to_number(v))} AS BIGINT)"
        if isinstance(v, bool):  # pragma: no cover — handled above
            raise TypeError(v)
        if isinstance(v, (int, Decimal)):  # exact: DuckDB and Spark read 0.3 as DECIMAL
            return f"CAST('{format(v, 'f')}' AS {_DECIMAL})" if isinstance(v, Decimal) else str(v)
        if isinstance(v, str):
            return self.d.text(v)
        raise TypeError(v)

    def strings(self, e: ir.Expr) -> list[str] | None:
        """Every text a value expression can yield, in first-seen order (None: not a closed
        set of texts, e.g. a number)."""
        if e.type.kind not in ("string", "tuple"):
            return None
        out: list[str] = []
        for node in ir.walk(e):
            if isinstance(node, ir.Value) and isinstance(node.value, str):
                out.append(node.value)
            elif isinstance(node, ir.ConstRef) and isinstance(self.consts[node.name].value, str):
                out.append(self.consts[node.name].value)
            elif isinstance(node, ir.Lookup):
                out += [v for _, v in self.consts[node.map].value]
            elif not isinstance(node, (ir.TupleOf, ir.FactRef)):
                return None
        return out

    def output(self, e: ir.Expr, enum: str | None) -> str:
        """A value expression whose texts come out as `enum` (from `strings`)."""
        if enum is None:
            return self.expr(e)
        return _Output(self, enum).visit(e)

    def case(self, d: ir.Decision, pick) -> str:
        whens = []
        for rule in d.rules:
            if rule.cond is None:
                if not whens:  # only `otherwise`: no CASE (`CASE ELSE x END` is no SQL)
                    return pick(rule)
                whens.append(f"ELSE {pick(rule)}")
            else:
                whens.append(f"WHEN {self.expr(rule.cond)} THEN {pick(rule)}")
        return "CASE " + " ".join(whens) + " END"

    # ── arithmetic the module cannot do: a derived instant outside Python's years ──
    def overflows(self) -> list[str]:
        """One SQL condition per sum or difference in a derived value that the module
        cannot compute (OverflowError, reported as "계산할 수 없는 범위"): an instant whose
        local time leaves years 1 to 9999. Every derived value is computed for every row,
        as decide() computes them all. Durations cannot overflow here: `query` keeps every
        one within BIGINT, far inside a timedelta's range."""
        out = []
        offset = _Offset(self).visit
        for d in self.p.derived:
            for e in ir.walk(d.expr):  # its own expression: a derived value it reads is a column
                if isinstance(e, ir.Arith) and e.type.kind == "timestamp":
                    local = f"({self.expr(e)} + {offset(e)})"
                    out.append(f"NOT COALESCE({local} BETWEEN {_LOCAL[0]} AND {_LOCAL[1]}, FALSE)")
        return out

    def derived_levels(self) -> list[list[ir.Derived]]:
        """The derived values in groups, each reading only facts and earlier groups: one
        SELECT (a CTE) per group computes each value once, as a column, however long a
        chain of `let`s (inlining them would repeat a value at every use)."""
        level: dict[str, int] = {}
        for d in self.p.derived:
            level[d.name] = 1 + max((level[x.name] for x in ir.walk(d.expr) if isinstance(x, ir.DerivedRef)), default=0)
        groups: list[list[ir.Derived]] = [[] for _ in range(max(level.values(), default=0))]
        for d in self.p.derived:
            groups[level[d.name] - 1].append(d)
        return groups

    def query(self, source: str) -> str:
        p, d_ = self.p, self.d
        columns = self.columns
        missing = [f.name for f in p.facts if not f.has_default and f.name not in columns]
        if missing:
            raise ValueError(f"입력에 사실 열이 없습니다: {', '.join(missing)}")
        bound = _Bound(self.p).visit
        for d in p.derived:
            if d.type.kind in ("timestamp", "duration") and bound(d.expr) > _BIGINT:
                raise ValueError(f"파생값 {quoted(d.name, '은/는')} SQL 에서 계산할 수 없을 만큼 큰 시각이나 기간이 될 수 있습니다")
        # every input column under an internal name (`__in<i>`), read once from the source;
        # optional facts absent from the input are NULL columns, that is their defaults
        padded = ("SELECT " + ", ".join([f"{d_.ident(c)} AS {self.cols[c]}" for c in columns]
                                        + [f"NULL AS {col}" for col in self.absent.values()]) + f" FROM {source}")
        typed = ", ".join(f"{self.typed(f)} AS {d_.ident('__f_' + f.name)}" for f in p.facts)
        lets = "".join(f"lets{i} AS (SELECT *, " + ", ".join(f"{self.expr(d.expr)} AS {d_.ident('__d_' + d.name)}"
                                                             for d in group) + f" FROM {'typed' if i == 0 else f'lets{i - 1}'}),\n"
                       for i, group in enumerate(self.derived_levels()))
        last = f"lets{len(self.derived_levels()) - 1}" if p.derived else "typed"
        # Every row pays for `__ok` (one cheap test per fact, each typed value read once);
        # only a row that fails it is asked which problem it has, in the module's words. The
        # order is decide()'s: the facts, then the derived values, then the requirements.
        overflows = self.overflows()
        ok = ([self.valid(f) for f in p.facts] + [f"NOT {c}" for c in overflows]
              + [f"COALESCE({self.expr(r.cond)}, FALSE)" for r in p.requires])
        problems = [pm for f in p.facts for pm in self.problem(f)]
        problems += [(c, f"facts: {_OVERFLOW}") for c in overflows]
        for r in p.requires:
            problems.append((f"NOT COALESCE({self.expr(r.cond)}, FALSE)", f"{', '.join(r.facts)}: {r.message}"))
        error = ("CASE WHEN __ok THEN NULL " + " ".join(f"WHEN {c} THEN {d_.text(msg)}" for c, msg in problems)
                 + f" ELSE {d_.text(_UNEXPLAINED)} END")
        # Each decision's conditions are evaluated once, into the index of the rule that
        # fired; what a rule yields is a constant picked by that index, typed as the engine's
        # enum where it has one (so the output leaves as a dictionary, not as text per row).
        index_cols, picks = [], []
        for i, d in enumerate(p.decisions):
            idx = d_.ident(f"__r{i}")
            index_cols.append(f"CASE WHEN __ok THEN {self.case(d, lambda r, d=d: str(d.rules.index(r)))} END AS {idx}")
            if d.yields_outcome:
                outcomes = [p.outcome(r.output.value) for r in d.rules]
                o_enum = d_.enum(dict.fromkeys(o.name for o in p.outcomes))
                r_enum = d_.enum(dict.fromkeys(r.name for r in d.rules))
                personal = d_.enum(dict.fromkeys(c.name for c in p.contexts)) if p.contexts else None
                acts = d_.enum(dict.fromkeys(a.name for a in p.actions)) if p.actions else None

                def items(names, enum):
                    array = d_.array([d_.enum_literal(x, enum) for x in names])
                    return array if names or enum is None else f"CAST({array} AS {enum}[])"

                picks += [f"{d_.pick(idx, [d_.enum_literal(o.name, o_enum) for o in outcomes], True)} AS outcome",
                          f"{d_.pick(idx, [d_.enum_literal(r.name, r_enum) for r in d.rules], True)} AS rule"]
                attrs = [f"{d_.pick(idx, [items(o.discloses, personal) for o in outcomes], True)} AS discloses",
                         f"{d_.pick(idx, [items(o.actions, acts) for o in outcomes], True)} AS actions"]
            else:
                texts = [self.strings(r.output) for r in d.rules]
                enum = None if any(t is None for t in texts) else d_.enum(dict.fromkeys(v for t in texts for v in t))
                values = [self.output(r.output, enum) for r in d.rules]
                constant = all(_constant(r.output) for r in d.rules)
                picks.append(f"{d_.pick(idx, values, constant)} AS {d_.ident(d.name)}")
        if p.main is None:
            attrs = []
        keep = ", ".join(f"{self.cols[c]} AS {d_.ident(c)}" for c in columns)
        return (f"WITH padded AS ({padded}),\n"
                f"typed AS (SELECT *, {typed} FROM padded),\n"
                f"{lets}"
                f"checked AS (SELECT *, {' AND '.join(ok) or 'TRUE'} AS __ok FROM {last}),\n"
                f"decided AS (SELECT *, {error} AS policy_error, {', '.join(index_cols)} FROM checked)\n"
                f"SELECT {keep}, policy_error, {', '.join(picks + attrs)} FROM decided")


def _in_python_range(micros: str) -> str:
    """An instant a Python datetime can hold (not infinity, not year 10000)."""
    return f"COALESCE({micros} BETWEEN {_INSTANTS[0]} AND {_INSTANTS[1]}, FALSE)"


def output_columns(policy: ir.Policy) -> list[str]:
    """The columns the query adds to the input's."""
    out = ["policy_error"]
    if policy.main is not None:
        out += ["outcome", "rule"]
    out += [d.name for d in policy.decisions if d.yields_value]
    if policy.main is not None:
        out += ["discloses", "actions"]
    return out


def check_names(columns) -> dict[str, str]:
    """ValueError for a column without a name, or two named alike (DuckDB and Spark match
    names without regard to case); the names by their case-folded form."""
    seen: dict[str, str] = {}
    for c in columns:
        if not c.strip():
            raise ValueError("입력에 이름이 없는 열이 있습니다 (머리글의 모든 열에 이름을 주세요)")
        if c.casefold() in seen:
            raise ValueError(f"입력 열 이름이 두 번 나옵니다: {seen[c.casefold()]!r}, {c!r} (대소문자는 구별하지 않습니다)")
        seen[c.casefold()] = c
    return seen


def check_columns(policy: ir.Policy, columns: list[str]) -> None:
    """ValueError for input columns the query cannot take as they are. The engines match
    names without regard to case, so neither do these checks: two columns named alike, a
    column named like a fact but for its case (it would be neither the fact nor ignored),
    a column named like one the query adds."""
    seen = check_names(columns)
    for f in policy.facts:
        near = seen.get(f.name.casefold())
        if near is not None and near != f.name:
            raise ValueError(f"입력 열 {quoted(near, '은/는')} 사실 {quoted(f.name, '과/와')} 대소문자만 다릅니다 (열 이름을 사실 이름과 똑같이 쓰세요)")
    # a fact the input lacks while a column is nearly its name: a typo, not a ticket column
    # (decide() turns down an unknown name; a batch must not let an optional fact fall back to
    # its default because its column was misspelt)
    others = [c for c in columns if c not in policy.facts_by_name]
    for f in policy.facts:
        if f.name not in seen.values():
            near = difflib.get_close_matches(f.name, others, n=1, cutoff=0.85)
            if near:
                raise ValueError(f"입력에 사실 `{f.name}` 의 열이 없고, 비슷한 열 {quoted(near[0], '이/가')} 있습니다: 오타라면 "
                                 f"열 이름을 {quoted(f.name, '으로/로')} 고치세요 (사실이 아닌 열이면 다른 이름을 쓰세요)")
    clash = [c for c in output_columns(policy) if c.casefold() in seen]
    if clash:
        raise ValueError(f"입력 열 이름이 결정 결과 열과 겹칩니다: {', '.join(seen[c.casefold()] for c in clash)}"
                         " (열 이름을 바꿔 주세요)")


def _constant(e: ir.Expr) -> bool:
    """Whether a rule's output is the same for every row (no fact read, no table looked up)."""
    return not any(isinstance(x, (ir.FactRef, ir.DerivedRef, ir.Lookup)) for x in ir.walk(e))


class _Expr(ir.Visitor):
    """An IR expression in the engine's SQL, over the typed fact columns (`__f_<fact>`)."""

    def __init__(self, q: _Sql) -> None:
        self.q = q

    def visit_FactRef(self, e: ir.FactRef) -> str:
        return self.q.d.ident(f"__f_{e.name}")

    def visit_DerivedRef(self, e: ir.DerivedRef) -> str:
        return self.q.d.ident(f"__d_{e.name}")  # a column of its own (query: one CTE per level)

    def visit_ConstRef(self, e: ir.ConstRef) -> str:
        return self.q.literal(self.q.consts[e.name].value)

    def visit_Value(self, e: ir.Value) -> str:
        if e.type.kind == "set":
            return "(" + ", ".join(self.q.d.text(c) for c in e.value) + ")"
        return self.q.literal(e.value)

    def visit_Arith(self, e: ir.Arith) -> str:
        return f"({self.visit(e.left)} {e.op} {self.visit(e.right)})"

    def visit_Cmp(self, e: ir.Cmp) -> str:
        return f"({self.visit(e.left)} {_CMP[e.op]} {self.visit(e.right)})"

    def visit_In(self, e: ir.In) -> str:
        codes = e.set.value if isinstance(e.set, ir.Value) else self.q.consts[e.set.name].value
        inside = ", ".join(self.q.d.text(c) for c in codes) or "NULL"  # in the order written
        return f"({self.visit(e.item)} {'NOT IN' if e.negated else 'IN'} ({inside}))"

    def visit_Not(self, e: ir.Not) -> str:
        return f"(NOT {self.visit(e.operand)})"

    def visit_And(self, e: ir.And) -> str:
        return "(" + " AND ".join(self.visit(x) for x in e.operands) + ")"

    def visit_Or(self, e: ir.Or) -> str:
        return "(" + " OR ".join(self.visit(x) for x in e.operands) + ")"

    def visit_Lookup(self, e: ir.Lookup) -> str:
        pairs = " ".join(f"WHEN {self.q.d.text(k)} THEN {self.q.literal(v)}" for k, v in self.q.consts[e.map].value)
        return f"(CASE {self.visit(e.key)} {pairs} END)"

    def visit_TupleOf(self, e: ir.TupleOf) -> str:
        return self.q.d.array([self.visit(x) for x in e.items])


class _Output(_Expr):
    """A rule's output with its texts typed as the engine's enum `enum`."""

    def __init__(self, q: _Sql, enum: str) -> None:
        super().__init__(q)
        self.enum = enum

    def visit_Value(self, e: ir.Value) -> str:
        return self.q.d.enum_literal(e.value, self.enum)

    def visit_ConstRef(self, e: ir.ConstRef) -> str:
        return self.q.d.enum_literal(self.q.consts[e.name].value, self.enum)

    def visit_Lookup(self, e: ir.Lookup) -> str:
        pairs = " ".join(f"WHEN {self.q.d.text(k)} THEN {self.q.d.enum_literal(v, self.enum)}"
                         for k, v in self.q.consts[e.map].value)
        return f"(CASE {self.q.expr(e.key)} {pairs} END)"

    def visit_FactRef(self, e: ir.FactRef) -> str:
        return f"CAST({self.q.expr(e)} AS {self.enum})"


class _Offset(ir.Visitor):
    """The UTC offset, in microseconds, of a timestamp expression: the generated module
    adds durations to an instant's local time (and turns down a result outside years 1 to
    9999 there), so the SQL needs the offset the instant was given with. Read from the
    fact's text with casts that give NULL, never an error, on text that is no timestamp
    (such a row is turned down for its fact before this matters)."""

    def __init__(self, q: _Sql) -> None:
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


class _Bound(ir.Visitor):
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


_UNEXPLAINED = "policyc 내부 오류: 이 행의 사실을 검사하지 못했습니다 (결정하지 않았습니다)"


def to_sql(policy: ir.Policy, source: str, columns: list[str], dialect: str = "duckdb",
           types: dict[str, str] | None = None) -> str:
    """The decision query over `source` (a table name or a parenthesised query) whose
    columns are `columns`; `types` (column -> the engine's type name), when given, lets
    typed timestamp, boolean and number columns be read directly instead of as text."""
    check_columns(policy, columns)
    return _Sql(policy, DIALECTS[dialect], columns, types).query(source)


_SQL_NODES = (ir.FactRef, ir.DerivedRef, ir.ConstRef, ir.Value, ir.Arith, ir.Cmp, ir.In, ir.Not, ir.And, ir.Or,
              ir.Lookup, ir.TupleOf)
_SQL_FACTS = ("enum", "bool", "timestamp", "number", "duration")
_SQL_VALUES = ("enum", "bool", "timestamp", "duration", "number", "set", "string", "tuple", "map", "outcome", "?")


def batch_limits(policy: ir.Policy) -> list[tuple[object, str]]:
    """What in `policy` the SQL back end cannot run yet, each with its span: `policyc
    check` warns (W0610) and `policyc batch` turns it down before reading a row."""
    found: list[tuple[object, str]] = []
    for f in policy.facts:
        if f.optional:
            found.append((f.span, f"빠질 수 있는(optional) 사실 `{f.name}`"))
        elif f.type.kind not in _SQL_FACTS:
            found.append((f.span, f"{f.type} 사실 `{f.name}`"))
    exprs = [(d.expr, d.span) for d in policy.derived] + [(r.cond, r.span) for r in policy.requires]
    exprs += [(x, r.span) for d in policy.decisions for r in d.rules for x in (r.cond, r.output) if x is not None]
    for e, span in exprs:
        for x in ir.walk(e):
            if isinstance(x, (ir.Call, ir.Aggregate)):
                what = f"`{x.fn if isinstance(x, ir.Call) else x.op}(…)`"
            elif isinstance(x, (ir.IfElse, ir.Given, ir.Actions, ir.ActionCall, ir.Item)):
                what = {"IfElse": "`if … then … else`", "Given": "`is given`/`is missing`"}.get(
                    type(x).__name__, "조치를 더하는 규칙")
            elif isinstance(x, ir.Arith) and x.op in "*/":
                what = f"`{x.op}`"
            elif x.type.kind not in _SQL_VALUES:
                what = f"{x.type} 값"
            else:
                continue
            found.append((x.span if x.span.line else span, what))
            break
    for o in policy.outcomes:
        if any(c.args for c in o.calls):
            found.append((o.span, f"값을 받는 조치 (결과 `{o.name}`)"))
    return found
