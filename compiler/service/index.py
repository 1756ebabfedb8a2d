"""Every declaration and reference of a policy, with spans: walked from the AST, so it is
there as soon as the text parses (before names and types check), and kept from the last
text that parsed while the author is in the middle of a change."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from ..frontend import nodes as n
from ..source import SourceFile, Span

# the declarations an Ident names, by the node that holds it as `name`
_KINDS = {n.FactDecl: "fact", n.RecordDecl: "record", n.LetDecl: "let", n.ConstDecl: "const",
          n.ContextDecl: "context", n.ActionDecl: "action", n.SnippetDecl: "snippet", n.OutcomeDecl: "outcome",
          n.RuleDecl: "rule", n.DecisionDecl: "decision", n.InvariantDecl: "invariant", n.EnumValue: "value",
          n.Param: "param", n.PolicyDecl: "policy"}
KIND_WORDS = {"fact": "사실", "field": "필드", "record": "레코드", "let": "파생값", "const": "기준", "context": "답변 값",
              "action": "조치", "snippet": "조각", "outcome": "결과", "rule": "규칙", "decision": "결정",
              "invariant": "불변식", "value": "값", "param": "조치 값", "policy": "정책"}
# what an app or a reply file relies on by name: renaming would break it silently
CONTRACT = {"fact": "앱이 이 이름으로 사실을 보냅니다", "outcome": "앱과 답변 파일이 이 이름으로 결과를 받습니다",
            "value": "앱이 이 코드로 값을 보냅니다", "field": "앱이 이 이름으로 목록 항목의 필드를 보냅니다",
            "context": "앱이 이 이름으로 답변 값을 줍니다", "action": "앱이 이 이름으로 조치를 받습니다",
            "param": "앱이 이 이름으로 조치의 값을 받습니다", "decision": "앱이 이 이름으로 결정의 값을 읽습니다",
            "policy": "정책 이름은 파일 이름입니다"}


@dataclass(frozen=True)
class Symbol:
    name: str
    kind: str
    span: Span  # the name where it is declared
    decl: object  # the AST node
    owner: str | None = None  # the fact an enum value belongs to, the record of a field, the action of a param


@dataclass(frozen=True)
class Ref:
    name: str
    span: Span
    field: str  # how the holder uses it: "name" (a reference by name), "subject", "map", "key", ...


class Index:
    def __init__(self, module: n.Module | None) -> None:
        self.symbols: list[Symbol] = []
        self.refs: list[Ref] = []
        if module is not None:
            self._walk(module, None, None)

    def _walk(self, node, parent, owner: str | None) -> None:
        stack = [(node, parent, owner)]
        while stack:
            node, parent, owner = stack.pop()
            if isinstance(node, (tuple, list)):
                stack.extend((x, parent, owner) for x in reversed(node))
                continue
            if not dataclasses.is_dataclass(node):
                continue
            kind = _KINDS.get(type(node))
            name = getattr(node, "name", None)
            inner_owner = owner
            if kind is not None and isinstance(name, n.Ident):
                if kind == "fact" and isinstance(parent, n.RecordDecl):
                    kind = "field"
                self.symbols.append(Symbol(name.name, kind, name.span, node, owner))
                if kind in ("fact", "record", "action"):
                    inner_owner = name.name
            for f in dataclasses.fields(node):
                value = getattr(node, f.name)
                if isinstance(value, n.Ident):
                    if f.name == "name" and kind is not None:
                        continue  # the declaration itself
                    if isinstance(node, n.DecisionDecl) and f.name == "hit_policy":
                        continue
                    self.refs.append(Ref(value.name, value.span, f.name))
                elif isinstance(value, (tuple, list)) or dataclasses.is_dataclass(value):
                    if isinstance(value, (tuple, list)):
                        for x in value:
                            if isinstance(x, n.Ident):
                                self.refs.append(Ref(x.name, x.span, f.name))
                    stack.append((value, node, inner_owner))

    # ── queries ──
    def declared(self, name: str) -> list[Symbol]:
        return [s for s in self.symbols if s.name == name]

    def at(self, file: str, line: int, column: int) -> tuple[str, Span] | None:
        """The name (declared or referenced) under a position, with its span."""
        for item in self.symbols + self.refs:  # type: ignore[operator]
            s = item.span
            if s.file == file and s.line == line and s.column <= column <= s.end_column and s.end_line == line:
                return item.name, s
        return None

    def occurrences(self, name: str) -> list[Span]:
        """Where `name` is declared and used in the policy, in file order."""
        spans = [s.span for s in self.symbols if s.name == name] + [r.span for r in self.refs if r.name == name]
        return sorted(set(spans))


def word_spans(source: SourceFile, name: str) -> list[Span]:
    """Where `name` stands as a whole word in a YAML file (a reply's `{{ name }}`, a test's
    `rule: name`): Hangul letters and digits count as word characters."""
    out = []
    pattern = re.compile(rf"(?<![\w]){re.escape(name)}(?![\w])")
    for i in range(1, source.line_count + 1):
        line = source.line(i)
        stripped = line.lstrip()
        if stripped.startswith("#"):
            continue
        for m in pattern.finditer(line):
            out.append(Span(source.path, i, m.start() + 1, i, m.end() + 1))
    return out
