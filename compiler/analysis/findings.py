"""The findings of the analysis, as diagnostics: one function per kind, so that the
partition analysis (checks.py) and the SMT analysis (smt_checks.py) say the same thing
in the same words. `sentence` is the situation in the policy's words ("" when none),
`example` facts that decide() accepts, verified before they get here (or None).
"""

from __future__ import annotations

import dataclasses

from ..diagnostics import Diagnostic, Edit, Fix, Related
from ..korean import particle, quoted
from ..middle import ir
from ..runtime.support import josa
from ..source import Span

SHOWN_RELATED = 10  # rules a finding points at; `covered_by` and the like keep them all


def keys(diags: list[Diagnostic]) -> set[tuple]:
    """What findings are about, without their words or examples: two analyses agree when
    these agree (the rule an E0606 names is one of those that break it)."""
    out = set()
    for d in diags:
        about = dict(d.data)
        names = ("invariant",) if d.code == "E0606" else ("decision", "rule", "invariant", "part", "shadowed_by")
        out.add((d.code, *(str(about[k]) for k in names if k in about)))
    return out


def _diag(code, span, message, help_=None, label=None, related=(), notes=(), example=None, **about) -> Diagnostic:
    return Diagnostic(code, span, message, help_, label, tuple(related), tuple(notes), example, tuple(about.items()))


def no_valid_facts(policy: ir.Policy) -> Diagnostic:
    return _diag("E0400", policy.decisions[0].span, "어떤 사실도 require 조건을 모두 만족하지 못합니다",
                 "require 조건들이 서로 모순되지 않는지 보세요")


def gap(d: ir.Decision, sentence: str, example) -> Diagnostic:
    found = _diag("E0400", d.span, f"결정 `{d.name}` 에 맞는 규칙이 없는 경우가 있습니다",
                  "그 경우를 다루는 규칙을 더하거나, 결정 끝에 `otherwise 결과` 를 두세요",
                  "여기에 맞는 규칙이 없는 사실이 들어올 수 있습니다",
                  notes=(f"{sentence}일 때 어느 규칙에도 맞지 않습니다",) if sentence else (),
                  example=example, decision=d.name)
    if not d.yields_outcome or not d.decl_span.end_line:
        return found
    # one fix per outcome the decision already yields: which one is the author's call
    end = d.decl_span.end_line
    at = Span(d.decl_span.file, end, 1, end, 1)
    outcomes = dict.fromkeys(r.output.value for r in d.rules)
    fixes = tuple(Fix(f"`otherwise {o}` 더하기", (Edit(at, f"  otherwise {o}\n"),)) for o in outcomes)
    return dataclasses.replace(found, fixes=fixes)


def lookup_miss(d: ir.Decision, rule: ir.Rule, lookup: ir.Lookup, missing: list[str], sentence: str,
                example) -> Diagnostic:
    return _diag("E0307", lookup.span,
                 f"`{lookup.map}` 에 없는 {lookup.key.name} 값이 여기 올 수 있습니다: {', '.join(missing)}",
                 f"`{lookup.map}` 에 {', '.join(missing)}{particle(missing[-1], '을/를')} 더하거나, 앞선 규칙에서 먼저 처리하세요",
                 "표에 없는 값으로 찾을 수 있음",
                 notes=(f"{sentence}일 때 규칙 {quoted(rule.name, '이/가')} 표 `{lookup.map}` 에서 값을 찾습니다",)
                 if sentence else (),
                 example=example, decision=d.name, rule=rule.name, table=lookup.map, missing=tuple(missing))


def never_matches(d: ir.Decision, rule: ir.Rule) -> Diagnostic:
    return _diag("E0601", rule.span, f"규칙 `{rule.name}` 의 조건은 어떤 올바른 사실에도 맞지 않습니다",
                 "조건끼리 서로 모순됩니다 (require 조건도 함께 봅니다). 조건을 고치거나 규칙을 지우세요",
                 "절대 맞지 않는 규칙", decision=d.name, rule=rule.name)


def shadowed(d: ir.Decision, rule: ir.Rule, covering: list[ir.Rule], sentence: str, example) -> Diagnostic:
    notes = (f"예: {sentence}일 때 이 규칙의 조건은 맞지만 앞선 규칙이 결과를 정합니다",) if sentence else ()
    if len(covering) > SHOWN_RELATED:  # a long table: the first few point the way, the data keeps them all
        notes += (f"이 규칙과 겹치는 앞선 규칙 {len(covering)}개 가운데 처음 {SHOWN_RELATED}개만 표시합니다",)
    return _diag("E0601", rule.span, f"규칙 {quoted(rule.name, '은/는')} 결과를 정할 일이 없습니다: 앞선 규칙들이 먼저 맞습니다",
                 "이 규칙을 덮는 규칙보다 앞으로 옮기거나, 조건을 고치거나, 지우세요", "절대 쓰이지 않는 규칙",
                 [Related(r.span, "이 규칙이 먼저 맞습니다") for r in covering[:SHOWN_RELATED]],
                 notes, example, decision=d.name, rule=rule.name, covered_by=tuple(r.name for r in covering))


def unique_overlap(d: ir.Decision, rule: ir.Rule, other: ir.Rule | None, sentence: str, example) -> Diagnostic:
    related = [Related(other.span, "이 규칙도 맞습니다")] if other else []
    return _diag("E0602", rule.span, f"`unique` 결정 `{d.name}` 에서 규칙 {quoted(rule.name, '이/가')} 앞선 규칙과 겹칩니다",
                 "두 규칙의 조건이 겹치지 않게 나누거나, 순서가 뜻을 가지면 `(first)` 를 쓰세요", "겹치는 규칙",
                 related, (f"{sentence}일 때 두 규칙이 모두 맞습니다",) if sentence else (), example,
                 decision=d.name, rule=rule.name, other=other.name if other else None)


def implied(d: ir.Decision, rule: ir.Rule, k: int, sentence: str, example) -> Diagnostic:
    whole = len(rule.conjuncts) == 1
    found = _implied(d, rule, k, sentence, example, whole)
    parts = rule.conjuncts
    if whole or not all(p.span.line for p in parts):
        return found
    # the part and its `and`: from the end of the part before it (or to the start of the next)
    here = parts[k].span
    if k > 0:
        cut = Span(here.file, parts[k - 1].span.end_line, parts[k - 1].span.end_column, here.end_line, here.end_column)
    else:
        nxt = parts[1].span
        cut = Span(here.file, here.line, here.column, nxt.line, nxt.column)
    return dataclasses.replace(found, fixes=(Fix("이미 참인 조건 지우기", (Edit(cut, ""),), safe=True),))


def _implied(d: ir.Decision, rule: ir.Rule, k: int, sentence: str, example, whole: bool) -> Diagnostic:
    return _diag("W0604", rule.conjuncts[k].span,
                 f"규칙 `{rule.name}`: {'조건 전체가' if whole else '이 조건은'} 앞선 규칙들"
                 f"{'' if whole else '과 나머지 조건'}만으로 이미 참입니다",
                 "빼도 결정이 같습니다. 지워서 규칙을 짧게 하세요" if not whole else
                 "앞선 규칙에 맞지 않은 모든 사실에 이 규칙이 맞습니다. `otherwise` 로 바꾸세요",
                 "이미 참인 조건", example=example,
                 notes=(f"이 규칙이 결과를 정하는 경우의 예: {sentence}",) if sentence else (),
                 decision=d.name, rule=rule.name, part=k)


def overlap(d: ir.Decision, earlier: list[ir.Rule], later: ir.Rule, sentence: str, example) -> Diagnostic:
    """`later` also matches facts that the `earlier` rules (in order, results other than its
    own) take first; the example is where the first of them does."""
    first = earlier[0]
    who = quoted(first.name, "이/가") if len(earlier) == 1 else f"`{first.name}` 등 {len(earlier)}개가"
    notes = (f"{sentence}일 때: {_show(first.output)} (이 규칙이라면 {_show(later.output)})",) if sentence else ()
    if len(earlier) > SHOWN_RELATED:
        notes += (f"이 규칙보다 먼저 맞는 앞선 규칙 {len(earlier)}개 가운데 처음 {SHOWN_RELATED}개만 표시합니다",)
    return _diag("W0603", later.span, f"규칙 `{later.name}` 도 맞지만 앞선 규칙 {who} 먼저 맞아 다른 결과가 납니다",
                 "의도한 순서라면 그대로 두세요", "가려지는 규칙",
                 [Related(r.span, "먼저 맞는 규칙") for r in earlier[:SHOWN_RELATED]], notes,
                 example, decision=d.name, rule=later.name, earlier=first.name, shadowed_by=tuple(r.name for r in earlier))


def broken_invariant(policy: ir.Policy, inv: ir.Invariant, culprit: ir.Rule | None, sentence: str,
                     example) -> Diagnostic:
    label = subject_label(policy, inv)
    happening = josa(label, "이/가")
    if inv.subject_kind == "always":
        message = f"깨진 불변식 `{inv.name}`: 조건이 거짓인 경우가 있습니다"
    elif inv.cond is None:
        message = f"깨진 불변식 `{inv.name}`: {happening} 일어나는 경우가 있습니다"
    else:
        message = f"깨진 불변식 `{inv.name}`: 불변식의 조건 밖에서도 {happening} 일어납니다"
    notes = ()
    if sentence and culprit is not None:
        notes = (f"{sentence}일 때 규칙 {quoted(culprit.name, '이/가')} 결과 {quoted(_show(culprit.output), '을/를')} 정합니다",)
    elif sentence:
        notes = (f"{sentence}일 때 조건이 거짓입니다",)
    return _diag("E0606", inv.span, message, "규칙이나 불변식을 고치세요", "지켜지지 않는 불변식",
                 [Related(culprit.span, "이 규칙이 그때 결과를 정합니다")] if culprit is not None else [],
                 notes, example, invariant=inv.name, rule=culprit.name if culprit is not None else None)


def subject_label(policy: ir.Policy, inv: ir.Invariant) -> str:
    if inv.subject_kind == "discloses":
        ctx = next(c for c in policy.contexts if c.name == inv.subject)
        return f"{ctx.label}({inv.subject}) 공개"
    if inv.subject_kind == "action":
        act = next(a for a in policy.actions if a.name == inv.subject)
        return f"조치 {act.label}({inv.subject})"
    if inv.subject_kind == "always":
        return inv.label
    out = policy.outcome(inv.subject)
    return f"결과 {out.label}({inv.subject})"


def _show(output: ir.Expr) -> str:
    if isinstance(output, ir.Value):
        return str(output.value)
    if isinstance(output, ir.ConstRef):
        return output.name
    if isinstance(output, ir.Actions):
        return ", ".join(c.name for c in output.calls)
    return "값"
