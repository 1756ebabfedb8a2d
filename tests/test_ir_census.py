"""`ir.census`: the one walk of a policy that passes over a long table ask instead of
walking its rules themselves (unused declarations, guards, holiday tables, calendar
reads, the partition). Each answer read from it must be the one the walk gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.middle import ir
from compiler.middle.evaluate import _calendar_reads, _holiday_tests, calendar_reads, holiday_tests
from compiler.pipeline import compile_policy

from .conftest import ROOT

POLICIES = sorted([*ROOT.glob("policy/*.policy"), *ROOT.glob("tests/policies/*.policy")])


def _policy(path: Path) -> ir.Policy:
    result = compile_policy(path, path.relative_to(ROOT).as_posix(), analysis=False)
    assert result.policy is not None, result.diagnostics
    return result.policy


def _parts(policy: ir.Policy) -> dict[str, list[ir.Expr]]:
    return {"derived": [d.expr for d in policy.derived], "requires": [r.cond for r in policy.requires],
            "conds": [r.cond for d in policy.decisions for r in d.rules if r.cond is not None],
            "outputs": [r.output for d in policy.decisions for r in d.rules],
            "invariants": [i.cond for i in policy.invariants if i.cond is not None]}


@pytest.mark.parametrize("path", POLICIES, ids=lambda p: p.stem)
def test_the_census_holds_every_kind_of_node_of_each_part_and_nothing_else(path: Path):
    policy = _policy(path)
    census = ir.census(policy)
    for part, roots in _parts(policy).items():
        walked = {type(x) for root in roots for x in ir.walk(root)}
        assert {cls for cls, _, _ in census[part]} == walked, part
    names = {name for root in sum(_parts(policy).values(), []) for name in ir.names_in(root)}
    named = (*ir.NAMED, ir.Lookup, ir.Aggregate)
    assert {d for marks in census.values() for cls, _, d in marks if cls in named} == names


@pytest.mark.parametrize("path", POLICIES, ids=lambda p: p.stem)
def test_holiday_tests_and_calendar_reads_are_those_the_walk_finds(path: Path):
    policy = _policy(path)
    assert holiday_tests(policy) == _holiday_tests(policy)
    assert calendar_reads(policy) == _calendar_reads(policy)


def test_the_bundled_policies_have_what_the_fast_paths_look_for():
    """The cases above are not all empty: a holiday table, a calendar read and an
    aggregate are there, so each fast path's other side is compared too."""
    policies = [_policy(p) for p in POLICIES]
    assert any(_holiday_tests(p) for p in policies)
    assert any(_calendar_reads(p)[0] or _calendar_reads(p)[1] for p in policies)
    assert any(cls is ir.Aggregate for p in policies for marks in ir.census(p).values() for cls, _, _ in marks)


@pytest.mark.parametrize("path", POLICIES, ids=lambda p: p.stem)
def test_the_guards_say_the_same_without_their_shortcut(path: Path, monkeypatch):
    """`guards.check` returns at once for a policy where nothing may be missing (no optional
    fact, no aggregate): the full pass must find nothing there either."""
    from compiler.middle import guards

    policy = _policy(path)
    quick = guards.check(policy)
    monkeypatch.setattr(guards, "_aggregates", lambda p: True)
    assert guards.check(policy) == quick


def _without_census(monkeypatch, module) -> None:
    """Make `module` see a census with a node nothing cuts or looks past: its walk runs."""
    monkeypatch.setattr(module.ir, "census", lambda policy: {"conds": frozenset({(object, "?", None)})})


@pytest.mark.parametrize("path", POLICIES, ids=lambda p: p.stem)
def test_what_the_partition_cannot_cut_is_what_the_walk_finds(path: Path, monkeypatch):
    from compiler.analysis import space

    policy = _policy(path)
    quick = space._outside_partition(policy)
    _without_census(monkeypatch, space)
    assert space._outside_partition(policy) == quick


def test_an_always_invariant_sends_a_policy_the_partition_cuts_to_the_solver(tmp_path: Path):
    """Every node of this policy is one the partition cuts; its `always` invariant is not
    (a regression: the census's shortcut once returned before that was asked)."""
    from compiler.analysis import space

    path = tmp_path / "always.policy"
    path.write_text('policy always "항상"\nfact b1 "b1": bool\nfact e "e": enum { a "A", b "B" }\n'
                    'outcome o0 "o0" {\n  reply "좋습니다."\n}\noutcome o1 "o1" {\n  reply "네."\n}\n'
                    'decision main "main" (first) {\n  rule r0:\n    when b1 = true\n    then o0\n  otherwise o1\n}\n'
                    'invariant inv_a "ia": always not (b1) and e = a\n', encoding="utf-8")
    result = compile_policy(path, "always.policy", analysis=False)
    assert result.policy is not None, result.diagnostics
    assert space._outside_partition(result.policy) == "always"
    assert space.partition_for(result.policy) is None
