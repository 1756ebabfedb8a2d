"""IR -> SQL: a policy's decisions as one query over a table of facts, for DuckDB
(the embedded default) and Spark SQL (clusters).

    to_sql(policy, source, columns, dialect="duckdb" | "spark") -> str

The query keeps every input column and adds `policy_error` (the first thing wrong with
the row's facts, in the Python module's words, or NULL), and for valid rows `outcome`,
`rule`, one column per value decision, `discloses` and `actions`. Semantics follow the
generated Python module: instants are compared as whole microseconds since the epoch
(offsets respected, boundaries inclusive exactly as written), derived values are
computed in microseconds, a row with invalid facts is never decided.

Limits (reported as ValueError): duration facts are not read from text yet.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ..analysis.space import to_number
from ..middle import ir

_ISO = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)"
_CMP = {"=": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class DuckDB:
    """The few places the two engines spell things differently."""

    name = "duckdb"
    string = "VARCHAR"

    def ident(self, name: str) -> str:
        return ident(name)

    def text(self, value: str) -> str:
        return text(value)

    def micros(self, col: str) -> str:
        return f"epoch_us(TRY_CAST({col} AS TIMESTAMPTZ))"

    def full_match(self, col: str, pattern: str) -> str:
        return f"regexp_full_match({col}, {self.text(pattern)})"

    def double(self, col: str) -> str:
        return f"TRY_CAST({col} AS DOUBLE)"

    def finite(self, x: str) -> str:
        return f"isfinite({x})"

    def array(self, items: list[str]) -> str:
        return "[" + ", ".join(items) + "]" + ("" if items else "::VARCHAR[]")


class Spark(DuckDB):
    name = "spark"
    string = "STRING"

    def ident(self, name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    def text(self, value: str) -> str:  # Spark reads backslash escapes inside literals
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    def micros(self, col: str) -> str:
        return f"unix_micros(try_to_timestamp({col}))"

    def full_match(self, col: str, pattern: str) -> str:
        return f"{col} RLIKE {self.text('^(?:' + pattern + ')$')}"

    def double(self, col: str) -> str:
        return f"try_cast({col} AS DOUBLE)"

    def finite(self, x: str) -> str:
        return f"(NOT isnan({x}) AND abs({x}) < double('Infinity'))"

    def array(self, items: list[str]) -> str:
        return f"array({', '.join(items)})" if items else "CAST(array() AS ARRAY<STRING>)"


DIALECTS = {"duckdb": DuckDB(), "spark": Spark()}


class _Sql:
    def __init__(self, policy: ir.Policy, dialect: DuckDB) -> None:
        self.d = dialect
        self.p = policy
        self.facts = {f.name: f for f in policy.facts}
        self.derived = {d.name: d for d in policy.derived}
        self.consts = {c.name: c for c in policy.consts}

    def typed(self, f: ir.Fact) -> str:
        """The fact's value in SQL terms: text for enums, BOOLEAN, microseconds for instants."""
        col = f"CAST({self.d.ident(f.name)} AS {self.d.string})"
        kind = f.type.kind
        if kind == "enum":
            value = col
        elif kind == "bool":
            value = f"CASE {col} WHEN 'true' THEN TRUE WHEN 'false' THEN FALSE END"
        elif kind == "timestamp":
            value = self.d.micros(col)
        elif kind == "number":
            value = self.d.double(col)
        else:
            raise ValueError(f"SQL: `{f.name}` 같은 duration 사실은 아직 표에서 읽을 수 없습니다")
        if f.has_default:
            value = f"CASE WHEN {self.d.ident(f.name)} IS NULL THEN {self.literal(f.default)} ELSE {value} END"
        return value

    def problem(self, f: ir.Fact) -> list[tuple[str, str]]:
        """(condition, message) pairs that make the row invalid because of this fact."""
        col = f"CAST({self.d.ident(f.name)} AS {self.d.string})"
        out = []
        if not f.has_default:
            out.append((f"{self.d.ident(f.name)} IS NULL", f"{f.name}: 필요한 사실이 없습니다"))
        guard = f"{self.d.ident(f.name)} IS NOT NULL AND "
        kind = f.type.kind
        if kind == "enum":
            out.append((guard + f"{col} NOT IN ({', '.join(self.d.text(c) for c in f.codes)})",
                        f"{f.name}: 알 수 없는 값 (가능한 값: {', '.join(f.codes)})"))
        elif kind == "bool":
            out.append((guard + f"{col} NOT IN ('true', 'false')", f"{f.name}: 참/거짓(true/false)이어야 합니다"))
        elif kind == "timestamp":
            out.append((guard + f"NOT {self.d.full_match(col, _ISO)}",
                        f"{f.name}: UTC 기준 차이가 있는 ISO 8601 시각이어야 합니다"))
            # the typed column already holds the parse (NULL when it failed): parse once per row
            out.append((guard + f"{self.d.ident('__f_' + f.name)} IS NULL", f"{f.name}: 없는 날짜나 시각입니다"))
        elif kind == "number":
            typed = self.d.ident("__f_" + f.name)
            out.append((guard + f"({typed} IS NULL OR NOT {self.d.finite(typed)})",
                        f"{f.name}: 유한한 숫자여야 합니다"))
        return out

    def literal(self, v) -> str:
        if isinstance(v, bool):
            return "TRUE" if v else "FALSE"
        if isinstance(v, (dt.datetime, dt.timedelta)):
            return f"CAST({int(to_number(v))} AS BIGINT)"
        if isinstance(v, (int, Decimal, float)):
            return str(v)
        if isinstance(v, str):
            return self.d.text(v)
        raise TypeError(v)

    def expr(self, e: ir.Expr) -> str:
        if isinstance(e, ir.FactRef):
            return self.d.ident(f"__f_{e.name}")
        if isinstance(e, ir.DerivedRef):
            return f"({self.expr(self.derived[e.name].expr)})"
        if isinstance(e, ir.ConstRef):
            return self.literal(self.consts[e.name].value)
        if isinstance(e, ir.Value):
            if isinstance(e.value, frozenset):
                return "(" + ", ".join(self.d.text(c) for c in sorted(e.value)) + ")"
            return self.literal(e.value)
        if isinstance(e, ir.Arith):
            return f"({self.expr(e.left)} {e.op} {self.expr(e.right)})"
        if isinstance(e, ir.Cmp):
            return f"({self.expr(e.left)} {_CMP[e.op]} {self.expr(e.right)})"
        if isinstance(e, ir.In):
            codes = e.set.value if isinstance(e.set, ir.Value) else self.consts[e.set.name].value
            inside = ", ".join(self.d.text(c) for c in sorted(codes)) or "NULL"
            return f"({self.expr(e.item)} {'NOT IN' if e.negated else 'IN'} ({inside}))"
        if isinstance(e, ir.Not):
            return f"(NOT {self.expr(e.operand)})"
        if isinstance(e, (ir.And, ir.Or)):
            joiner = " AND " if isinstance(e, ir.And) else " OR "
            return "(" + joiner.join(self.expr(x) for x in e.operands) + ")"
        if isinstance(e, ir.Lookup):
            pairs = " ".join(f"WHEN {self.d.text(k)} THEN {self.literal(v)}" for k, v in self.consts[e.map].value)
            return f"(CASE {self.expr(e.key)} {pairs} END)"
        if isinstance(e, ir.TupleOf):
            return self.d.array([self.expr(x) for x in e.items])
        raise TypeError(e)

    def case(self, d: ir.Decision, pick) -> str:
        whens = []
        for rule in d.rules:
            if rule.cond is None:
                whens.append(f"ELSE {pick(rule)}")
            else:
                whens.append(f"WHEN {self.expr(rule.cond)} THEN {pick(rule)}")
        return "CASE " + " ".join(whens) + " END"

    def query(self, source: str, columns: list[str]) -> str:
        p = self.p
        missing = [f.name for f in p.facts if not f.has_default and f.name not in columns]
        if missing:
            raise ValueError(f"입력에 사실 열이 없습니다: {', '.join(missing)}")
        # optional facts absent from the input are their defaults
        source_cols = ", ".join(self.d.ident(c) for c in columns)
        extra = [f for f in p.facts if f.name not in columns]
        padded = f"SELECT {source_cols}" + "".join(f", NULL AS {self.d.ident(f.name)}" for f in extra) + f" FROM {source}"
        typed = ", ".join(f"{self.typed(f)} AS {self.d.ident('__f_' + f.name)}" for f in p.facts)
        problems = [pm for f in p.facts for pm in self.problem(f)]
        for r in p.requires:
            problems.append((f"NOT COALESCE({self.expr(r.cond)}, FALSE)", f"{', '.join(r.facts)}: {r.message}"))
        error = "CASE " + " ".join(f"WHEN {c} THEN {self.d.text(msg)}" for c, msg in problems) + " END"
        # Each decision's conditions are evaluated once, into the index of the rule that fired;
        # what a rule yields comes from a small table joined on that index (measured: about
        # twice as fast as one CASE per output column, each re-testing every condition).
        main = p.main
        index_cols, tables, picks = [], [], []
        for i, d in enumerate(p.decisions):
            idx = self.d.ident(f"__r{i}")
            index_cols.append(f"CASE WHEN policy_error IS NULL THEN {self.case(d, lambda r, d=d: str(d.rules.index(r)))} "
                              f"END AS {idx}")
            if d.yields_outcome:
                rows = []
                for n, r in enumerate(d.rules):
                    o = p.outcome(r.output.value)
                    rows.append(f"({n}, {self.d.text(o.name)}, {self.d.text(r.name)}, "
                                f"{self.d.array([self.d.text(x) for x in o.discloses])}, "
                                f"{self.d.array([self.d.text(x) for x in o.actions])})")
                alias = self.d.ident(f"__t{i}")
                tables.append(f"LEFT JOIN (VALUES {', '.join(rows)}) AS {alias}(__idx, outcome, rule, discloses, actions) "
                              f"ON {idx} = {alias}.__idx")
                picks += [f"{alias}.outcome", f"{alias}.rule"]
                attrs = [f"{alias}.discloses", f"{alias}.actions"]
            else:
                whens = " ".join(f"WHEN {n} THEN {self.expr(r.output)}" for n, r in enumerate(d.rules))
                picks.append(f"CASE {idx} {whens} END AS {self.d.ident(d.name)}")
        if main is None:
            attrs = []
        keep = ", ".join(self.d.ident(c) for c in columns)
        return (f"WITH padded AS ({padded}),\n"
                f"typed AS (SELECT *, {typed} FROM padded),\n"
                f"checked AS (SELECT *, {error} AS policy_error FROM typed),\n"
                f"decided AS (SELECT *, {', '.join(index_cols)} FROM checked)\n"
                f"SELECT {keep}, policy_error, {', '.join(picks + attrs)} FROM decided {' '.join(tables)}")


def to_sql(policy: ir.Policy, source: str, columns: list[str], dialect: str = "duckdb") -> str:
    """The decision query over `source` (a table name or a parenthesised query) whose
    columns are `columns`."""
    return _Sql(policy, DIALECTS[dialect]).query(source, columns)
