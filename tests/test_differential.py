"""The generated module against the IR's reference evaluator, input by input, on
random valid facts biased to every boundary (thresholds ±1 µs and ±1 s, many offsets)."""

from __future__ import annotations

import random

import pytest

from compiler.middle.evaluate import evaluate, requirements_hold

from .conftest import ROOT
from .facts import random_facts

N = 4000


def _compare(module, policy, facts):
    expected_ok = requirements_hold(policy, facts)
    if not expected_ok:
        with pytest.raises(module.PolicyInputError):
            module.decide(facts)
        return None
    got = module.decide(facts)
    want = evaluate(policy, facts)
    assert got.outcome == want["outcome"], facts
    assert got.rule == want["rule"] and got.source == want["source"], facts
    assert got.discloses == want["discloses"] and got.actions == want["actions"], facts
    for decision in policy.decisions:
        if not decision.yields_outcome:
            assert getattr(got, decision.name) == want[decision.name], facts
    assert dict(got.trace) == want["rules"]
    return got.outcome


def test_generated_module_agrees_with_the_reference_evaluator(driver_info, driver_policy):
    rng = random.Random(20261128)
    seen = set()
    for _ in range(N):
        seen.add(_compare(driver_info, driver_policy, random_facts(driver_policy, rng)))
    # the generator reaches every outcome, so agreement means something
    assert set(driver_info.OUTCOMES) <= seen


def test_iso_strings_and_datetimes_decide_alike(driver_info, driver_policy):
    rng = random.Random(7)
    for _ in range(500):
        facts = random_facts(driver_policy, rng)
        as_text = {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in facts.items()}
        if requirements_hold(driver_policy, facts):
            assert driver_info.decide(facts).outcome == driver_info.decide(as_text).outcome


def test_every_construct_agrees(tmp_path):
    """The syntax-tour policy (tests/cases/parse/all_syntax.policy): or, not, !=,
    not in, derived timestamps, defaults, maps and tuples, against the evaluator."""
    from compiler.backend.python import generate
    from compiler.pipeline import compile_policy

    from .conftest import ROOT, load_module

    result = compile_policy(ROOT / "tests/cases/parse/all_syntax.policy", "tests/cases/parse/all_syntax.policy")
    assert result.ok, result.diagnostics
    module = load_module("all_syntax", generate(result.policy), tmp_path)
    rng = random.Random(11)
    seen = set()
    for _ in range(2000):
        seen.add(_compare(module, result.policy, random_facts(result.policy, rng)))
    assert {"yes", "no"} <= seen


def test_script_20k_inputs_per_shipped_policy():
    """What CI runs of scripts/differential.py (the script runs 1,000,000 by default)."""
    import sys

    from .conftest import ROOT

    sys.path.insert(0, str(ROOT / "scripts"))
    from differential import run

    lines: list[str] = []
    assert run(20_000, seed=20261128, out=lines.append) == 0, lines
    assert lines[-1].endswith("mismatches=0")


@pytest.mark.parametrize("cases", sorted((ROOT / "policy").glob("*.tests.yaml")), ids=lambda p: p.stem)
def test_policy_cases_agree_with_the_reference_evaluator(cases):
    """Every case an author wrote for a shipped policy, decided by the generated module and
    by the IR's reference evaluator on the same validated facts: the same rule for every
    decision, the same outcome, disclosures, actions and values."""
    import yaml

    from compiler.tools.load import load

    data = yaml.safe_load(cases.read_text(encoding="utf-8"))
    policy_path = cases.parent / data.get("policy", cases.name.replace(".tests.yaml", ".policy"))
    result, module = load(policy_path, policy_path.relative_to(ROOT).as_posix())
    assert module is not None, result.diagnostics
    policy = result.policy
    decided = 0
    shared = data.get("defaults", {}).get("facts", {})
    for case in data["cases"]:
        try:
            d = module.decide({**shared, **case["facts"]})
        except module.PolicyInputError:
            assert "error" in case["expect"], case["name"]
            continue
        want = evaluate(policy, dict(d.facts))
        assert want["rules"] == dict(d.trace), case["name"]
        if policy.main is not None:
            assert (want["outcome"], want["rule"], want["source"], want["discloses"], want["actions"]) == (
                d.outcome, d.rule, d.source, d.discloses, d.actions), case["name"]
            assert want["action_args"] == dict(d.action_args), case["name"]
        for dec in policy.decisions:
            if not dec.yields_outcome:
                assert want[dec.name] == getattr(d, dec.name), case["name"]
        decided += 1
    assert decided > 0
