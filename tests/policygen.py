"""Random small policies for cross-checking the analysis: enums, bools, two timestamps
with a derived duration, a number and a duration fact; random conditions (and, or,
not, =, !=, in, not in, <, <=, >, >=); with or without `otherwise`; `first` or
`unique`; invariants on a disclosed value and on an outcome. Seeded."""

from __future__ import annotations

import random

THRESHOLDS_D = ["0s", "1us", "1d", "3d", "72h", "3d1us", "7d"]
THRESHOLDS_N = ["0", "1", "2.5", "10", "100"]
THRESHOLDS_W = ["30m", "1h", "90m"]
STAMPS = ["2023-07-03T14:00+09:00", "2023-07-03T05:00:00Z", "2024-01-01T00:00Z"]


def _atom(rng: random.Random, enums: dict[str, int], bools: list[str]) -> str:
    kind = rng.random()
    if kind < 0.35:
        name = rng.choice(list(enums))
        size = enums[name]
        values = rng.sample(range(size), rng.randint(1, size))
        op = rng.choice(["=", "!=", "in", "not in"])
        if op in ("=", "!="):
            return f"{name} {op} {name}_{values[0]}"
        return f"{name} {op} {{{', '.join(f'{name}_{v}' for v in values)}}}"
    if kind < 0.5:
        return rng.choice(bools) if rng.random() < 0.5 else f"{rng.choice(bools)} = {rng.choice(['true', 'false'])}"
    op = rng.choice(["<", "<=", ">", ">=", "=", "!="])
    which = rng.random()
    if which < 0.45:
        return f"elapsed {op} {rng.choice(THRESHOLDS_D)}"
    if which < 0.65:
        return f"amount {op} {rng.choice(THRESHOLDS_N)}"
    if which < 0.8:
        return f"wait {op} {rng.choice(THRESHOLDS_W)}"
    return f"start {op} {rng.choice(STAMPS)}"


def _cond(rng, enums, bools, depth=0) -> str:
    r = rng.random()
    if depth >= 2 or r < 0.45:
        return _atom(rng, enums, bools)
    if r < 0.75:
        return " and ".join(_cond(rng, enums, bools, depth + 1) for _ in range(rng.randint(2, 3)))
    if r < 0.92:
        return "(" + " or ".join(_cond(rng, enums, bools, depth + 1) for _ in range(2)) + ")"
    return f"not ({_cond(rng, enums, bools, depth + 1)})"


def random_policy(seed: int) -> str:
    rng = random.Random(seed)
    enums = {f"e{i}": rng.randint(2, 4) for i in range(rng.randint(1, 3))}
    bools = [f"b{i}" for i in range(rng.randint(1, 2))]
    lines = []
    for name, size in enums.items():
        lines.append(f'fact {name} "{name}": enum {{ {" ".join(f"{name}_{v}" for v in range(size))} }}')
    lines += [f'fact {b}: bool' for b in bools]
    lines += ['fact start: timestamp', 'fact end: timestamp', 'fact amount: number', 'fact wait: duration = 0s',
              'require end >= start "end after start"', 'let elapsed = end - start',
              'personal secret "비밀": text', 'action ping "알림"',
              'outcome show "공개" { discloses secret\n actions ping\n reply "{{ secret }}" }',
              'outcome hide "비공개" { reply "없음" }', 'outcome later "나중" { actions ping\n reply "나중에" }']
    outcomes = ["show", "hide", "later"]
    hit = "unique" if rng.random() < 0.25 else "first"
    lines.append(f"decision d ({hit}) {{")
    for i in range(rng.randint(2, 6)):
        lines.append(f"  rule r{i}: when {_cond(rng, enums, bools)} then {rng.choice(outcomes)}")
    if rng.random() < 0.5:
        lines.append(f"  otherwise {rng.choice(outcomes)}")
    lines.append("}")
    lines.append(f"invariant i_secret: discloses secret only when {_cond(rng, enums, bools)}")
    if rng.random() < 0.5:
        lines.append(f"invariant i_never: never outcome {rng.choice(outcomes)}")
    else:
        lines.append(f"invariant i_action: action ping only when {_cond(rng, enums, bools)}")
    return "\n".join(lines) + "\n"
