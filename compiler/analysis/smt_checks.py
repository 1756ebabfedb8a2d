"""The analysis of checks.py, over SMT formulas (smt.py), for policies whose conditions a
partition cannot cut exactly: arithmetic, rounding, calendars, lists, optional facts.

    analyze(policy, overlaps=False) -> [Diagnostic]

Same findings, same words (findings.py): gaps (E0400), rules that never decide (E0601),
`unique` overlaps (E0602), implied parts (W0604), lookups that miss (E0307), broken
invariants (E0606), and with `overlaps` the W0603 list. Each is a satisfiability question
on the valid facts; every example comes from the solver's model and is checked against
the reference evaluator before it is shown. When the solver gives up, E0609 says so.
"""

from __future__ import annotations

from typing import Any, Callable

import z3

from ..diagnostics import Diagnostic
from ..middle import ir
from ..middle.evaluate import Env, requirements_hold
from . import findings
from .smt import SmtSpace, SmtUnknown, codes_of


class _Analysis:
    def __init__(self, policy: ir.Policy, overlaps: bool) -> None:
        self.policy = policy
        self.overlaps = overlaps
        self.diags: list[Diagnostic] = []
        self.space = SmtSpace(policy)
        self.fires: dict[str, list[Any]] = {}

    def run(self) -> list[Diagnostic]:
        try:
            if not self.space.sat():
                return [findings.no_valid_facts(self.policy)]
            for d in self.policy.decisions:
                self._decision(d)
            for inv in self.policy.invariants:
                self._invariant(inv)
        except SmtUnknown:
            span = self.policy.decisions[0].span if self.policy.decisions else self.policy.facts[0].span
            self.diags.append(Diagnostic("E0609", span, "이 정책은 제한 시간 안에 정확히 검사하지 못했습니다",
                                         "조건을 파생값으로 나누어 더 단순하게 쓰세요"))
        return self.diags

    def _example(self, check: Callable[[dict], bool], *formulas) -> tuple[dict | None, str]:
        found = self.space.example(*formulas)
        if found is None:
            return None, ""
        as_json, typed = found
        sentence = self.space.describe(typed)
        try:
            ok = requirements_hold(self.policy, typed) and check(typed)
        except (ArithmeticError, ValueError, LookupError):
            ok = False
        return (as_json, sentence) if ok else (None, "")  # never show an example we cannot stand behind

    def _decision(self, d: ir.Decision) -> None:
        sp = self.space
        conds = [sp.cond(r.cond) for r in d.rules]
        fires: list[Any] = []
        before: list[Any] = []  # negations of the earlier rules (under `first`)
        for i, rule in enumerate(d.rules):
            # where no earlier rule matched: under `unique` a rule inside earlier ones is dead too
            here = z3.And(*before, conds[i]) if d.hit_policy != "all" else conds[i]
            fires.append(here)
            if rule.cond is not None:
                self._rule(d, i, conds, here, before)
            if d.hit_policy != "all":
                before.append(z3.Not(conds[i]))
        self.fires[d.name] = fires
        for rule, region in zip(d.rules, fires):
            for lookup in (x for x in ir.walk(rule.output) if isinstance(x, ir.Lookup)):
                self._lookup(d, rule, lookup, region)
        if d.rules and d.rules[-1].cond is not None and not d.yields_actions and sp.sat(*before):
            example, sentence = self._example(lambda t: self._rule_at(d, t) is None, *before)
            self.diags.append(findings.gap(d, sentence, example))
        if self.overlaps and d.hit_policy == "first":  # one finding per later rule, as checks.py
            for j, later in enumerate(d.rules):
                if later.cond is None:
                    continue
                shadowing = [i for i in range(j) if d.rules[i].output != later.output and sp.sat(fires[i], conds[j])]
                if not shadowing:
                    continue
                first = d.rules[shadowing[0]]
                example, sentence = self._example(
                    lambda t: self._rule_at(d, t) is first and self._holds(later.cond, t), fires[shadowing[0]], conds[j])
                self.diags.append(findings.overlap(d, [d.rules[i] for i in shadowing], later, sentence, example))

    def _rule(self, d: ir.Decision, i: int, conds: list, here, before: list) -> None:
        sp, rule = self.space, d.rules[i]
        if not sp.sat(here):
            if not sp.sat(conds[i]):
                self.diags.append(findings.never_matches(d, rule))
                return
            covering = [d.rules[j] for j in range(i) if d.rules[j].cond is not None and sp.sat(conds[i], conds[j])]
            example, sentence = self._example(lambda t: self._rule_at(d, t) is not rule, conds[i])
            self.diags.append(findings.shadowed(d, rule, covering, sentence, example))
            return
        if d.hit_policy == "unique":
            earlier = [c for c, r in zip(conds[:i], d.rules) if r.cond is not None]
            if earlier and sp.sat(conds[i], z3.Or(*earlier)):
                other = next(r for c, r in zip(conds[:i], d.rules) if r.cond is not None and sp.sat(conds[i], c))
                example, sentence = self._example(
                    lambda t: self._holds(other.cond, t) and self._holds(rule.cond, t), conds[i],
                    sp.cond(other.cond))
                self.diags.append(findings.unique_overlap(d, rule, other, sentence, example))
        if d.hit_policy == "all":
            return
        scope = before if d.hit_policy == "first" else []
        parts = [sp.cond(p) for p in rule.conjuncts]
        for k in range(len(parts)):
            if _presence_test(rule.conjuncts[k]):
                continue  # `x is given`: the guard that lets the rule read x (guards.py), needed even when implied
            others = parts[:k] + parts[k + 1:]
            if sp.sat(*scope, *others, z3.Not(parts[k])):
                continue
            example, sentence = self._example(lambda t: self._rule_at(d, t) is rule, here)
            self.diags.append(findings.implied(d, rule, k, sentence, example))

    def _lookup(self, d: ir.Decision, rule: ir.Rule, lookup: ir.Lookup, region) -> None:
        keys = {k for k, _ in self.policy.const(lookup.map).value}
        key = self.space.value(lookup.key)
        codes = codes_of(self.policy, lookup.key.type.enum)
        missing = [c for i, c in enumerate(codes) if c not in keys and self.space.sat(region, key == i)]
        if not missing:
            return
        example, sentence = self._example(
            lambda t: self._rule_at(d, t) is rule and Env(self.policy, t).eval(lookup.key) not in keys,
            region, key == codes.index(missing[0]))
        self.diags.append(findings.lookup_miss(d, rule, lookup, missing, sentence, example))

    def _invariant(self, inv: ir.Invariant) -> None:
        sp = self.space
        if inv.subject_kind == "always":
            if sp.sat(z3.Not(sp.cond(inv.cond))):
                example, sentence = self._example(lambda t: not self._holds(inv.cond, t), z3.Not(sp.cond(inv.cond)))
                self.diags.append(findings.broken_invariant(self.policy, inv, None, sentence, example))
            return
        happens = []
        for d in self.policy.decisions:
            for rule, region in zip(d.rules, self.fires.get(d.name, [])):
                if self._subject(d, rule, inv):
                    happens.append((d, rule, region))
        allowed = z3.BoolVal(False) if inv.cond is None else sp.cond(inv.cond)
        for d, rule, region in happens:
            if not sp.sat(region, z3.Not(allowed)):
                continue
            example, sentence = self._example(
                lambda t: self._fired(d, rule, t) and (inv.cond is None or not self._holds(inv.cond, t)),
                region, z3.Not(allowed))
            self.diags.append(findings.broken_invariant(self.policy, inv, rule, sentence, example))
            return

    def _subject(self, d: ir.Decision, rule: ir.Rule, inv: ir.Invariant) -> bool:
        if d.yields_actions:
            return inv.subject_kind == "action" and any(c.name == inv.subject for c in rule.output.calls)
        if not d.yields_outcome:
            return False
        outcome = self.policy.outcome(rule.output.value)
        if inv.subject_kind == "discloses":
            return inv.subject in outcome.discloses
        if inv.subject_kind == "action":
            return inv.subject in outcome.actions
        return outcome.name == inv.subject

    # ── the reference evaluator, to stand behind examples ──
    def _holds(self, cond: ir.Expr | None, typed: dict) -> bool:
        """Whether `cond` holds for `typed`; a condition that reads a value these facts
        leave missing (an optional fact, read alone, away from the rule before it that
        checks it) does not hold here, and no example is shown on it."""
        if cond is None:
            return True
        try:
            return bool(Env(self.policy, typed).eval(cond))
        except TypeError:  # None compared: a missing value read
            return False

    def _rule_at(self, d: ir.Decision, typed: dict) -> ir.Rule | None:
        env = Env(self.policy, typed)
        return next((r for r in d.rules if r.cond is None or env.eval(r.cond)), None)

    def _fired(self, d: ir.Decision, rule: ir.Rule, typed: dict) -> bool:
        if d.hit_policy == "all":
            return self._holds(rule.cond, typed)
        return self._rule_at(d, typed) is rule


def _presence_test(e: ir.Expr) -> bool:
    return isinstance(e, ir.Given) or (isinstance(e, ir.Not) and isinstance(e.operand, ir.Given))


def analyze(policy: ir.Policy, overlaps: bool = False) -> list[Diagnostic]:
    return _Analysis(policy, overlaps).run()
