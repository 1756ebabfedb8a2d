"""A second, independent implementation of the analysis with an SMT solver (z3) on the
same IR, run over random generated policies: gaps, dead rules, unique overlaps,
implied conditions and broken invariants must agree with the partition analysis on
every one. Durations and instants are whole microseconds (z3 Int), numbers are reals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

z3 = pytest.importorskip("z3")

from compiler.analysis.checks import _Analysis  # noqa: E402
from compiler.analysis.space import to_number  # noqa: E402
from compiler.middle import ir  # noqa: E402
from compiler.pipeline import compile_policy  # noqa: E402

from .policygen import random_policy  # noqa: E402

SEEDS = range(150)


class Z3Model:
    def __init__(self, policy: ir.Policy) -> None:
        self.p = policy
        self.vars = {}
        self.domain = []
        for f in policy.facts:
            kind = f.type.kind
            if kind == "enum":
                v = z3.Int(f.name)
                self.domain.append(z3.And(v >= 0, v < len(f.values)))
            elif kind == "bool":
                v = z3.Bool(f.name)
            elif kind in ("timestamp", "duration"):
                v = z3.Int(f.name)
            else:
                v = z3.Real(f.name)
            self.vars[f.name] = v
        self.consts = {c.name: c for c in policy.consts}
        self.derived = {d.name: d for d in policy.derived}
        self.valid = z3.And(*self.domain, *[self.cond(r.cond) for r in policy.requires])

    def value(self, e):
        if isinstance(e, ir.FactRef):
            return self.vars[e.name]
        if isinstance(e, ir.DerivedRef):
            return self.value(self.derived[e.name].expr)
        if isinstance(e, ir.ConstRef):
            return self.literal(self.consts[e.name].value)
        if isinstance(e, ir.Value):
            return self.literal(e.value)
        if isinstance(e, ir.Arith):
            a, b = self.value(e.left), self.value(e.right)
            return a + b if e.op == "+" else a - b
        raise TypeError(e)

    def literal(self, v):
        if isinstance(v, bool):
            return z3.BoolVal(v)
        if isinstance(v, (dt.datetime, dt.timedelta)):
            return z3.IntVal(int(to_number(v)))
        if isinstance(v, (int, Decimal, float)):
            f = Fraction(v)
            return z3.RealVal(f"{f.numerator}/{f.denominator}")
        return v  # enum code: handled by the comparison

    def enum_index(self, fact: str, code: str) -> int:
        return next(f for f in self.p.facts if f.name == fact).codes.index(code)

    def cond(self, e):
        if isinstance(e, ir.And):
            return z3.And(*[self.cond(x) for x in e.operands])
        if isinstance(e, ir.Or):
            return z3.Or(*[self.cond(x) for x in e.operands])
        if isinstance(e, ir.Not):
            return z3.Not(self.cond(e.operand))
        if isinstance(e, ir.FactRef):
            return self.vars[e.name]
        if isinstance(e, ir.In):
            codes = e.set.value if isinstance(e.set, ir.Value) else self.consts[e.set.name].value
            var = self.vars[e.item.name]
            inside = z3.Or(*[var == self.enum_index(e.item.name, c) for c in codes]) if codes else z3.BoolVal(False)
            return z3.Not(inside) if e.negated else inside
        if isinstance(e, ir.Cmp):
            left = e.left
            if isinstance(left, ir.FactRef) and next(f for f in self.p.facts if f.name == left.name).type.kind == "enum":
                test = self.vars[left.name] == self.enum_index(left.name, e.right.value)
                return test if e.op == "=" else z3.Not(test)
            a, b = self.value(e.left), self.value(e.right)
            if z3.is_bool(a):
                return a == b if e.op == "=" else a != b
            return {"=": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[e.op]
        raise TypeError(e)

    def sat(self, *formulas) -> bool:
        solver = z3.Solver()
        solver.add(self.valid, *formulas)
        return solver.check() == z3.sat


def z3_findings(policy: ir.Policy) -> set[tuple[str, str]]:
    m = Z3Model(policy)
    out = set()
    main = policy.main
    for d in policy.decisions:
        earlier = []
        fires = []
        for rule in d.rules:
            if rule.cond is None:
                fires.append((rule, z3.And(*[z3.Not(c) for c in earlier])))
                continue
            c = m.cond(rule.cond)
            none_before = z3.And(*[z3.Not(x) for x in earlier])
            if not m.sat(c, none_before):
                out.add(("E0601", rule.name))
            else:
                if d.hit_policy == "unique" and earlier and m.sat(c, z3.Or(*earlier)):
                    out.add(("E0602", rule.name))
                parts = list(rule.cond.operands) if isinstance(rule.cond, ir.And) else [rule.cond]
                for k, part in enumerate(parts):
                    rest = [m.cond(x) for j, x in enumerate(parts) if j != k]
                    context = none_before if d.hit_policy == "first" else z3.BoolVal(True)
                    if not m.sat(*rest, z3.Not(m.cond(part)), context):
                        out.add(("W0604", f"{rule.name}#{k}"))
            fires.append((rule, z3.And(c, none_before)))
            earlier.append(c)
        if d.rules[-1].cond is not None and m.sat(*[z3.Not(c) for c in earlier]):
            out.add(("E0400", d.name))
        if d is main:
            for inv in policy.invariants:
                happens = []
                for rule, f in fires:
                    o = policy.outcome(rule.output.value)
                    hit = {"discloses": inv.subject in o.discloses, "action": inv.subject in o.actions,
                           "outcome": o.name == inv.subject}[inv.subject_kind]
                    if hit:
                        happens.append(f)
                allowed = z3.BoolVal(False) if inv.cond is None else m.cond(inv.cond)
                if happens and m.sat(z3.Or(*happens), z3.Not(allowed)):
                    out.add(("E0606", inv.name))
    return out


def partition_findings(policy: ir.Policy) -> set[tuple[str, str]]:
    """The analysis's findings, read from each diagnostic's structured `data`."""
    out = set()
    for d in _Analysis(policy, False).run():  # the partition itself, not its SMT confirmation
        about = d.about
        if d.code == "E0400":
            out.add((d.code, about["decision"]))
        elif d.code in ("E0601", "E0602"):
            out.add((d.code, about["rule"]))
        elif d.code == "E0606":
            out.add((d.code, about["invariant"]))
        elif d.code == "W0604":
            out.add((d.code, f"{about['rule']}#{about['part']}"))
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_partition_analysis_agrees_with_z3(tmp_path: Path, seed: int):
    path = tmp_path / "random_policy.policy"
    path.write_text(random_policy(seed), encoding="utf-8")
    result = compile_policy(path, "random_policy.policy", analysis=False)
    assert result.policy is not None, result.diagnostics
    assert partition_findings(result.policy) == z3_findings(result.policy)


def test_the_random_policies_exercise_every_finding(tmp_path: Path):
    seen = set()
    for seed in SEEDS:
        path = tmp_path / "random_policy.policy"
        path.write_text(random_policy(seed), encoding="utf-8")
        policy = compile_policy(path, "random_policy.policy", analysis=False).policy
        seen |= {code for code, _ in partition_findings(policy)}
    assert seen == {"E0400", "E0601", "E0602", "W0604", "E0606"}


def test_overlaps_on_a_policy_with_optional_facts_checks_without_an_internal_error():
    """`check --overlaps` on the fare policy compared a later rule that reads an optional
    fact at a point where it is missing (TypeError on None): it now says it does not
    hold there, and the finding comes without that example."""
    from compiler.pipeline import compile_policy

    from .conftest import ROOT

    result = compile_policy(ROOT / "policy/pet_ride_fare.policy", "policy/pet_ride_fare.policy", overlaps=True)
    assert result.ok
    assert any(d.code == "W0603" for d in result.diagnostics)
