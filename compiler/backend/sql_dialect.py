"""The two SQL engines the batch back end writes for, and the text shapes both read alike.

`DuckDB` (the embedded default) and `Spark` differ in a few spellings: identifiers, string
literals, regular expressions, how timestamp and duration text become microseconds, arrays,
enums. backend/sql.py writes one query through whichever `DIALECTS[name]` it is given.
"""

from __future__ import annotations

import datetime as dt

from ..middle.values import to_number
from ..runtime.support import ISO_TEXT

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
    lookups = True  # constant lists and bit strings: a long table is its index (backend/sql_index.py)
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
        if t == "DATE":
            return "date"
        if t.endswith("]") or t.startswith(("STRUCT", "MAP", "ARRAY")) or t == "JSON":
            return "nested"  # a list of records as the table holds it: read through to_json
        return "text"

    def instant_micros(self, col: str) -> str:
        return f"epoch_us({col})"

    def pick(self, idx: str, values: list[str], constant: bool) -> str:
        """values[idx]: a constant list indexed once per row (measured: half the cost of
        a CASE), or a CASE when the values are computed per row."""
        if constant:
            return f"([{', '.join(values)}])[{idx} + 1]"
        return f"CASE {idx} " + " ".join(f"WHEN {n} THEN {v}" for n, v in enumerate(values)) + " END"

    def pick_name(self, idx: str, names: list[str], enum: str | None) -> str:
        """names[idx] as the enum: the list cast once (a cast per name would write the
        enum's every name once per name, which for the rules of a long table is quadratic).
        Without an enum, names without commas are one string literal split once."""
        if enum is None:
            if all("," not in n for n in names):
                return f"string_split({self.text(','.join(names))}, ',')[{idx} + 1]"
            return self.pick(idx, [self.text(n) for n in names], True)
        return f"(CAST([{', '.join(self.text(n) for n in names)}] AS {enum}[]))[{idx} + 1]"

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

    # ── integers, dates, lists (backend/sql_exprs.py) ──
    def int_div(self, x: str, m: int) -> str:
        """x / m for an x that m divides (exact integer division)."""
        return f"({x} // {m})"

    def days(self, col: str) -> str:
        """Days since 1970-01-01 of YYYY-MM-DD text (shape checked apart); NULL for no such date."""
        return f"date_diff('day', DATE '1970-01-01', TRY_CAST({col} AS DATE))"

    def date_days(self, col: str) -> str:
        """Days since 1970-01-01 of a DATE column."""
        return f"date_diff('day', DATE '1970-01-01', {col})"

    def list_filter(self, items: str, var: str, cond: str) -> str:
        return f"list_filter({items}, lambda {var}: {cond})"

    def list_map(self, items: str, var: str, value: str) -> str:
        return f"list_transform({items}, lambda {var}: {value})"

    def length(self, items: str) -> str:
        return f"len({items})"

    def first(self, items: str) -> str:
        return f"({items})[1]"

    def list_sum(self, items: str) -> str:
        return f"list_sum({items})"

    def list_max(self, items: str) -> str:
        return f"list_max({items})"

    def list_min(self, items: str) -> str:
        return f"list_min({items})"

    # values leaving the query as the engine's own types
    def out_date(self, days: str) -> str:
        return f"(DATE '1970-01-01' + CAST({days} AS INTEGER))"

    def out_instant(self, micros: str) -> str:
        return f"timezone('UTC', make_timestamp({micros}))"

    def out_duration(self, micros: str) -> str:
        return f"to_microseconds({micros})"

    def out_time(self, micros: str) -> str:
        return f"CAST(TIME '00:00:00' + to_microseconds({micros}) AS TIME)"

    def element(self, array: str, i: int) -> str:
        """array[i], i counted from 0."""
        return f"{array}[{i + 1}]"

    def concat(self, arrays: list[str]) -> str:
        return "flatten([" + ", ".join(arrays) + "])"

    def distinct(self, array: str) -> str:
        return f"list_sort(list_distinct({array}))"

    def struct(self, fields: list[tuple[str, str]]) -> str:
        return "struct_pack(" + ", ".join(f"{self.ident(k)} := {v}" for k, v in fields) + ")"


class Spark(DuckDB):
    name = "spark"
    lookups = False  # a long table is a tree of CASEs (backend/sql_tree.py)
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

    def pick_name(self, idx: str, names: list[str], enum: str | None) -> str:
        return self.pick(idx, [self.text(n) for n in names], False)

    def int_div(self, x: str, m: int) -> str:
        return f"({x} div {m})"

    def days(self, col: str) -> str:
        return f"unix_date(try_to_date({col}, 'yyyy-MM-dd'))"

    def date_days(self, col: str) -> str:
        return f"unix_date({col})"

    def out_date(self, days: str) -> str:
        return f"date_from_unix_date(CAST({days} AS INT))"

    def out_instant(self, micros: str) -> str:
        return f"timestamp_micros({micros})"

    def out_duration(self, micros: str) -> str:
        return f"make_dt_interval(0, 0, 0, CAST({micros} AS DECIMAL(38, 6)) / 1000000)"

    def out_time(self, micros: str) -> str:  # Spark SQL has no time-of-day type: HH:MM:SS text
        return f"date_format(timestamp_micros({micros}), 'HH:mm:ss')"

    def element(self, array: str, i: int) -> str:
        return f"{array}[{i}]"

    def concat(self, arrays: list[str]) -> str:
        return "concat(" + ", ".join(arrays) + ")"

    def distinct(self, array: str) -> str:
        return f"array_sort(array_distinct({array}))"

    def struct(self, fields: list[tuple[str, str]]) -> str:
        return "named_struct(" + ", ".join(f"{self.text(k)}, {v}" for k, v in fields) + ")"


DIALECTS = {"duckdb": DuckDB(), "spark": Spark()}
