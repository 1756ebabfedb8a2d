"""Differential testing: every shipped policy's generated module against the IR's
reference evaluator, on random valid facts biased to every boundary (each threshold
exactly, one microsecond and one second either side, in several UTC offsets), given
both as Python values and as the ISO strings an app sends.

    python scripts/differential.py [--n 1000000] [--seed 1]

Exit 1 on the first mismatch (printed with its facts); ends with
`DIFFERENTIAL policies=P inputs=N mismatches=0`.
"""

from __future__ import annotations

import argparse
import importlib
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from compiler.middle.evaluate import evaluate, requirements_hold  # noqa: E402
from compiler.pipeline import compile_policy  # noqa: E402
from tests.facts import random_facts  # noqa: E402


def check(module, policy, facts) -> str | None:
    """None when the module and the evaluator agree on these facts, else what differs."""
    valid = requirements_hold(policy, facts)
    as_text = {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in facts.items()}  # lists stay
    results = []
    for given in (facts, as_text):
        try:
            results.append(module.decide(given))
        except module.PolicyInputError as err:
            results.append(err)
    if not valid:
        bad = [r for r in results if not isinstance(r, module.PolicyInputError)]
        return f"invalid facts were decided: {bad[0]}" if bad else None
    want = evaluate(policy, facts)
    for got in results:
        if isinstance(got, module.PolicyInputError):
            return f"valid facts refused: {got}"
        if policy.main is not None and (got.outcome, got.rule, got.discloses, got.actions) != (
                want["outcome"], want["rule"], want["discloses"], want["actions"]):
            return f"outcome {got.outcome}/{got.rule} but the evaluator says {want['outcome']}/{want['rule']}"
        for d in policy.decisions:
            if not d.yields_outcome and getattr(got, d.name) != want[d.name]:
                return f"{d.name} {getattr(got, d.name)!r} but the evaluator says {want[d.name]!r}"
        if dict(got.action_args) != want["action_args"]:
            return f"action values {dict(got.action_args)} but the evaluator says {want['action_args']}"
        if dict(got.trace) != want["rules"]:
            return f"trace {got.trace} but the evaluator says {want['rules']}"
    return None


def run(n: int, seed: int, out=print) -> int:
    total = 0
    policies = sorted((ROOT / "policy").glob("*.policy"))
    for path in policies:
        shown = path.relative_to(ROOT).as_posix()
        result = compile_policy(path, shown)
        if not result.ok:
            out(f"{shown}: does not compile")
            return 1
        module = importlib.import_module(f"generated.{path.stem}")
        rng = random.Random(seed)
        start = time.perf_counter()
        for i in range(n):
            facts = random_facts(result.policy, rng)
            problem = check(module, result.policy, facts)
            if problem:
                out(f"MISMATCH in {shown} at input {i}: {problem}\n  facts: {facts!r}")
                return 1
            total += 1
        out(f"{shown}: {n} inputs, 0 mismatches ({time.perf_counter() - start:.1f} s)")
    out(f"DIFFERENTIAL policies={len(policies)} inputs={total} mismatches=0")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="inputs per shipped policy")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    sys.exit(run(args.n, args.seed))


if __name__ == "__main__":
    main()
