"""A policy from another domain (fare refunds) compiles and runs with no compiler
change: numbers, durations with defaults, enum defaults, `or`, parentheses, `!=`,
`not in`, `<`/`>`, inline replies and snippets, plain context values, maps."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from compiler.backend.python import generate
from compiler.middle.evaluate import evaluate, requirements_hold
from compiler.pipeline import compile_policy

from .conftest import ROOT, load_module
from .facts import random_facts

POLICY = ROOT / "tests/policies/fare_refund.policy"


@pytest.fixture(scope="module")
def refund(tmp_path_factory):
    result = compile_policy(POLICY, "tests/policies/fare_refund.policy")
    assert result.ok, result.diagnostics
    module = load_module("fare_refund", generate(result.policy), tmp_path_factory.mktemp("gen"))
    return result.policy, module


def facts(**over):
    base = {"service": "taxi", "paid_at": "2024-05-01T12:00:00+09:00", "asked_at": "2024-05-01T12:10:00+09:00",
            "amount": 15000, "used": True}
    base.update(over)
    return base


def test_decisions(refund):
    _, m = refund
    assert m.decide(facts(used=False)).outcome == "full_refund"
    assert m.decide(facts(amount=Decimal("999.5"))).outcome == "full_refund"
    assert m.decide(facts(amount=500, service="parking")).outcome == "no_refund"  # small, but parking is no mobility
    assert m.decide(facts(amount=500, service="parking", member="gold")).outcome == "full_refund"
    assert m.decide(facts(wait="2h", service="bike")).outcome == "partial_refund"
    assert m.decide(facts(wait=dt.timedelta(minutes=90))).rule == "부분_환불"
    assert m.decide(facts(asked_at="2024-05-09T12:00:00+09:00")).outcome == "no_refund"
    assert m.decide(facts(service="parking")).outcome == "no_refund"
    d = m.decide(facts(member="gold"))
    assert (d.desk, d.ticket) == ("VIP팀", ("환불", "택시팀"))
    assert m.decide(facts(service="bike")).desk == "고객센터"


def test_replies(refund):
    _, m = refund
    full = m.decide(facts(used=False))
    text = m.render(full, {"agent": "김민수", "refund_amount": 15000})
    assert text == "김민수 상담사입니다. 택시는 결제 후 0.5시간이 지나지 않아\n15000원 전액 환불해 드렸습니다."
    assert full.actions == frozenset({"refund_now"})
    part = m.decide(facts(member="gold", wait="3h"))
    assert m.render(part, {"refund_amount": 5000}) == "골드 회원님, 5000원을 부분 환불해 드리겠습니다.\n이용해 주셔서 감사합니다."
    with pytest.raises(m.PolicyInputError) as info:
        m.render(part, {})
    assert info.value.name == "refund_amount"
    assert m.render(m.decide(facts(service="parking"))) == "결제 후 7일이 지나 환불이 어렵습니다.\n이용해 주셔서 감사합니다."


def test_bad_numbers(refund):
    _, m = refund
    for bad in (float("nan"), float("inf"), "100", True, None):
        with pytest.raises(m.PolicyInputError) as info:
            m.decide(facts(amount=bad))
        assert info.value.name == "amount"
    with pytest.raises(m.PolicyInputError):
        m.decide(facts(wait="3 days"))
    with pytest.raises(m.PolicyInputError):
        m.decide(facts(member="platinum"))


def test_agrees_with_the_reference_evaluator(refund):
    import random

    policy, m = refund
    rng = random.Random(3)
    outcomes = set()
    for _ in range(1500):
        f = random_facts(policy, rng)
        if not requirements_hold(policy, f):
            with pytest.raises(m.PolicyInputError):
                m.decide(f)
            continue
        got, want = m.decide(f), evaluate(policy, f)
        assert (got.outcome, got.rule, got.desk, got.ticket) == (want["outcome"], want["rule"], want["desk"], want["ticket"])
        outcomes.add(got.outcome)
    assert outcomes == set(m.OUTCOMES)


def test_the_compiler_knows_nothing_of_the_driver_policy():
    """Nothing about drivers, plates or these outcomes is hard-coded outside policy/."""
    words = ("vehicle_plate", "ob_transfer", "trip_status", "history_available", "disclose_", "refuse",
             "펫", "기사님", "차량번호", "안심연결")
    # cli/args.py is exempt: its --help examples run the bundled policy, which is documentation, not logic
    exempt = ROOT / "compiler/cli/args.py"
    for path in sorted(p for p in (ROOT / "compiler").rglob("*.py") if p != exempt) + [ROOT / "grammar/policy.lark"]:
        text = path.read_text(encoding="utf-8")
        for word in words:
            assert word not in text, f"{path.relative_to(ROOT)} mentions {word!r}"


def test_a_policy_of_values_only(tmp_path):
    path = tmp_path / "fee.policy"
    path.write_text('fact vip "VIP": bool\ndecision fee "수수료" (first) {\n  rule 면제: when vip then 0\n  otherwise 500\n}\n',
                    encoding="utf-8")
    result = compile_policy(path, "fee.policy")
    assert result.ok, result.diagnostics
    m = load_module("fee", generate(result.policy), tmp_path)
    assert m.decide({"vip": True}).fee == 0 and m.decide({"vip": False}).fee == 500
    assert m.OUTCOMES == ()
    with pytest.raises(m.PolicyInputError):
        m.render(m.decide({"vip": True}))
