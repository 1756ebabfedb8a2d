"""Batch decisions through DuckDB against the Python module in a loop, in one run.

    python bench/batch.py [--rows 10000000] [--loop-rows 200000]

Generates seeded tickets (scripts/tickets.py) into a temporary Parquet file, runs
`policyc batch` (the SQL back end in DuckDB, streamed to Parquet), and times the Python
module deciding --loop-rows of the same tickets in a loop (decide() per row; reading and
writing excluded, which favours the loop). Peak RSS is this process's (DuckDB runs in it).
Ends with: RATIOS duckdb/python_loop=X duckdb_rows_per_s=Y peak_rss_mb=Z
Targets: at least 20x the loop and 2 million decisions per second, memory flat.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from compiler.pipeline import compile_policy  # noqa: E402
from compiler.tools.batch import run_batch  # noqa: E402
from tickets import facts_of, rows, write_parquet  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--loop-rows", type=int, default=200_000)
    args = parser.parse_args()
    import generated.driver_info as m

    policy = compile_policy(ROOT / "policy/driver_info.policy", "policy/driver_info.policy").policy
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "tickets.parquet"
        start = time.perf_counter()
        write_parquet(args.rows, source, seed=1)
        print(f"generated {args.rows} tickets in {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        done = run_batch(policy, source, Path(tmp) / "out.parquet", Path(tmp) / "errors.parquet")
        t_duck = time.perf_counter() - start
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sample = [facts_of(row) for row in rows(args.loop_rows, seed=1)]
    start = time.perf_counter()
    for facts in sample:
        try:
            m.decide(facts)
        except m.PolicyInputError:
            pass
    t_loop = time.perf_counter() - start
    duck_rate, loop_rate = done.rows / t_duck, len(sample) / t_loop
    print(f"duckdb:      {done.rows} rows in {t_duck:.2f} s = {duck_rate:,.0f} rows/s "
          f"({done.decided} decided, {done.errors} invalid)")
    print(f"python loop: {len(sample)} rows in {t_loop:.2f} s = {loop_rate:,.0f} rows/s")
    print(f"RATIOS duckdb/python_loop={duck_rate / loop_rate:.1f} duckdb_rows_per_s={duck_rate:.0f} "
          f"peak_rss_mb={rss:.0f}")


if __name__ == "__main__":
    main()
