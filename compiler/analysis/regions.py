"""The analysis as a service for the tools: regions of the fact space, without the
decision diagrams behind them.

    regions = Regions(policy)                   ValueError when the space cannot be cut exactly
    regions.rule_regions(decision) -> [Region]  where each rule is the one that decides
    regions.where(fact, code) -> Region         where an enum fact has that value
    region & other, bool(region)                meet, non-empty
    region.example() -> (JSON facts, typed facts)   facts decide() accepts, inside the region
    region.describe() -> str                    the region in the policy's own labels
    region.split(facts) -> [Region]             one piece per combination of those facts' values
    regions.numeric(cmp) -> bool                whether a comparison is on a number, duration or instant axis

`Regions.of_versions(old, new)` puts two versions of a policy (same facts) in one space,
their rules and derived values renamed `old:`/`new:` and their constants written out, so
the partition is exact for both; `policyc diff` walks it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..middle import ir
from .encode import Encoder, fires
from .mdd import FALSE, TRUE
from .space import partition_for


@dataclass(frozen=True)
class Region:
    owner: "Regions"
    node: int

    def __and__(self, other: "Region") -> "Region":
        return Region(self.owner, self.owner.enc.mdd.and_(self.node, other.node))

    def __bool__(self) -> bool:
        return self.node != FALSE

    def _box(self):
        return self.owner.enc.mdd.cube(self.node)

    def example(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(JSON-ready facts, typed facts) inside the region (empty region: ValueError)."""
        box = self._box()
        if box is None:
            raise ValueError("empty region")
        return self.owner.enc.example(box)

    def describe(self) -> str:
        box = self._box()
        return "" if box is None else self.owner.enc.describe(box)

    def split(self, facts: list[str]) -> list["Region"]:
        """The non-empty pieces of this region, one per combination of the enum facts'
        values (a fact no condition tests adds no pieces)."""
        enc = self.owner.enc
        parts = [self.node]
        for fact in facts:
            var = enc.space.index.get(fact)
            if var is None:
                continue
            parts = [piece for part in parts for v in range(len(enc.space.dims[var].values))
                     if (piece := enc.mdd.and_(part, enc.mdd.var_in(var, [v]))) != FALSE]
        return [Region(self.owner, p) for p in parts]


class Regions:
    def __new__(cls, policy: ir.Policy):
        """The partition's regions where it is exact, else the same service over SMT."""
        space = partition_for(policy)
        if space is None:
            from .smt_regions import SmtRegions  # z3 only for the policies that need it
            return SmtRegions(policy)
        regions = super().__new__(cls)
        regions.space = space  # built once, here
        return regions

    def __init__(self, policy: ir.Policy) -> None:
        self.policy = policy
        self.enc = Encoder(self.space)

    @classmethod
    def of_versions(cls, old: ir.Policy, new: ir.Policy) -> "Regions":
        return cls(_merged(old, new))

    @property
    def everything(self) -> Region:
        return Region(self, TRUE)

    def rule_regions(self, decision: ir.Decision | str) -> list[Region]:
        """For each rule of a decision (or of the merged decision `old:name`/`new:name`),
        the valid facts on which it is the one that decides."""
        if isinstance(decision, str):
            decision = self.policy.decisions_by_name[decision]
        return [Region(self, node) for node in fires(self.enc, decision)]

    def where(self, fact: str, code: str) -> Region:
        var = self.space.index.get(fact)
        if var is None:
            return self.everything
        return Region(self, self.enc.mdd.var_in(var, [self.space.dims[var].values.index(code)]))

    def condition(self, cond: ir.Expr | None) -> Region:
        return self.everything if cond is None else Region(self, self.enc.cond(cond))

    def numeric(self, cmp: ir.Cmp) -> bool:
        found = self.space.numeric(cmp)
        return found is not None and found[0] is not None


def _tagged(e: ir.Expr | None, tag: str, policy: ir.Policy) -> ir.Expr | None:
    """`e` with constants written out and derived values renamed `tag:name`, so two
    versions' values of one name stay apart. Renamed, not written out: a chain of lets
    that doubles a value each step would be exponentially long written out."""
    if e is None:
        return None

    def rename(x: ir.Expr) -> ir.Expr | None:
        if isinstance(x, ir.ConstRef):
            return ir.Value(policy.const(x.name).value, x.type, x.span)
        if isinstance(x, ir.DerivedRef):
            return dataclasses.replace(x, name=f"{tag}:{x.name}")
        return None

    return ir.transform(e, rename)


def _merged(old: ir.Policy, new: ir.Policy) -> ir.Policy:
    decisions, derived = [], []
    for tag, p in (("old", old), ("new", new)):
        derived += [dataclasses.replace(d, name=f"{tag}:{d.name}", expr=_tagged(d.expr, tag, p)) for d in p.derived]
        for d in p.decisions:
            rules = tuple(dataclasses.replace(r, name=f"{tag}:{r.name}", cond=_tagged(r.cond, tag, p)) for r in d.rules)
            decisions.append(dataclasses.replace(d, name=f"{tag}:{d.name}", rules=rules))
    requires = tuple(dataclasses.replace(r, cond=_tagged(r.cond, tag, p))
                     for tag, p in (("old", old), ("new", new)) for r in p.requires)
    # the constants stay only so examples show instants in the policy's own offset
    return dataclasses.replace(new, derived=tuple(derived), requires=requires, decisions=tuple(decisions),
                               invariants=())
