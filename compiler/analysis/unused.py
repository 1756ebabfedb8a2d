"""W0605: declarations nothing uses (facts, derived values, constants, outcomes,
actions, reply values). Snippets are checked with the templates (templates.py)."""

from __future__ import annotations

from ..diagnostics import Diagnostic, Edit, Fix
from ..middle import ir
from ..source import Span


def unused(policy: ir.Policy) -> list[Diagnostic]:
    # what `names_in` lists, for every derived value, requirement, rule and invariant
    used: set[str] = {detail for marks in ir.census(policy).values() for cls, _, detail in marks if cls in ir.READS}
    for inv in policy.invariants:
        used.add(inv.subject)
    for o in policy.outcomes:
        used.update(o.reply.uses)
        used.update(o.discloses)
        for call in o.calls:  # `refund(amount = refund_amount)`
            for arg in call.args:
                used.update(ir.names_in(arg))
    produced = {rule.output.value for d in policy.decisions if d.yields_outcome for rule in d.rules}
    acted = {a for o in policy.outcomes for a in o.actions}
    acted |= {x.name for d in policy.decisions if d.yields_actions for rule in d.rules
              for x in ir.walk(rule.output) if isinstance(x, ir.ActionCall)}
    out: list[Diagnostic] = []

    def warn(span, what: str, name: str, help_: str, decl=None) -> None:
        """`decl`: a declaration whose removal changes nothing an app sees (a derived value,
        a constant): its lines are removed by the safe fix."""
        fixes = ()
        if decl is not None and decl.decl_span.line:
            lines = Span(decl.decl_span.file, decl.decl_span.line, 1, decl.decl_span.end_line + 1, 1)
            fixes = (Fix(f"`{name}` 선언 지우기", (Edit(lines, ""),), safe=True),)
        out.append(Diagnostic("W0605", span, f"쓰이지 않는 {what}: `{name}`", help_, "쓰이지 않는 선언", fixes=fixes))

    for f in policy.facts:
        if f.name not in used:
            warn(f.span, "사실", f.name, "조건이나 답변에서 쓰거나 선언을 지우세요 (앱은 여전히 이 사실을 보내야 합니다)")
    for d in policy.derived:
        if d.name not in used:
            warn(d.span, "파생값", d.name, "조건이나 답변에서 쓰거나 선언을 지우세요", d)
    for c in policy.consts:
        if c.name not in used:
            warn(c.span, "기준", c.name, "조건이나 답변에서 쓰거나 선언을 지우세요", c)
    for o in policy.outcomes:
        if policy.main is not None and o.name not in produced:
            warn(o.span, "결과", o.name, "어느 규칙도 이 결과를 내지 않습니다. 규칙에서 쓰거나 지우세요")
    for a in policy.actions:
        if a.name not in acted and a.name not in used:
            warn(a.span, "조치", a.name, "결과의 `actions` 에 쓰거나 지우세요")
    for c in policy.contexts:
        if c.name not in used:
            warn(c.span, "답변 값", c.name, "답변에서 쓰거나, 개인정보라면 불변식(invariant)에서 다루거나, 지우세요")
    return out
