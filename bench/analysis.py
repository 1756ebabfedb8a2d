"""Scale of `policyc check` (parse, names and types, templates, the full static
analysis) on synthetic policies of 100, 1,000 and 10,000 rules over 12 facts.

    python bench/analysis.py [--sizes 100,1000,10000] [--repeat 3]

Prints the best of --repeat runs per size and the growth ratio between sizes, all from
this run; ends with `RATIOS check_10000_s=X growth_1000/100=Y growth_10000/1000=Z`.
Target on the project machine: 10,000 rules in under 10 s, at most about 15x per 10x.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from compiler.pipeline import compile_policy  # noqa: E402
from synthetic import policy_text  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    best: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            path = Path(tmp) / f"synthetic_{size}.policy"
            path.write_text(policy_text(size, seed=size), encoding="utf-8")
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                result = compile_policy(path, path.name)
                times.append(time.perf_counter() - start)
            codes: dict[str, int] = {}
            for d in result.diagnostics:
                codes[d.code] = codes.get(d.code, 0) + 1
            best[size] = min(times)
            print(f"{size:>6} rules: best {best[size]:.3f} s of {args.repeat}  findings {dict(sorted(codes.items()))}")
    ratios = []
    for a, b in zip(sizes, sizes[1:]):
        ratios.append(f"growth_{b}/{a}={best[b] / best[a]:.1f}")
    print(f"RATIOS check_{sizes[-1]}_s={best[sizes[-1]]:.2f} " + " ".join(ratios))


if __name__ == "__main__":
    main()
