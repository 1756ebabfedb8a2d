"""Compile unsaved text exactly as `policyc check` does, and answer questions about it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from ..diagnostics import Diagnostic, Edit, Fix
from ..frontend.parser import parse
from ..korean import quoted
from ..middle import ir
from ..middle.values import value_text
from ..pipeline import Result, compile_policy
from ..source import SourceFile, Span
from .index import CONTRACT, KIND_WORDS, Index, Symbol, word_spans


@dataclass
class Analysis:
    """One policy as the editor has it: the check's result, the index of names (the last
    one that parsed when the text does not), and the YAML files beside it."""

    path: Path
    shown: str
    result: Result
    index: Index

    @property
    def policy(self) -> ir.Policy | None:
        return self.result.policy

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.result.diagnostics

    def source(self, shown: str) -> SourceFile | None:
        return self.result.sources.get(shown)

    def yaml_files(self) -> list[SourceFile]:
        """The replies file(s) the policy names and its tests file, as the editor has them."""
        return [s for name, s in self.result.sources.items() if name != self.shown] + (
            [self.tests] if self.tests is not None else [])

    tests: SourceFile | None = None


def tests_path(policy_path: Path) -> Path:
    return policy_path.with_name(policy_path.name[: -len(".policy")] + ".tests.yaml")


def analyse(path: Path, shown: str | None = None, overlay: Mapping[Path, str] | None = None,
            previous: Analysis | None = None) -> Analysis:
    """`overlay`: unsaved texts by resolved path. The index comes from this text when it
    parses, else from `previous` (so hover and completion keep working mid-edit)."""
    shown = shown or path.as_posix()
    overlay = dict(overlay or {})
    result = compile_policy(path, shown, overlay=overlay)
    source = result.sources.get(shown)
    module = None
    if source is not None:
        module, _ = parse(source)
    index = Index(module) if module is not None or previous is None else previous.index
    tests = None
    tpath = tests_path(path)
    text = overlay.get(tpath.resolve()) if overlay else None
    if text is None and tpath.is_file():
        try:
            text = tpath.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = None
    if text is not None:
        tests = SourceFile((Path(shown).parent / tpath.name).as_posix(), text)
    analysis = Analysis(path, shown, result, index)
    analysis.tests = tests
    return analysis


# ── hover ──
def sample_reply(analysis: Analysis, outcome: str) -> str | None:
    """The outcome's reply as a customer would read it, on facts where a rule yields it
    (the analysis' example) and sample reply values, as `policyc doc` shows it; None when
    the policy does not check clean or no such facts exist."""
    from ..analysis.regions import Regions
    from ..tools.diff import sample_context
    from ..tools.load import module_of

    policy = analysis.policy
    if policy is None or policy.main is None or not analysis.result.ok:
        return None
    if getattr(analysis, "_module", None) is None:
        analysis._module = module_of(analysis.result)
    module = analysis._module
    regions = Regions(policy)
    for rule, region in zip(policy.main.rules, regions.rule_regions(policy.main)):
        if rule.output.value != outcome or not region:
            continue
        try:
            _, typed = region.example()
            return module.render(module.decide(typed), sample_context(policy))
        except (ValueError, module.PolicyInputError):
            continue
    return None


def _type_words(policy: ir.Policy | None, sym: Symbol, analysis: "Analysis | None" = None) -> str:
    if policy is None:
        return ""
    if sym.kind == "fact" and sym.name in policy.facts_by_name:
        f = policy.fact(sym.name)
        kind = f"{f.type}" + (" (빠질 수 있음)" if f.optional else "")
        if f.has_default:
            kind += f", 기본값 {value_text(f.default)}"
        if f.values:
            kind += "\n\n" + "\n".join(f"- `{v.code}`: {v.label}" for v in f.values)
        return kind
    if sym.kind == "const" and sym.name in policy.consts_by_name:
        c = policy.const(sym.name)
        return f"{c.type} = {_shown(c.value)}"
    if sym.kind == "let" and sym.name in policy.derived_by_name:
        return str(policy.derived_by_name[sym.name].type)
    if sym.kind == "outcome" and sym.name in policy.outcomes_by_name:
        o = policy.outcome(sym.name)
        parts = []
        if o.discloses:
            parts.append("공개: " + ", ".join(o.discloses))
        if o.actions:
            parts.append("조치: " + ", ".join(o.actions))
        shown = sample_reply(analysis, o.name) if analysis is not None else None
        if shown is not None:
            parts.append("답변 (예시 값으로):\n```\n" + shown + "\n```")
        else:
            parts.append("답변:\n```\n" + o.reply.template.strip() + "\n```")
        return "\n\n".join(parts)
    if sym.kind == "context" and sym.name in policy.contexts_by_name:
        c = policy.contexts_by_name[sym.name]
        return c.kind + (" (개인정보)" if c.personal else "")
    if sym.kind == "action" and sym.name in policy.actions_by_name:
        a = policy.actions_by_name[sym.name]
        return ", ".join(f"{p.name}: {p.type}" for p in a.params) or "값 없음"
    return ""


def _shown(value) -> str:
    if isinstance(value, ir.Holidays):
        return f"holidays({value.country!r}, {value.first_year}, {value.last_year}): {len(value.dates)}일"
    if isinstance(value, tuple) and value and isinstance(value[0], tuple):
        return "{" + ", ".join(f"{k}: {_shown(v)}" for k, v in value) + "}"
    try:
        return value_text(value)
    except Exception:  # a value kind value_text does not know: shown as Python shows it
        return str(value)


def label(sym: Symbol) -> str:
    """A declaration's Korean label, "" when it has none."""
    label = getattr(sym.decl, "label", None)
    return label.value if label is not None and hasattr(label, "value") else ""


def hover(analysis: Analysis, file: str, line: int, column: int) -> tuple[str, Span] | None:
    """Markdown about the name under a position: what it is, its Korean label, type, value."""
    found = analysis.index.at(file, line, column)
    if found is None:
        return None
    name, span = found
    symbols = analysis.index.declared(name)
    if not symbols:
        return None
    parts = []
    for sym in symbols[:3]:
        head = f"**{KIND_WORDS[sym.kind]}** `{name}`"
        korean = label(sym)
        if korean:
            head += f" — {korean}"
        if sym.owner and sym.kind in ("value", "field", "param"):
            head += f" ({sym.owner})"
        words = _type_words(analysis.policy, sym, analysis)
        parts.append(head + (f"\n\n{words}" if words else ""))
    return "\n\n---\n\n".join(parts), span


def definition(analysis: Analysis, file: str, line: int, column: int) -> list[Span]:
    found = analysis.index.at(file, line, column)
    if found is None:
        return []
    return [s.span for s in analysis.index.declared(found[0])]


def references(analysis: Analysis, name: str) -> list[Span]:
    """Where `name` is declared and used, in the policy and in its YAML files."""
    spans = analysis.index.occurrences(name)
    for source in analysis.yaml_files():
        tests = source.path.endswith(".tests.yaml")
        spans += [s for s in word_spans(source, name) if _names_it(source.line(s.line), s.column - 1, tests)]
    return spans


def _names_it(line: str, at: int, tests: bool) -> bool:
    """Whether a word in a YAML line names a declaration rather than being prose: inside a
    template's `{{ }}` or `{% %}` in a replies file; a value of `rule:`/`outcome:`/`error:` or
    a fact's key in a tests file (a case's name, "차액 환불", is not the rule `환불`)."""
    if tests:
        before = line[:at].rstrip()
        return bool(re.search(r"(^|[{,\s])(rule|outcome|error|discloses|actions):\s*\[?[^:]*$", before)) or \
            bool(re.fullmatch(r"\s*(-\s*)?", line[:at])) or before.endswith(("{", ","))
    opened = max(line.rfind("{{", 0, at), line.rfind("{%", 0, at))
    closed = max(line.rfind("}}", 0, at), line.rfind("%}", 0, at))
    return opened > closed


def name_at_yaml(analysis: Analysis, file: str, line: int, column: int) -> tuple[str, Span] | None:
    """A declared name under a position in a YAML file (a reply or a test naming it)."""
    for source in analysis.yaml_files():
        if source.path != file:
            continue
        text = source.line(line)
        for sym in {s.name for s in analysis.index.symbols}:
            for span in word_spans(SourceFile(file, text), sym):
                if span.column <= column <= span.end_column:
                    return sym, Span(file, line, span.column, line, span.end_column)
    return None


# ── rename ──
RENAMABLE = ("rule", "const", "let", "invariant", "snippet", "record")


def not_renamable(analysis: Analysis, name: str) -> str | None:
    """Why `name` cannot be renamed (None: it can): undeclared, or part of the app's contract."""
    symbols = analysis.index.declared(name)
    if not symbols:
        return f"`{name}` 은(는) 이 정책에 선언된 이름이 아닙니다"
    for sym in symbols:
        if sym.kind not in RENAMABLE:
            reason = CONTRACT.get(sym.kind, "이 이름은 바꿀 수 없습니다")
            return f"{KIND_WORDS[sym.kind]} {quoted(name, '은/는')} 바꾸지 않습니다: {reason}"
    return None


def rename(analysis: Analysis, name: str, new: str) -> tuple[list[Edit] | None, str | None]:
    """Edits that rename `name` everywhere, or the reason it cannot be renamed."""
    import re

    why = not_renamable(analysis, name)
    if why is not None:
        return None, why
    if not re.fullmatch(r"[A-Za-z_가-힣][A-Za-z0-9_가-힣]*", new):
        return None, f"{quoted(new, '은/는')} 이름으로 쓸 수 없습니다 (글자나 _ 로 시작하고 글자, 숫자, _ 만)"
    if analysis.index.declared(new):
        return None, f"{quoted(new, '은/는')} 이미 있는 이름입니다"
    from ..frontend.parser import keyword_words
    from ..middle.exprs import BUILTINS

    if new in keyword_words() | set(BUILTINS):
        return None, f"{quoted(new, '은/는')} 정책 언어의 낱말이라 이름으로 쓸 수 없습니다"
    return [Edit(span, new) for span in references(analysis, name)], None


# ── fixes ──
def apply_fixes(texts: Mapping[str, str], fixes: list[Fix]) -> dict[str, str]:
    """The texts with the fixes' edits made (edits that overlap one already made are
    skipped, as a later run will offer them again). Keys are the files' shown paths."""
    by_file: dict[str, list[Edit]] = {}
    for fix in fixes:
        for e in fix.edits:
            by_file.setdefault(e.span.file, []).append(e)
    out = dict(texts)
    for file, edits in by_file.items():
        if file not in out:
            continue
        source = SourceFile(file, out[file])
        ranges = []
        for e in edits:
            start = _offset(source, e.span.line, e.span.column)
            end = _offset(source, e.span.end_line, e.span.end_column)
            if start is None or end is None or end < start:
                continue
            ranges.append((start, end, e.text))
        text, last = source.text, None
        for start, end, new in sorted(ranges, reverse=True):
            if last is not None and end > last:
                continue  # overlaps an edit already made
            text = text[:start] + new + text[end:]
            last = start
        out[file] = text
    return out


def _offset(source: SourceFile, line: int, column: int) -> int | None:
    if line == source.line_count + 1 and column == 1:
        return len(source.text)
    if not 1 <= line <= source.line_count:
        return None
    starts = 0
    for i in range(1, line):
        starts += len(source.line(i)) + 1
    return starts + min(column - 1, len(source.line(line)))
