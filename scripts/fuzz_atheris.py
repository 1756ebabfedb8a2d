"""Coverage-guided fuzzing of the whole compiler with atheris (libFuzzer):
any bytes as a policy file must end in diagnostics or a valid module.

    python scripts/fuzz_atheris.py -runs=100000 [corpus_dir]

Seeds come from the shipped and test policies. A crash is an exception other than the
compiler's own handled paths, which libFuzzer reports with the input that caused it.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

with atheris.instrument_imports():
    from compiler.backend.python import generate
    from compiler.diagnostics import render_text
    from compiler.pipeline import compile_policy

FOLDER = Path(tempfile.mkdtemp())
(FOLDER / "driver_info.replies.yaml").write_text((ROOT / "policy/driver_info.replies.yaml").read_text("utf-8"), "utf-8")


def test_one_input(data: bytes) -> None:
    (FOLDER / "fuzzed.policy").write_bytes(data)
    result = compile_policy(FOLDER / "fuzzed.policy", "fuzzed.policy")
    render_text(result.diagnostics, result.sources)
    if result.ok:
        compile(generate(result.policy), "fuzzed.py", "exec")


def main() -> None:
    corpus = [a for a in sys.argv[1:] if not a.startswith("-")]
    if not corpus:
        seeds = Path(tempfile.mkdtemp())
        for i, p in enumerate(sorted(ROOT.glob("**/*.policy"))):
            if ".venv" not in p.parts:
                (seeds / f"seed{i}").write_bytes(p.read_bytes())
        sys.argv.append(str(seeds))
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
