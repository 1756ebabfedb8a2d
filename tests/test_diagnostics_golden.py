"""Golden cases for every diagnostic: tests/cases/diagnostics/<case>.policy -> <case>.out.

Each case is a small policy with one kind of mistake; the .out file is exactly what
`policyc check` prints for it. A meta-test makes sure every code has a case.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compiler.codes import CODES
from compiler.diagnostics import render_json, render_text
from compiler.pipeline import batch_warnings, compile_policy

from .conftest import ROOT, check_golden, compile_at_root

CASES = sorted((ROOT / "tests/cases/diagnostics").glob("*.policy"))


def _compile(path: Path):
    result = compile_at_root(path.relative_to(ROOT).as_posix(), overlaps="overlaps" in path.stem)
    if "batch" in path.stem and result.policy is not None:  # what `policyc check --batch` adds
        result.diagnostics.extend(batch_warnings(result.policy))
    return result


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_diagnostic_case(case: Path, update_goldens: bool) -> None:
    result = _compile(case)
    code = case.stem.split("_")[0].split("-")[0].upper()
    assert result.ok == code.startswith("W"), "an error case must fail to compile; a warning case must not"
    check_golden(case.with_suffix(".out"), render_text(result.diagnostics, result.sources), update_goldens)
    # the case's name says which code it is about
    assert code in {d.code for d in result.diagnostics}


TEST_CASES = sorted((ROOT / "tests/cases/tests_yaml").glob("*.tests.yaml"))


@pytest.mark.parametrize("case", TEST_CASES, ids=[c.name for c in TEST_CASES])
def test_tests_yaml_case(case: Path, update_goldens: bool) -> None:
    """Mistakes in a policy's cases file (`policyc test`): its own codes, at the YAML line."""
    from compiler.tools.testing import run_file

    run = run_file(case, case.relative_to(ROOT).as_posix())
    code = case.name.split("_")[0].upper()
    assert code in {d.code for d in run.diagnostics}
    check_golden(case.with_name(case.name.replace(".tests.yaml", ".out")),
                 render_text(run.diagnostics, run.sources), update_goldens)


def test_every_code_has_a_case() -> None:
    covered = {c.stem.split("_")[0].split("-")[0].upper() for c in CASES + TEST_CASES}
    # E0609 (the solver gave up) has no policy that reliably times out: tests/test_smt.py forces it
    missing = sorted(set(CODES) - covered - {"E0609"})
    assert not missing, f"diagnostic codes without a golden case: {missing}"


@pytest.mark.parametrize("case", CASES[:5] + CASES[-5:], ids=lambda c: c.stem)
def test_json_form_has_the_documented_fields(case: Path) -> None:
    result = _compile(case)
    items = json.loads(render_json(result.diagnostics))
    assert items and isinstance(items, list)
    for item in items:
        for key in ("code", "severity", "file", "line", "column", "end_line", "end_column", "message", "help"):
            assert key in item
        assert item["file"].startswith("tests/cases/diagnostics/")
        assert item["line"] >= 1 and item["column"] >= 1
        assert (item["end_line"], item["end_column"]) >= (item["line"], item["column"])


def test_caret_counts_hangul_as_two_columns() -> None:
    result = _compile(ROOT / "tests/cases/diagnostics/e0505_personal_value_not_disclosed.policy")
    text = render_text(result.diagnostics, result.sources)
    source_line = "    기사님 연락처는 {{ driver_phone }}입니다."
    caret_line = next(line for line in text.splitlines() if "^^^^" in line)
    # 4 spaces + 3 + 1 + 4 Hangul (7 syllables = 14 columns) + spaces: the caret sits under `driver_phone`
    prefix = caret_line.split("|", 1)[1][1:]
    assert prefix.index("^") == 4 + 6 + 1 + 8 + 1 + 3
    assert source_line in text


def test_invalid_utf8_is_a_diagnostic(tmp_path: Path) -> None:
    bad = tmp_path / "broken.policy"
    bad.write_bytes("fact kind \"종류\": bool\n".encode("utf-8") + b"\xff\xfe oops\n")
    result = compile_policy(bad, "broken.policy")
    assert [d.code for d in result.diagnostics] == ["E0001"]
    assert result.diagnostics[0].span.line == 2


def test_missing_policy_file_is_a_diagnostic(tmp_path: Path) -> None:
    result = compile_policy(tmp_path / "nope.policy", "nope.policy")
    assert [d.code for d in result.diagnostics] == ["E0001"]
