"""The SQL back end on the constructs beyond the first policy (money, percentages and
rounding, calendars and holidays, optional facts, lists of records, if/else, actions with
values and rules that add actions): DuckDB, and Spark where it reads the facts, against the
generated module row by row, on random rows biased to every threshold with a share of
broken cells. A row is refused by both or decided alike by both."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from decimal import Decimal

import pytest

duckdb = pytest.importorskip("duckdb")

from compiler.backend.sql import batch_limits, to_sql  # noqa: E402
from compiler.tools.load import load  # noqa: E402

from .conftest import ROOT, needs_spark  # noqa: E402
from .facts import random_facts  # noqa: E402

POLICIES = ["policy/pet_ride_fare.policy", "tests/policies/cancellation_fee.policy",
            "tests/policies/night_rides.policy", "tests/policies/parcels.policy"]


def _cell(value) -> str | None:
    """A typed fact as a table cell holds it: text, a list as JSON."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, dt.timedelta):
        return f"{value // dt.timedelta(microseconds=1)}us" if value else "0s"
    if isinstance(value, list):
        return json.dumps([{k: _json(v) for k, v in item.items()} for item in value], ensure_ascii=False)
    return str(value)


def _json(value):
    if isinstance(value, Decimal):  # written as its digits: every test number has a float that prints alike
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time, dt.timedelta)):
        return _cell(value)
    return value


# cells decide() and the SQL must both refuse (or, for the last ones, both take)
_BROKEN = {
    "money": ["12.5", "3,000", "1e3", "", "10000000000000000"],
    "number": ["1e3", "abc", "0.1234567891", "1234567890123456"],
    "timestamp": ["2024-02-30T10:00:00+09:00", "2024-03-01T10:00:00", "yesterday"],
    "date": ["2024-02-30", "24-12-25", "0000-01-01"],
    "time": ["24:00", "7:00", "12:60"],
    "duration": ["3 days", "-1h"],
    "enum": ["nope"],
    "bool": ["yes"],
    "list": ["[1", "{}", '[{"name": "x"}]', '[{"weight": "12"}]', "[1]",
             '[{"name": "초코", "kind": "dog", "weight": 1e1, "in_carrier": true}]'],
}


def _facts_of(policy, row: dict) -> dict:
    """What an app would hand decide() for a row: each cell as JSON would carry it."""
    facts = {}
    for f in policy.facts:
        text = row.get(f.name)
        if text is None:
            continue
        kind = f.type.kind
        if kind == "bool":
            facts[f.name] = {"true": True, "false": False}.get(text, text)
        elif kind in ("number", "money"):  # a table writes numbers plainly: `1e3` is text, refused
            plain = re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text)
            facts[f.name] = (int(text) if "." not in text else Decimal(text)) if plain else text
        elif kind == "list":  # and so does a list's JSON: 1e1 is refused as text would be
            try:
                facts[f.name] = json.loads(text, parse_float=lambda n: n if "e" in n.lower() else float(n))
            except ValueError:
                facts[f.name] = text
        else:
            facts[f.name] = text
    return facts


def _rows(policy, rng: random.Random, count: int) -> list[dict]:
    rows = []
    for i in range(count):
        typed = random_facts(policy, rng)
        row = {"ticket": str(i)} | {f.name: _cell(typed.get(f.name)) for f in policy.facts}
        if rng.random() < 0.15:
            f = rng.choice(policy.facts)
            row[f.name] = rng.choice(_BROKEN[f.type.kind] + [None])
        rows.append(row)
    return rows


def _module_answer(module, policy, facts):
    try:
        d = module.decide(facts)
    except module.PolicyInputError:
        return None
    values = {x.name: getattr(d, x.name) for x in policy.decisions if x.yields_value}
    trace = dict(d.trace)
    added = {x.name: list(trace[x.name]) for x in policy.decisions if x.yields_actions}
    return (d.outcome or None, d.rule or None, values, added, sorted(d.actions), _args(dict(d.action_args)))


def _args(args: dict) -> dict:
    return {k: {p: _plain(v) for p, v in dict(given).items()} for k, given in args.items() if given}


def _plain(v):
    if isinstance(v, Decimal):
        return v.normalize() if v != v.to_integral_value() else int(v)
    return v


def _sql_answer(policy, got: dict):
    if got["policy_error"] is not None:
        return None
    values = {x.name: _plain(got[x.name]) for x in policy.decisions if x.yields_value}
    added = {x.name: list(got[x.name]) for x in policy.decisions if x.yields_actions}
    args = {k: {p: _plain(v) for p, v in given.items()} for k, given in (got.get("action_args") or {}).items() if given}
    return (got.get("outcome"), got.get("rule"), values, added, sorted(got.get("actions") or []), args)


def _table(con, rows: list[dict]) -> list[str]:
    columns = list(rows[0])
    con.execute("CREATE TABLE t (" + ", ".join(f'"{c}" VARCHAR' for c in columns) + ")")
    con.executemany("INSERT INTO t VALUES (" + ", ".join("?" * len(columns)) + ")",
                    [[r[c] for c in columns] for r in rows])
    return columns


def _compare(policy, module, rows, results):
    mismatches, refused = [], 0
    for row, got in zip(rows, results):
        want = _module_answer(module, policy, _facts_of(policy, row))
        have = _sql_answer(policy, got)
        refused += have is None
        if have != want:
            mismatches.append((row, have, want, got["policy_error"]))
    assert not mismatches, mismatches[:3]
    assert 0 < refused < len(rows)  # broken rows were there, and refused


@pytest.mark.parametrize("path", POLICIES)
def test_duckdb_decides_every_construct_as_the_module(path: str):
    result, module = load(ROOT / path, path)
    policy = result.policy
    assert batch_limits(policy) == []
    rows = _rows(policy, random.Random(path), 500)
    con = duckdb.connect()
    columns = _table(con, rows)
    cursor = con.execute(f"SELECT * FROM ({to_sql(policy, 't', columns)}) ORDER BY CAST(ticket AS INTEGER)")
    names = [c[0] for c in cursor.description]
    _compare(policy, module, rows, [dict(zip(names, r)) for r in cursor.fetchall()])


def test_every_rule_of_the_pet_ride_policy_is_reached_in_sql():
    result, module = load(ROOT / POLICIES[0], POLICIES[0])
    rows = _rows(result.policy, random.Random(3), 600)
    con = duckdb.connect()
    columns = _table(con, rows)
    rules = {r for (r,) in con.execute(f"SELECT DISTINCT rule FROM ({to_sql(result.policy, 't', columns)}) "
                                       "WHERE rule IS NOT NULL").fetchall()}
    assert rules == {r.name for r in result.policy.main.rules}


@needs_spark
def test_spark_decides_the_constructs_it_reads_as_the_module(tmp_path):
    """Through `policyc batch --engine spark`'s own path: Parquet of text cells in, the
    decided and the refused rows out."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from compiler.tools.batch import run_batch_spark

    for path in POLICIES[1:3]:  # no list facts: Spark reads these
        result, module = load(ROOT / path, path)
        policy = result.policy
        assert batch_limits(policy, "spark") == []
        rows = _rows(policy, random.Random(path), 300)
        source = tmp_path / "in.parquet"
        pq.write_table(pa.Table.from_pylist(rows, pa.schema([(c, pa.string()) for c in rows[0]])), source)
        run_batch_spark(policy, source, tmp_path / "out.parquet", tmp_path / "errors.parquet")
        decided = {r["ticket"]: r for r in pq.read_table(tmp_path / "out.parquet").to_pylist()}
        got = [decided.get(r["ticket"], {"policy_error": "refused"}) | {"policy_error": None}
               if r["ticket"] in decided else {"policy_error": "refused"} for r in rows]
        _compare(policy, module, rows, got)


def test_spark_turns_down_list_facts_before_reading_a_row():
    result, _ = load(ROOT / POLICIES[0], POLICIES[0])
    limits = batch_limits(result.policy, "spark")
    assert [what for _, what in limits] == ["목록(list) 사실 `pets` (Spark 에서는 아직 읽지 못합니다: DuckDB 로 돌리세요)"]


_EDGES = """policy edges "달력 끝"
zone "Asia/Seoul"

fact at "시각": timestamp
fact day "날짜": date

const HOLIDAYS "공휴일" = holidays("KR", 2024, 2025)

outcome weekend "주말" {
  reply "주말"
}
outcome holiday "공휴일" {
  reply "공휴일"
}
outcome other "그 밖" {
  reply "그 밖"
}

decision answer "답" (first) {
  rule 공휴일:
    when day in HOLIDAYS
    then holiday
  rule 주말:
    when weekday(at) in {sat, sun}
    then weekend
  otherwise other
}
"""


def _decide_rows(tmp_path, source: str, rows: list[dict]):
    path = tmp_path / "edges.policy"
    path.write_text(source, encoding="utf-8")
    result, module = load(path, "edges.policy")
    assert result.ok, result.diagnostics
    con = duckdb.connect()
    columns = _table(con, rows)
    cursor = con.execute(to_sql(result.policy, "t", columns))
    names = [c[0] for c in cursor.description]
    got = [dict(zip(names, r)) for r in cursor.fetchall()]
    return result.policy, module, got


def test_calendar_edges_are_refused_or_decided_alike(tmp_path):
    """An instant whose date in the zone has no Python date (past 9999-12-31) is refused by
    both even where an earlier rule fired, and a date outside the holiday table's years is
    refused by both up front; one microsecond inside, both decide."""
    rows = [{"ticket": "1", "at": "9999-12-31T15:00:00Z", "day": "2024-12-25"},   # Seoul: year 10000
            {"ticket": "2", "at": "9999-12-31T14:59:59.999999Z", "day": "2024-12-24"},
            {"ticket": "3", "at": "2024-03-02T00:00:00+09:00", "day": "2023-12-31"},  # before the table
            {"ticket": "4", "at": "2024-03-01T23:59:59.999999+09:00", "day": "2025-12-31"},
            {"ticket": "5", "at": "2024-03-01T15:00:00Z", "day": "2025-12-31"}]  # Saturday in Seoul
    policy, module, got = _decide_rows(tmp_path, _EDGES, rows)
    assert [g["rule"] for g in got] == [None, "otherwise", None, "otherwise", "주말"]  # 9999-12-31 is a Friday
    assert got[0]["policy_error"] == "at: 그 시간대의 날짜로 바꿀 수 없는 시각입니다"
    assert got[2]["policy_error"] == "day: 공휴일 표는 2024년부터 2025년까지입니다"
    _compare(policy, module, rows, got)


def test_values_leave_the_query_as_the_engines_own_types(tmp_path):
    """A value decision or an action's value that is a date, an instant, a duration, a
    time of day or an amount leaves as DATE, TIMESTAMPTZ, INTERVAL, TIME and an exact DECIMAL."""
    source = """policy edges "값의 종류"
zone "Asia/Seoul"

fact at "시각": timestamp
fact fee "요금": money

let clock_at "하루 중 시각" = time_of(at)
const NOON "정오" = 12:00
const LATE "밤" = 23:30

action remind "알림" (on "날짜": date, wait "기다림": duration, share "몫": money)

outcome done "끝" {
  actions remind(on = date_of(at), wait = 90분, share = fee * 15%)
  reply "끝"
}

decision answer "답" (first) {
  otherwise done
}

decision clock "시각" (first) {
  rule 밤:
    when clock_at >= 22:00
    then LATE
  otherwise NOON
}
"""
    rows = [{"ticket": "1", "at": "2024-03-01T23:30:00+09:00", "fee": "1001"}]
    policy, module, got = _decide_rows(tmp_path, source, rows)
    assert got[0]["clock"] == dt.time(23, 30)
    assert got[0]["action_args"] == {"remind": {"on": dt.date(2024, 3, 1), "wait": dt.timedelta(minutes=90),
                                                "share": Decimal("150.15")}}
    d = module.decide({"at": "2024-03-01T23:30:00+09:00", "fee": 1001})
    assert dict(d.action_args["remind"]) == got[0]["action_args"]["remind"] and d.clock == got[0]["clock"]


def test_the_pet_ride_policy_runs_in_batch_from_csv_and_from_nested_parquet(tmp_path):
    """`policyc batch` on the second policy: a CSV whose list column is JSON text, and the
    same tickets as Parquet with a LIST<STRUCT> column, DATE-free typed money (BIGINT):
    the same decisions, and the module's for every row."""
    import os
    import subprocess
    import sys

    import pyarrow as pa
    import pyarrow.parquet as pq

    result, module = load(ROOT / POLICIES[0], POLICIES[0])
    policy = result.policy
    rows = _rows(policy, random.Random(11), 400)
    csv = tmp_path / "rides.csv"
    con = duckdb.connect()
    _table(con, rows)
    con.execute(f"COPY t TO '{csv}' (HEADER)")
    good = [r for r in rows if _module_answer(module, policy, _facts_of(policy, r)) is not None]
    pet = pa.struct([("name", pa.string()), ("kind", pa.string()), ("weight", pa.decimal128(24, 9)),
                     ("assistance", pa.bool_()), ("in_carrier", pa.bool_()), ("carrier_width", pa.decimal128(24, 9))])
    schema = pa.schema([(c, pa.list_(pet) if c == "pets" else pa.int64() if c == "paid_extra" else pa.string())
                        for c in rows[0]])
    nested = pa.Table.from_pylist([r | {"pets": json.loads(r["pets"], parse_float=Decimal),
                                        "paid_extra": None if r["paid_extra"] is None else int(r["paid_extra"])}
                                   for r in good], schema)
    parquet = tmp_path / "rides.parquet"
    pq.write_table(nested, parquet)
    outputs = {}
    for given in (csv, parquet):
        out = tmp_path / f"decided_{given.suffix[1:]}.parquet"
        done = subprocess.run([sys.executable, "-m", "compiler.cli", "batch", POLICIES[0], "--input", str(given),
                               "--output", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert done.returncode == 0, done.stderr
        outputs[given.suffix] = {r["ticket"]: r for r in pq.read_table(out).to_pylist()}
    assert len(outputs[".csv"]) == len(good) == len(outputs[".parquet"])
    for r in good:
        want = _module_answer(module, policy, _facts_of(policy, r))
        for decided in outputs.values():
            assert _sql_answer(policy, decided[r["ticket"]] | {"policy_error": None}) == want, r


def test_numbers_of_different_places_meet_without_losing_one(tmp_path):
    """DuckDB cuts DECIMAL(38, 9) to 1 place where it meets DECIMAL(38, 1) in a CASE: a
    number fact with a one-place default and an action whose value comes from two rules
    with different places keep every digit."""
    source = """policy edges "자릿수"

fact kind "종류": enum {
  a "가"
  b "나"
}
fact weight "무게": number = 1.5

action pay "지급" (amount "금액": number)

outcome done "끝" {
  reply "끝"
}

decision answer "답" (first) {
  otherwise done
}

decision follow "후속" (first) {
  rule 무거움:
    when weight > 2
    then pay(amount = weight * 1.25)
  otherwise pay(amount = 0.5)
}
"""
    rows = [{"ticket": "1", "kind": "b", "weight": None}, {"ticket": "2", "kind": "a", "weight": "2.125"}]
    policy, module, got = _decide_rows(tmp_path, source, rows)
    assert [g["action_args"]["pay"]["amount"] for g in got] == [Decimal("0.5"), Decimal("2.65625")]
    for row, g in zip(rows, got):
        assert _sql_answer(policy, g) == _module_answer(module, policy, _facts_of(policy, row))
