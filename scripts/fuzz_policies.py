"""Hostile policies: mutated and random .policy and reply-YAML sources must always end
in diagnostics or a valid module, never in a traceback.

    python scripts/fuzz_policies.py [--n 100000] [--seed 1]

Inputs, in turn: the shipped policy and its replies mutated (insertions of grammar
pieces and hostile characters, deletions, duplications), random token soup, and
random YAML. For each: the whole pipeline runs; a policy that compiles is generated,
passed through compile(), and formatted (the formatter must keep it). Ends with
`FUZZ inputs=N tracebacks=0 compiled=C`; exit 1 with the input on the first traceback.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from compiler.backend.python import generate  # noqa: E402
from compiler.diagnostics import render_json, render_text  # noqa: E402
from compiler.pipeline import compile_policy  # noqa: E402
from compiler.source import SourceFile  # noqa: E402
from compiler.tools.fmt import format_source  # noqa: E402

POLICY = (ROOT / "policy/driver_info.policy").read_text(encoding="utf-8")
REPLIES = (ROOT / "policy/driver_info.replies.yaml").read_text(encoding="utf-8")
PIECES = ["{", "}", "(", ")", "=", "<=", ">", "!=", "in", "not", "and", "or", "then", "when", "rule", "otherwise",
          "fact", "enum", "const", "let", "require", "outcome", "decision", "invariant", "never", "only", "discloses",
          "actions", "reply", "replies", "snippet", "personal", "context", "action", "policy", "(first)", "(unique)",
          '"', '"""', "'", "\\", "3일", "72h", "1d12h", "0s", "1us", "99999999999d", "2023-07-03T14:00+09:00",
          "2023-13-45T99:00Z", "0001-01-01T00:00Z", "9999-12-31T23:59:59.999999+23:59", "1.5", "-1", "1e9",
          "x", "request", "driver_phone", "ACTIVE", "CATEGORY[reason]", "{{", "}}", "{%", "%}", "{#", "|", ":", ",",
          "[", "]", "\n", "\r\n", "\t", "  ", "#", "가", "ﬁ", "\u202e", "\u200b", "\ufeff", "\x00", "\x7f", "😀",
          "__import__('os')", "{{ request.__class__ }}", "{% include 'x' %}", "*alias", "&anchor", "? ", "- ", "!!python/object",
          # what issue 10's attacks used: huge literals, deep nesting, template arithmetic and
          # Jinja's own names, reply files outside the folder
          "9" * 5000, "9" * 5000 + "일", "not " * 300, "(" * 250, ")" * 250, "+ x " * 300, "{{ 9 ** (9 ** 9) }}",
          "{{ 'x' * 9999999999 }}", "{{ S['format'] }}", "{{ self }}", "{{ loop }}", "{% for x in ACTIVE %}",
          'replies "/proc/self/environ"', 'replies "../x.yaml"', 'replies "/dev/zero"', "[" * 3000, "\u202e"]


def mutate(text: str, rng: random.Random) -> str:
    for _ in range(rng.randint(1, 6)):
        pos = rng.randrange(len(text) + 1)
        op = rng.random()
        if op < 0.45:
            text = text[:pos] + rng.choice(PIECES) + text[pos:]
        elif op < 0.75:
            text = text[:pos] + text[pos + rng.randint(1, 60):]
        else:
            j = rng.randrange(len(text) + 1)
            text = text[:pos] + text[j:j + rng.randint(1, 120)] + text[pos:]
    return text


def soup(rng: random.Random) -> str:
    return " ".join(rng.choice(PIECES) for _ in range(rng.randint(1, 80)))


def one(policy: str, replies: str, folder: Path) -> bool:
    """Run the pipeline on one input; True when it compiled."""
    (folder / "fuzzed.policy").write_text(policy, encoding="utf-8", errors="surrogatepass")
    (folder / "driver_info.replies.yaml").write_text(replies, encoding="utf-8", errors="surrogatepass")
    result = compile_policy(folder / "fuzzed.policy", "policy/fuzzed.policy")
    render_text(result.diagnostics, result.sources)
    render_json(result.diagnostics)
    if not result.ok:
        assert result.diagnostics, "a failed compile must say why"
        return False
    compile(generate(result.policy), "generated/fuzzed.py", "exec")
    source = SourceFile("fuzzed.policy", policy)
    text, _ = format_source(source)
    if text is not None:
        assert format_source(SourceFile("fuzzed.policy", text))[0] == text
    return True


def fuzz(n: int, seed: int, out=print) -> int:
    rng = random.Random(seed)
    compiled = 0
    start = time.perf_counter()
    base = POLICY.replace("policy driver_info", "policy fuzzed")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for i in range(n):
            kind = i % 10
            policy, replies = base, REPLIES
            if kind < 6:
                policy = mutate(base, rng)
            elif kind < 8:
                replies = mutate(REPLIES, rng)
            elif kind == 8:
                policy = soup(rng)
            else:
                replies = soup(rng)
            try:
                compiled += one(policy, replies, folder)
            except Exception:
                out(f"TRACEBACK at input {i}:\n{traceback.format_exc()}\n--- policy ---\n{policy}\n--- replies ---\n{replies}")
                return 1
            if out is print and i and i % 10000 == 0:
                out(f"  {i} inputs, {compiled} compiled, {time.perf_counter() - start:.0f} s")
    out(f"FUZZ inputs={n} tracebacks=0 compiled={compiled}")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    sys.exit(fuzz(args.n, args.seed))


if __name__ == "__main__":
    main()
