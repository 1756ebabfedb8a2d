"""The SMT analysis (compiler/analysis/smt_checks.py): it must say what the partition
analysis says wherever both apply, analyse what the partition cannot cut (dependent
axes, arithmetic, calendars, lists, optional facts), stand behind every example with the
reference evaluator, and say so when the solver gives up."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.analysis import checks, findings, smt_checks
from compiler.analysis.space import partition_for
from compiler.analysis.smt import SmtSpace, SmtUnknown
from compiler.middle.evaluate import requirements_hold
from compiler.pipeline import compile_policy

from .policygen import random_policy


@pytest.mark.parametrize("overlaps", [False, True], ids=["plain", "overlaps"])
@pytest.mark.parametrize("seed", range(20))
def test_smt_analysis_agrees_with_the_partition(tmp_path: Path, seed: int, overlaps: bool):
    """On random policies the partition cuts exactly, both analyses find the same things;
    with --overlaps, the same earlier rules behind each later one (W0603's shadowed_by)."""
    path = tmp_path / "p.policy"
    path.write_text(random_policy(seed), encoding="utf-8")
    result = compile_policy(path, "p.policy", analysis=False)
    if result.policy is None:
        pytest.skip("the generator made a policy the checker turns down")
    policy = result.policy
    space = partition_for(policy)
    if space is None:
        pytest.skip("the partition does not cut this one")
    ours = findings.keys(smt_checks.analyze(policy, overlaps))
    theirs = findings.keys(checks._Analysis(policy, overlaps, space).run())
    assert ours == theirs


def _compile(tmp_path: Path, text: str):
    path = tmp_path / "p.policy"
    path.write_text(text, encoding="utf-8")
    return compile_policy(path, "p.policy")


LIST_POLICY = """
record item "물건" {
  weight "무게": number
  fragile "깨지기 쉬움": bool = false
}
fact items "물건들": list of item (max 4)
fact paid "낸 돈": money optional
let heavy "무거운 것" = count(items where weight >= 10)
let fee "요금" = min(heavy * 1,500원 + floor(heavy * 1,500원 * 15%, 100원), 4,000원)
outcome a "가" { reply "가" }
outcome b "나" { reply "나" }
outcome c "다" { reply "다" }
decision x (first) {
  rule 빈손: when count(items) = 0 then a
  rule 비쌈: when fee > 4,000원 then b
  rule 냄: when paid is given and paid >= fee then c
  %s
}
invariant cap "요금 상한": always fee <= 4,000원
"""


def test_lists_money_and_rounding_are_analysed_exactly(tmp_path: Path):
    result = _compile(tmp_path, LIST_POLICY.replace("%s", ""))
    codes = sorted(d.code for d in result.diagnostics)
    # `fee > 4,000원` can never hold (min caps it): dead; without otherwise there is a gap
    assert codes == ["E0400", "E0601"], result.diagnostics
    gap = next(d for d in result.diagnostics if d.code == "E0400")
    assert gap.example is not None  # verified by the reference evaluator before it is shown
    found = SmtSpace(compile_policy(tmp_path / "p.policy", "p.policy", analysis=False).policy).example()
    assert found is not None and requirements_hold(
        compile_policy(tmp_path / "p.policy", "p.policy", analysis=False).policy, found[1])


def test_an_invariant_on_a_computed_amount_is_proven_or_refuted(tmp_path: Path):
    ok = _compile(tmp_path, LIST_POLICY.replace("%s", "otherwise a"))
    assert "E0606" not in {d.code for d in ok.diagnostics}
    broken = _compile(tmp_path, (LIST_POLICY.replace("%s", "otherwise a")).replace("fee <= 4,000원", "fee <= 3,000원"))
    e0606 = next(d for d in broken.diagnostics if d.code == "E0606")
    assert e0606.example is not None
    # the example breaks it: fee above 3,000원 for those items
    items = e0606.example["items"]
    assert sum(1 for i in items if i["weight"] >= 10) >= 2


def test_dependent_comparisons_are_analysed_not_refused(tmp_path: Path):
    """a+b, b+c and a-c are dependent: the partition cannot cut them, the SMT analysis can
    (this used to be E0609)."""
    text = ('fact a "가": number\nfact b "나": number\nfact c "다": number\n'
            'outcome yes "예" { reply "예" }\noutcome no "아니오" { reply "아니오" }\n'
            'decision answer (first) {\n  rule r1: when a + b > 3 and b + c > 1 then yes\n'
            '  rule r2: when a - c < 0 and a + b > 3 and b + c > 1 then no\n  otherwise no\n}\n')
    result = _compile(tmp_path, text)
    assert [d.code for d in result.diagnostics] == ["E0601"]  # r2 is inside r1


def test_the_solver_giving_up_is_said_not_guessed(tmp_path: Path, monkeypatch):
    def give_up(self, *formulas):
        raise SmtUnknown("timeout")

    monkeypatch.setattr(SmtSpace, "sat", give_up)
    result = _compile(tmp_path, LIST_POLICY.replace("%s", "otherwise a"))
    assert [d.code for d in result.diagnostics] == ["E0609"]
    assert not result.ok


def test_axes_that_share_a_fact_get_no_false_gap(tmp_path: Path):
    """`a + b - K` and `a` share `a`: the partition combines "over ≥ K" with "a ≤ 0" though
    no two numbers under 10^15 make it (a false E0400, helper review round 3, item 5); the
    solver confirms the partition's findings on such policies and has the last word."""
    text = ('fact a "가": number\nfact b "나": number\nlet over "넘침" = a + b - 999999999999999\n'
            'outcome x "엑스" { reply "x" }\noutcome y "와이" { reply "y" }\n'
            'decision d (first) {\n  rule r1: when over < 999999999999999 then x\n  rule r2: when a > 0 then y\n}\n')
    result = _compile(tmp_path, text)
    assert [d.code for d in result.diagnostics] == ["W0604"]  # no gap: r2 takes all that r1 leaves


def test_numbers_are_whole_billionths_in_the_solver_too(tmp_path: Path):
    """decide() takes at most 9 places: between `n >= 0.000000001` and `n <= 0` there is no
    gap, and `n > 0 and n < 0.000000001` never matches (review 5, bug 4)."""
    text = ('fact n "숫자": number\nfact fee "요금": money\noutcome a "가" { reply "가 {{ fee | won }}" }\n'
            'outcome b "나" { reply "나" }\ndecision answer "답" (first) {\n'
            '  rule pos: when n >= 0.000000001 then a\n  rule rest: when n <= 0 then b\n}\n')
    assert [d.code for d in _compile(tmp_path, text).diagnostics] == ["W0604"]  # `rest` could be otherwise
    tiny = text.replace("  rule pos:", "  rule tiny: when n > 0 and n < 0.000000001 then a\n  rule pos:")
    assert "E0601" in [d.code for d in _compile(tmp_path, tiny).diagnostics]


def test_a_date_outside_the_holiday_table_is_turned_down_whichever_rule_reads_it(tmp_path: Path):
    """`weekend or date_of(t) in HOL`: on a Saturday in 2031 the table is never asked, yet
    decide() turns the date down up front, as the analysis assumes (review 5, bug 3)."""
    from compiler.tools.load import load

    text = ('fact t "시각": timestamp\nzone "Asia/Seoul"\nconst HOL "공휴일" = holidays("KR", 2024, 2030)\n'
            'let hol "쉬는 날" = weekday(t) in {sat, sun} or date_of(t) in HOL\n'
            'outcome a "가" { reply "가" }\noutcome b "나" { reply "나" }\n'
            'decision answer "답" (first) {\n  rule r1: when hol then a\n  rule r2: when not hol then b\n}\n')
    result = _compile(tmp_path, text)
    assert "E0400" not in [d.code for d in result.diagnostics]
    _, module = load(tmp_path / "p.policy", "p.policy")
    with pytest.raises(module.PolicyInputError) as refused:
        module.decide({"t": "2031-01-04T12:00:00+09:00"})  # a Saturday
    assert refused.value.name == "t" and "2030" in refused.value.problem
    assert not requirements_hold(result.policy, {"t": __import__("datetime").datetime.fromisoformat(
        "2031-01-04T12:00:00+09:00")})
