"""policyc fmt: golden layouts (tests/cases/fmt/<name>.policy -> <name>.out), idempotent,
the same policy before and after (tree and comments), nothing written for text that
does not parse, and --check for CI."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from compiler.source import SourceFile
from compiler.tools.fmt import format_source, parse_with_comments

from .conftest import ROOT, check_golden
from .test_broken_sources import mutate

CASES = sorted((ROOT / "tests/cases/fmt").glob("*.policy"))
POLICIES = [ROOT / "policy/driver_info.policy", ROOT / "tests/policies/fare_refund.policy",
            ROOT / "tests/policies/odd_names.policy", ROOT / "tests/cases/parse/all_syntax.policy"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.stem)
def test_fmt_golden(case: Path, update_goldens: bool):
    text, diags = format_source(SourceFile(case.name, case.read_text(encoding="utf-8")))
    assert diags == [] and text is not None
    check_golden(case.with_suffix(".out"), text, update_goldens)


@pytest.mark.parametrize("path", CASES + POLICIES, ids=lambda p: p.stem)
def test_fmt_keeps_the_policy_and_is_idempotent(path: Path):
    source = SourceFile(path.name, path.read_text(encoding="utf-8"))
    once, _ = format_source(source)
    twice, _ = format_source(SourceFile(path.name, once))
    assert once == twice
    before, comments_before, _ = parse_with_comments(source)
    after, comments_after, _ = parse_with_comments(SourceFile(path.name, once))
    assert before == after
    assert sorted(c[2] for c in comments_before) == sorted(c[2] for c in comments_after)


def test_shipped_policy_is_formatted():
    path = ROOT / "policy/driver_info.policy"
    text = path.read_text(encoding="utf-8")
    assert format_source(SourceFile(path.name, text))[0] == text


def test_mutated_policies_are_never_mangled():
    """Random edits: fmt either refuses (the text does not parse) or keeps the policy."""
    rng = random.Random(9)
    base = (ROOT / "policy/driver_info.policy").read_text(encoding="utf-8")
    formatted = 0
    for _ in range(250):
        text = mutate(base, rng)
        source = SourceFile("m.policy", text)
        out, diags = format_source(source)
        if out is None:
            assert diags
            continue
        formatted += 1
        assert parse_with_comments(SourceFile("m.policy", out))[0] == parse_with_comments(source)[0]
        assert format_source(SourceFile("m.policy", out))[0] == out
    assert formatted > 20


def run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "compiler.cli", *args], cwd=cwd, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=60)


def test_cli_check_and_write(tmp_path: Path):
    (tmp_path / "policy").mkdir()
    messy = tmp_path / "policy/messy.policy"
    messy.write_text((ROOT / "tests/cases/fmt/messy.policy").read_text(encoding="utf-8"), encoding="utf-8")
    result = run("fmt", "--check", "--root", str(tmp_path))
    assert result.returncode == 1 and "policy/messy.policy" in result.stderr
    assert messy.read_text(encoding="utf-8") == (ROOT / "tests/cases/fmt/messy.policy").read_text(encoding="utf-8")
    assert run("fmt", "--root", str(tmp_path)).returncode == 0
    assert messy.read_text(encoding="utf-8") == (ROOT / "tests/cases/fmt/messy.out").read_text(encoding="utf-8")
    assert run("fmt", "--check", "--root", str(tmp_path)).returncode == 0


def test_cli_never_writes_broken_text(tmp_path: Path):
    broken = tmp_path / "broken.policy"
    broken.write_text("fact x: bool\ndecision d (first) {\n  rule r: when x then\n", encoding="utf-8")
    before = broken.read_bytes()
    result = run("fmt", str(broken))
    assert result.returncode == 1 and ("E0101" in result.stderr or "E0102" in result.stderr)  # as `check` exits
    assert broken.read_bytes() == before
    missing = run("fmt", str(tmp_path / "nowhere.policy"))
    assert missing.returncode == 1 and "E0001" in missing.stderr


def test_printed_text_that_reads_as_another_policy_is_refused(monkeypatch):
    """fmt re-reads what it printed and refuses (FormatBug: a policyc bug, nothing written)
    when that is not the same policy; text printed exactly as it was read needs no re-read."""
    from compiler.tools import fmt

    path = ROOT / "tests/cases/fmt/messy.policy"
    source = SourceFile(path.name, path.read_text(encoding="utf-8"))
    printed = fmt._Printer.module
    monkeypatch.setattr(fmt._Printer, "module", lambda self, m: printed(self, m).replace("when", "when not", 1))
    with pytest.raises(fmt.FormatBug):
        format_source(source)
    monkeypatch.setattr(fmt._Printer, "module", printed)
    formatted = SourceFile(path.name, format_source(source)[0])
    reads = []
    monkeypatch.setattr(fmt, "parse_with_comments", lambda s: reads.append(s) or parse_with_comments(s))
    assert format_source(formatted) == (formatted.text, []) and len(reads) == 1


def test_a_comment_between_an_enum_value_and_its_label_is_kept(tmp_path: Path):
    """Issue 10, item 20: valid text fmt once called a bug in itself."""
    path = tmp_path / "enum.policy"
    path.write_text('policy enum "e"\nfact k "k": enum {\n  a # 주석 사이\n    "가"\n  b "나"\n}\n'
                    'outcome y "y" { reply "y" }\ndecision d (first) { otherwise y }\n', encoding="utf-8")
    result = run("fmt", str(path))
    assert result.returncode == 0, result.stderr
    text = path.read_text(encoding="utf-8")
    assert "# 주석 사이" in text and '"가"' in text and run("fmt", "--check", str(path)).returncode == 0
