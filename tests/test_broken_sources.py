"""Any .policy or reply-YAML text, however broken, yields diagnostics (never a
traceback): random mutations of the real policy and its replies, seeded so a failure
reproduces. A compile that fails always says why, at a line of a real file."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from compiler.backend.python import generate
from compiler.diagnostics import render_json, render_text
from compiler.pipeline import compile_policy

from .conftest import ROOT

POLICY = (ROOT / "policy/driver_info.policy").read_text(encoding="utf-8")
REPLIES = (ROOT / "policy/driver_info.replies.yaml").read_text(encoding="utf-8")
sys.path.insert(0, str(ROOT / "scripts"))
from fuzz_policies import fuzz, mutate  # noqa: E402  (one mutator for the script and the tests)


@pytest.mark.parametrize("seed", range(6))
def test_mutated_sources_give_diagnostics(tmp_path: Path, seed: int):
    rng = random.Random(seed)
    failed = 0
    for _ in range(80):
        policy, replies = POLICY, REPLIES
        if rng.random() < 0.6:
            policy = mutate(policy, rng)
        else:
            replies = mutate(replies, rng)
        (tmp_path / "driver_info.policy").write_text(policy, encoding="utf-8")
        (tmp_path / "driver_info.replies.yaml").write_text(replies, encoding="utf-8")
        result = compile_policy(tmp_path / "driver_info.policy", "policy/driver_info.policy")
        render_json(result.diagnostics)
        text = render_text(result.diagnostics, result.sources)
        if result.ok:
            compile(generate(result.policy), "generated.py", "exec")
            continue
        failed += 1
        assert any(d.severity == "error" for d in result.diagnostics)
        for d in result.diagnostics:
            source = result.sources.get(d.span.file)
            assert source is not None, d
            assert 1 <= d.span.line <= source.line_count + 1, d
        assert "[E" in text
    assert failed > 0  # the mutations do break things


def test_fuzz_script_a_thousand_or_so():
    """What CI runs of scripts/fuzz_policies.py (100,000 inputs when run by hand; 600 here, within the suite's three minutes)."""
    lines: list[str] = []
    assert fuzz(600, seed=11, out=lines.append) == 0, lines[0][:3000] if lines else ""
