"""`policyc impact` and `policyc audit`: policy questions over many tickets, in DuckDB.

    impact(old, new, input) -> [ImpactRow]   how many tickets change outcome or disclosure
    audit(policy, input, recorded) -> [AuditRow]  recorded outcomes against the policy

Both run the compiled SQL (backend/sql.py) over the whole input; the input is numbered
once (`__row`) so the two versions' answers are joined row by row.
"""

from __future__ import annotations

import csv
import html
import io
from dataclasses import dataclass, field
from pathlib import Path

from ..backend.sql import ident, text, to_sql
from ..middle import ir
from .batch import duckdb_session
from .tables import open_table


@dataclass
class ImpactRow:
    before: str  # outcome, or "(잘못된 사실)"
    after: str
    widens: list[str]
    narrows: list[str]
    tickets: int
    examples: list[str] = field(default_factory=list)  # first few ids of such tickets


@dataclass
class AuditRow:
    recorded: str
    policy: str
    forbidden: list[str]  # disclosed by the recorded outcome, not allowed by the policy here
    tickets: int
    examples: list[str] = field(default_factory=list)


def _numbered(con, folder: Path, input_path: Path) -> tuple[dict[str, str], str, int]:
    """The input numbered once, as the temporary table `policyc_src`: its columns and
    their types, the name of the row-number column (one no input column has), and the
    number of rows policyc counted itself."""
    import duckdb

    table = open_table(input_path, folder)
    taken = {c.casefold() for c in table.columns}
    row = next(name for name in (f"__row{'_' * i}" for i in range(len(taken) + 1)) if name.casefold() not in taken)
    try:
        con.execute(f"CREATE TEMP TABLE policyc_src AS SELECT *, row_number() OVER () AS {ident(row)} "
                    f"FROM {table.duckdb()}")
    except duckdb.Error as err:
        raise ValueError(f"입력을 읽을 수 없습니다: {str(err).splitlines()[0]}") from None
    columns = {r[0]: r[1] for r in con.execute("DESCRIBE policyc_src").fetchall()}
    count = con.execute("SELECT count(*) FROM policyc_src").fetchone()[0]
    if count != table.rows:
        raise ValueError(f"입력의 행 수를 두 방법으로 센 값이 다릅니다 ({table.rows}행, {count}행): "
                         "따옴표와 줄바꿈이 짝이 맞는지 확인하세요")
    return columns, row, count


def _id_column(columns: list[str], policy: ir.Policy, row: str) -> str:
    facts = {f.name for f in policy.facts}
    own = [c for c in columns if c not in facts and c != row]
    return own[0] if own else row


def _disclosure_case(policy: ir.Policy, outcome_sql: str) -> str:
    whens = " ".join(f"WHEN {text(o.name)} THEN [{', '.join(text(x) for x in o.discloses)}]::VARCHAR[]"
                     for o in policy.outcomes)
    return f"CASE {outcome_sql} {whens} ELSE []::VARCHAR[] END"


def _needs_outcomes(*policies: ir.Policy) -> None:
    for p in policies:
        if p.main is None:
            raise ValueError(f"정책 `{p.name}` 에는 결과(outcome)를 내는 결정이 없어 티켓별 결과를 견줄 수 없습니다. "
                             "값만 내는 정책은 `policyc batch` 로 결정을 모두 보세요")


def impact(old: ir.Policy, new: ir.Policy, input_path: Path, examples: int = 3) -> tuple[int, list[ImpactRow]]:
    _needs_outcomes(old, new)
    with duckdb_session() as (con, folder):
        return _impact(con, folder, old, new, input_path, examples)


def _impact(con, folder: Path, old: ir.Policy, new: ir.Policy, input_path: Path,
            examples: int) -> tuple[int, list[ImpactRow]]:
    columns, row, total = _numbered(con, folder, input_path)
    key = _id_column(list(columns), new, row)
    q_old, q_new = (to_sql(p, "policyc_src", list(columns), types=columns) for p in (old, new))
    invalid = "'(잘못된 사실)'"
    r = ident(row)
    rows = con.execute(f"""
        WITH o AS ({q_old}), n AS ({q_new}),
        j AS (SELECT o.{r} AS __row, CAST(o.{ident(key)} AS VARCHAR) AS id,
                     CASE WHEN o.policy_error IS NULL THEN o.outcome ELSE {invalid} END AS before,
                     CASE WHEN n.policy_error IS NULL THEN n.outcome ELSE {invalid} END AS after,
                     coalesce(o.discloses, []::VARCHAR[]) AS d_old, coalesce(n.discloses, []::VARCHAR[]) AS d_new
              FROM o JOIN n ON o.{r} = n.{r}),
        c AS (SELECT *, list_sort(list_filter(d_new, lambda x: NOT list_contains(d_old, x))) AS widens,
                        list_sort(list_filter(d_old, lambda x: NOT list_contains(d_new, x))) AS narrows FROM j)
        SELECT before, after, widens, narrows, count(*) AS tickets, list(id ORDER BY __row)[1:{examples}] AS examples
        FROM c WHERE before <> after OR len(widens) > 0 OR len(narrows) > 0
        GROUP BY before, after, widens, narrows
        ORDER BY len(widens) > 0 DESC, tickets DESC, before, after""").fetchall()
    return total, [ImpactRow(*r[:4], r[4], [str(x) for x in r[5]]) for r in rows]


def audit(policy: ir.Policy, input_path: Path, recorded: str, examples: int = 3) -> tuple[int, list[AuditRow]]:
    _needs_outcomes(policy)
    with duckdb_session() as (con, folder):
        return _audit(con, folder, policy, input_path, recorded, examples)


def _audit(con, folder: Path, policy: ir.Policy, input_path: Path, recorded: str,
           examples: int) -> tuple[int, list[AuditRow]]:
    columns, row, total = _numbered(con, folder, input_path)
    if recorded not in columns:
        raise ValueError(f"입력에 기록된 결과 열이 없습니다: {recorded} (--recorded 로 열 이름을 주세요)")
    key = _id_column([c for c in columns if c != recorded], policy, row)
    query = to_sql(policy, "policyc_src", list(columns), types=columns)
    rows = con.execute(f"""
        WITH d AS ({query}),
        j AS (SELECT {ident(row)} AS __row, CAST({ident(key)} AS VARCHAR) AS id,
                     CAST({ident(recorded)} AS VARCHAR) AS recorded,
                     CASE WHEN policy_error IS NULL THEN outcome ELSE '(잘못된 사실)' END AS policy,
                     {_disclosure_case(policy, f"CAST({ident(recorded)} AS VARCHAR)")} AS d_rec,
                     coalesce(discloses, []::VARCHAR[]) AS d_pol
              FROM d),
        c AS (SELECT *, list_sort(list_filter(d_rec, lambda x: NOT list_contains(d_pol, x))) AS forbidden FROM j)
        SELECT recorded, policy, forbidden, count(*) AS tickets, list(id ORDER BY __row)[1:{examples}] AS examples
        FROM c WHERE recorded IS DISTINCT FROM policy
        GROUP BY recorded, policy, forbidden
        ORDER BY len(forbidden) > 0 DESC, tickets DESC, recorded, policy""").fetchall()
    return total, [AuditRow(str(r[0]), r[1], r[2], r[3], [str(x) for x in r[4]]) for r in rows]


# ── reports ──

def _shown(text: str) -> str:
    """A value from the input as the terminal shows it: control characters (an escape
    sequence that sets the title or moves the cursor, a newline that forges a report line)
    written as escapes, never sent raw."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in str(text))


def impact_table(total: int, rows: list[ImpactRow]) -> str:
    changed = sum(r.tickets for r in rows)
    lines = [f"티켓 {total}건 중 {changed}건의 결정이 바뀝니다 ({100 * changed / total if total else 0:.2f}%)"]
    widened = sum(r.tickets for r in rows if r.widens)
    if widened:
        lines.append(f"그중 {widened}건은 이전에 알려 주지 않던 것을 알려 줍니다 (공개가 넓어짐)")
    lines.append("")
    lines.append(f"{'이전':<24} {'이후':<24} {'티켓':>8}  공개 변화 / 예")
    for r in rows:
        change = (f"+{','.join(r.widens)} " if r.widens else "") + (f"-{','.join(r.narrows)} " if r.narrows else "")
        lines.append(f"{_shown(r.before):<24} {_shown(r.after):<24} {r.tickets:>8}  {change}"
                     f"예: {', '.join(_shown(x) for x in r.examples)}")
    return "\n".join(lines) + "\n"


def spreadsheet_safe(cell: str) -> str:
    """A text cell a spreadsheet shows as text: one that starts like a formula (`=`, `+`,
    `-`, `@`, or a tab or carriage return before one) gets a leading `'`, the mark
    spreadsheets read as "this is text" (OWASP's advice against CSV injection)."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def impact_csv(rows: list[ImpactRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["before", "after", "widens", "narrows", "tickets", "examples"])
    for r in rows:
        cells = [r.before, r.after, " ".join(r.widens), " ".join(r.narrows)]
        writer.writerow([spreadsheet_safe(c) for c in cells] + [r.tickets, spreadsheet_safe(" ".join(r.examples))])
    return out.getvalue()


def impact_html(total: int, rows: list[ImpactRow], title: str) -> str:
    body = "".join(
        f"<tr{' class=widen' if r.widens else ''}><td>{html.escape(r.before)}</td><td>{html.escape(r.after)}</td>"
        f"<td class=n>{r.tickets}</td><td>{html.escape(' '.join('+' + x for x in r.widens) + ' ' + ' '.join('-' + x for x in r.narrows))}</td>"
        f"<td>{html.escape(', '.join(r.examples))}</td></tr>" for r in rows)
    return (f"<!DOCTYPE html><html lang=ko><head><meta charset=utf-8><title>{html.escape(title)}</title><style>"
            "body{font-family:'Noto Sans CJK KR',sans-serif;margin:2rem}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccd;padding:.3rem .6rem}.n{text-align:right}.widen td{background:#ffecec}"
            f"</style></head><body><h1>{html.escape(title)}</h1><p>{impact_table(total, rows).splitlines()[0]}</p>"
            "<table><tr><th>이전</th><th>이후</th><th>티켓</th><th>공개 변화</th><th>예</th></tr>"
            f"{body}</table></body></html>\n")


def audit_table(total: int, rows: list[AuditRow]) -> str:
    wrong = sum(r.tickets for r in rows)
    forbidden = sum(r.tickets for r in rows if r.forbidden)
    lines = [f"기록 {total}건 중 {wrong}건이 정책과 다릅니다"
             + (f", 그중 {forbidden}건은 정책이 허락하지 않은 공개입니다" if forbidden else ""), "",
             f"{'기록된 결과':<24} {'정책의 결과':<24} {'티켓':>8}  허락되지 않은 공개 / 예"]
    for r in rows:
        lines.append(f"{_shown(r.recorded):<24} {_shown(r.policy):<24} {r.tickets:>8}  "
                     f"{('!' + ','.join(r.forbidden) + ' ') if r.forbidden else ''}예: {', '.join(_shown(x) for x in r.examples)}")
    return "\n".join(lines) + "\n"
