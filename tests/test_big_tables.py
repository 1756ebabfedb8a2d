"""Decisions longer than CPython can compile as one if/elif chain (a 3,000-rule tier
table raised RecursionError in `compile`, 10,000 rules MemoryError): the generated module
cuts them into chains, and decides exactly as the reference evaluator does."""

from __future__ import annotations

import random
import types

import pytest

from compiler.backend import python as backend
from compiler.middle.evaluate import evaluate
from compiler.pipeline import compile_policy

from .conftest import ROOT
from .facts import random_facts
from .test_differential import _compare


def _module(policy):
    module = types.ModuleType(f"big_{policy.name}")
    exec(compile(backend.generate(policy), f"<{policy.name}>", "exec"), module.__dict__)
    return module


def test_a_3000_rule_tier_table_builds_and_decides_the_first_match(tmp_path):
    n = 3000
    lines = ['policy tiers "계단"', 'fact amount "금액": number', 'fact kind "종류": enum {', '  a "가"', '  b "나"', '}', '']
    lines += [f'outcome o{i} "결과 {i}" {{ reply "r" }}' for i in range(10)]
    lines += ['', 'decision d "d" (first) {']
    lines += [f'  rule r{i}: when amount > {n - i} and kind = a then o{i % 10}' for i in range(n)]
    lines += ['  otherwise o0', '}']
    path = tmp_path / "tiers.policy"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    policy = compile_policy(path, "tiers.policy", analysis=False).policy
    module = _module(policy)  # raised RecursionError before the chains
    for amount, kind in [(3001, "a"), (3000, "a"), (2, "a"), (1, "a"), (0, "a"), (1500, "a"), (1500, "b"),
                         (2500, "a"), (2501, "a"), (2499, "a")]:
        got = module.decide({"amount": amount, "kind": kind})
        want = evaluate(policy, {"amount": amount, "kind": kind})
        assert (got.rule, got.outcome) == (want["rule"], want["outcome"]), amount
    assert module.decide({"amount": 2501, "kind": "a"}).rule == "r500"  # the first rule of the second chain


@pytest.mark.parametrize("chain", [1, 2, 5])
def test_chained_decisions_decide_as_the_evaluator(monkeypatch, chain):
    """The shipped driver policy with its decisions cut into chains of 1, 2 and 5 rules:
    every boundary of a chain is crossed, with and without a catch-all."""
    monkeypatch.setattr(backend, "CHAIN", chain)
    policy = compile_policy(ROOT / "policy/driver_info.policy", "policy/driver_info.policy").policy
    module = _module(policy)
    source = backend.generate(policy)
    assert source.count("is None:") >= len(policy.main.rules) // chain - 1
    rng = random.Random(chain)
    seen = {_compare(module, policy, random_facts(policy, rng)) for _ in range(800)}
    assert len(seen) > 5
