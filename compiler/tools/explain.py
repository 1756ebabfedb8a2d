"""`policyc explain`: why the policy decided what it did, for one set of facts.

    explain(result, module, facts, context) -> Explanation (text and JSON forms)

For each decision: the rule that fired with its source line, and for each earlier rule
the first `and` part that was false, with the actual values it read."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ..middle import ir
from ..middle.evaluate import Env
from ..middle.values import korean_duration, typed_text
from ..pipeline import Result
from .load import decision_json, jsonable
from ..korean import particle


@dataclass
class RuleTrace:
    name: str
    label: str
    line: int
    fired: bool
    failed: str | None = None  # source text of the first false part
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class DecisionTrace:
    name: str
    label: str
    rules: list[RuleTrace]
    result: Any


def _source_text(result: Result, span) -> str:
    source = result.sources.get(span.file)
    if source is None:
        return "?"
    if span.line == span.end_line:
        return source.line(span.line)[span.column - 1: span.end_column - 1]
    lines = [source.line(n) for n in range(span.line, span.end_line + 1)]
    lines[0] = lines[0][span.column - 1:]
    lines[-1] = lines[-1][: span.end_column - 1]
    return " ".join(line.strip() for line in lines)


def show_value(policy: ir.Policy, name: str, value: Any) -> str:
    if value is None:  # an optional value that is not there
        return "없음"
    fact = policy.facts_by_name.get(name)
    if fact is not None and fact.type.kind == "enum":
        return f"{value} ({fact.label_of(value)})"
    derived = policy.derived_by_name.get(name)
    typ = fact.type if fact is not None else derived.type if derived is not None else None
    if typ is not None and typ.kind in ("money", "date", "time") and value is not None:
        return typed_text(value, typ)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.timedelta):
        return korean_duration(value // dt.timedelta(microseconds=1))
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return repr(value) if isinstance(value, str) else str(value)


def action_text(policy: ir.Policy, decision, name: str) -> str:
    """An action with the values it was given: `refund(amount=1,400원)`."""
    given = decision.action_args.get(name)
    if not given:
        return name
    types = {p.name: p.type for p in policy.actions_by_name[name].params}
    return f"{name}(" + ", ".join(f"{k}={typed_text(v, types[k])}" for k, v in given.items()) + ")"


def trace(result: Result, decision) -> list[DecisionTrace]:
    policy = result.policy
    env = Env(policy, dict(decision.facts))
    fired = dict(decision.trace)
    out = []
    for d in policy.decisions:
        rules = []
        for rule in d.rules:
            line = rule.decl_span.line
            if rule.name == fired[d.name]:
                rules.append(RuleTrace(rule.name, rule.label, line, True))
                break
            for part in rule.conjuncts:
                if not env.eval(part):
                    values = {n: env.facts.get(n, env.derived.get(n)) for n in sorted(set(ir.names_in(part)))
                              if n in env.facts or n in env.derived}
                    rules.append(RuleTrace(rule.name, rule.label, line, False, _source_text(result, part.span), values))
                    break
        value = decision.outcome if d.yields_outcome else getattr(decision, d.name)
        out.append(DecisionTrace(d.name, d.label, rules, value))
    return out


def explain_text(result: Result, module, decision, context: dict) -> str:
    policy = result.policy
    lines = [f"정책 {policy.source_path} (SHA-256 {policy.source_sha256[:12]}…)"]
    source = result.sources[policy.source_path]
    for dt_ in trace(result, decision):
        lines.append("")
        title = f"결정 {dt_.name}" + (f" ({dt_.label})" if dt_.label else "")
        fired = dt_.rules[-1]
        lines.append(f"{title}: 규칙 {fired.name}{particle(fired.name, '이/가')} 정했습니다 — {policy.source_path}:{fired.line}")
        lines.append(f"  {fired.line} | {source.line(fired.line).strip()}")
        earlier = dt_.rules[:-1]
        if earlier:
            lines.append("  앞선 규칙 (맞지 않은 첫 조건):")
        for r in earlier:
            values = ", ".join(f"{k} = {show_value(policy, k, v)}" for k, v in r.values.items())
            lines.append(f"    ✗ {r.name} ({r.line}행): {r.failed}" + (f"   [{values}]" if values else ""))
        if dt_.name == (policy.main.name if policy.main else None):
            outcome = policy.outcome(decision.outcome)
            lines.append(f"  결과: {outcome.name} — {outcome.label}")
            lines.append(f"  공개: {', '.join(sorted(decision.discloses)) or '없음'}   "
                         f"조치: {', '.join(action_text(policy, decision, a) for a in sorted(decision.actions)) or '없음'}")
        else:
            lines.append(f"  값: {jsonable(dt_.result)}")
    reply, missing = render_reply(policy, module, decision, context)
    lines.append("")
    if reply is not None:
        lines.append("답변:")
        lines += [f"  {line}" if line else "" for line in reply.split("\n")]
    elif missing:
        lines.append(f"답변: 이 답변에는 {', '.join(missing)} 값이 필요합니다 "
                     f"(--context {missing[0]}=값 으로 주세요)")
    return "\n".join(lines) + "\n"


def render_reply(policy: ir.Policy, module, decision, context: dict) -> tuple[str | None, list[str]]:
    if policy.main is None:
        return None, []
    needs = [n for n in policy.outcome(decision.outcome).reply.needs if n not in context]
    if needs:
        return None, needs
    return module.render(decision, context), []


def explain_json(result: Result, module, decision, context: dict) -> dict:
    policy = result.policy
    reply, missing = render_reply(policy, module, decision, context)
    return {
        "policy": policy.source_path,
        "source_sha256": policy.source_sha256,
        "decision": decision_json(policy, decision),
        "decisions": [
            {"name": d.name, "rules": [
                {"name": r.name, "line": r.line, "fired": r.fired, "failed_condition": r.failed,
                 "values": jsonable(r.values)} for r in d.rules]}
            for d in trace(result, decision)],
        "reply": reply,
        "reply_needs": missing,
    }
