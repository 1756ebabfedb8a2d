"""Synthetic policies of one shape and size, for bench/scale.py (seeded: the same text every run).

    tiers   one number and an enum: rule i is `amount > N - i and kind = a` (a staircase)
    grid    two numbers cut into a square of ranges, one rule per cell
    enums   eight enums of twenty values, each rule testing three of them (never v19)
    mixed   an enum of thirty values, six numbers and a flag: each rule tests the enum, a band
            of one number, half of them a half-line of another, one in five a wide `or`
    overlapping  mixed with random thresholds: most rules dead (the analysis's worst case;
            an error, so it does not build)

    python bench/shapes.py SHAPE RULES FILE
"""

from __future__ import annotations

import random
import sys

def tiers(n):
    out = ['policy tiers "계단"', 'fact amount "금액": number', 'fact kind "종류": enum {', '  a "가"', '  b "나"', '}', '']
    out += ['outcome o%d "결과 %d" { reply "r" }' % (i, i) for i in range(10)]
    out += ['', 'decision d "d" (first) {']
    for i in range(n):
        out.append(f'  rule r{i}: when amount > {n - i} and kind = a then o{i % 10}')
    out.append('  otherwise o0\n}')
    return "\n".join(out) + "\n"
def grid(n):
    k = int(n ** 0.5)
    out = ['policy grid "격자"', 'fact x "x": number', 'fact y "y": number', '']
    out += ['outcome o%d "결과 %d" { reply "r" }' % (i, i) for i in range(10)]
    out += ['', 'decision d "d" (first) {']
    c = 0
    for i in range(k):
        for j in range(k):
            out.append(f'  rule r{c}: when x >= {i * 10} and x < {(i + 1) * 10} and y >= {j * 10} and y < {(j + 1) * 10} then o{c % 10}')
            c += 1
    out.append('  otherwise o0\n}')
    return "\n".join(out) + "\n"
def enums(n):
    rng = random.Random(1)
    out = ['policy enums "열거"']
    for e in range(8):
        out.append(f'fact e{e} "e{e}": enum {{')
        out += [f'  v{v} "값{v}"' for v in range(20)]
        out.append('}')
    out += ['outcome o%d "결과 %d" { reply "r" }' % (i, i) for i in range(10)]
    out += ['', 'decision d "d" (first) {']
    seen = set()
    for i in range(n):
        # Each rule is live by construction: no rule tests v19, so the point that has the
        # rule's three values and v19 everywhere else matches only rules with the same three
        # tests, and no two rules are alike. (Random rules over all twenty values leave
        # hundreds of rules dead at 100,000: a policy in error, which does not build.)
        while True:
            tests = tuple(sorted((e, rng.randrange(19)) for e in rng.sample(range(8), 3)))
            if tests not in seen:
                seen.add(tests)
                break
        cond = " and ".join(f'e{e} = v{v}' for e, v in tests)
        out.append(f'  rule r{i}: when {cond} then o{i % 10}')
    out.append('  otherwise o0\n}')
    return "\n".join(out) + "\n"


def _mixed_head(name, label):
    out = [f'policy {name} "{label}"', 'fact kind "종류": enum {'] + [f'  k{v} "종류{v}"' for v in range(30)] + ['}']
    out += [f'fact n{i} "수{i}": number' for i in range(6)] + ['fact flag "깃발": bool']
    out += ['outcome o%d "결과 %d" { reply "r" }' % (i, i) for i in range(10)]
    return out + ['', 'decision d "d" (first) {']


def mixed(n):
    rng = random.Random(2)
    out = _mixed_head("mixed", "섞임")
    for i in range(n):
        # a band of ten on one number, its own among the rules on that number (so no rule is
        # dead and the policy builds), then maybe a half-line on another, maybe an `or`
        j, low = i % 6, (i // 6) * 10
        parts = [f'kind = k{rng.randrange(30)}', f'n{j} >= {low}', f'n{j} < {low + 10}']
        if rng.random() < 0.5:
            parts.append(f'n{rng.choice([b for b in range(6) if b != j])} {rng.choice(["<", "<=", ">", ">="])} '
                         f'{rng.randrange(n * 2)}')
        if rng.random() < 0.2:
            parts.append(f'(flag or n{rng.randrange(6)} > {rng.randrange(n * 2)})')
        out.append(f'  rule r{i}: when {" and ".join(parts)} then o{i % 10}')
    out.append('  otherwise o0\n}')
    return "\n".join(out) + "\n"


def overlapping(n):
    """mixed with random thresholds: most rules lie under earlier ones (dead rules, an error),
    for the analysis's worst case; the policy does not build."""
    rng = random.Random(2)
    out = _mixed_head("overlapping", "겹침")
    for i in range(n):
        parts = [f'kind = k{rng.randrange(30)}']
        for _ in range(rng.randint(1, 2)):
            parts.append(f'n{rng.randrange(6)} {rng.choice(["<", "<=", ">", ">="])} {rng.randrange(1000)}')
        if rng.random() < 0.2:
            parts.append(f'(flag or n{rng.randrange(6)} > {rng.randrange(1000)})')
        out.append(f'  rule r{i}: when {" and ".join(parts)} then o{i % 10}')
    out.append('  otherwise o0\n}')
    return "\n".join(out) + "\n"


SHAPES = {"tiers": tiers, "grid": grid, "enums": enums, "mixed": mixed, "overlapping": overlapping}


def policy_text(shape: str, rules: int) -> str:
    """The policy text; its `policy` name is the shape (the file must be SHAPE.policy)."""
    return SHAPES[shape](rules)


def jdm(shape: str, rules: int) -> dict:
    """The same first-hit table as a GoRules decision (zen-engine), for the comparison."""
    import re

    text = policy_text(shape, rules)
    facts = re.findall(r"^fact (\w+) ", text, re.M)
    inputs = [{"id": f"in_{f}", "name": f, "field": f} for f in facts]
    rows = []
    for i, m in enumerate(re.finditer(r"^  rule r\d+: when (.*) then (o\d+)$", text, re.M)):
        alternatives = [{f"in_{f}": "" for f in facts}]
        for part in m.group(1).split(" and "):
            if part.startswith("("):  # `(flag or n > X)`: a row for each side, in order (first hit)
                flag, other = part[1:-1].split(" or ")
                alternatives = [{**a, f"in_{flag}": "true"} for a in alternatives] + \
                               [_cell(a, *other.split(" ", 2)) for a in alternatives]
                continue
            alternatives = [_cell(a, *part.split(" ", 2)) for a in alternatives]
        rows += [{"_id": f"r{i}_{k}", **cells, "out_outcome": f'"{m.group(2)}"'}
                 for k, cells in enumerate(alternatives)]
    rows.append({"_id": "otherwise", **{f"in_{f}": "" for f in facts}, "out_outcome": '"o0"'})
    table = {"hitPolicy": "first", "inputs": inputs, "outputs": [{"id": "out_outcome", "name": "o", "field": "outcome"}],
             "rules": rows}
    return {"contentType": "application/vnd.gorules.decision", "nodes": [
        {"id": "input", "type": "inputNode", "name": "in", "position": {"x": 0, "y": 0}},
        {"id": "table", "type": "decisionTableNode", "name": "t", "position": {"x": 1, "y": 0}, "content": table},
        {"id": "output", "type": "outputNode", "name": "out", "position": {"x": 2, "y": 0}}],
        "edges": [{"id": "e1", "sourceId": "input", "targetId": "table", "type": "edge"},
                  {"id": "e2", "sourceId": "table", "targetId": "output", "type": "edge"}]}


def _cell(cells: dict, name: str, op: str, value: str) -> dict:
    cell = f'"{value}"' if op == "=" and not value.isdigit() else f"{op} {value}"
    key = f"in_{name}"
    return {**cells, key: cell if not cells[key] else f"{cells[key]} and {cell}"}


def facts(shape: str, count: int, seed: int = 7) -> list[dict]:
    """Random facts for a shape's table (numbers around its thresholds)."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        if shape == "tiers":
            out.append({"amount": rng.randint(0, 120_000), "kind": rng.choice("ab")})
        elif shape == "grid":
            out.append({"x": rng.randint(-5, 3200), "y": rng.randint(-5, 3200)})
        elif shape == "enums":
            out.append({f"e{e}": f"v{rng.randrange(20)}" for e in range(8)})
        else:
            out.append({"kind": f"k{rng.randrange(30)}", "flag": rng.random() < 0.5,
                        **{f"n{i}": rng.randint(-5, 20_000) for i in range(6)}})
    return out


if __name__ == "__main__":
    shape, n, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    open(path, "w", encoding="utf-8").write(policy_text(shape, n))
