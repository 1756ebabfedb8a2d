"""The reference evaluator: the IR's meaning, written as plainly as possible.

    evaluate(policy, facts) -> {"outcome", "rule", "source", "discloses", "actions",
                                "<decision>": value, "rules": {decision: rule name}}

`facts` are already-typed Python values (enum codes as str, bool, aware datetime,
timedelta, int/Decimal/float); missing optional facts take their defaults. It does no
input validation: the generated module's own validation is tested separately. Used
as the second implementation the generated code is tested against, input by input.
"""

from __future__ import annotations

import operator
from typing import Any, Mapping

from . import ir

_CMP = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
        ">": operator.gt, ">=": operator.ge}


class Env:
    """The facts (defaults filled in), constants and derived values of one input, and
    `eval(expr)` over them. The analysis and the tools evaluate conditions with it too."""
    def __init__(self, policy: ir.Policy, facts: Mapping[str, Any]):
        self.policy = policy
        self.facts = {f.name: facts[f.name] if f.name in facts else f.default for f in policy.facts}
        self.consts = {c.name: c.value for c in policy.consts}
        self.derived: dict[str, Any] = {}
        for d in policy.derived:
            self.derived[d.name] = self.eval(d.expr)

    def eval(self, e: ir.Expr) -> Any:
        if isinstance(e, ir.FactRef):
            return self.facts[e.name]
        if isinstance(e, ir.DerivedRef):
            return self.derived[e.name]
        if isinstance(e, ir.ConstRef):
            return self.consts[e.name]
        if isinstance(e, ir.Value):
            return e.value
        if isinstance(e, ir.Arith):
            left, right = self.eval(e.left), self.eval(e.right)
            return left + right if e.op == "+" else left - right
        if isinstance(e, ir.Cmp):
            return _CMP[e.op](self.eval(e.left), self.eval(e.right))
        if isinstance(e, ir.In):
            found = self.eval(e.item) in self.eval(e.set)
            return not found if e.negated else found
        if isinstance(e, ir.Not):
            return not self.eval(e.operand)
        if isinstance(e, ir.And):
            return all(self.eval(x) for x in e.operands)
        if isinstance(e, ir.Or):
            return any(self.eval(x) for x in e.operands)
        if isinstance(e, ir.Lookup):
            return dict(self.consts[e.map])[self.eval(e.key)]
        if isinstance(e, ir.TupleOf):
            return tuple(self.eval(x) for x in e.items)
        raise TypeError(e)


def requirements_hold(policy: ir.Policy, facts: Mapping[str, Any]) -> bool:
    """Whether decide() takes these (typed) facts: every derived value can be computed (an
    instant past year 9999 cannot) and every `require` holds."""
    try:
        env = Env(policy, facts)
    except (OverflowError, ValueError):
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
            result.update(outcome=value, rule=rule.name, source=f"{policy.source_path}:{rule.line}",
                          discloses=frozenset(outcome.discloses), actions=frozenset(outcome.actions))
        else:
            result[decision.name] = value
    return result
