"""A seeded generator of large, realistic policies for benchmarks: 12 facts (a
high-cardinality case type, smaller enums, bools, two timestamps with a derived
elapsed time, an amount), rules that each test a few facts, as CS policies do.

    python bench/synthetic.py RULES [SEED] > big.policy
"""

from __future__ import annotations

import random
import sys


def policy_text(rules: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    categories = max(4, rules // 8)
    lines = [f"# synthetic policy: {rules} rules over 12 facts (seed {seed})", ""]
    lines.append('fact category "문의 유형": enum {')
    lines += [f'  c{i} "유형 {i}"' for i in range(categories)]
    lines.append("}")
    enums = {"channel": 4, "grade": 5, "region": 8, "device": 3, "status": 6}
    for name, size in enums.items():
        values = " ".join(f'{name[0]}{i} "{name} {i}"' for i in range(size))
        lines.append(f'fact {name} "{name}": enum {{ {values} }}')
    lines += ['fact urgent "긴급": bool', 'fact member "회원": bool = false',
              'fact opened_at "접수 시각": timestamp', 'fact asked_at "문의 시각": timestamp',
              'fact amount "금액": number',
              'require asked_at >= opened_at "문의는 접수 뒤"', 'let elapsed "경과" = asked_at - opened_at',
              "const LAUNCH = 2024-01-01T00:00+09:00", ""]
    outcomes = [f"o{i}" for i in range(12)]
    lines += [f'outcome {o} "결과 {o}" {{ reply "결과 {o} 안내" }}' for o in outcomes]
    lines += ["", "decision answer (first) {"]
    windows = ["1일", "3일", "7일", "14일", "30일", "72시간"]
    for r in range(rules):
        atoms = [f"category = c{rng.randrange(categories)}"]
        pool = list(enums)
        for _ in range(rng.randint(1, 3)):
            kind = rng.random()
            if kind < 0.45:
                name = rng.choice(pool)
                values = rng.sample(range(enums[name]), rng.randint(1, 2))
                if len(values) == 1:
                    atoms.append(f"{name} = {name[0]}{values[0]}")
                else:
                    atoms.append(f"{name} in {{{', '.join(f'{name[0]}{v}' for v in values)}}}")
            elif kind < 0.6:
                atoms.append(rng.choice(["urgent", "not urgent", "member", "not member"]))
            elif kind < 0.8:
                atoms.append(f"elapsed {rng.choice(['<=', '<', '>', '>='])} {rng.choice(windows)}")
            elif kind < 0.9:
                atoms.append(f"amount {rng.choice(['<', '>='])} {rng.choice([1000, 5000, 10000, 50000])}")
            else:
                atoms.append(f"opened_at {rng.choice(['<', '>='])} LAUNCH")
        lines.append(f"  rule r{r}: when {' and '.join(atoms)} then {rng.choice(outcomes)}")
    lines += ["  otherwise o0", "}", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(policy_text(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 0))
