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

from ..korean import quoted
from ..middle import ir
from ..middle.values import to_number
from ..runtime.support import DURATION_LIMIT

from ..middle.evaluate import calendar_reads, holiday_tests
from . import sql_index, sql_tree, table
from .sql_exprs import EPOCH, decimal, Bound, Expr, Offset, Output, Scales, literal_value
from .sql_dialect import (_BIGINT, _DECIMAL, _DURATION_TEXT, _INSTANTS, _ISO, _ISO_VALID, _LIMIT, _LOCAL,
                          _NUMBER_BIG, _NUMBER_OK, _NUMBER_TEXT, _OVERFLOW, DIALECTS, DuckDB)
from .sql_dialect import ident as ident, text as text  # the tools quote names and texts through this module


_DATE_VALID = r"(000[1-9]|00[1-9]\d|0[1-9]\d\d|[1-9]\d{3})-\d{2}-\d{2}"
_TIME_VALID = r"([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?"
_MONEY_OK = r"-?[0-9]{1,15}(\.0+)?"  # whole won; 3000.0 is 3000 as decide() reads it
_DAYS = ((dt.date(1, 1, 1) - EPOCH).days, (dt.date(9999, 12, 31) - EPOCH).days)
_JSON_NUMBERS = ("BIGINT", "UBIGINT", "HUGEINT", "DOUBLE")
# a JSON number outside the strings of a text (RE2: the strings are skipped whole) written
# with an exponent, 16 or more digits before the point or 10 or more after it: decide()
# reads 1e-10 and 0.1000000000000000001 exactly and turns them down, DuckDB's JSON reader
# would round them, so such a row is turned down here
_JSON_ODD_NUMBER = r'(?:[^"]|"(?:[^"\\]|\\.)*")*(?:[0-9][eE]|[0-9]{16}|\.[0-9]{10})(?s:.*)'
# what Python's str.isprintable() turns down, and str.strip() strips
_NOT_PRINTABLE = r"[\p{C}\p{Zl}\p{Zp}\x{A0}\x{1680}\x{2000}-\x{200A}\x{202F}\x{205F}\x{3000}]"
_SPACE = r"[\s\p{Z}\x{85}\x{1C}-\x{1F}]"


class _Sql:
    def __init__(self, policy: ir.Policy, dialect: DuckDB, columns: list[str],
                 types: dict[str, str] | None = None) -> None:
        self.d = dialect
        self.p = policy
        self.consts = policy.consts_by_name
        self.columns = list(columns)
        self.scales = Scales(policy)
        self.expr = Expr(self).visit
        self.steps: list[str] = []  # projections the long tables' lookups need (sql_index), in order
        offset = policy.zone_offset
        self.zone_micros = 0 if offset is None else int(to_number(offset))
        # every input column gets an internal name as it is read; an optional fact the
        # input lacks is a NULL column of its own (its default)
        self.cols = {c: d_ident for c, d_ident in zip(columns, (dialect.ident(f"__in{i}") for i in range(len(columns))))}
        absent = [f.name for f in policy.facts if f.name not in self.cols]
        self.absent = {name: dialect.ident(f"__in{len(columns) + i}") for i, name in enumerate(absent)}
        self.cols.update(self.absent)
        # how each fact's column is read: typed columns whose type says what the fact is
        # skip the text round trip (a warehouse's TIMESTAMPTZ is an instant already)
        kinds = {n: dialect.column_kind(t) for n, t in (types or {}).items()}
        wanted = {"timestamp": "instant", "bool": "bool", "number": "number", "money": "number", "date": "date"}
        self.direct = {f.name for f in policy.facts if wanted.get(f.type.kind, "-") == kinds.get(f.name)}
        self.nested = {f.name for f in policy.facts if f.type.kind == "list" and kinds.get(f.name) == "nested"}
        for f in policy.facts:
            if kinds.get(f.name) == "binary":
                raise ValueError(f"사실 `{f.name}` 의 열이 이진(BLOB) 열입니다: 문자열이나 맞는 종류의 열로 주세요")
            if kinds.get(f.name) == "float" and f.type.amount:
                raise ValueError(f"숫자 사실 `{f.name}` 의 열이 부동소수점(DOUBLE/FLOAT) 열입니다: 정확한 값이 되도록 "
                                 "정수, DECIMAL, 또는 문자열 열로 주세요 (0.1 은 부동소수점으로 정확히 적을 수 없습니다)")

    def col(self, f: ir.Fact) -> str:
        """The fact's input column under its internal name (`__in<i>`): input columns are
        renamed as they are read, so no name an input brings can bind where the query
        means one of its own (`__ok`, `__f_request`, ...)."""
        return self.cols[f.name]

    def raw(self, f: ir.Fact) -> str:
        if f.name in self.nested:  # a LIST of STRUCTs as the table holds it: read as the JSON it is
            return f"CAST(to_json({self.col(f)}) AS {self.d.string})"
        return f"CAST({self.col(f)} AS {self.d.string})"

    def set_value(self, e: ir.Expr):
        return e.value if isinstance(e, ir.Value) else self.consts[e.name].value

    def literal(self, v) -> str:
        return literal_value(v, self.d)

    def default(self, f: ir.Fact) -> str:
        """A fact's default at the fact's own scale: DuckDB would cut a DECIMAL(38, 9) value to
        the default's 1 place where the two meet in a CASE or COALESCE."""
        value = self.literal(f.default)
        return decimal(value, 9 if f.type.kind == "number" else 0) if f.type.amount else value

    # ── reading a value from text: facts, and the text fields of list items ──
    def from_text(self, kind: str, col: str, codes=()) -> str:
        """The value text `col` holds, in SQL terms; NULL when it does not read as one."""
        d = self.d
        if kind == "enum":
            return d.of_enum(col, d.enum(codes))
        if kind == "bool":
            return f"CASE {col} WHEN 'true' THEN TRUE WHEN 'false' THEN FALSE END"
        if kind == "timestamp":
            return d.micros(col)
        if kind == "number":  # an exact decimal; NULL for text that is not one within the limits
            return f"CASE WHEN {d.full_match(col, _NUMBER_OK)} THEN CAST({col} AS {_DECIMAL}) END"
        if kind == "money":
            return f"CASE WHEN {d.full_match(col, _MONEY_OK)} THEN CAST({col} AS DECIMAL(38, 0)) END"
        if kind == "date":
            return f"CASE WHEN {d.full_match(col, _DATE_VALID)} THEN {d.days(col)} END"
        if kind == "time":
            part = d.to_bigint
            seconds = f"CASE WHEN length({col}) = 8 THEN {part(f'substr({col}, 7, 2)')} ELSE 0 END"
            return (f"CASE WHEN {d.full_match(col, _TIME_VALID)} THEN (({part(f'substr({col}, 1, 2)')} * 60 + "
                    f"{part(f'substr({col}, 4, 2)')}) * 60 + {seconds}) * 1000000 END")
        if kind == "text":  # stripped as Python strips; NULL when empty or not printable
            stripped = f"regexp_replace({col}, {d.text('^' + _SPACE + '+|' + _SPACE + '+$')}, '', 'g')"
            return (f"CASE WHEN {stripped} <> '' AND NOT regexp_matches({stripped}, {d.text(_NOT_PRINTABLE)}) "
                    f"THEN {stripped} END")
        # duration text; NULL when it is not one or is too long
        micros = d.duration_micros(col)
        return (f"CASE WHEN {d.full_match(col, _DURATION_TEXT)} AND {micros} < {DURATION_LIMIT} "
                f"THEN CAST({micros} AS BIGINT) END")

    def text_ok(self, kind: str, col: str, typed: str, codes=()) -> str:
        """Whether text read by `from_text` is one the module takes (DuckDB's timestamp
        parser is laxer than the module's text, so its shape is checked beside it)."""
        if kind == "enum" and self.d.enum(codes) is None:
            return f"COALESCE({typed} IN ({', '.join(self.d.text(c) for c in codes)}), FALSE)"
        if kind == "timestamp" and not self.d.strict_micros:
            return f"({typed} IS NOT NULL AND {self.d.full_match(col, _ISO_VALID)})"
        return f"({typed} IS NOT NULL)"

    def text_problems(self, f: ir.Fact, col: str, typed: str, guard: str) -> list[tuple[str, str]]:
        kind, d = f.type.kind, self.d
        if kind == "enum":
            return [(guard + f"{col} NOT IN ({', '.join(d.text(c) for c in f.codes)})",
                     f"{f.name}: 알 수 없는 값 (가능한 값: {', '.join(f.codes)})")]
        if kind == "bool":
            return [(guard + f"{col} NOT IN ('true', 'false')", f"{f.name}: 참/거짓(true/false)이어야 합니다")]
        if kind == "timestamp":
            # the typed column already holds the parse (NULL when it failed): parse once per row
            return [(guard + f"NOT {d.full_match(col, _ISO)}", f"{f.name}: UTC 기준 차이가 있는 ISO 8601 시각이어야 합니다"),
                    (guard + f"({typed} IS NULL OR NOT {d.full_match(col, _ISO_VALID)})", f"{f.name}: 없는 날짜나 시각입니다")]
        if kind == "duration":
            return [(guard + f"NOT {d.full_match(col, _DURATION_TEXT)}",
                     f"{f.name}: 기간은 '3d', '72h', '1m30s', '3일' 같은 문자열이어야 합니다"),
                    (guard + f"{typed} IS NULL", f"{f.name}: 기간이 너무 깁니다 (1만 년 미만)")]
        if kind == "number":
            return [(guard + f"NOT {d.full_match(col, _NUMBER_TEXT)}", f"{f.name}: 유한한 숫자여야 합니다"),
                    (guard + f"{d.full_match(col, _NUMBER_BIG)}", f"{f.name}: 숫자가 너무 큽니다 (10의 15제곱 미만)"),
                    (guard + f"NOT {d.full_match(col, _NUMBER_OK)}", f"{f.name}: 소수점 아래는 9자리까지 씁니다")]
        if kind == "money":
            return [(guard + f"NOT {d.full_match(col, '-?[0-9]+')}", f"{f.name}: 금액은 원 단위 정수여야 합니다 (예: 3000)"),
                    (guard + f"{typed} IS NULL", f"{f.name}: 금액이 너무 큽니다 (10의 15제곱 원 미만)")]
        if kind == "date":
            return [(guard + f"NOT {d.full_match(col, '[0-9]{4}-[0-9]{2}-[0-9]{2}')}", f"{f.name}: 날짜는 2024-12-25 처럼 씁니다"),
                    (guard + f"{typed} IS NULL", f"{f.name}: 없는 날짜입니다")]
        if kind == "time":
            return [(guard + f"NOT {d.full_match(col, '[0-9]{2}:[0-9]{2}(:[0-9]{2})?')}",
                     f"{f.name}: 하루 중 시각은 22:00 처럼 씁니다"),
                    (guard + f"{typed} IS NULL", f"{f.name}: 없는 시각입니다")]
        return []  # pragma: no cover — every kind of fact is above

    # ── facts ──
    def typed(self, f: ir.Fact) -> str:
        """The fact's value in SQL terms (backend/sql_exprs.py); NULL when the text does not
        read as one, and for an optional fact left out."""
        kind = f.type.kind
        enum = self.d.enum(f.codes) if kind == "enum" else None
        c = self.col(f)
        if kind == "list":
            value = self.list_value(f)
        elif f.name not in self.direct:
            value = self.from_text(kind, self.raw(f), f.codes)
        elif kind == "bool":
            value = c
        elif kind == "timestamp":
            value = self.d.instant_micros(c)
        elif kind == "date":
            value = self.d.date_days(c)
        else:  # numbers and money from integer or DECIMAL columns
            value = f"TRY_CAST({c} AS {_DECIMAL if kind == 'number' else 'DECIMAL(38, 0)'})"
        if f.has_default:
            default = self.d.enum_literal(f.default, enum) if kind == "enum" else self.default(f)
            value = f"CASE WHEN {c} IS NULL THEN {default} ELSE {value} END"
        return value

    def valid(self, f: ir.Fact) -> str:
        """True exactly when `problem` finds nothing for this fact: what every row pays for.
        The typed column is NULL for anything missing or unreadable, so this is mostly one test."""
        typed = self.d.ident("__f_" + f.name)
        kind, c = f.type.kind, self.col(f)
        if kind == "list":
            test = " AND ".join(cond for cond, _ in self.list_checks(f, ok=True))
        elif kind == "timestamp" and f.name in self.direct:
            test = _in_python_range(typed)
        elif kind == "date" and f.name in self.direct:
            test = f"COALESCE({typed} BETWEEN {_DAYS[0]} AND {_DAYS[1]}, FALSE)"
        elif kind in ("number", "money") and f.name in self.direct:  # in range, and no place lost to the cast
            # compared only in range: DuckDB casts the column to DECIMAL(38, 9) to compare, which
            # fails (an error, not NULL) for a typed value of 10^29 or more
            test = f"COALESCE(CASE WHEN abs({c}) < {_LIMIT} THEN {typed} = {c} END, FALSE)"
        elif f.name in self.direct:
            test = f"({typed} IS NOT NULL)"
        else:
            test = self.text_ok(kind, self.raw(f), typed, f.codes)
        return f"({c} IS NULL OR {test})" if f.has_default or f.optional else test

    def problem(self, f: ir.Fact) -> list[tuple[str, str]]:
        """(condition, message) pairs that make the row invalid because of this fact;
        only rows that fail `valid` are asked."""
        col = self.raw(f)
        typed = self.d.ident("__f_" + f.name)
        out = []
        if not f.has_default and not f.optional:
            out.append((f"{self.col(f)} IS NULL", f"{f.name}: 필요한 사실이 없습니다"))
        guard = f"{self.col(f)} IS NOT NULL AND "
        kind = f.type.kind
        if kind == "list":
            return out + [(guard + f"NOT {cond}", msg) for cond, msg in self.list_checks(f, ok=False)]
        if f.name not in self.direct:
            return out + self.text_problems(f, col, typed, guard)
        if kind == "timestamp":  # infinity, or a year Python has no date for
            out.append((guard + f"NOT {_in_python_range(typed)}", f"{f.name}: 없는 날짜나 시각입니다"))
        elif kind == "date":
            out.append((guard + f"NOT COALESCE({typed} BETWEEN {_DAYS[0]} AND {_DAYS[1]}, FALSE)", f"{f.name}: 없는 날짜입니다"))
        elif kind in ("number", "money"):
            out.append((guard + f"NOT COALESCE(abs({typed}) < {_LIMIT}, FALSE)",
                        f"{f.name}: {'숫자가' if kind == 'number' else '금액이'} 너무 큽니다 (10의 15제곱 미만)"))
            out.append((guard + f"NOT COALESCE(CASE WHEN abs({self.col(f)}) < {_LIMIT} THEN {typed} = {self.col(f)} END, "
                        "FALSE)", f"{f.name}: 소수점 아래는 9자리까지 씁니다" if kind == "number"
                        else f"{f.name}: 금액은 원 단위 정수여야 합니다"))
        return out

    # ── list facts (DuckDB): JSON text, an array of objects ──
    def _json(self, f: ir.Fact) -> str:
        return self.d.ident("__j_" + f.name)

    def _struct(self, f: ir.Fact) -> str:
        return self.d.ident("__s_" + f.name)

    def list_columns(self, f: ir.Fact) -> list[str]:
        """`__j_<list>`: the text when it is a JSON array (NULL otherwise, so no JSON function
        ever sees text that is not JSON), and `__s_<list>`: its items read as STRUCTs, numbers
        exactly (DuckDB reads a JSON number's digits into a DECIMAL, not through a double)."""
        raw, d = self.raw(f), self.d
        j = f"CASE WHEN json_valid({raw}) THEN (CASE WHEN json_type({raw}) = 'ARRAY' THEN {raw} END) END"
        shape = {x.name: ("BOOLEAN" if x.type.kind == "bool" else _DECIMAL if x.type.amount else "VARCHAR")
                 for x in self.p.record_of(f.name).fields}
        schema = "[{" + ", ".join(f'"{k}": "{v}"' for k, v in shape.items()) + "}]"
        s = f"from_json({self._json(f)}, {d.text(schema)})"
        return [f"{j} AS {self._json(f)}", f"{s} AS {self._struct(f)}"]

    def list_value(self, f: ir.Fact) -> str:
        """The items with every field in SQL terms (a field left out takes its default)."""
        fields = []
        for x in self.p.record_of(f.name).fields:
            v = f"it.{self.d.ident(x.name)}"
            kind = x.type.kind
            if kind == "money":
                v = f"CAST({v} AS DECIMAL(38, 0))"
            elif kind not in ("number", "bool", "enum"):
                v = self.from_text(kind, v, x.codes)
            if x.has_default:
                v = f"COALESCE({v}, {self.default(x)})"
            fields.append((x.name, v))
        ok = " AND ".join(cond for cond, _ in self.list_checks(f, ok=True))
        return f"CASE WHEN {ok} THEN {self.d.list_map(self._struct(f), 'it', self.d.struct(fields))} END"

    def list_checks(self, f: ir.Fact, ok: bool) -> list[tuple[str, str]]:
        """(holds for a valid list, message): in the order decide() checks."""
        d, j, s = self.d, self._json(f), self._struct(f)
        record = self.p.record_of(f.name)
        names = [x.name for x in record.fields]
        items = f"json_extract({j}, '$[*]')"

        def every(over: str, var: str, cond: str) -> str:
            return f"COALESCE(list_bool_and(list_transform({over}, lambda {var}: {cond})), TRUE)"

        known = "[" + ", ".join(d.text(n) for n in names) + "]"
        keys = "json_keys(x)"
        checks = [(f"({j} IS NOT NULL)", f"{f.name}: 목록(list)이어야 합니다 (JSON 배열)"),
                  (f"(json_array_length({j}) <= {f.max_items})", f"{f.name}: 항목이 {f.max_items}개까지입니다"),
                  (every(items, "x", f"(CASE WHEN json_type(x) = 'OBJECT' THEN list_has_all({known}, {keys}) AND "
                                     f"len({keys}) = len(list_distinct({keys})) ELSE FALSE END)"),
                   f"{f.name}: 항목은 필드 이름과 값의 객체이고, 필드는 {', '.join(names)} 입니다 (한 번씩)"),
                  (f"(NOT {d.full_match(j, _JSON_ODD_NUMBER)})",
                   f"{f.name}: 숫자는 1.5 처럼 씁니다 (지수 표기 없이, 15자리와 소수점 아래 9자리까지)")]
        for x in record.fields:
            kind = x.type.kind
            t = f"json_type(x, {d.text('$.' + chr(34) + x.name + chr(34))})"
            right = {"bool": f"{t} = 'BOOLEAN'", "number": f"{t} IN {_JSON_NUMBERS}",
                     "money": f"{t} IN {_JSON_NUMBERS}"}.get(kind, f"{t} = 'VARCHAR'")
            absent = "FALSE" if not (x.has_default or x.optional) else f"{t} IS NULL"
            if x.optional or (x.has_default and f.name in self.nested):  # a table's NULL is a value left out
                absent = f"({t} IS NULL OR {t} = 'NULL')"
            checks.append((every(items, "x", f"({absent} OR {right})"),
                           f"{f.name}: 항목의 {x.name} 필드가 {'없거나 ' if absent == 'FALSE' else ''}{x.type}이 아닙니다"))
            v = f"it.{d.ident(x.name)}"
            value_ok = {"number": f"abs({v}) < {_LIMIT}", "money": f"abs({v}) < {_LIMIT} AND {v} = floor({v})",
                        "bool": "TRUE"}.get(kind)
            if value_ok is None:
                read = self.from_text(kind, v, x.codes)
                value_ok = (f"{v} IN ({', '.join(d.text(c) for c in x.codes)})" if kind == "enum"
                            else self.text_ok(kind, v, read, x.codes))
            if value_ok != "TRUE":
                checks.append((every(s, "it", f"({v} IS NULL OR {value_ok})"),
                               f"{f.name}: 항목의 {x.name} 값이 잘못되었습니다 ({x.type})"))
        return checks

    def output(self, e: ir.Expr, enum: str | None) -> str:
        """A value expression whose texts come out as `enum` (from `strings`)."""
        if enum is None:
            return self.expr(e)
        return Output(self, enum).visit(e)

    def leaving(self, e: ir.Expr, places: int) -> str:
        """A value as an output column holds it: numbers at `places`, dates, instants,
        durations and times as the engine's own types."""
        sql = self.scales.cast(self.expr(e), e, places)
        conv = {"date": self.d.out_date, "timestamp": self.d.out_instant, "duration": self.d.out_duration,
                "time": self.d.out_time}.get(e.type.kind)
        return conv(sql) if conv else sql

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

    def case(self, d: ir.Decision) -> str:
        """The index of the rule that fires: a CASE over the rules in order; for a long table
        the module's index looked up in the engine (backend/sql_index.py), or where the
        engine cannot, a tree of CASEs that halves the facts at each test (sql_tree.py)."""
        plan = table.plan(self.p, d)
        if plan is None:
            return self.chain(d, range(len(d.rules)), None)
        found = sql_index.lookup(self, d, plan, str(self.p.decisions.index(d))) if self.d.lookups else None
        node = None if found is not None and not found.wide else sql_tree.tree(plan)
        # an index still wide after narrowing gives way to a tree with short leaves
        if found is not None and (node is None or sql_tree.mean_leaf(node) > _SHORT_LEAF):
            self.steps += found.steps
            return found.rule
        return self.node(d, plan, node) if node is not None else self.chain(d, range(len(d.rules)), None)

    def chain(self, d: ir.Decision, rules, otherwise: int | None) -> str:
        whens = []
        for i in rules:
            cond = d.rules[i].cond
            if cond is None:
                otherwise = i
                break
            whens.append(f"WHEN {self.expr(cond)} THEN {i}")
        if otherwise is not None:
            if not whens:  # `CASE ELSE x END` is no SQL
                return str(otherwise)
            whens.append(f"ELSE {otherwise}")
        return "CASE " + " ".join(whens) + " END" if whens else "NULL"

    def node(self, d: ir.Decision, plan, node) -> str:
        if isinstance(node, sql_tree.Leaf):
            return self.chain(d, node.rules, node.otherwise)
        fact = self.p.facts_by_name[plan.facts[node.dim]]
        ref = ir.FactRef(fact.name, type=fact.type)
        if isinstance(node, sql_tree.Below):
            test = self.expr(ir.Cmp("<=" if node.at else "<", ref, ir.Value(node.threshold, type=fact.type)))
        elif fact.type.kind == "bool":
            test = self.expr(ref) if node.keys == (True,) else f"(NOT {self.expr(ref)})"
        else:
            test = f"({self.expr(ref)} IN ({', '.join(self.d.text(k) for k in node.keys)}))"
        return f"CASE WHEN {test} THEN {self.node(d, plan, node.left)} ELSE {self.node(d, plan, node.right)} END"

    # ── what decide() turns down beyond the facts themselves ──
    def overflows(self) -> list[str]:
        """One SQL condition per sum or difference in a derived value that the module
        cannot compute (OverflowError, reported as "계산할 수 없는 범위"): an instant whose
        local time leaves years 1 to 9999. Every derived value is computed for every row,
        as decide() computes them all. Durations cannot overflow here: `query` keeps every
        one within BIGINT, far inside a timedelta's range."""
        out = []
        offset = Offset(self).visit
        for d in self.p.derived:
            for e in ir.walk(d.expr):  # its own expression: a derived value it reads is a column
                if isinstance(e, ir.Arith) and e.type.kind == "timestamp":
                    local = f"({self.expr(e)} + {offset(e)})"
                    out.append(f"NOT COALESCE({local} BETWEEN {_LOCAL[0]} AND {_LOCAL[1]}, FALSE)")
        return out

    def calendar_problems(self) -> list[tuple[str, str]]:
        """An instant whose date in the policy's zone has no Python date (past 9999-12-31),
        and a date a holiday table cannot tell (outside its years): decide() turns both down
        (the calendar where it reads one, the holiday dates up front, middle/evaluate.py)."""
        out, seen = [], set()
        for e in _outside_aggregates(self.p):
            if isinstance(e, ir.Call) and e.fn in ("date_of", "time_of", "weekday") and e.args[0] not in seen:
                seen.add(e.args[0])
                t = self.expr(e.args[0])
                out.append((f"NOT ({t} IS NULL OR COALESCE({t} + {self.zone_micros} BETWEEN {_LOCAL[0]} AND {_LOCAL[1]}, "
                            "FALSE))", f"{_fact_name(e.args[0])}: 그 시간대의 날짜로 바꿀 수 없는 시각입니다"))
        for test in holiday_tests(self.p):
            table = self.set_value(test.set)
            first, last = (dt.date(table.first_year, 1, 1) - EPOCH).days, (dt.date(table.last_year, 12, 31) - EPOCH).days
            out.append((f"NOT COALESCE({self.expr(test.item)} BETWEEN {first} AND {last}, FALSE)",
                        f"{_fact_name(test.item)}: 공휴일 표는 {table.first_year}년부터 {table.last_year}년까지입니다"))
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

    def derived_value(self, d: ir.Derived) -> str:
        """A derived value; NULL where a value it needs is missing (as decide() has None), and
        where a fact it reads is one decide() turns down (a typed DECIMAL past the numbers'
        limit would overflow the arithmetic and stop the query, not turn the row down)."""
        value = self.scales.cast(self.expr(d.expr), d.expr)
        present = [f"{self.d.ident('__f_' + what)} IS NOT NULL" if kind == "fact" else f"{self.expr(what)} IS NOT NULL"
                   for kind, what in d.needs]
        read = dict.fromkeys(x.name for x in ir.walk(d.expr) if isinstance(x, ir.FactRef))
        present += [self.valid(f) for f in (self.p.facts_by_name[name] for name in read) if f.type.kind in ("number", "money")]
        return f"CASE WHEN {' AND '.join(present)} THEN {value} END" if present else value

    # ── actions ──
    def action_sources(self, idx: dict[str, str]) -> tuple[list[str], dict[str, list[tuple[str, ir.ActionCall]]]]:
        """The actions each row takes beyond its outcome's fixed ones (SQL lists, one per
        rule that adds some) and, per action with values, where its values come from in
        the order decide() takes them: the outcome's call first (it overrides), then the
        first rule of an actions decision that names it."""
        lists: list[str] = []
        sources: dict[str, list[tuple[str, ir.ActionCall]]] = {a.name: [] for a in self.p.actions if a.params}
        acts = self.d.enum(dict.fromkeys(a.name for a in self.p.actions)) if self.p.actions else None
        main = self.p.main
        if main is not None:
            for i, r in enumerate(main.rules):
                for c in self.p.outcome(r.output.value).calls:
                    if c.params:
                        sources[c.name].append((f"{idx[main.name]} = {i}", c))
        for d in self.p.decisions:
            if not d.yields_actions:
                continue
            for i, r in enumerate(d.rules):
                fired = (self.d.element(self.d.ident('__a_' + d.name), i) if d.hit_policy == "all" else f"{idx[d.name]} = {i}")
                names = self.d.array([self.d.enum_literal(c.name, acts) for c in r.output.calls])
                lists.append(f"CASE WHEN {fired} THEN {names} ELSE {self.empty(acts)} END")
                for c in r.output.calls:
                    if c.params:
                        sources[c.name].append((fired, c))
        return lists, sources

    def empty(self, enum: str | None) -> str:
        array = self.d.array([])
        return array if enum is None else f"CAST({array} AS {enum}[])"

    def action_args(self, sources) -> str:
        """`action_args`: a STRUCT with a field per action that takes values, each a STRUCT of
        its values, NULL when the row does not take that action."""
        fields = []
        for action in self.p.actions:
            if not action.params:
                continue
            whens = []
            given = [dict(zip(c.params, c.args)) for _, c in sources[action.name]]
            places = {p.name: self.scales.common([g[p.name] for g in given if p.name in g])
                      for p in action.params}  # one scale per value, whichever rule gives it
            for fired, call in sources[action.name]:
                values = [(p, self.leaving(a, places[p])) for p, a in zip(call.params, call.args)]
                whens.append(f"WHEN {fired} THEN {self.d.struct(values)}")
            fields.append((action.name, f"CASE {' '.join(whens)} END" if whens else "NULL"))
        return self.d.struct(fields)

    def query(self, source: str) -> str:
        p, d_ = self.p, self.d
        columns = self.columns
        missing = [f.name for f in p.facts if not f.has_default and not f.optional and f.name not in columns]
        if missing:
            raise ValueError(f"입력에 사실 열이 없습니다: {', '.join(missing)}")
        bound = Bound(self.p).visit
        for d in p.derived:
            if d.type.kind in ("timestamp", "duration") and bound(d.expr) > _BIGINT:
                raise ValueError(f"파생값 {quoted(d.name, '은/는')} SQL 에서 계산할 수 없을 만큼 큰 시각이나 기간이 될 수 있습니다")
        # every input column under an internal name (`__in<i>`), read once from the source;
        # optional facts absent from the input are NULL columns, that is their defaults
        padded = ("SELECT " + ", ".join([f"{d_.ident(c)} AS {self.cols[c]}" for c in columns]
                                        + [f"NULL AS {col}" for col in self.absent.values()]) + f" FROM {source}")
        lists = [c for f in p.facts if f.type.kind == "list" for c in self.list_columns(f)]
        ctes = [f"padded AS ({padded})"]
        if lists:
            ctes.append(f"lists AS (SELECT *, {', '.join(lists)} FROM padded)")
        typed = ", ".join(f"{self.typed(f)} AS {d_.ident('__f_' + f.name)}" for f in p.facts)
        ctes.append(f"typed AS (SELECT *, {typed} FROM {'lists' if lists else 'padded'})")
        last = "typed"
        for i, group in enumerate(self.derived_levels()):
            values = ", ".join(f"{self.derived_value(d)} AS {d_.ident('__d_' + d.name)}" for d in group)
            ctes.append(f"lets{i} AS (SELECT *, {values} FROM {last})")
            last = f"lets{i}"
        # Every row pays for `__ok` (one cheap test per fact, each typed value read once);
        # only a row that fails it is asked which problem it has, in the module's words. The
        # order is decide()'s: the facts, then the derived values, then the requirements.
        overflows = self.overflows()
        calendar = self.calendar_problems()
        ok = ([self.valid(f) for f in p.facts] + [f"NOT {c}" for c in overflows] + [f"NOT {c}" for c, _ in calendar]
              + [f"COALESCE({self.expr(r.cond)}, FALSE)" for r in p.requires])
        problems = [pm for f in p.facts for pm in self.problem(f)]
        problems += [(c, f"facts: {_OVERFLOW}") for c in overflows] + calendar
        for r in p.requires:
            problems.append((f"NOT COALESCE({self.expr(r.cond)}, FALSE)", f"{', '.join(r.facts)}: {r.message}"))
        error = ("CASE WHEN __ok THEN NULL " + " ".join(f"WHEN {c} THEN {d_.text(msg)}" for c, msg in problems)
                 + f" ELSE {d_.text(_UNEXPLAINED)} END")
        ctes.append(f"checked AS (SELECT *, {' AND '.join(ok) or 'TRUE'} AS __ok FROM {last})")
        # Each decision's conditions are evaluated once, into the index of the rule that
        # fired (an actions decision under (all): whether each rule holds); what a rule
        # yields is a constant picked by that index, typed as the engine's enum where it has
        # one (so the output leaves as a dictionary, not as text per row).
        index_cols, picks, attrs, chosen = [], [], [], []
        idx = {d.name: d_.ident(f"__r{i}") for i, d in enumerate(p.decisions)}
        acts = d_.enum(dict.fromkeys(a.name for a in p.actions)) if p.actions else None
        for d in p.decisions:
            if d.yields_actions and d.hit_policy == "all":
                holds = d_.array([f"COALESCE({self.expr(r.cond)}, FALSE)" if r.cond is not None else "TRUE"
                                  for r in d.rules])
                index_cols.append(f"CASE WHEN __ok THEN {holds} END AS {d_.ident('__a_' + d.name)}")
                fired = [f"CASE WHEN {d_.element(d_.ident('__a_' + d.name), i)} THEN {d_.array([d_.text(r.name)])} ELSE "
                         f"{self.empty(None)} END" for i, r in enumerate(d.rules)]
                picks.append(f"{d_.concat(fired)} AS {d_.ident(d.name)}")
                continue
            index_cols.append(f"CASE WHEN __ok THEN {self.case(d)} END AS {idx[d.name]}")
            if d.yields_actions:
                picks.append(f"{d_.pick(idx[d.name], [d_.array([d_.text(r.name)]) for r in d.rules], True)} AS "
                             f"{d_.ident(d.name)}")
            elif d.yields_outcome:
                outcomes = [p.outcome(r.output.value) for r in d.rules]
                o_enum = d_.enum(dict.fromkeys(o.name for o in p.outcomes))
                # a long table's rule names leave as text: an ENUM of 10,000 names is most
                # of what DuckDB spends planning the query
                r_enum = d_.enum(dict.fromkeys(r.name for r in d.rules)) if len(d.rules) < table.INDEX else None
                personal = d_.enum(dict.fromkeys(c.name for c in p.contexts)) if p.contexts else None

                def items(names, enum):
                    array = d_.array([d_.enum_literal(x, enum) for x in names])
                    return array if names or enum is None else f"CAST({array} AS {enum}[])"

                # the outcome's number is picked by rule once (a column of its own); its
                # name, disclosures and actions by that number, from lists as long as the
                # outcomes, not the rules
                number = {o.name: k for k, o in enumerate(p.outcomes)}
                chosen.append(f"{d_.pick(idx[d.name], [str(number[o.name]) for o in outcomes], True)} AS __outcome")
                picks += [f"{d_.pick_name('__outcome', [o.name for o in p.outcomes], o_enum)} AS outcome",
                          f"{d_.pick_name(idx[d.name], [r.name for r in d.rules], r_enum)} AS rule"]
                attrs = [f"{d_.pick('__outcome', [items(o.discloses, personal) for o in p.outcomes], True)} AS discloses",
                         f"{d_.pick('__outcome', [items(o.actions, acts) for o in p.outcomes], True)}"]
            else:
                texts = [self.strings(r.output) for r in d.rules]
                enum = None if any(t is None for t in texts) else d_.enum(dict.fromkeys(v for t in texts for v in t))
                places = self.scales.common(r.output for r in d.rules)
                values = ([self.output(r.output, enum) for r in d.rules] if enum is not None
                          else [self.leaving(r.output, places) for r in d.rules])
                constant = all(_constant(r.output) for r in d.rules)
                picks.append(f"{d_.pick(idx[d.name], values, constant)} AS {d_.ident(d.name)}")
        added, sources = self.action_sources(idx)
        if p.main is not None or added:
            fixed = attrs.pop() if attrs else self.empty(acts)
            every = d_.distinct(d_.concat([fixed] + added)) if added else fixed
            attrs.append(f"{every} AS actions")
        if any(a.params for a in p.actions):
            attrs.append(f"{self.action_args(sources)} AS action_args")
        keep = ", ".join(f"{self.cols[c]} AS {d_.ident(c)}" for c in columns)
        last = "checked"
        for i, step in enumerate(self.steps):
            ctes.append(f"look{i} AS (SELECT *, {step} FROM {last})")
            last = f"look{i}"
        ctes.append(f"decided AS (SELECT *, {error} AS policy_error{''.join(', ' + c for c in index_cols)} FROM {last})")
        if chosen:
            ctes.append(f"chosen AS (SELECT *, {', '.join(chosen)} FROM decided)")
        return ("WITH " + ",\n".join(ctes) + "\n"
                f"SELECT {keep}, policy_error{''.join(', ' + c for c in picks + attrs)} FROM {'chosen' if chosen else 'decided'}")


def _outside_aggregates(policy: ir.Policy):
    """Every expression of the derived values, requirements and rules, but not inside an
    aggregate (per item: batch_limits keeps calendars and holiday tables out of them)."""
    roots = [d.expr for d in policy.derived] + [r.cond for r in policy.requires]
    roots += [x for d in policy.decisions for r in d.rules for x in (r.cond, r.output) if x is not None]
    stack = list(reversed(roots))
    while stack:
        e = stack.pop()
        yield e
        if not isinstance(e, ir.Aggregate):
            stack.extend(reversed(ir.children(e)))


def _fact_name(e: ir.Expr) -> str:
    """The fact an error about `e` names: the first fact it reads (as decide() names it)."""
    return next((x.name for x in ir.walk(e) if isinstance(x, ir.FactRef)), "facts")


def _in_python_range(micros: str) -> str:
    """An instant a Python datetime can hold (not infinity, not year 10000)."""
    return f"COALESCE({micros} BETWEEN {_INSTANTS[0]} AND {_INSTANTS[1]}, FALSE)"


def output_columns(policy: ir.Policy) -> list[str]:
    """The columns the query adds to the input's."""
    out = ["policy_error"]
    if policy.main is not None:
        out += ["outcome", "rule"]
    out += [d.name for d in policy.decisions if not d.yields_outcome]  # values; the rules an actions decision took
    if policy.main is not None:
        out.append("discloses")
    if policy.main is not None or any(d.yields_actions for d in policy.decisions):
        out.append("actions")
    if any(a.params for a in policy.actions):
        out.append("action_args")
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


_SHORT_LEAF = 3  # rules a tree's leaves try on average, at most, for it to be chosen over a wide index (case)
_UNEXPLAINED = "policyc 내부 오류: 이 행의 사실을 검사하지 못했습니다 (결정하지 않았습니다)"


def to_sql(policy: ir.Policy, source: str, columns: list[str], dialect: str = "duckdb",
           types: dict[str, str] | None = None) -> str:
    """The decision query over `source` (a table name or a parenthesised query) whose
    columns are `columns`; `types` (column -> the engine's type name), when given, lets
    typed timestamp, boolean and number columns be read directly instead of as text."""
    check_columns(policy, columns)
    return _Sql(policy, DIALECTS[dialect], columns, types).query(source)


def batch_limits(policy: ir.Policy, engine: str = "duckdb") -> list[tuple[object, str]]:
    """What in `policy` the SQL back end cannot run on `engine`, each with its span:
    `policyc check --batch` warns (W0610) and `policyc batch` turns it down before
    reading a row."""
    found: list[tuple[object, str]] = []
    if engine == "spark":
        found += [(f.span, f"목록(list) 사실 `{f.name}` (Spark 에서는 아직 읽지 못합니다: DuckDB 로 돌리세요)")
                  for f in policy.facts if f.type.kind == "list"]
    exprs = [(d.expr, d.span) for d in policy.derived] + [(r.cond, r.span) for r in policy.requires]
    exprs += [(x, r.span) for d in policy.decisions for r in d.rules for x in (r.cond, r.output) if x is not None]
    checked = set(holiday_tests(policy))
    found += [(c.span, "빠질 수 있는 시각의 날짜·요일·시각을 묻는 조건 (파생값 `let` 으로 옮기면 됩니다)")
              for c in calendar_reads(policy)[1]]
    for e, span in exprs:
        for x in ir.walk(e):
            if isinstance(x, ir.Aggregate) and any(
                    isinstance(y, ir.Call) and y.fn in ("date_of", "time_of", "weekday")
                    or isinstance(y, ir.In) and y.set.type.kind == "holidays" for y in ir.walk(x.where)):
                found.append((x.span if x.span.line else span, "목록 항목의 날짜·요일·시각이나 공휴일을 묻는 조건"))
                break
            if isinstance(x, ir.In) and x.set.type.kind == "holidays" and x not in checked:
                found.append((x.span if x.span.line else span, "늘 있지는 않은 날짜로 공휴일 표를 묻는 조건"))
                break
            if isinstance(x, ir.Arith) and x.type.kind == "timestamp" and any(
                    isinstance(y, (ir.Aggregate, ir.Item)) for y in ir.walk(x)):
                found.append((x.span if x.span.line else span, "목록 항목의 시각에 기간을 더하는 계산"))
                break
    return found
