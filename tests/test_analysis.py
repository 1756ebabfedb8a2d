"""The static analysis on the real policy and on changed copies of it, as an author
meets it: the shipped policy checks clean with its invariants proven; removing the
catch-all shows a gap; a rule that tells the phone after 3 days breaks an invariant.
Every example the analysis gives is facts that decide() accepts and that show the
problem."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from compiler.backend.python import generate
from compiler.pipeline import compile_policy

from .conftest import ROOT, compile_at_root, load_module

POLICY = (ROOT / "policy/driver_info.policy").read_text(encoding="utf-8")
ANALYSIS_CODES = {"E0400", "E0601", "E0602", "W0603", "W0604", "E0606"}


def changed(tmp_path: Path, old: str, new: str, overlaps: bool = False):
    assert old in POLICY
    (tmp_path / "driver_info.policy").write_text(POLICY.replace(old, new, 1), encoding="utf-8")
    (tmp_path / "driver_info.replies.yaml").write_text(
        (ROOT / "policy/driver_info.replies.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    return compile_policy(tmp_path / "driver_info.policy", "policy/driver_info.policy", overlaps=overlaps)


def test_shipped_policy_checks_clean_with_invariants_proven(driver_policy):
    result = compile_at_root("policy/driver_info.policy")
    assert result.ok and result.diagnostics == []
    assert {i.name for i in driver_policy.invariants} == {
        "연락처_공개_조건", "차량번호_공개_조건", "이름_비공개", "계좌번호_비공개", "OB_이관_조건"}


def test_catch_all_removed_shows_a_gap(tmp_path, driver_info):
    result = changed(tmp_path, "  otherwise refuse\n", "")
    gaps = [d for d in result.diagnostics if d.code == "E0400"]
    assert len(gaps) == 1 and gaps[0].about["decision"] == "reply"
    example = gaps[0].example
    # facts the shipped module accepts, where the shipped policy only had its catch-all left
    assert driver_info.decide(example).rule == "otherwise"
    assert gaps[0].notes and "일 때 어느 규칙에도 맞지 않습니다" in gaps[0].notes[0]


def test_phone_after_three_days_breaks_the_invariant(tmp_path):
    extra = ('  rule 연락처_분실물_직접 "분실물이면 14일까지 연락처 안내":\n'
             '    when request = driver_phone and trip_status in ACTIVE\n'
             '     and elapsed <= APP_CALL_WINDOW and reason = lost_item\n'
             '    then disclose_driver_phone\n\n  rule 연락처_안심연결')
    result = changed(tmp_path, "  rule 연락처_안심연결", extra)
    broken = [d for d in result.diagnostics if d.code == "E0606"]
    assert [d.about["invariant"] for d in broken] == ["연락처_공개_조건"]
    [finding] = broken
    assert finding.related and "연락처_분실물_직접" in Path(tmp_path / "driver_info.policy").read_text(
        encoding="utf-8").splitlines()[finding.related[0].span.line - 1]
    # the example really discloses the phone, after three days, under the changed policy
    module = load_module("changed", generate(_policy_without_analysis(tmp_path)), tmp_path)
    decision = module.decide(finding.example)
    assert "driver_phone" in decision.discloses and decision.rule == "연락처_분실물_직접"
    assert decision.derived["elapsed"] > dt.timedelta(days=3)


def _policy_without_analysis(tmp_path):
    return compile_policy(tmp_path / "driver_info.policy", "policy/driver_info.policy", analysis=False).policy


ANALYSIS_CODES = ANALYSIS_CODES | {"E0307"}
ANALYSIS_CASES = [c for c in sorted((ROOT / "tests/cases/diagnostics").glob("*.policy"))
                  if c.stem.split("_")[0].upper() in ANALYSIS_CODES]


@pytest.mark.parametrize("case", ANALYSIS_CASES, ids=lambda c: c.stem)
def test_every_analysis_finding_has_an_example_that_shows_it(case, tmp_path):
    """Each finding's example is facts decide() takes, on which the module (compiled without
    the analysis) does exactly what the finding says: a gap finds no rule, a dead rule is
    beaten, an implied part's rule decides, an overlap has both rules matching, a broken
    invariant discloses outside its condition, a lookup misses."""
    from compiler.middle.evaluate import Env

    rel = case.relative_to(ROOT).as_posix()
    result = compile_at_root(rel, overlaps="overlaps" in case.stem)
    bare = compile_at_root(rel, analysis=False).policy
    findings = [d for d in result.diagnostics if d.code in ANALYSIS_CODES]
    assert findings and bare is not None, "a case for an analysis code must show that finding"
    module = load_module(case.stem.lower().replace("-", "_"), generate(bare), tmp_path)
    for finding in findings:
        about = finding.about
        if finding.example is None:  # only a rule that contradicts itself has no facts to show
            assert finding.code == "E0601" and "covered_by" not in about
            continue
        if finding.code in ("E0400", "E0307"):  # no rule / no table entry: the module fails closed
            with pytest.raises(module.PolicyInputError) as error:
                module.decide(finding.example)
            assert error.value.name == "facts"
            continue
        decision = module.decide(finding.example)
        env = Env(bare, dict(decision.facts))
        if finding.code == "E0606":
            inv = next(i for i in bare.invariants if i.name == about["invariant"])
            outcome = bare.outcome(decision.outcome)
            happens = {"discloses": inv.subject in outcome.discloses, "action": inv.subject in outcome.actions,
                       "outcome": outcome.name == inv.subject}[inv.subject_kind]
            assert happens and (inv.cond is None or not env.eval(inv.cond)) and decision.rule == about["rule"]
            continue
        d = bare.decisions_by_name[about["decision"]]
        fired = dict(decision.trace)[d.name]
        rule = next(r for r in d.rules if r.name == about["rule"])
        if finding.code == "E0601":
            assert fired != rule.name and env.eval(rule.cond)  # it matches, and an earlier rule decides
        elif finding.code == "W0604":
            assert fired == rule.name  # where the rule decides: the implied part holds there
        elif finding.code == "E0602":
            other = next(r for r in d.rules if r.name == about["other"])
            assert env.eval(rule.cond) and env.eval(other.cond)
        elif finding.code == "W0603":
            assert fired == about["earlier"] and env.eval(rule.cond)


def test_e0307_is_exact_over_the_partition(tmp_path):
    """A lookup is checked against what really reaches it: `!=` tests before an `otherwise`
    rule out the missing keys exactly as an `=` test does (the resolver's old check said
    E0307 for the first spelling and nothing for the second)."""
    head = ('fact reason "사유": enum { a "가" b "나" c "다" }\nconst M "표" = { c: "다" }\n'
            'outcome o "o" { reply "o" }\ndecision main (first) { otherwise o }\n')
    spellings = {
        "not_equal": 'decision label (first) {\n  rule skip: when reason = a or reason = b then ("x", "y")\n'
                     '  otherwise ("z", M[reason])\n}\n',
        "excluded": 'decision label (first) {\n  rule use: when reason != a and reason != b then ("z", M[reason])\n'
                    '  otherwise ("x", "y")\n}\n',
        "equal": 'decision label (first) {\n  rule use: when reason = c then ("z", M[reason])\n  otherwise ("x", "y")\n}\n',
    }
    for name, body in spellings.items():
        path = tmp_path / f"{name}.policy"
        path.write_text(head + body, encoding="utf-8")
        result = compile_policy(path)
        assert result.ok, (name, [d.message for d in result.diagnostics])
    path = tmp_path / "misses.policy"
    path.write_text(head + 'decision label (first) {\n  rule use: when reason != a then ("z", M[reason])\n'
                    '  otherwise ("x", "y")\n}\n', encoding="utf-8")
    misses = [d for d in compile_policy(path).diagnostics if d.code == "E0307"]
    assert [d.about["missing"] for d in misses] == [("b",)] and misses[0].example == {"reason": "b"}


def test_unique_decisions_run(tmp_path):
    path = tmp_path / "tiers.policy"
    path.write_text('fact amount "금액": number\noutcome low "소액" { reply "소액" }\noutcome high "고액" { reply "고액" }\n'
                    'decision tier (unique) {\n  rule 소액: when amount < 1000 then low\n'
                    '  rule 고액: when amount >= 1000 then high\n}\n', encoding="utf-8")
    result = compile_policy(path, "tiers.policy")
    assert result.ok and result.diagnostics == []
    module = load_module("tiers", generate(result.policy), tmp_path)
    assert module.decide({"amount": 999.99}).outcome == "low"
    assert module.decide({"amount": 1000}).outcome == "high"


def test_boundaries_are_exact(tmp_path):
    """`<` against `<=` at the same threshold differs by exactly the threshold point."""
    path = tmp_path / "edge.policy"
    path.write_text('fact start: timestamp\nfact end: timestamp\nrequire end >= start "순서"\nlet d = end - start\n'
                    'outcome a "가" { reply "가" }\noutcome b "나" { reply "나" }\n'
                    'decision x (first) {\n  rule 미만: when d < 3일 then a\n  rule 초과: when d > 3일 then b\n}\n',
                    encoding="utf-8")
    result = compile_policy(path, "edge.policy")
    [gap] = [d for d in result.diagnostics if d.code == "E0400"]
    start = dt.datetime.fromisoformat(gap.example["start"])
    end = dt.datetime.fromisoformat(gap.example["end"])
    assert end - start == dt.timedelta(days=3)
    assert "정확히 3일" in gap.notes[0]
    path.write_text(path.read_text(encoding="utf-8").replace("rule 초과: when d > 3일", "rule 초과: when d >= 3일"),
                    encoding="utf-8")
    fixed = compile_policy(path, "edge.policy").diagnostics
    assert [d.code for d in fixed] == ["W0604"] and "otherwise" in fixed[0].help  # covered: the last rule is a catch-all


def test_microsecond_intervals_are_empty(tmp_path):
    """Between 3일 and 3일 1us there is no whole microsecond: nothing falls through."""
    path = tmp_path / "micro.policy"
    path.write_text('fact w: duration\noutcome a "가" { reply "가" }\noutcome b "나" { reply "나" }\n'
                    'decision x (first) {\n  rule 이하: when w <= 3일 then a\n  rule 이상: when w >= 3일1us then b\n}\n',
                    encoding="utf-8")
    found = compile_policy(path, "micro.policy").diagnostics
    assert [d.code for d in found] == ["W0604"]  # no gap; the last rule takes all that is left
    assert "3일 1마이크로초 이상" in found[0].notes[0]


def test_a_rule_under_many_earlier_rules_points_at_the_first_ten(tmp_path):
    """A long table's dead rule can lie under hundreds of earlier rules: the finding points
    at the first ten and says how many there are; its data names them all."""
    lines = ['policy many "많음"', 'fact n "n": number', '', 'decision d "d" (first) {']
    lines += [f"  rule r{i}: when n >= {i} and n < {i + 1} then {i}" for i in range(12)]
    lines += ["  rule late: when n >= 0 and n < 12 then 99", "  otherwise 0", "}"]
    (tmp_path / "many.policy").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = compile_policy(tmp_path / "many.policy", "many.policy")
    [dead] = [d for d in result.diagnostics if d.code == "E0601"]
    assert dead.about["rule"] == "late"
    assert dead.about["covered_by"] == tuple(f"r{i}" for i in range(12))
    assert [r.span.line for r in dead.related] == list(range(5, 15))  # r0 .. r9
    assert any("12개 가운데 처음 10개" in note for note in dead.notes)
