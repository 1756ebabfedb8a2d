"""Static analysis of a checked policy: exact, over the partition of its fact space.

    analyze(policy, overlaps=False) -> [Diagnostic]

For each decision, walking its rules in order with R = the valid facts no earlier
rule took:
  - a rule whose condition meets nothing of R never fires (E0601; the earlier rules
    that share facts with it are named);
  - under `unique`, a rule that shares facts with an earlier one is an error (E0602);
  - a part of a rule's `and` that is true wherever the rest holds inside R is implied
    (W0604);
  - without `otherwise`, what is left of R at the end is a gap (E0400);
  - a table lookup `M[key]` in what a rule yields misses when some value of `key` that M
    lacks can reach that rule (E0307).
Then every invariant is proven over all regions, or refuted with the facts and the rule
that breaks it (E0606). `overlaps=True` lists, under `first`, where a later rule with
another result also matches (W0603). Every finding about a region carries an example:
facts that decide() accepts, checked against the reference evaluator before it is shown.
"""

from __future__ import annotations

from typing import Any

from ..diagnostics import Diagnostic
from ..middle import ir
from ..middle.evaluate import Env, requirements_hold
from . import findings
from .encode import Encoder
from .mdd import FALSE, TRUE
from .space import Space, coupled, partition_for
from .table import TableAnalysis, meet


class _Analysis:
    def __init__(self, policy: ir.Policy, overlaps: bool, space: Space | None = None) -> None:
        self.policy = policy
        self.overlaps = overlaps
        self.diags: list[Diagnostic] = []
        self.space = space if space is not None else Space(policy)
        if self.space.problem:  # partition_for sends such a policy to the SMT analysis
            raise ValueError(self.space.problem)
        self.enc: Encoder | None = None
        self.fires: dict[str, list[int]] = {}
        self._index: dict[str, list[list[ir.Rule]]] = {}
        self._position: dict[str, dict[int, int]] = {}
        self.tables: dict[str, TableAnalysis] = {}  # the long decisions, analysed over their boxes (table.py)

    def run(self) -> list[Diagnostic]:
        self.enc = Encoder(self.space)
        if self.enc.valid == FALSE:
            self.diags.append(findings.no_valid_facts(self.policy))
            return self.diags
        for decision in self.policy.decisions:
            table = TableAnalysis.for_decision(self, decision)
            if table is None:
                self._decision(decision)
            else:
                self.tables[decision.name] = table
                self._table_decision(decision, table)
        for inv in self.policy.invariants:
            self._invariant(inv)
        return self.diags

    # ── examples ──
    def _example(self, region: int, check) -> tuple[dict | None, str]:
        """JSON facts inside `region` (and the sentence for it), verified by `check(typed)`."""
        box = self.enc.mdd.cube(region)
        if box is None:
            return None, ""
        as_json, typed = self.enc.example(box)
        sentence = self.enc.describe(box)
        if not requirements_hold(self.policy, typed) or not check(typed):
            return None, sentence  # never show an example we cannot stand behind
        return as_json, sentence

    def _rule_at(self, decision: ir.Decision, typed: dict) -> ir.Rule | None:
        """The rule that fires for `typed`, by the reference evaluator, trying only the
        rules whose box admits the value of the first variable."""
        env = Env(self.policy, typed)
        for rule in self._candidates(decision, typed):
            if rule.cond is None or env.eval(rule.cond):
                return rule
        return None

    def _candidates(self, decision: ir.Decision, typed: dict):
        index = self._index.get(decision.name)
        dim = self.space.dims[0] if self.space.dims else None
        if index is None or dim is None or dim.kind not in ("enum", "bool") or dim.name not in typed:
            return decision.rules
        return index[dim.values.index(typed[dim.name])]

    def _build_index(self, d: ir.Decision, boxes) -> None:
        if not self.space.dims or self.space.dims[0].kind not in ("enum", "bool"):
            return
        size = len(self.space.dims[0].values)
        buckets: list[list[ir.Rule]] = [[] for _ in range(size)]
        for rule, box in zip(d.rules, boxes):
            for v in box.get(0, range(size)):
                buckets[v].append(rule)
        self._index[d.name] = buckets

    # ── decisions ──
    def _decision(self, d: ir.Decision) -> None:
        m, enc = self.enc.mdd, self.enc
        lookups = [[x for x in ir.walk(rule.output) if isinstance(x, ir.Lookup)] for rule in d.rules]
        need_fires = self.overlaps or (d.yields_outcome and bool(self.policy.invariants)) or any(lookups)
        remaining = enc.valid  # valid facts no earlier rule took
        taken = FALSE  # facts some earlier rule matches (for unique)
        conds: list[int] = []
        fires: list[int] = []
        boxes = [enc.box(rule.cond) for rule in d.rules]
        self._build_index(d, boxes)
        self._position[d.name] = {id(r): j for j, r in enumerate(d.rules)}
        width = m.sizes[0] if m.sizes else 0
        for i, rule in enumerate(d.rules):
            if rule.cond is None:
                conds.append(TRUE)
                if need_fires:
                    fires.append(remaining)
                continue
            # A rule that fixes the first (most-tested) variable to a few values is checked
            # value by value on the cofactors of its parts, so no wide node is combined whole.
            values = sorted(boxes[i][0]) if 0 in boxes[i] and len(boxes[i][0]) * 4 <= width else None
            if values is None:
                cond = enc.cond(rule.cond)
                views = [(cond, remaining)]
            else:
                parts = [enc.cond(p) for p in (rule.cond.operands if isinstance(rule.cond, ir.And) else (rule.cond,))]
                views = [(m.all_of(m.cofactor(x, 0, v) for x in parts), m.cofactor(remaining, 0, v)) for v in values]
                cond = None  # built only when a finding or an invariant needs it whole
            if need_fires or self.overlaps or d.hit_policy == "unique":
                cond = enc.cond(rule.cond)
            conds.append(cond)
            if need_fires:
                fires.append(m.and_(cond, remaining))
            if not any(m.meets(c, r) for c, r in views):
                self._dead(d, i, enc.cond(rule.cond), boxes)
            else:
                if d.hit_policy == "unique":
                    self._unique_overlap(d, i, cond, taken)
                # under `unique` rules read on their own: implied only by their own parts
                self._implied(d, i, enc.valid if d.hit_policy == "unique" else remaining)
            if values is None:
                remaining = m.and_not(remaining, cond)
            else:
                remaining = m.with_children(remaining, 0, {v: m.and_not(r, c) for v, (c, r) in zip(values, views)})
            if d.hit_policy == "unique":
                taken = m.or_(taken, cond)
        self.fires[d.name] = fires
        for rule, found, region in zip(d.rules, lookups, fires):
            for lookup in found:
                self._lookup(d, rule, lookup, region)
        if d.rules and d.rules[-1].cond is not None and remaining != FALSE:
            example, sentence = self._example(remaining, lambda typed: not _any_rule(self.policy, d, typed))
            self.diags.append(findings.gap(d, sentence, example))
        if self.overlaps and d.hit_policy == "first":
            self._first_overlaps(d, conds, fires)

    def _lookup(self, d: ir.Decision, rule: ir.Rule, lookup: ir.Lookup, region: int) -> None:
        """E0307: the values of the lookup's key that reach this rule and the table lacks."""
        m = self.enc.mdd
        table = self.policy.const(lookup.map)
        keys = {k for k, _ in table.value}
        var = self.space.index.get(lookup.key.name)
        if var is None:  # the key fact is tested nowhere: every value reaches the rule
            codes = self.policy.fact(lookup.key.name).codes
            missing = [c for c in codes if c not in keys] if region != FALSE else []
            reach = {c: region for c in missing}
        else:
            values = self.space.dims[var].values
            reach = {c: m.and_(region, m.var_in(var, [i])) for i, c in enumerate(values) if c not in keys}
            reach = {c: r for c, r in reach.items() if r != FALSE}
            missing = list(reach)
        if not missing:
            return
        example, sentence = self._example(reach[missing[0]], lambda typed: self._rule_at(d, typed) is rule
                                          and typed[lookup.key.name] not in keys)
        self.diags.append(findings.lookup_miss(d, rule, lookup, missing, sentence, example))

    def _dead(self, d: ir.Decision, i: int, cond: int, boxes) -> None:
        m = self.enc.mdd
        rule = d.rules[i]
        reachable = m.and_(cond, self.enc.valid)
        if reachable == FALSE:
            self.diags.append(findings.never_matches(d, rule))
            return
        mine = boxes[i]
        position = self._position[d.name]
        index = self._index.get(d.name)
        if index is not None:
            pool = sorted({position[id(r)] for v in mine.get(0, range(len(index))) for r in index[v]})
        else:
            pool = range(len(d.rules))
        covering = [d.rules[j] for j in pool
                    if j < i and d.rules[j].cond is not None and _boxes_meet(mine, boxes[j])
                    and m.meets(reachable, self.enc.cond(d.rules[j].cond))]
        example, sentence = self._example(reachable, lambda typed: self._rule_at(d, typed) is not rule)
        self.diags.append(findings.shadowed(d, rule, covering, sentence, example))

    def _unique_overlap(self, d: ir.Decision, i: int, cond: int, taken: int) -> None:
        m = self.enc.mdd
        if not m.meets(cond, m.and_(taken, self.enc.valid)):
            return
        both = m.and_(m.and_(cond, taken), self.enc.valid)
        rule = d.rules[i]
        box = m.cube(both)
        _, typed = self.enc.example(box)
        other = next((r for r in d.rules[:i] if r.cond is not None and _holds(self.policy, r.cond, typed)), None)
        example, sentence = self._example(both, lambda t: other is not None and _holds(self.policy, rule.cond, t))
        self.diags.append(findings.unique_overlap(d, rule, other, sentence, example))

    def _implied(self, d: ir.Decision, i: int, remaining: int) -> None:
        m, enc = self.enc.mdd, self.enc
        rule = d.rules[i]
        parts = list(rule.conjuncts)
        nodes = [enc.cond(p) for p in parts]
        firsts = [enc.box(p).get(0) for p in parts]  # each part's own limit on the first variable
        width = m.sizes[0] if m.sizes else 0
        for k in range(len(parts)):
            others = nodes[:k] + nodes[k + 1:]
            # where the rest allows the first variable: the only values that matter here
            limit = None
            for j, first in enumerate(firsts):
                if j != k and first is not None:
                    limit = first if limit is None else limit & first
            if limit is not None and len(limit) * 4 <= width:
                broken = any(m.meets_not(m.all_of(m.cofactor(x, 0, v) for x in others),
                                         m.cofactor(nodes[k], 0, v), m.cofactor(remaining, 0, v))
                             for v in sorted(limit))
            else:
                broken = m.meets_not(m.all_of(others), nodes[k], remaining)
            if broken:
                continue
            rest = m.all_of(others)
            fires = m.and_(m.and_(rest, nodes[k]), remaining)
            example, sentence = self._example(fires, lambda typed: self._rule_at(d, typed) is rule)
            self.diags.append(findings.implied(d, rule, k, sentence, example))

    def _first_overlaps(self, d: ir.Decision, conds: list[int], fires: list[int]) -> None:
        """One finding per rule that earlier rules with another result take facts from,
        naming them all (the example: where the first of them takes it). The boxes rule out
        most pairs before any diagram is combined: a staircase of 1,000 rules has 450,000
        such pairs, once one finding each."""
        m = self.enc.mdd
        boxes = [self.enc.box(r.cond) for r in d.rules]
        for j, later in enumerate(d.rules):
            if later.cond is None:
                continue
            shadowing, both = [], FALSE
            for i in range(j):
                earlier = d.rules[i]
                if earlier.output == later.output or _disjoint(boxes[i], boxes[j]):
                    continue
                meet = m.and_(fires[i], conds[j])
                if meet != FALSE:
                    if not shadowing:
                        both = meet
                    shadowing.append(earlier)
            if not shadowing:
                continue
            first = shadowing[0]
            example, sentence = self._example(both, lambda t: self._rule_at(d, t) is first
                                              and _holds(self.policy, later.cond, t))
            self.diags.append(findings.overlap(d, shadowing, later, sentence, example))

    # ── long decisions (table.py: the same findings, asked of one box at a time) ──
    def _table_decision(self, d: ir.Decision, t: TableAnalysis) -> None:
        valid = self.enc.valid
        witnesses: dict[int, tuple] = {}  # rule -> a point where it decides, and its box
        for i, rule in enumerate(d.rules):
            reachable = [b for b in t.rule_boxes[i] if t.meets(valid, b)]
            if rule.cond is None:
                found = t.uncovered({}, i, valid)
                if found is not None:
                    witnesses[i] = found
                continue
            if not reachable:
                self.diags.append(findings.never_matches(d, rule))
                continue
            found = next((w for b in reachable if (w := t.uncovered(b, i, valid)) is not None), None)
            if found is None:
                self._table_dead(d, t, i, reachable)
                continue
            witnesses[i] = found
            if d.hit_policy == "unique":
                self._table_unique(d, t, i, reachable)
        # the rest asks of regions beside the rules: a later rule's free point often answers
        t.remember(witnesses)
        for i in sorted(witnesses):
            if d.rules[i].cond is not None:
                self._table_implied(d, t, i, witnesses[i])
        for i, rule in enumerate(d.rules):
            for lookup in (x for x in ir.walk(rule.output) if isinstance(x, ir.Lookup)):
                if i in witnesses:
                    self._table_lookup(d, t, i, lookup, witnesses[i])
        if d.rules and d.rules[-1].cond is not None:
            found = t.uncovered({}, len(d.rules), valid)
            if found is not None:
                example, sentence = self._point_example(t, found, lambda typed: not _any_rule(self.policy, d, typed))
                self.diags.append(findings.gap(d, sentence, example))

    def _point_example(self, t: TableAnalysis, found, check) -> tuple[dict | None, str]:
        """JSON facts at a point (and the sentence for its box), verified by `check(typed)`."""
        point, box = found
        at, shown = t.describe_box(box, point)
        as_json, typed = self.enc.example(at)
        sentence = self.enc.describe(shown)
        if not requirements_hold(self.policy, typed) or not check(typed):
            return None, sentence
        return as_json, sentence

    def _table_rule_at(self, t: TableAnalysis, point, typed: dict) -> ir.Rule | None:
        """The rule the reference evaluator fires for `typed`, trying only the rules whose
        boxes hold at its point."""
        bits, at = t.table.candidates(point)
        env = Env(self.policy, typed)
        tried = set()
        while bits:
            top = bits.bit_length() - 1
            bits ^= 1 << top
            i = t.rule_of[at[top]]
            if i not in tried:
                tried.add(i)
                rule = t.d.rules[i]
                if rule.cond is None or env.eval(rule.cond):
                    return rule
        return None

    def _table_dead(self, d: ir.Decision, t: TableAnalysis, i: int, reachable) -> None:
        valid, rule = self.enc.valid, d.rules[i]
        covering = sorted({t.rule_of[e] for b in reachable for e in t.earlier(b, i)
                           if valid == TRUE or t.meets(valid, meet(t.entries[e], b))})
        point = t.pick(valid, reachable[0])
        example, sentence = self._point_example(
            t, (point, reachable[0]), lambda typed: self._table_rule_at(t, point, typed) is not rule)
        self.diags.append(findings.shadowed(d, rule, [d.rules[j] for j in covering], sentence, example))

    def _table_unique(self, d: ir.Decision, t: TableAnalysis, i: int, reachable) -> None:
        valid, rule = self.enc.valid, d.rules[i]
        for b in reachable:
            for e in t.earlier(b, i):
                both = meet(t.entries[e], b)
                if not t.meets(valid, both):
                    continue
                point = t.pick(valid, both)
                _, typed = self.enc.example(t.describe_box(both, point)[0])
                other = next((r for r in d.rules[:i] if r.cond is not None and _holds(self.policy, r.cond, typed)),
                             None)
                example, sentence = self._point_example(
                    t, (point, both), lambda x: other is not None and _holds(self.policy, rule.cond, x))
                self.diags.append(findings.unique_overlap(d, rule, other, sentence, example))
                return

    def _table_implied(self, d: ir.Decision, t: TableAnalysis, i: int, witness) -> None:
        valid, rule = self.enc.valid, d.rules[i]
        before = i if d.hit_policy == "first" else 0  # under `unique` a rule reads on its own
        parts = t.part_boxes[i]
        for k in range(len(parts)):
            others: list = [{}]
            for j, (inside, _) in enumerate(parts):
                if j != k:
                    others = [m for a in others for b in inside if (m := meet(a, b)) is not None]
            regions = [m for a in others for b in parts[k][1] if (m := meet(a, b)) is not None]
            # from the rule's own free point, one part moved out: most earlier boxes stay away
            if any(t.uncovered(q, before, valid, near=witness[0]) is not None for q in regions):
                continue
            point = witness[0]
            example, sentence = self._point_example(
                t, witness, lambda typed: self._table_rule_at(t, point, typed) is rule)
            self.diags.append(findings.implied(d, rule, k, sentence, example))

    def _table_lookup(self, d: ir.Decision, t: TableAnalysis, i: int, lookup: ir.Lookup, witness) -> None:
        """E0307 for a long decision: the key values the table lacks that reach rule i."""
        rule, valid = d.rules[i], self.enc.valid
        keys = {k for k, _ in self.policy.const(lookup.map).value}
        var = self.space.index.get(lookup.key.name)
        reach = {}
        if var is None:  # the key fact is tested nowhere: every value reaches a rule that decides
            reach = {c: witness for c in self.policy.fact(lookup.key.name).codes if c not in keys}
        else:
            for v, c in enumerate(self.space.dims[var].values):
                if c in keys:
                    continue
                found = next((w for b in t.rule_boxes[i] if (q := meet(b, {var: frozenset((v,))})) is not None
                              and (w := t.uncovered(q, i, valid)) is not None), None)
                if found is not None:
                    reach[c] = found
        if not reach:
            return
        missing = list(reach)
        point = reach[missing[0]][0]
        example, sentence = self._point_example(
            t, reach[missing[0]], lambda typed: self._table_rule_at(t, point, typed) is rule
            and typed[lookup.key.name] not in keys)
        self.diags.append(findings.lookup_miss(d, rule, lookup, missing, sentence, example))

    def _table_invariant(self, inv: ir.Invariant, t: TableAnalysis) -> None:
        m = self.enc.mdd
        allowed = FALSE if inv.cond is None else self.enc.cond(inv.cond)
        outside = m.and_not(self.enc.valid, allowed)
        for i, rule in enumerate(t.d.rules):
            if not _subject_of(self.policy, rule, inv):
                continue
            found = next((w for b in t.rule_boxes[i] if (w := t.uncovered(b, i, outside)) is not None), None)
            if found is None:
                continue
            point = found[0]
            example, sentence = self._point_example(
                t, found, lambda typed: self._table_rule_at(t, point, typed) is rule
                and (inv.cond is None or not _holds(self.policy, inv.cond, typed)))
            self.diags.append(findings.broken_invariant(self.policy, inv, rule, sentence, example))
            return

    # ── invariants ──
    def _invariant(self, inv: ir.Invariant) -> None:
        main = self.policy.main
        m = self.enc.mdd
        if inv.subject_kind != "always" and main is not None and main.name in self.tables:
            self._table_invariant(inv, self.tables[main.name])
            return
        if inv.subject_kind == "always":
            broken = m.and_not(self.enc.valid, self.enc.cond(inv.cond))
            if broken != FALSE:
                example, sentence = self._example(broken, lambda t: not _holds(self.policy, inv.cond, t))
                self.diags.append(findings.broken_invariant(self.policy, inv, None, sentence, example))
            return
        if main is None:
            return
        happens = FALSE
        for rule, fires in zip(main.rules, self.fires.get(main.name, [])):
            if _subject_of(self.policy, rule, inv):
                happens = m.or_(happens, fires)
        allowed = FALSE if inv.cond is None else self.enc.cond(inv.cond)
        broken = m.and_not(happens, allowed)
        if broken == FALSE:
            return
        box = m.cube(broken)
        _, typed = self.enc.example(box)
        culprit = self._rule_at(main, typed)
        example, sentence = self._example(
            broken, lambda t: self._rule_at(main, t) is not None and _subject_of(self.policy, self._rule_at(main, t), inv)
            and (inv.cond is None or not _holds(self.policy, inv.cond, t)))
        self.diags.append(findings.broken_invariant(self.policy, inv, culprit, sentence, example))


def _boxes_meet(a: dict[int, frozenset[int]], b: dict[int, frozenset[int]]) -> bool:
    return all(a[var] & b[var] for var in a.keys() & b.keys())


def _subject_of(policy: ir.Policy, rule: ir.Rule, inv: ir.Invariant) -> bool:
    outcome = policy.outcome(rule.output.value)
    if inv.subject_kind == "discloses":
        return inv.subject in outcome.discloses
    if inv.subject_kind == "action":
        return inv.subject in outcome.actions
    return outcome.name == inv.subject


def _holds(policy: ir.Policy, cond: ir.Expr, typed: dict[str, Any]) -> bool:
    return bool(Env(policy, typed).eval(cond))


def _any_rule(policy: ir.Policy, d: ir.Decision, typed: dict[str, Any]) -> bool:
    return any(r.cond is None or _holds(policy, r.cond, typed) for r in d.rules)


def analyze(policy: ir.Policy, overlaps: bool = False) -> list[Diagnostic]:
    """The partition analysis where it is exact, else the SMT one (same findings)."""
    space = partition_for(policy)
    if space is None:
        from . import smt_checks  # z3 is imported only for the policies that need it
        return smt_checks.analyze(policy, overlaps)
    found = _Analysis(policy, overlaps, space).run()
    # pieces of axes that share a fact may hold no value decide() takes: a finding there may
    # be false, so the solver confirms the partition's findings (a clean result stands)
    if found and coupled(space):
        from . import smt_checks

        exact = smt_checks.analyze(policy, overlaps)
        if findings.keys(exact) != findings.keys(found) and "E0609" not in {d.code for d in exact}:
            return exact
    return found


def _disjoint(a: dict[int, frozenset[int]], b: dict[int, frozenset[int]]) -> bool:
    """Whether two rules' boxes (encode.box: over-approximations) share no value of some variable."""
    return any(var in b and values.isdisjoint(b[var]) for var, values in a.items())
