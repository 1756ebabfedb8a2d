"""regions.py's service over SMT formulas, for the policies the partition cannot cut
(analysis/space.py `partition_for`): the same interface, so `diff`, `doc` and the test
coverage work on every policy. A region is a formula over the facts; non-empty means
satisfiable together with the valid facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import z3

from ..middle import ir
from .smt import SmtSpace, codes_of


@dataclass(frozen=True, eq=False)
class SmtRegion:
    owner: "SmtRegions"
    formula: Any

    def __and__(self, other: "SmtRegion") -> "SmtRegion":
        return SmtRegion(self.owner, z3.And(self.formula, other.formula))

    def __bool__(self) -> bool:
        return self.owner.space.sat(self.formula)

    def _found(self):
        """The region's one example (the solver may pick another each time it is asked:
        `describe` must tell the facts `example` gives)."""
        key = self.formula.get_id()
        if key not in self.owner.examples:
            self.owner.examples[key] = self.owner.space.example(self.formula)
        return self.owner.examples[key]

    def example(self) -> tuple[dict[str, Any], dict[str, Any]]:
        found = self._found()
        if found is None:
            raise ValueError("empty region")
        return found

    def describe(self) -> str:
        found = self._found()
        return "" if found is None else self.owner.space.describe(found[1])

    def split(self, facts: list[str]) -> list["SmtRegion"]:
        parts = [self]
        for fact in facts:
            var = self.owner.space.facts.get(fact)
            if var is None or var.decl.type.kind != "enum":
                continue
            parts = [piece for part in parts for i in range(len(var.decl.values))
                     if (piece := SmtRegion(self.owner, z3.And(part.formula, var.var == i)))]
        return parts


class SmtRegions:
    def __init__(self, policy: ir.Policy) -> None:
        self.policy = policy
        self.space = SmtSpace(policy)
        self.examples: dict[int, Any] = {}

    @classmethod
    def of_versions(cls, old: ir.Policy, new: ir.Policy) -> "SmtRegions":
        """Two versions in one space, as regions.Regions.of_versions puts them."""
        from .regions import _merged

        return cls(_merged(old, new))

    @property
    def everything(self) -> SmtRegion:
        return SmtRegion(self, z3.BoolVal(True))

    def rule_regions(self, decision: ir.Decision | str) -> list[SmtRegion]:
        if isinstance(decision, str):
            decision = self.policy.decisions_by_name[decision]
        out, before = [], []
        for rule in decision.rules:
            cond = self.space.cond(rule.cond)
            out.append(SmtRegion(self, z3.And(*before, cond) if decision.hit_policy == "first" else cond))
            if decision.hit_policy == "first":
                before.append(z3.Not(cond))
        return out

    def where(self, fact: str, code: str) -> SmtRegion:
        f = self.policy.fact(fact)
        return SmtRegion(self, self.space.facts[fact].var == codes_of(self.policy, f.type.enum).index(code))

    def condition(self, cond: ir.Expr | None) -> SmtRegion:
        return SmtRegion(self, self.space.cond(cond))

    def numeric(self, cmp: ir.Cmp) -> bool:
        return cmp.left.type.numeric
