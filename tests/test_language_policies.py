"""tests/policies/: one small policy per family of constructs (money and actions with
values, calendars, lists), each checked clean, formatted as written, built, and decided
by its generated module exactly as the reference evaluator decides, on random inputs
biased to every threshold."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import pytest

from compiler.middle.evaluate import evaluate, requirements_hold
from compiler.pipeline import compile_policy
from compiler.source import SourceFile
from compiler.tools.fmt import format_source
from compiler.tools.load import load

from .conftest import ROOT
from .facts import random_facts

POLICIES = ["cancellation_fee", "night_rides", "parcels"]


@pytest.mark.parametrize("name", POLICIES)
def test_checks_clean_and_is_formatted(name: str):
    path = ROOT / "tests/policies" / f"{name}.policy"
    result = compile_policy(path, f"tests/policies/{name}.policy")
    assert result.ok and result.diagnostics == [], result.diagnostics
    text = path.read_text(encoding="utf-8")
    assert format_source(SourceFile(f"{name}.policy", text))[0] == text


def _decimals(value):
    """Floats as the module reads them (Decimal of their repr), inside lists too: the
    evaluator takes typed facts."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _decimals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decimals(v) for v in value]
    return value


@pytest.mark.parametrize("name", POLICIES)
def test_the_module_decides_as_the_evaluator(name: str):
    result, module = load(ROOT / "tests/policies" / f"{name}.policy", f"{name}.policy")
    policy = result.policy
    rng = random.Random(name)
    decided = set()
    for _ in range(1500):
        facts = _decimals(random_facts(policy, rng))
        try:
            got = module.decide(facts)
        except module.PolicyInputError:
            assert not requirements_hold(policy, facts), facts
            continue
        want = evaluate(policy, dict(got.facts))
        assert (got.outcome, got.rule, dict(got.trace), dict(got.action_args)) == (
            want["outcome"], want["rule"], want["rules"], want["action_args"]), facts
        decided.add(got.rule)
    assert decided == {r.name for r in policy.main.rules}  # every rule was reached


def test_actions_added_by_rules_carry_their_values(tmp_path: Path):
    _, module = load(ROOT / "tests/policies/cancellation_fee.policy", "cancellation_fee.policy")
    d = module.decide({"fare": 45_000, "reserved_for": "2024-05-01T10:00:00+09:00",
                       "cancelled_at": "2024-05-01T09:30:00+09:00", "assigned_at": "2024-05-01T09:00:00+09:00",
                       "member": "gold"})
    assert d.outcome == "charged"
    # 30% of 45,000원 is 13,500원; refund 31,500원; a gold member gets a 2,000원 coupon
    assert dict(d.action_args) == {"refund": {"amount": 31_500}, "coupon": {"amount": 2_000}}
    assert d.actions == frozenset({"refund", "coupon", "notify_driver"})
    assert module.render(d) == "수수료 13,500원을 뺀 31,500원이 환불됩니다."
