"""Policies of thousands of rules, in four shapes (bench/shapes.py), through every stage:
`policyc check` (time and peak memory, in a fresh process), `policyc build`, importing
the generated module, decide() over 20,000 facts, the policy's SQL in DuckDB over the same
facts and over ten times as many (up to 10,000 rules: µs per row, planning included, and
per further row), and zen-engine on the same table as a decision table (when installed:
pip install -e '.[bench]').

    python bench/scale.py [--sizes 10,1000,10000,100000] [--shapes tiers,grid,enums,mixed]
                          [--timeout 120] [--facts 20000]

A stage that runs past --timeout is shown as ">T" and the stages after it for that size
are skipped. decide_10000/decide_10 times each shape's two modules in turns, in this
process. The last line is one line from this run (the worst shape for each figure):
RATIOS decide_10000/decide_10=X check_10000_s=Y check_10000_mb=Z build_100000_s=W decide/zen_10000=V
Targets (issue 15): X <= 2, Y <= 10, Z <= 1000, W <= 60, V <= 0.2.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import shapes  # noqa: E402
import zen_fastest  # noqa: E402

PYTHON = sys.executable


def run(argv: list[str], timeout: float, cwd: Path) -> tuple[float | None, float | None, int]:
    """(seconds, peak MB of the child, exit code) of a command; (None, None, -1) past the timeout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    try:
        done = subprocess.run(argv, cwd=cwd, capture_output=True, timeout=timeout,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    except subprocess.TimeoutExpired:
        return None, None, -1
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, (peak / 1024 if peak > before else None), done.returncode


def measure(shape: str, size: int, timeout: float, n_facts: int) -> dict:
    row: dict = {"shape": shape, "rules": size}
    with tempfile.TemporaryDirectory(prefix="policyc-scale-") as tmp:
        root = Path(tmp)
        (root / "policy").mkdir()
        (root / "generated").mkdir()
        path = root / "policy" / f"{shape}.policy"
        path.write_text(shapes.policy_text(shape, size), encoding="utf-8")
        # a fresh process per stage; its peak memory is its own (VmHWM: ru_maxrss would carry
        # this process's peak, grown by importing large modules, across exec)
        probe = ("import sys, time; from pathlib import Path; from compiler.pipeline import compile_policy; "
                 "peak_mb = lambda: int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1]) / 1024; "
                 f"t = time.perf_counter(); r = compile_policy(Path({str(path)!r}), 'policy/{shape}.policy'); "
                 "print(time.perf_counter() - t, peak_mb())")
        try:
            out = subprocess.run([PYTHON, "-c", probe], cwd=root, capture_output=True, text=True, timeout=timeout,
                                 env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout.split()
        except subprocess.TimeoutExpired:
            row["check_s"] = f">{timeout:g}"
            return row
        row["check_s"], row["check_mb"] = float(out[0]), float(out[1])
        seconds, _, code = run([PYTHON, "-m", "compiler.cli", "build", "--root", str(root)], timeout, root)
        if seconds is None or code not in (0, 1):
            row["build_s"] = f">{timeout:g}" if seconds is None else f"exit {code}"
            return row
        row["build_s"] = seconds
        generated = root / "generated" / f"{shape}.py"
        if not generated.is_file():
            row["build_s"] = "no module (policy has errors)"
            return row
        load = ("import importlib.util, time; t = time.perf_counter(); "
                f"s = importlib.util.spec_from_file_location('m', {str(generated)!r}); m = importlib.util.module_from_spec(s); "
                "s.loader.exec_module(m); print(time.perf_counter() - t)")
        done = subprocess.run([PYTHON, "-B", "-c", load], cwd=root, capture_output=True, text=True, timeout=timeout)
        row["import_ms"] = float(done.stdout.split()[0]) * 1000 if done.returncode == 0 else "failed"
        import importlib.util

        spec = importlib.util.spec_from_file_location(f"scale_{shape}_{size}", generated)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        if size in (10, 10000):
            row["module"] = module  # for the ratio, timed side by side at the end
        facts = shapes.facts(shape, n_facts)
        best = float("inf")
        for _ in range(3):  # the best of three passes: the machine is shared
            start = time.perf_counter()
            for f in facts:
                module.decide(f)
            best = min(best, time.perf_counter() - start)
        row["decide_us"] = best / len(facts) * 1e6
        if size <= 10000:
            row["sql_us"], row["sql_more_us"] = duckdb_us(path, shape, facts)
        zen_found = zen_us(shape, size, facts[:max(50, min(2000, 2_000_000 // size))])  # zen takes ms at 10,000
        if zen_found is not None:
            row["zen_us"], row["zen_way"] = zen_found
    return row


def duckdb_us(path: Path, shape: str, facts: list[dict]) -> tuple[float, float]:
    """The policy's SQL (the one `policyc batch` runs) in DuckDB over the same facts, as
    text columns, every output column materialized, the best of two runs: µs per row with
    planning included, and µs per further row (the same query over ten times the facts:
    what a row costs once the query is planned)."""
    import duckdb
    import pyarrow as pa

    from compiler.backend.sql import to_sql
    from compiler.pipeline import compile_policy

    policy = compile_policy(path, f"policy/{shape}.policy", analysis=False).policy
    columns = sorted(facts[0])
    table = pa.table({c: [str(f[c]).lower() if isinstance(f[c], bool) else str(f[c]) for f in facts] for c in columns})
    query = to_sql(policy, "facts", columns)
    seconds = []
    for data in (table, pa.concat_tables([table] * 10)):
        best = float("inf")
        for _ in range(2):
            con = duckdb.connect()
            con.register("facts", data)
            start = time.perf_counter()
            con.execute(f"CREATE TEMP TABLE decided AS {query}")
            best = min(best, time.perf_counter() - start)
            con.close()
        seconds.append(best)
    return seconds[0] / len(facts) * 1e6, (seconds[1] - seconds[0]) / (9 * len(facts)) * 1e6


def zen_us(shape: str, size: int, facts: list[dict]) -> tuple[float, str] | None:
    """zen-engine at its fastest (bench/zen_fastest.py), in µs per decision, and the way."""
    try:
        import zen  # noqa: F401
    except ImportError:
        return None
    content = shapes.jdm(shape, size)
    if not content:
        return None
    seconds, way, _ = zen_fastest.fastest(json.dumps(content), facts, repeat=2)
    return seconds * 1e6, way


def compare_growth(rows: list[dict], shape_names: list[str], n_facts: int) -> dict[str, float]:
    """decide() at 10,000 rules against 10, per shape: the two modules timed in turns, best
    of five each, so a busy moment of the shared machine falls on both alike."""
    growth = {}
    for shape in shape_names:
        pair = [next((r["module"] for r in rows if r["shape"] == shape and r["rules"] == size and "module" in r), None)
                for size in (10, 10000)]
        if None in pair:
            continue
        facts = shapes.facts(shape, n_facts)
        best = [float("inf"), float("inf")]
        for _ in range(5):
            for k, module in enumerate(pair):
                start = time.perf_counter()
                for f in facts:
                    module.decide(f)
                best[k] = min(best[k], time.perf_counter() - start)
        growth[shape] = best[1] / best[0]
        print(f"decide() of {shape}, timed in turns: {best[0] / len(facts) * 1e6:.2f} µs at 10 rules, "
              f"{best[1] / len(facts) * 1e6:.2f} µs at 10,000: {growth[shape]:.2f}x")
    return growth


def show(v) -> str:
    if v is None:
        return "-"
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,1000,10000,100000")
    parser.add_argument("--shapes", default="tiers,grid,enums,mixed")
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--facts", type=int, default=20000)
    args = parser.parse_args()
    rows = []
    print("| shape | rules | check s | check MB | build s | import ms | decide µs | DuckDB µs | DuckDB +µs | zen µs |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    sizes, shape_names = [int(s) for s in args.sizes.split(",")], args.shapes.split(",")
    growth: dict[str, float] = {}
    # every shape up to 10,000 rules first, and their decide() compared, then the larger
    # sizes: once a 100,000-rule module has been imported here this process's heap is
    # gigabytes wide and scattered, and a 10,000-rule decide() timed after it ran 60% slower
    for group in ([s for s in sizes if s <= 10000], [s for s in sizes if s > 10000]):
        for shape in shape_names:
            for size in group:
                row = measure(shape, size, args.timeout, args.facts)
                rows.append(row)
                print(f"| {shape} | {size:,} | {show(row.get('check_s'))} | {show(row.get('check_mb'))} | "
                      f"{show(row.get('build_s'))} | {show(row.get('import_ms'))} | {show(row.get('decide_us'))} | "
                      f"{show(row.get('sql_us'))} | {show(row.get('sql_more_us'))} | {show(row.get('zen_us'))} |",
                      flush=True)
        if not growth:
            growth = compare_growth(rows, shape_names, args.facts)
            for r in rows:
                r.pop("module", None)  # the comparison is done: let the modules go

    def worst(key, size):
        values = []
        for r in rows:
            if r["rules"] != size:
                continue
            if key not in r:  # an earlier stage ran out of time or failed: this one did not run
                late = next((r[k] for k in ("check_s", "build_s") if isinstance(r.get(k), str)), None)
                if late is not None:
                    return late
                continue
            if not isinstance(r[key], float):
                return f"{r[key]}"
            values.append(r[key])
        return f"{max(values):.3g}" if values else "n/a"

    zen = []
    for r in rows:
        if r["rules"] == 10000 and isinstance(r.get("decide_us"), float) and isinstance(r.get("zen_us"), float):
            zen.append(r["decide_us"] / r["zen_us"])
    for key, what in (("sql_us", f"planning included, {args.facts:,} rows"), ("sql_more_us", "per further row")):
        sql = {r["shape"]: r[key] / r["decide_us"] for r in rows
               if r["rules"] == 10000 and isinstance(r.get(key), float) and isinstance(r.get("decide_us"), float)}
        if sql:
            print(f"SQL at 10,000 rules, DuckDB per row / decide() per row ({what}): "
                  + ", ".join(f"{shape} {ratio:.3g}" for shape, ratio in sql.items()))
    print(f"RATIOS decide_10000/decide_10={format(max(growth.values()), '.3g') if growth else 'n/a'} "
          f"check_10000_s={worst('check_s', 10000)} check_10000_mb={worst('check_mb', 10000)} "
          f"build_100000_s={worst('build_s', 100000)} decide/zen_10000={format(max(zen), '.3g') if zen else 'n/a'}")


if __name__ == "__main__":
    main()
