"""`policyc batch` (the SQL back end in DuckDB) against the Python module in a loop, same run.

    python bench/batch.py [--rows 10000000] [--loop-rows 200000]

Generates seeded tickets (scripts/tickets.py: ISO text timestamps, 2% broken rows) into a
temporary Parquet file, then measures, on this machine, in this run:

- DuckDB: `run_batch` (what `policyc batch --input T.parquet --output D.parquet` runs) in a
  child process, so its peak RSS is its own; timed inside the child around run_batch alone
  (not Python start-up, importing DuckDB and pyarrow, or compiling the policy). It is run
  on --rows and on a tenth of them, to compare the peaks (DuckDB keeps under its memory
  limit, 1GB by default), and once more on the same tickets as a warehouse holds them
  (typed columns), for reference.
- The Python loop: the same job done with the generated module, on the first --loop-rows
  tickets: read the Parquet file in batches, decide() each ticket (facts from the row as an
  app would pass them), write the decided rows and the invalid rows (with the error) to
  Parquet. The decide() calls alone are timed too and printed, for reference.

Ends with one line: RATIOS duckdb/python_loop=X duckdb_rows_per_s=Y peak_rss_mb=Z
(Y and Z from the --rows run on text tickets; X = Y / the loop's rows per second, end to end).
Targets (issue 6): X >= 20, Y >= 2,000,000, memory flat.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))


def child(source: str, out_dir: str) -> None:
    """Run in a fresh process: time run_batch alone, print the figures as JSON. The
    libraries it loads are imported first, as the loop's module is before its clock
    starts: start-up is not throughput."""
    import duckdb  # noqa: F401
    import numpy  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    from compiler.pipeline import compile_policy
    from compiler.tools.batch import run_batch

    policy = compile_policy(ROOT / "policy/driver_info.policy", "policy/driver_info.policy").policy
    start = time.perf_counter()
    done = run_batch(policy, Path(source), Path(out_dir) / "decided.parquet", Path(out_dir) / "errors.parquet")
    print(json.dumps({"seconds": time.perf_counter() - start, "rows": done.rows, "decided": done.decided,
                      "errors": done.errors}))


def run_child(source: Path, out_dir: Path) -> tuple[dict, float]:
    """(figures, peak RSS in MB) of one batch run in its own process."""
    proc = subprocess.Popen([sys.executable, __file__, "--child", str(source), str(out_dir)],
                            stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"batch run failed (exit {proc.returncode})")
    return json.loads(out), usage.ru_maxrss / 1024


def python_loop(source: Path, limit: int, out_dir: Path) -> tuple[float, float, int]:
    """The same job in Python with the generated module: (seconds end to end, seconds in
    decide() alone, rows)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    import generated.driver_info as m
    from tickets import facts_of

    start = time.perf_counter()
    in_decide = 0.0
    decided: dict[str, list] = {k: [] for k in ("ticket_id", "outcome", "rule", "consult_type", "discloses", "actions")}
    invalid: list[dict] = []
    seen = 0
    for batch in pq.ParquetFile(source).iter_batches(batch_size=65_536):
        for row in batch.to_pylist()[: limit - seen]:
            facts = facts_of(row)
            t = time.perf_counter()
            try:
                d = m.decide(facts)
            except m.PolicyInputError as err:
                in_decide += time.perf_counter() - t
                invalid.append({**row, "policy_error": str(err)})
                continue
            in_decide += time.perf_counter() - t
            for key, value in (("ticket_id", row["ticket_id"]), ("outcome", d.outcome), ("rule", d.rule),
                               ("consult_type", list(d.consult_type)), ("discloses", sorted(d.discloses)),
                               ("actions", sorted(d.actions))):
                decided[key].append(value)
        seen = min(seen + batch.num_rows, limit)
        if seen >= limit:
            break
    pq.write_table(pa.table(decided), out_dir / "loop_decided.parquet")
    pq.write_table(pa.Table.from_pylist(invalid), out_dir / "loop_errors.parquet")
    return time.perf_counter() - start, in_decide, seen


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--loop-rows", type=int, default=200_000)
    args = parser.parse_args()
    from tickets import write_parquet

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        big, small, typed = work / "tickets.parquet", work / "tickets_tenth.parquet", work / "tickets_typed.parquet"
        start = time.perf_counter()
        write_parquet(args.rows, big, seed=1)
        write_parquet(max(args.rows // 10, 1), small, seed=1)
        write_parquet(args.rows, typed, seed=1, typed_columns=True)
        print(f"generated {args.rows:,} + {args.rows // 10:,} tickets (text) and {args.rows:,} (typed) "
              f"in {time.perf_counter() - start:.1f} s")
        tenth, rss_tenth = run_child(small, work)
        full, rss = run_child(big, work)
        warehouse, rss_typed = run_child(typed, work)
        loop_s, decide_s, loop_n = python_loop(big, args.loop_rows, work)
    duck_rate = full["rows"] / full["seconds"]
    loop_rate, decide_rate = loop_n / loop_s, loop_n / decide_s
    print(f"duckdb:       {full['rows']:,} rows in {full['seconds']:.2f} s = {duck_rate:,.0f} rows/s "
          f"({full['decided']:,} decided, {full['errors']:,} invalid), peak RSS {rss:.0f} MB")
    print(f"duckdb 1/10:  {tenth['rows']:,} rows in {tenth['seconds']:.2f} s = {tenth['rows'] / tenth['seconds']:,.0f} "
          f"rows/s, peak RSS {rss_tenth:.0f} MB ({rss / rss_tenth:.2f}x the RSS for 10x the rows; "
          f"DuckDB's memory limit bounds both)")
    print(f"duckdb typed: {warehouse['rows']:,} rows in {warehouse['seconds']:.2f} s = "
          f"{warehouse['rows'] / warehouse['seconds']:,.0f} rows/s, peak RSS {rss_typed:.0f} MB "
          f"(the same tickets as a warehouse table: TIMESTAMPTZ and BOOLEAN columns, read without parsing)")
    print(f"python loop:  {loop_n:,} rows in {loop_s:.2f} s = {loop_rate:,.0f} rows/s end to end "
          f"(decide() alone: {decide_rate:,.0f} rows/s; duckdb/decide-alone = {duck_rate / decide_rate:.1f})")
    print(f"RATIOS duckdb/python_loop={duck_rate / loop_rate:.1f} duckdb_rows_per_s={duck_rate:.0f} "
          f"peak_rss_mb={rss:.0f}")


if __name__ == "__main__":
    main()
