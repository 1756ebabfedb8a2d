"""`policyc diff OLD NEW`: where two versions of a policy decide differently.

    diff_policies(old, new, old_module, new_module) -> [Change]

Both versions' conditions (constants and derived values written out) go into one
fact space, so its partition is exact for both. For every pair of rules (one old, one
new) whose regions meet, the outcome, disclosures, actions, value decisions and the
rendered reply are compared on facts from that region; each difference comes with an
example and a sentence in the policy's labels. A region where the new version discloses
something the old did not is a widening.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass
from typing import Any

from ..analysis.regions import Region, Regions
from ..middle import ir
from ..middle.evaluate import requirements_hold
from ..middle.values import value_text
from .. import jsontext
from ..korean import quoted


@dataclass
class Side:
    outcome: str | None
    rule: str
    source: str
    discloses: list[str]
    actions: list[str]
    values: dict[str, Any]
    reply: str | None


@dataclass
class Change:
    kind: str  # "outcome" | "discloses" | "actions" | "value" | "reply"
    widens: list[str]  # values the new version discloses here and the old did not
    situation: str
    example: dict
    before: Side
    after: Side
    absent: tuple[str, ...] = ()  # optional facts the example leaves out (their default changed)

    @property
    def key(self):
        return (self.before.outcome, self.after.outcome, tuple(self.widens), self.kind,
                self.before.rule, self.after.rule, self.absent)


def facts_differ(old: ir.Policy, new: ir.Policy) -> list[str]:
    """What keeps two versions from being compared region by region (facts changed)."""
    problems = []
    o = {f.name: f for f in old.facts}
    n = {f.name: f for f in new.facts}
    for name in sorted(o.keys() - n.keys()):
        problems.append(f"사실 {quoted(name, '이/가')} 없어졌습니다")
    for name in sorted(n.keys() - o.keys()):
        problems.append(f"사실 {quoted(name, '이/가')} 새로 생겼습니다")
    if old.zone_offset != new.zone_offset:  # each version reads calendars in its own zone
        problems.append(f"시간대(zone)가 바뀌었습니다: {old.zone or 'UTC'} → {new.zone or 'UTC'}")
    for name in sorted(o.keys() & n.keys()):
        if o[name].type != dataclasses.replace(n[name].type, enum=o[name].type.enum) or o[name].codes != n[name].codes:
            problems.append(f"사실 `{name}` 의 종류나 값 목록이 바뀌었습니다")
        elif o[name].type.kind == "list" and (o[name].max_items != n[name].max_items or _record_shape(
                old, o[name].type.item) != _record_shape(new, n[name].type.item)):
            problems.append(f"목록 사실 `{name}` 의 항목(필드, 값 목록, 최대 개수)이 바뀌었습니다")
        elif (o[name].has_default or o[name].optional) and not (n[name].has_default or n[name].optional):
            problems.append(f"사실 {quoted(name, '을/를')} 이제 꼭 주어야 합니다 (전에는 빼도 되었습니다): "
                            "빼고 보내는 앱의 요청은 새 정책이 거절합니다")
        elif o[name].optional != n[name].optional:
            problems.append(f"사실 `{name}` 이 빠졌을 때의 뜻이 바뀌었습니다 (optional ↔ 기본값)")
    return problems


def _record_shape(policy: ir.Policy, record: str) -> tuple:
    """What an app must send for one item: each field's name, kind, values, and whether it
    may be left out (and as what)."""
    return tuple((f.name, f.type.kind, f.codes, f.optional, f.has_default, repr(f.default))
                 for f in policy.records_by_name[record].fields)


def sample_context(policy: ir.Policy) -> dict[str, Any]:
    samples = {"phone": "010-1234-5678", "number": 10000}
    return {c.name: samples.get(c.kind, f"[{c.label}]") for c in policy.contexts}


def _side(policy: ir.Policy, module, typed: dict) -> Side:
    d = module.decide(typed)
    values = {dec.name: getattr(d, dec.name) for dec in policy.decisions if dec.yields_value}
    reply = None
    if policy.main is not None:
        try:
            reply = module.render(d, sample_context(policy))
        except module.PolicyInputError:
            reply = None
    return Side(d.outcome if policy.main else None, d.rule, d.source, sorted(d.discloses), sorted(d.actions),
                values, reply)


def diff_policies(old: ir.Policy, new: ir.Policy, old_module, new_module) -> list[Change]:
    """Every kind of difference, with facts given; then, for each set of optional facts
    whose default changed, with those facts left out (the app relies on the default)."""
    changes: dict[tuple, Change] = {}
    _walk(old, new, old_module, new_module, (), changes)  # ValueError when a region has no valid example
    changed = changed_defaults(old, new)
    subsets = [c for k in range(1, len(changed) + 1) for c in itertools.combinations(changed, k)]
    if len(changed) > 4:  # 2**n walks: each default alone, and all of them left out
        subsets = [(name,) for name in changed] + [tuple(changed)]
    for absent in subsets:
        _walk(_defaulted(old, absent), _defaulted(new, absent), old_module, new_module, absent, changes)
    return sorted(changes.values(), key=lambda c: (not c.widens, c.kind != "outcome", str(c.key)))


def changed_defaults(old: ir.Policy, new: ir.Policy) -> list[str]:
    """Optional facts, in both versions, whose default value differs."""
    before = {f.name: f for f in old.facts}
    return [f.name for f in new.facts if f.has_default and f.name in before and before[f.name].has_default
            and repr(before[f.name].default) != repr(f.default)]  # 1.50 → 1.5 prints differently in replies


def _defaulted(policy: ir.Policy, absent: tuple[str, ...]) -> ir.Policy:
    """The policy as it decides when the facts in `absent` are left out: each written as
    its default value."""
    facts = {f.name: f for f in policy.facts if f.name in absent}

    def put(x: ir.Expr) -> ir.Expr | None:
        if isinstance(x, ir.FactRef) and x.name in facts:
            return ir.Value(facts[x.name].default, x.type, x.span)
        return None

    def written(e: ir.Expr | None) -> ir.Expr | None:
        return None if e is None else ir.transform(e, put)

    return dataclasses.replace(
        policy,
        derived=tuple(dataclasses.replace(d, expr=written(d.expr)) for d in policy.derived),
        requires=tuple(dataclasses.replace(r, cond=written(r.cond)) for r in policy.requires),
        decisions=tuple(dataclasses.replace(d, rules=tuple(dataclasses.replace(r, cond=written(r.cond),
                                                                                 output=written(r.output))
                                                           for r in d.rules)) for d in policy.decisions))


def _left_out(before: ir.Fact, after: ir.Fact) -> str:
    """`회원: 주지 않음 (기본값 아니오 → 예)`"""
    def shown(fact: ir.Fact) -> str:
        labels = {v.code: v.label for v in fact.values}
        return labels.get(fact.default, value_text(fact.default))
    return f"{after.label}: 주지 않음 (기본값 {shown(before)} → {shown(after)})"


def _walk(old: ir.Policy, new: ir.Policy, old_module, new_module, absent: tuple[str, ...],
          changes: dict[tuple, Change], solver: bool = False) -> None:
    """Every piece of the space both versions cut, compared on an example inside it. A piece
    whose example decide() would not take (axes that share a fact can make one) is walked
    again with the solver's regions, whose examples are valid by construction; a piece even
    the solver leaves without one is an error, never silently skipped."""
    if solver:
        from ..analysis.smt_regions import SmtRegions

        regions = SmtRegions.of_versions(old, new)
    else:
        regions = Regions.of_versions(old, new)
    unexplained = 0
    fired = {d.name: regions.rule_regions(d) for d in regions.policy.decisions}
    # walk the pairs of (old rule, new rule) of the first decision of each version, then
    # split each meeting region by the other decisions' rules, so every decision is compared
    pieces: list[Region] = [regions.everything]
    for name in (d.name for d in old.decisions):
        if f"new:{name}" not in fired:
            continue
        pieces = [both for piece in pieces for before in fired[f"old:{name}"] if (part := piece & before)
                  for after in fired[f"new:{name}"] if (both := part & after)]
    # tables may differ by key: one piece per value of every enum fact a table lookup reads
    keys = sorted({x.key.name for p in (old, new) for d in p.decisions for r in d.rules
                   for x in ir.walk(r.output) if isinstance(x, ir.Lookup) and isinstance(x.key, ir.FactRef)})
    left_out = ", ".join(_left_out(old.facts_by_name[name], new.facts_by_name[name]) for name in absent)
    for piece in pieces:
        for part in piece.split(keys):
            as_json, typed = part.example()
            for name in absent:  # the app leaves them out: each version takes its own default
                as_json.pop(name, None)
                typed.pop(name, None)
            if not requirements_hold(new, typed) or not requirements_hold(old, typed):
                unexplained += 1
                continue
            before, after = _side(old, old_module, typed), _side(new, new_module, typed)
            situation = part.describe()
            if left_out:  # "모든 경우" adds nothing after what was left out
                situation = left_out if situation == "모든 경우" else f"{left_out}, {situation}"
            change = _compare(before, after, situation, as_json, absent)
            if change is not None and change.key not in changes:
                changes[change.key] = change
    if unexplained and not solver:
        _walk(old, new, old_module, new_module, absent, changes, solver=True)
    elif unexplained:
        raise ValueError(f"두 정책을 비교하지 못한 경우가 {unexplained}가지 있습니다 (올바른 예를 만들 수 없음)")


def _compare(before: Side, after: Side, situation: str, example: dict, absent: tuple[str, ...]) -> Change | None:
    widens = sorted(set(after.discloses) - set(before.discloses))
    if before.outcome != after.outcome:
        kind = "outcome"
    elif before.discloses != after.discloses:
        kind = "discloses"
    elif before.actions != after.actions:
        kind = "actions"
    elif before.values != after.values:
        kind = "value"
    elif before.reply != after.reply:
        kind = "reply"
    else:
        return None
    return Change(kind, widens, situation, example, before, after, absent)


_KIND_KO = {"outcome": "결과가 바뀜", "discloses": "공개가 바뀜", "actions": "조치가 바뀜",
            "value": "값이 바뀜", "reply": "답변 문구만 바뀜"}


def _side_text(label: str, side: Side) -> list[str]:
    head = f"  {label}: {side.outcome or ''} (규칙 {side.rule}, {side.source})"
    attrs = f"        공개: {', '.join(side.discloses) or '없음'}   조치: {', '.join(side.actions) or '없음'}"
    out = [head, attrs]
    for name, value in side.values.items():
        out.append(f"        {name}: {value}")
    if side.reply is not None:
        out += [("        | " + line).rstrip() for line in side.reply.split("\n")]
    return out


def report_text(old_name: str, new_name: str, changes: list[Change]) -> str:
    if not changes:
        return f"{old_name} → {new_name}: 결정이 모두 같습니다 (바뀐 경우 없음)\n"
    widening = [c for c in changes if c.widens]
    lines = [f"{old_name} → {new_name}: 결정이 바뀌는 경우 {len(changes)}가지"
             + (f", 그중 공개가 넓어지는 경우 {len(widening)}가지" if widening else "")]
    group = None
    for c in changes:
        title = (f"[공개가 넓어짐: {', '.join(c.widens)}] " if c.widens else "") + \
            f"{c.before.outcome} → {c.after.outcome} ({_KIND_KO[c.kind]})"
        if title != group:
            lines += ["", title]
            group = title
        lines.append(f"  경우: {c.situation}")
        lines.append(f"  예: {jsontext.dumps(c.example)}")
        lines += _side_text("이전", c.before)
        lines += _side_text("이후", c.after)
    return "\n".join(lines) + "\n"


def report_json(changes: list[Change]) -> list[dict]:
    from .load import jsonable

    return [{"kind": c.kind, "widens": c.widens, "situation": c.situation, "example": c.example, "absent": list(c.absent),
             "before": jsonable(dataclasses.asdict(c.before)), "after": jsonable(dataclasses.asdict(c.after))}
            for c in changes]
