"""The reference evaluator: the IR's meaning, written as plainly as possible.

    evaluate(policy, facts) -> {"outcome", "rule", "source", "discloses", "actions",
                                "<decision>": value, "rules": {decision: rule name}}

`facts` are already-typed Python values (enum codes as str, bool, aware datetime,
timedelta, int/Decimal); missing optional facts take their defaults. It does no
input validation: the generated module's own validation is tested separately. Used
as the second implementation the generated code is tested against, input by input.
"""

from __future__ import annotations

import operator
from typing import Any, Mapping

from ..runtime.support import NUMBERS, check_number
from . import ir

_CMP = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
        ">": operator.gt, ">=": operator.ge}


class Env(ir.Visitor):
    """The facts (defaults filled in), constants and derived values of one input, and
    `eval(expr)` over them. The analysis and the tools evaluate conditions with it too."""

    def __init__(self, policy: ir.Policy, facts: Mapping[str, Any]):
        self.policy = policy
        self.facts = {f.name: facts[f.name] if f.name in facts else f.default for f in policy.facts}
        self.consts = {c.name: c.value for c in policy.consts}
        self.derived: dict[str, Any] = {}
        for d in policy.derived:
            self.derived[d.name] = self.eval(d.expr)

    eval = ir.Visitor.visit

    def visit_FactRef(self, e: ir.FactRef) -> Any:
        return self.facts[e.name]

    def visit_DerivedRef(self, e: ir.DerivedRef) -> Any:
        return self.derived[e.name]

    def visit_ConstRef(self, e: ir.ConstRef) -> Any:
        return self.consts[e.name]

    def visit_Value(self, e: ir.Value) -> Any:
        return e.value

    def visit_Arith(self, e: ir.Arith) -> Any:
        left, right = self.eval(e.left), self.eval(e.right)
        if e.type.kind == "number":  # exactly, as decide() does
            return NUMBERS.add(left, right) if e.op == "+" else NUMBERS.subtract(left, right)
        return left + right if e.op == "+" else left - right

    def visit_Cmp(self, e: ir.Cmp) -> bool:
        return _CMP[e.op](self.eval(e.left), self.eval(e.right))

    def visit_In(self, e: ir.In) -> bool:
        found = self.eval(e.item) in self.eval(e.set)
        return not found if e.negated else found

    def visit_Not(self, e: ir.Not) -> bool:
        return not self.eval(e.operand)

    def visit_And(self, e: ir.And) -> bool:
        return all(self.eval(x) for x in e.operands)

    def visit_Or(self, e: ir.Or) -> bool:
        return any(self.eval(x) for x in e.operands)

    def visit_Lookup(self, e: ir.Lookup) -> Any:
        return dict(self.consts[e.map])[self.eval(e.key)]

    def visit_TupleOf(self, e: ir.TupleOf) -> tuple:
        return tuple(self.eval(x) for x in e.items)


def requirements_hold(policy: ir.Policy, facts: Mapping[str, Any]) -> bool:
    """Whether decide() takes these (typed) facts: each number is one it accepts (under
    10**15, at most 9 places), every derived value can be computed (an instant past year
    9999 cannot) and every `require` holds."""
    try:
        for f in policy.facts:
            if f.type.kind == "number" and f.name in facts:
                check_number(f.name, facts[f.name])
        env = Env(policy, facts)
    except (OverflowError, ValueError):  # PolicyInputError is a ValueError
        return False
    return all(env.eval(r.cond) for r in policy.requires)


def evaluate(policy: ir.Policy, facts: Mapping[str, Any]) -> dict[str, Any]:
    env = Env(policy, facts)
    result: dict[str, Any] = {"rules": {}}
    for decision in policy.decisions:
        rule = next((r for r in decision.rules if r.cond is None or env.eval(r.cond)), None)
        if rule is None:
            raise LookupError(f"no rule of decision {decision.name} matches")
        result["rules"][decision.name] = rule.name
        value = env.eval(rule.output)
        if decision.yields_outcome:
            outcome = policy.outcome(value)
            result.update(outcome=value, rule=rule.name, source=policy.source_of(rule),
                          discloses=frozenset(outcome.discloses), actions=frozenset(outcome.actions))
        else:
            result[decision.name] = value
    return result
