"""policyc batch, impact and audit on tables made to break them: input columns named like
the query's own, CSV that a sniffer would misread, outputs written over inputs, file
names that look like patterns, derived instants past year 9999, runs that were killed,
ticket ids that are spreadsheet formulas. Every row is decided as decide() decides it or
refused with the reason, none is lost, and what cannot be done exits 2 touching nothing."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

duckdb = pytest.importorskip("duckdb")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from compiler.pipeline import compile_policy  # noqa: E402
from compiler.tools.batch import run_batch  # noqa: E402
from compiler.tools.load import load  # noqa: E402

from .conftest import ROOT, needs_spark  # noqa: E402

sys.path.insert(0, str(ROOT / "scripts"))
from tickets import COLUMNS, facts_of, rows as ticket_rows  # noqa: E402

POLICY = ROOT / "policy/driver_info.policy"
RESERVED = ["__ok", "__f_request", "__f_ride_at", "__r0", "__r1", "__in0", "__in3", "__row", "policyc_reject"]


@pytest.fixture(scope="module")
def policy():
    return compile_policy(POLICY, "policy/driver_info.policy").policy


def _tickets(n: int, seed: int, invalid: float = 0.1) -> list[dict]:
    return [{k: (None if v is None else str(v)) for k, v in row.items()} for row in ticket_rows(n, seed, invalid)]


def _write(path: Path, rows: list[dict]) -> Path:
    if path.suffix == ".csv":
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    else:
        pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def _module_answer(module, row):
    try:
        d = module.decide(facts_of({k: row.get(k) for k in COLUMNS}))
    except module.PolicyInputError:
        return None
    return (d.outcome, d.rule, sorted(d.discloses))


def _check_against_module(driver_info, rows, out: Path, errors: Path) -> None:
    decided = {r["ticket_id"]: r for r in pq.read_table(out).to_pylist()}
    bad = {r["ticket_id"]: r for r in pq.read_table(errors).to_pylist()}
    assert len(decided) + len(bad) == len(rows)  # every row, once
    wrong = []
    for row in rows:
        want = _module_answer(driver_info, row)
        got = decided.get(row["ticket_id"])
        have = None if got is None else (got["outcome"], got["rule"], sorted(got["discloses"]))
        if have != want or (want is None) != (row["ticket_id"] in bad):
            wrong.append((row, have, want))
    assert not wrong, wrong[:3]


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "compiler.cli", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_columns_named_like_the_querys_own_change_nothing(tmp_path, policy, driver_info, suffix):
    """Extra input columns named `__ok`, `__f_request`, `__r0`, ... hold values that would
    pass every check if they bound inside the query; the decisions are the module's."""
    rows = _tickets(1500, seed=31, invalid=0.2)
    hostile = {"__ok": "true", "__f_request": "driver_phone", "__f_ride_at": "0", "__r0": "1", "__r1": "0",
               "__in0": "x", "__in3": "driver_phone", "__row": "1", "policyc_reject": "false"}
    rows = [{**row, **hostile} for row in rows]
    source = _write(tmp_path / f"t{suffix}", rows)
    run_batch(policy, source, tmp_path / "out.parquet", tmp_path / "errors.parquet")
    _check_against_module(driver_info, rows, tmp_path / "out.parquet", tmp_path / "errors.parquet")
    kept = pq.read_table(tmp_path / "errors.parquet").column_names
    assert set(RESERVED) <= set(kept)  # the input's own columns come back as they were


def test_audit_is_not_fooled_by_reserved_columns(tmp_path):
    """An account-number request recorded as a phone disclosure stays a forbidden
    disclosure, whatever columns ride along."""
    row = {"ticket_id": "t1", "request": "account_number", "trip_status": "completed",
           "ride_at": "2024-03-01T10:00:00+09:00", "asked_at": "2024-03-02T10:00:00+09:00",
           "history_available": "false", "reason": "other", "recorded_outcome": "disclose_driver_phone"}
    source = _write(tmp_path / "recorded.csv", [{**row, **{c: "true" for c in RESERVED}}])
    result = _cli("audit", "policy/driver_info.policy", "--input", source)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "!driver_phone" in result.stdout


@pytest.mark.parametrize("header,problem", [
    (["ticket_id", "Request", "trip_status", "ride_at", "asked_at", "history_available", "reason"], "대소문자만"),
    (["ticket_id", "request", "trip_status", "ride_at", "asked_at", "history_available", "reason", "OUTCOME"],
     "겹칩니다"),
    (["ticket_id", "request", "trip_status", "ride_at", "asked_at", "history_available", "reason", "Ticket_ID"],
     "두 번"),
])
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_column_names_the_engines_would_confuse_are_refused(tmp_path, policy, header, problem, suffix):
    values = ["1", "driver_phone", "completed", "2024-03-01T10:00:00+09:00", "2024-03-02T10:00:00+09:00", "true",
              "other", "x"]
    path = tmp_path / f"t{suffix}"
    if suffix == ".csv":
        path.write_text(",".join(header) + "\n" + ",".join(values[: len(header)]) + "\n", encoding="utf-8")
    else:
        pq.write_table(pa.table([pa.array([v]) for v in values[: len(header)]], names=header), path)
    with pytest.raises(ValueError, match=problem):
        run_batch(policy, path, tmp_path / "out.parquet", tmp_path / "errors.parquet")
    assert not (tmp_path / "out.parquet").exists()


def test_csv_rows_that_start_with_a_hash_are_decided(tmp_path, policy, driver_info):
    """DuckDB's sniffer took `#` for a comment and dropped such rows; the dialect is pinned."""
    rows = _tickets(300, seed=32)
    for i, row in enumerate(rows):
        if i % 3 == 0:
            row["ticket_id"] = f"#{row['ticket_id']}"
    source = _write(tmp_path / "t.csv", rows)
    done = run_batch(policy, source, tmp_path / "out.parquet", tmp_path / "errors.parquet")
    assert done.rows == 300 and done.decided + done.errors == 300
    _check_against_module(driver_info, rows, tmp_path / "out.parquet", tmp_path / "errors.parquet")


GOOD = "1,driver_phone,completed,2024-03-01T10:00:00+09:00,2024-03-02T10:00:00+09:00,true,other"
HEADER = "ticket_id,request,trip_status,ride_at,asked_at,history_available,reason"


@pytest.mark.parametrize("text,where,problem", [
    (f"exported 2024-03-05\n{HEADER}\n{GOOD}\n", ":2:", "머리글 앞에"),
    (f"{HEADER}\n{GOOD}\n1,driver_phone,completed\n", ":3:", "값이 3개"),
    (f"{HEADER}\n{GOOD}\n\n{GOOD}\n", ":3:", "빈 줄"),
    (f'{HEADER}\n{GOOD}\n"1,driver_phone\n', ":3:", "CSV"),
    ("", "", "비어 있습니다"),
])
def test_csv_shape_problems_name_the_line(tmp_path, policy, text, where, problem):
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=problem) as err:
        run_batch(policy, path, tmp_path / "out.parquet", tmp_path / "errors.parquet")
    assert where in str(err.value)


def test_outputs_never_overwrite_an_input_or_each_other(tmp_path):
    source = _write(tmp_path / "t.parquet", _tickets(50, seed=33))
    before = source.read_bytes()
    policy_text = POLICY.read_bytes()
    os.link(source, tmp_path / "hardlink.parquet")
    for extra in (["--output", source],
                  ["--output", tmp_path / "x.parquet", "--errors", tmp_path / "x.parquet"],
                  ["--output", tmp_path / "hardlink.parquet"],
                  ["--output", tmp_path / "y.parquet", "--errors", "policy/driver_info.policy"],
                  ["--output", tmp_path / "sub" / ".." / "t.parquet"]):
        (tmp_path / "sub").mkdir(exist_ok=True)
        result = _cli("batch", "policy/driver_info.policy", "--input", source, *extra)
        assert result.returncode == 2, (extra, result.stderr)
        named_policy = "policy/driver_info.policy" in map(str, extra)  # refused for its name before anything else
        assert ("Parquet 로만" if named_policy else "같은 파일") in result.stderr and "Traceback" not in result.stderr
    # and the check behind the name: the policy's own files are never outputs
    from compiler.cli.data import policy_sources

    compiled = compile_policy(POLICY, str(POLICY)).policy
    targets = policy_sources(str(POLICY), compiled)
    assert len(targets) == 2  # the policy and its replies file
    for target in targets:
        with pytest.raises(ValueError, match="같은 파일"):
            run_batch(compiled, source, tmp_path / "y.parquet", target, policy_files=targets)
    assert source.read_bytes() == before and POLICY.read_bytes() == policy_text
    assert not (tmp_path / "x.parquet").exists() and not (tmp_path / "y.parquet").exists()
    report = _cli("impact", "policy/driver_info.policy", "policy/driver_info.policy", "--input", source,
                  "--csv", source)
    assert report.returncode == 2 and source.read_bytes() == before


def test_input_names_are_files_not_patterns(tmp_path, policy):
    """`tickets[2024].csv` is that file; as a glob it would read `tickets2.csv`."""
    _write(tmp_path / "tickets2.csv", _tickets(7, seed=34))
    literal = _write(tmp_path / "tickets[2024].csv", _tickets(11, seed=35))
    done = run_batch(policy, literal, tmp_path / "out.parquet", tmp_path / "errors.parquet")
    assert done.rows == 11
    star = _write(tmp_path / "*.parquet", _tickets(5, seed=36))
    assert run_batch(policy, star, tmp_path / "o2.parquet", tmp_path / "e2.parquet").rows == 5


OVERFLOW_POLICY = '''
policy overflow "파생 시각이 9999년을 넘는 경우"
fact ride_at "탑승 시각": timestamp
fact grace "유예" : enum { short "짧게" long "길게" }
let deadline "마감" = ride_at + 1일
let late_deadline "늦은 마감" = deadline + 3650000일
require deadline > ride_at "마감은 탑승 뒤입니다"
outcome early "이름" { reply "이름" }
outcome late "늦음" { reply "늦음" }
decision d "결정" (first) {
  rule r: when grace = short and deadline > 2024-01-01T00:00+09:00 then early
  rule r2: when late_deadline > deadline then late
  otherwise late
}
'''


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_derived_instant_past_year_9999_is_refused_as_decide_refuses_it(tmp_path, suffix):
    path = tmp_path / "overflow.policy"
    path.write_text(OVERFLOW_POLICY, encoding="utf-8")
    result, module = load(path)
    assert module is not None, result.diagnostics
    stamps = ["9999-12-31T12:00:00+09:00", "9999-12-30T23:59:59.999999Z", "9999-12-31T00:00:00Z",
              "9999-12-31T20:00:00-05:00", "9999-12-30T23:00:00-05:00", "0001-01-01T00:30+01:00",
              "2024-03-01T10:00:00+09:00", "9989-12-31T00:00:00Z", "9989-01-01T00:00:00Z"]
    rows = [{"id": str(i), "ride_at": s, "grace": g} for i, s in enumerate(stamps) for g in ("short", "long")]
    source = _write(tmp_path / f"t{suffix}", rows)
    run_batch(result.policy, source, tmp_path / "out.parquet", tmp_path / "errors.parquet")
    decided = {r["id"]: r["outcome"] for r in pq.read_table(tmp_path / "out.parquet").to_pylist()}
    refused = {r["id"]: r["policy_error"] for r in pq.read_table(tmp_path / "errors.parquet").to_pylist()}
    for row in rows:
        try:
            want = module.decide({"ride_at": row["ride_at"], "grace": row["grace"]}).outcome
            assert decided.get(row["id"]) == want, row
        except module.PolicyInputError as err:
            assert refused.get(row["id"]) == str(err), row
    assert any("계산할 수 없는 범위" in e for e in refused.values()) and decided


def test_what_a_killed_run_left_is_removed_by_the_next(tmp_path, policy):
    import tempfile

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    pid = dead.pid
    out = tmp_path / "out.parquet"
    leftovers = [tmp_path / f".policyc-{pid}.out.0123456789ab.tmp", tmp_path / f".policyc-{pid}.err.0123456789ab.tmp"]
    for path in leftovers:
        path.write_bytes(b"half a file")
    spill = Path(tempfile.gettempdir()) / f"policyc-{pid}-killed"
    (spill / "spill").mkdir(parents=True, exist_ok=True)
    (spill / "spill" / "duckdb_temp_block").write_bytes(b"x" * 1000)
    alive = tmp_path / f".policyc-{os.getppid()}.out.0123456789ab.tmp"  # a live run's, not ours to take
    alive.write_bytes(b"in use")
    source = _write(tmp_path / "t.parquet", _tickets(20, seed=37))
    run_batch(policy, source, out, tmp_path / "errors.parquet")
    assert not any(p.exists() for p in leftovers) and not spill.exists()
    assert alive.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["t.parquet", "out.parquet", "errors.parquet",
                                                                  alive.name])


def test_impact_csv_cells_are_never_formulas():
    from compiler.tools.impact import ImpactRow, impact_csv

    ids = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "plain"]
    text = impact_csv([ImpactRow("refuse", "=HYPERLINK(\"x\")", ["driver_phone"], [], 3, ids)])
    cells = [c for row in csv.reader(text.splitlines()) for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t")], cells
    assert "'=cmd|' /C calc'!A0" in text and "plain" in text



@needs_spark
def test_spark_reads_the_same_hostile_csv_alike(tmp_path, policy, driver_info):
    """`--engine spark`: the pinned CSV dialect (`#` rows kept), columns named like the
    query's own, a file name that is a pattern, outputs replaced only when complete."""
    from compiler.tools.batch import run_batch_spark

    rows = _tickets(300, seed=38, invalid=0.2)
    rows = [{**row, "ticket_id": ("#" if i % 3 == 0 else "") + row["ticket_id"], "__ok": "true",
             "__f_request": "driver_phone", "__r0": "1", "ticket.note": "a.b", "back`tick": "x"}
            for i, row in enumerate(rows)]
    _write(tmp_path / "t1.csv", rows[:10])
    source = _write(tmp_path / "t[1].csv", rows)
    old_part = "part-00000-0a1b2c3d-0000-0000-0000-000000000000-c000.snappy.parquet"
    (tmp_path / "out.parquet").mkdir()
    (tmp_path / "out.parquet" / old_part).write_bytes(b"yesterday")
    done = run_batch_spark(policy, source, tmp_path / "out.parquet", tmp_path / "errors.parquet")
    assert done.rows == 300
    _check_against_module(driver_info, rows, tmp_path / "out.parquet", tmp_path / "errors.parquet")
    assert "ticket.note" in pq.read_table(tmp_path / "errors.parquet").column_names
    odd = run_batch_spark(policy, source, tmp_path / "o[1]{a,b}.parquet", tmp_path / "e[1].parquet")  # names, not globs
    assert odd.rows == 300 and (tmp_path / "o[1]{a,b}.parquet").is_dir()
    for name in ("o[1]{a,b}.parquet", "e[1].parquet"):
        import shutil

        shutil.rmtree(tmp_path / name)
    assert not (tmp_path / "out.parquet" / old_part).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["errors.parquet", "out.parquet", "t1.csv", "t[1].csv"]
    # a folder that holds anything but Spark's parts, or the input itself, is never replaced
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "precious.parquet").write_bytes(b"keep")
    with pytest.raises(ValueError, match="조각이 아닌"):
        run_batch_spark(policy, source, tmp_path / "mine", tmp_path / "e2.parquet")
    with pytest.raises(ValueError, match="담은 폴더"):
        run_batch_spark(policy, source, tmp_path, tmp_path / "e3.parquet")
    assert (tmp_path / "mine" / "precious.parquet").read_bytes() == b"keep" and source.exists()
