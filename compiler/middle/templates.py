"""Reply templates: parse each with Jinja2's own parser and check what it uses.

    check_replies(resolved, yaml_files) -> ((outcome replies, snippets), [Diagnostic])

Checks: every outcome has exactly one reply (inline or in YAML), YAML replies name
real outcomes, templates parse, filters and included snippets exist, every variable
is a fact, derived value, constant or declared reply value, and a personal value
appears only in the reply of an outcome that `discloses` it (included snippets count).
Template errors point at the template's line in its own file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import jinja2
from jinja2 import nodes as jn

from ..diagnostics import Diagnostic, Edit, Fix, Related
from ..frontend.replies_yaml import RepliesFile
from ..runtime import support
from ..source import SourceFile, Span, Text
from . import ir
from ..korean import quoted
from .names import suggest
from .resolve import Resolved


@dataclass(frozen=True)
class _Template:
    name: str
    text: Text
    file: str
    name_span: Span | None = None


class _Checker:
    def __init__(self, resolved: Resolved, yaml_files: list[RepliesFile], sources: dict[str, SourceFile]):
        self.r = resolved
        self.yaml_files = yaml_files
        self.sources = sources
        self.diags: list[Diagnostic] = []
        self.names = ([f.name for f in resolved.facts] + [d.name for d in resolved.derived]
                      + [c.name for c in resolved.consts] + [c.name for c in resolved.contexts]
                      # a value decision's result (render decides it first)
                      + [d.name for d in resolved.decisions if d.yields_value])
        self.contexts = {c.name: c for c in resolved.contexts}
        self.uses: dict[str, set[str]] = {}      # template -> variables
        self.filters: dict[str, set[str]] = {}   # template -> filters
        self.includes: dict[str, set[str]] = {}  # template -> snippets it includes
        self.include_counts: dict[str, dict[str, int]] = {}  # template -> snippet -> how often

    def error(self, code, span, message, help_=None, label=None, related=()):
        self.diags.append(Diagnostic(code, span, message, help_, label, related))

    # ── positions ──
    def _line_span(self, t: _Template, tpl_line: int, needle: str | None = None) -> Span:
        line = t.text.first_line + max(1, tpl_line) - 1
        text = self.sources[t.file].line(line) if t.file in self.sources else ""
        if needle:
            m = re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", text)
            if m:
                return Span(t.file, line, m.start() + 1, line, m.end() + 1)
        stripped = len(text) - len(text.lstrip())
        return Span(t.file, line, stripped + 1, line, max(len(text), stripped + 1) + 1)

    def _find(self, t: _Template, name: str) -> Span:
        for i, line in enumerate(t.text.value.split("\n"), start=1):
            if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", line) and ("{" in line or "}" in line):
                return self._line_span(t, i, name)
        return self._line_span(t, 1)

    # ── the pass ──
    def run(self):
        snippets = self._gather_snippets()
        replies = self._gather_replies()
        env = support.make_environment(jinja2.DictLoader({name: t.text.value for name, t in snippets.items()}),
                                       support.FILTERS)
        for t in list(snippets.values()) + list(replies.values()):
            self._check_template(env, t, snippets)
        self._include_limits(snippets, replies)
        out: dict[str, ir.Reply] = {}
        for o in self.r.outcomes:
            t = replies.get(o.name)
            if t is None or t.name not in self.uses:
                continue
            used = self._closure(t.name, self.uses)
            for var in sorted(used):
                ctx = self.contexts.get(var)
                if ctx is not None and ctx.personal and var not in o.discloses:
                    self.error("E0505", self._find(t, var),
                               f"결과 `{o.name}` 의 답변이 개인정보 {quoted(var, '을/를')} 보여 주지만 공개한다고 선언하지 않았습니다",
                               f"결과 선언에 {quoted('discloses ' + var, '을/를')} 더하거나, 답변에서 {quoted(var, '을/를')} 빼세요",
                               "공개 선언 없이 보여 주는 개인정보",
                               (Related(o.span, "이 결과"),))
            needs = tuple(c.name for c in self.r.contexts if c.name in used)
            origin = self._line_span(t, 1)
            out[o.name] = ir.Reply(t.text.value, needs, origin, tuple(sorted(used)),
                                   tuple(sorted(self._closure(t.name, self.filters))))
        self._unused_snippets(snippets, replies)
        return out, tuple((name, t.text.value) for name, t in snippets.items())

    def _include_limits(self, snippets: dict[str, _Template], replies: dict[str, _Template]) -> None:
        """A snippet that includes itself (through others or not) never finishes rendering,
        and snippets that each include the next twice render 2**40 copies: both E0506."""
        size: dict[str, int] = {}
        state: dict[str, str] = {}

        def expand(name: str) -> int:  # copies of text one render writes; the includes form a DAG here
            stack, order = [name], []
            while stack:
                node = stack.pop()
                if state.get(node) == "done":
                    continue
                if state.get(node) == "open":
                    state[node] = "done"
                    size[node] = 1 + sum(size.get(f"snippet:{inc}", 1) * count
                                         for inc, count in self.include_counts.get(node, {}).items())
                    order.append(node)
                    continue
                state[node] = "open"
                stack.append(node)
                for inc in self.include_counts.get(node, {}):
                    child = f"snippet:{inc}"
                    if state.get(child) == "open":
                        raise _Cycle(node, inc)
                    if state.get(child) != "done":
                        stack.append(child)
            return size[name]

        for t in list(snippets.values()) + list(replies.values()):
            try:
                copies = expand(t.name)
            except _Cycle as cycle:
                self.error("E0506", self._line_span(t, 1), f"조각 {quoted(cycle.snippet, '이/가')} 자기 자신을 포함합니다 "
                           "(다른 조각을 거쳐서라도)", "조각이 서로를 돌고 돌아 넣지 않게 고치세요: 답변을 끝까지 쓸 수 없습니다")
                self.uses.pop(t.name, None)
                return
            if copies > _MAX_COPIES:
                self.error("E0506", self._line_span(t, 1), f"조각을 너무 많이 펼칩니다: 한 번 쓰는 데 {copies}번",
                           f"같은 조각을 되풀이해 넣지 말고, 한 답변이 조각을 모두 {_MAX_COPIES}번 안에 쓰게 하세요")
                self.uses.pop(t.name, None)

    def _unused_snippets(self, snippets: dict[str, _Template], replies: dict[str, _Template]) -> None:
        reached: set[str] = set()
        stack = [t.name for t in replies.values()]
        while stack:
            name = stack.pop()
            for inc in self.includes.get(name, ()):
                if inc not in reached:
                    reached.add(inc)
                    stack.append(f"snippet:{inc}")
        for name, t in snippets.items():
            if name not in reached:
                span = t.name_span or self._line_span(t, 1)
                self.diags.append(Diagnostic("W0605", span, f"어느 답변도 쓰지 않는 조각: `{name}`",
                                             f"답변에 {{% include \"{name}\" %}} 를 넣거나 조각을 지우세요"))

    def _particles(self, t: _Template) -> None:
        """W0607: a particle typed right after a value, where the josa filter belongs."""
        for i, line in enumerate(t.text.value.split("\n"), start=1):
            for m in _HAND_PARTICLE.finditer(line):
                if "josa(" in m.group("expr") or re.search(r"\|\s*won\s*$", m.group("expr")):
                    continue  # `| won` always ends in 원: its particle never changes
                particle = m.group("particle")
                pair = _PAIRS.get(particle.replace("(", "").replace(")", ""), None) or _PAIRS.get(particle, "은/는")
                whole = self._line_span(t, i, m.group(0))
                span = type(whole)(whole.file, whole.line, whole.end_column - len(particle), whole.line, whole.end_column)
                # single quotes: the template may sit inside a policy's "..." string
                better = f"{{{{ {m.group('expr').strip()} | josa('{pair}') }}}}"
                found = whole.end_column - whole.column == len(m.group(0))  # the text as written (not the line)
                fixes = (Fix("josa 필터로 바꾸기", (Edit(whole, better),), safe=True),) if found else ()
                self.diags.append(Diagnostic("W0607", span, f"값 뒤에 조사 {quoted(particle, '을/를')} 직접 썼습니다",
                                             f"값에 따라 조사가 달라집니다: {better}", "직접 쓴 조사", fixes=fixes))

    def _closure(self, name: str, table: dict[str, set[str]], seen=None) -> set[str]:
        """What `table` says a template uses, with what the snippets it includes use."""
        seen = seen if seen is not None else set()
        if name in seen:
            return set()
        seen.add(name)
        used = set(table.get(name, ()))
        for inc in self.includes.get(name, ()):
            used |= self._closure(f"snippet:{inc}", table, seen)
        return used

    def _gather_snippets(self) -> dict[str, _Template]:
        out: dict[str, _Template] = {}
        spans: dict[str, Span] = {}
        found = [(name, text, name.span.file) for name, text in self.r.snippets]
        for f in self.yaml_files:
            found += [(k, v, f.path) for k, v in f.snippets]
        for ident, text, file in found:
            if ident.name in spans:
                self.error("E0200", ident.span, f"조각 {quoted(ident.name, '이/가')} 이미 있습니다", "둘 중 하나의 이름을 바꾸세요",
                           related=(Related(spans[ident.name], "처음 정의한 곳"),))
                continue
            spans[ident.name] = ident.span
            out[ident.name] = _Template(f"snippet:{ident.name}", text, file, ident.span)
        return out

    def _gather_replies(self) -> dict[str, _Template]:
        outcomes = {o.name: o for o in self.r.outcomes}
        out: dict[str, _Template] = {}
        where: dict[str, Span] = {}
        for o in self.r.outcomes:
            if o.reply is not None:
                out[o.name] = _Template(f"reply:{o.name}", o.reply, o.span.file)
                where[o.name] = o.reply.span
        for f in self.yaml_files:
            for ident, text in f.replies:
                if ident.name not in outcomes:
                    self.error("E0502", ident.span, f"정책에 없는 결과의 답변: `{ident.name}`",
                               suggest(ident.name, outcomes) or "정책에 `outcome` 으로 선언하거나 이 답변을 지우세요")
                    continue
                if ident.name in where:
                    self.error("E0501", ident.span, f"결과 `{ident.name}` 의 답변이 이미 있습니다",
                               "한 곳에만 두세요", related=(Related(where[ident.name], "처음 적은 답변"),))
                    continue
                out[ident.name] = _Template(f"reply:{ident.name}", text, f.path)
                where[ident.name] = ident.span
        for o in self.r.outcomes:
            if o.name not in out:
                end = o.decl_span
                fixes = ()
                if end.end_line and end.end_column > 1:  # before the closing `}`, a reply to write
                    at = Span(end.file, end.end_line, end.end_column - 1, end.end_line, end.end_column - 1)
                    text = f'  reply "{o.label}"\n'
                    fixes = (Fix("답변 자리 더하기", (Edit(at, ("\n" if end.line == end.end_line else "") + text),)),)
                self.diags.append(Diagnostic(
                    "E0500", o.span, f"결과 `{o.name}` 에 답변이 없습니다",
                    "결과 안에 `reply \"\"\"...\"\"\"` 를 쓰거나 답변 YAML 의 replies 에 더하세요", "답변 없는 결과",
                    fixes=fixes))
        return out

    def _check_template(self, env: jinja2.Environment, t: _Template, snippets: dict[str, _Template]) -> None:
        try:
            tree = env.parse(t.text.value)
        except jinja2.TemplateSyntaxError as err:
            self.error("E0503", self._line_span(t, err.lineno or 1), f"답변 문구 문법 오류: {_jinja_ko(err.message)}",
                       "{{ 값 }}, {% if 조건 %}...{% endif %}, {% include \"조각\" %} 의 짝이 맞는지 보세요")
            return
        except RecursionError:
            self.error("E0503", self._line_span(t, 1), "답변 문구의 괄호나 조건이 너무 깊게 겹쳐 있습니다",
                       "조건을 나누거나 정책에서 `let` 으로 값을 먼저 계산하세요")
            return
        except Exception as err:  # a number literal past Python's 4,300 digits, or what Jinja did not foresee
            what = "숫자가 너무 깁니다" if "digits" in str(err) else f"읽을 수 없습니다 ({type(err).__name__})"
            self.error("E0503", self._line_span(t, 1), f"답변 문구의 {what}", "아주 긴 숫자나 이상한 글자가 없는지 보세요")
            return
        ok = True
        variables: set[str] = set()
        filters: set[str] = set()
        includes = set()
        counts: dict[str, int] = {}
        depth = _depth(tree)
        if depth > _MAX_DEPTH:  # jinja's Python for it would not compile (nesting, parentheses)
            self.error("E0503", self._line_span(t, 1), f"답변 문구가 너무 깊게 겹쳐 있습니다 ({depth}단계, {_MAX_DEPTH}단계까지)",
                       "{% if %} 를 겹쳐 쓰지 말고 `elif` 로 잇거나, 조건을 정책의 규칙으로 옮기세요")
            return
        # Only what the language documents, checked before Jinja compiles anything (its
        # compiler folds constants, so `{{ 9 ** (9 ** 9) }}` would run at build time):
        # text, {{ value | filter }}, {% if %} with comparisons and and/or/not, literals,
        # .label/.code of an enum value, {% include "snippet" %}.
        stack: list[jn.Node] = [tree]  # a loop, not recursion: a deep template must not overflow
        while stack:
            node = stack.pop()
            problem = _forbidden(node)
            if problem is not None:  # reported once, and what is inside it is not looked at
                what, help_ = problem
                self.error("E0506", self._line_span(t, node.lineno, getattr(node, "attr", None)),
                           f"답변 문구에서 쓸 수 없는 {what}", help_)
                ok = False
                continue
            stack.extend(reversed(list(node.iter_child_nodes())))
            if isinstance(node, jn.Filter) and node.name not in support.FILTERS:
                self.error("E0506", self._line_span(t, node.lineno, node.name), f"알 수 없는 필터: `{node.name}`",
                           suggest(node.name, support.FILTERS) or f"쓸 수 있는 필터: {', '.join(sorted(support.FILTERS))}")
                ok = False
            elif isinstance(node, jn.Filter):
                filters.add(node.name)
            elif isinstance(node, jn.Include):
                target = node.template
                if not isinstance(target, jn.Const) or not isinstance(target.value, str):
                    self.error("E0506", self._line_span(t, node.lineno), "include 에는 조각 이름을 문자열로 적어야 합니다",
                               "{% include \"조각이름\" %}")
                    ok = False
                elif not node.with_context:  # the snippet would see no values, and fail at render time
                    self.error("E0506", self._line_span(t, node.lineno), "조각은 답변의 값을 그대로 봅니다: `without context` 는 쓸 수 없습니다",
                               "{% include \"조각이름\" %}")
                    ok = False
                elif target.value not in snippets:
                    self.error("E0506", self._line_span(t, node.lineno, target.value), f"알 수 없는 조각: `{target.value}`",
                               suggest(target.value, snippets) or "`snippet 이름 = \"\"\"...\"\"\"` 나 YAML 의 snippets 에 정의하세요")
                    ok = False
                else:
                    includes.add(target.value)
                    counts[target.value] = counts.get(target.value, 0) + 1
            elif isinstance(node, jn.Name):
                if node.name not in self.names:  # also Jinja's own `self`, `loop`, `super`, ...
                    self.error("E0504", self._find(t, node.name),
                               f"답변 문구의 값 {quoted(node.name, '을/를')} 어디에서도 주지 않습니다",
                               suggest(node.name, self.names)
                               or "사실, 파생값, 기준, 또는 `context`/`personal` 로 선언한 답변 값만 쓸 수 있습니다",
                               "알 수 없는 값")
                    ok = False
                variables.add(node.name)
        if ok:
            self.uses[t.name] = variables
            self.filters[t.name] = filters
            self.includes[t.name] = includes
            self.include_counts[t.name] = counts
            self._particles(t)


_CALC = "계산 (+, -, *, /, //, %, **)"
_CALC_HELP = "답변 문구에서는 계산하지 않습니다: 값은 정책에서 `let` 으로 계산해 두고 {{ 이름 }} 으로 쓰세요"


def _forbidden(node: jn.Node) -> tuple[str, str] | None:
    """(what it is, what to do instead) for a node replies may not use; None if allowed."""
    if isinstance(node, (jn.Template, jn.Output, jn.TemplateData, jn.Filter, jn.If, jn.Compare, jn.Operand,
                         jn.And, jn.Or, jn.Not, jn.Include, jn.CondExpr, jn.Concat, jn.Tuple, jn.List,
                         jn.Keyword)):
        return None
    if isinstance(node, jn.Name):
        return None if node.ctx == "load" else ("값 저장", "답변 문구에서는 값을 바꾸지 않습니다")
    if isinstance(node, jn.Const):
        if isinstance(node.value, float):  # 0.1 is no exact number: a comparison with a policy value could err
            return ("소수 `" + repr(node.value) + "`", "답변 문구의 숫자는 정수만 씁니다. 기준은 정책에 `const` 로 두고 "
                    "{% if 값 > 기준 %} 처럼 그 이름을 쓰거나, 정책에서 `let` 으로 조건을 계산해 두세요")
        ok = node.value is None or isinstance(node.value, (str, bool, int))
        return None if ok else ("값", "문자열이나 숫자만 쓸 수 있습니다")
    if isinstance(node, jn.Getattr):
        if node.attr in _ATTRIBUTES:
            return None
        return (f"속성 `.{node.attr}`", "값은 그대로 쓰고, 열거값은 .label 과 .code 만 씁니다. 바꿀 때는 필터를 씁니다: "
                + ", ".join(sorted(support.FILTERS)))
    if isinstance(node, (jn.Getitem, jn.Slice)):
        return "첨자 [ ... ]", "값은 그대로 {{ 이름 }} 으로 씁니다. 표의 값은 정책의 규칙에서 찾아 결정 값으로 내세요"
    if isinstance(node, jn.Call):
        return "함수 호출 ( ... )", "바꿀 때는 필터를 씁니다: " + ", ".join(sorted(support.FILTERS))
    if isinstance(node, (jn.BinExpr, jn.UnaryExpr)):
        return _CALC, _CALC_HELP
    if isinstance(node, (jn.Extends, jn.Import, jn.FromImport)):
        return "extends/import", "공통 문구는 {% include \"조각\" %} 로 넣으세요"
    if isinstance(node, jn.Test):
        return f"검사 `is {node.name}`", "조건은 ==, !=, in, not in, <, <=, >, >= 와 and, or, not 으로 씁니다"
    tag = {jn.For: "for", jn.Assign: "set", jn.AssignBlock: "set", jn.Macro: "macro", jn.CallBlock: "call",
           jn.FilterBlock: "filter", jn.With: "with", jn.Block: "block"}.get(type(node))
    if tag is not None:
        return f"태그 {{% {tag} %}}", "답변 문구에서는 {% if %}, {% elif %}, {% else %}, {% include %} 만 씁니다"
    return f"문법 ({type(node).__name__})", "답변 문구에서는 {{ 값 }}, 필터, {% if %}, {% include %} 만 씁니다"


_ATTRIBUTES = {"code", "label"}  # what a reply may read of an enum value
_MAX_DEPTH = 40     # nested tags and expressions in one template
_MAX_COPIES = 1000  # texts one render writes, snippets included


class _Cycle(Exception):
    def __init__(self, template: str, snippet: str) -> None:
        self.template, self.snippet = template, snippet


def _depth(tree: jn.Node) -> int:
    """How deeply a template's nodes nest, without recursion."""
    deepest, stack = 0, [(tree, 0)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in node.iter_child_nodes())
    return deepest

# `{{ x }}은`, `{{ x }}(으)로`, `{{ x }}이(가)`: a particle glued to the end of an expression
_HAND_PARTICLE = re.compile(
    r"\{\{(?P<expr>(?:(?!\}\}).)*)\}\}(?P<particle>\(으\)로|\(이\)라고|\(이\)나|은\(는\)|는\(은\)|이\(가\)|가\(이\)"
    r"|을\(를\)|를\(을\)|과\(와\)|와\(과\)|으로|이라고|라고|이나|은|는|이|가|을|를|과|와|로|나)(?![가-힣])")
_PAIRS = {"으로": "으로/로", "로": "으로/로", "은": "은/는", "는": "은/는", "이": "이/가", "가": "이/가",
          "을": "을/를", "를": "을/를", "과": "과/와", "와": "과/와", "이라고": "이라고/라고", "라고": "이라고/라고",
          "이나": "이나/나", "나": "이나/나", "으로로": "으로/로", "은는": "은/는", "는은": "은/는", "이가": "이/가",
          "가이": "이/가", "을를": "을/를", "를을": "을/를", "과와": "과/와", "와과": "과/와", "이라고라고": "이라고/라고",
          "이나나": "이나/나"}
_TOKENS = {"end of statement block": "%}", "end of print statement": "}}", "end of template": "문구 끝",
           "name": "이름", "string": "문자열", "integer": "숫자"}


def _jinja_ko(message: str) -> str:
    m = re.match(r"expected token '(.+?)', got '(.+?)'", message)
    if m:
        want, got = (_TOKENS.get(x, x) for x in m.groups())
        hint = " (같은지 비교는 == 입니다)" if got == "=" else ""
        return f"여기에 {quoted(got, '이/가')} 올 수 없습니다. {quoted(want, '이/가')} 와야 합니다{hint}"
    table = (
        ("Unexpected end of template", "문구가 끝나기 전에 닫히지 않은 태그가 있습니다"),
        ("unexpected end of template", "문구가 끝나기 전에 닫히지 않은 태그가 있습니다"),
        ("unexpected '}'", "`}` 가 짝 없이 나왔습니다"),
        ("Encountered unknown tag", "알 수 없는 태그입니다"),
        ("expected token 'end of print statement'", "`{{ ... }}` 가 제대로 닫히지 않았습니다"),
    )
    for needle, korean in table:
        if needle in message:
            return f"{korean} ({message.splitlines()[0]})"
    return message.splitlines()[0] if message else "알 수 없는 오류"


def check_replies(resolved: Resolved, yaml_files: list[RepliesFile], sources: dict[str, SourceFile]):
    checker = _Checker(resolved, yaml_files, sources)
    out = checker.run()
    return out, checker.diags


_INCLUDE_AT_LINE_END = re.compile(r"(\{%[-+]?\s*include\s+(?:\"[^\"\n]*\"|'[^'\n]*')\s*)%\}(?=\n)")


def keep_include_line_breaks(text: str) -> str:
    """`{% include "x" %}` at the end of a line keeps its line break (`+%}`): replies render
    with trim_blocks, which would glue the next line to the snippet (`환불됩니다.다음부터는`).
    An author's explicit `-%}` still trims."""
    return _INCLUDE_AT_LINE_END.sub(r"\1+%}", text)

