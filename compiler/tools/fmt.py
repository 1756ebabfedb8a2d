"""`policyc fmt`: one canonical layout for policy files, comments kept.

    format_source(source) -> (text | None, [Diagnostic])

The text is printed from the AST, with each comment put back before the declaration,
enum value or rule it stood before (or after the line it ended). The result is parsed
again and its tree compared with the original's; if they differ, or a comment went
missing, nothing is returned (a bug in fmt must never change a policy). Idempotent:
formatting formatted text changes nothing.
"""

from __future__ import annotations

from ..diagnostics import Diagnostic, display_width
from ..frontend import literals
from ..frontend import nodes as n
from ..frontend.parser import parse_with_comments
from ..source import SourceFile
from ..korean import particle

WIDTH = 80  # display columns: a Hangul syllable counts two


# ── printing expressions ───────────────────────────────────────────────

def string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'


def literal(e) -> str:
    if isinstance(e, n.StringLit):
        return string(e.value)
    if isinstance(e, n.NumberLit):
        return str(e.value)
    if isinstance(e, (n.DurationLit, n.TimestampLit, n.MoneyLit, n.PercentLit, n.DateLit, n.TimeLit)):
        return e.text
    if isinstance(e, n.BoolLit):
        return "true" if e.value else "false"
    raise TypeError(e)


# how tightly each expression binds (grammar/policy.lark, loosest first): a part that binds
# more loosely than its place needs is printed in parentheses
_IF, _OR, _AND, _NOT, _CMP, _SUM, _PRODUCT, _UNARY, _POSTFIX, _PRIMARY = range(10)


def _level(e) -> int:
    if isinstance(e, n.IfElse):
        return _IF
    if isinstance(e, n.Or):
        return _OR
    if isinstance(e, n.And):
        return _AND
    if isinstance(e, n.Not):
        return _NOT
    if isinstance(e, (n.Compare, n.InSet, n.IsGiven)):
        return _CMP
    if isinstance(e, n.Binary):
        return _SUM if e.op in "+-" else _PRODUCT
    if isinstance(e, n.Negate):
        return _UNARY
    if isinstance(e, n.Field):
        return _POSTFIX
    return _PRIMARY


def expr(e, at_least: int = _IF) -> str:
    """`e` as policy text, in parentheses when it binds more loosely than `at_least`."""
    text = _expr(e)
    return f"({text})" if _level(e) < at_least else text


def _expr(e) -> str:
    if isinstance(e, n.NameRef):
        return e.name.name
    if isinstance(e, n.SetLit):
        return "{" + ", ".join(i.name for i in e.items) + "}"
    if isinstance(e, n.WindowLit):
        return f"{e.start.text}..{e.end.text}"
    if isinstance(e, n.Binary):
        level = _level(e)
        return f"{expr(e.left, level)} {e.op} {expr(e.right, level + 1)}"
    if isinstance(e, n.Negate):
        return f"-{expr(e.operand, _UNARY)}"
    if isinstance(e, n.Field):
        return f"{expr(e.base, _POSTFIX)}.{e.name.name}"
    if isinstance(e, n.Call):
        return f"{e.func.name}({', '.join(_argument(a) for a in e.args)})"
    if isinstance(e, n.IfElse):
        return f"if {expr(e.cond)} then {expr(e.then)} else {expr(e.else_)}"
    if isinstance(e, n.IsGiven):
        return f"{expr(e.operand, _SUM)} is {'missing' if e.negated else 'given'}"
    if isinstance(e, n.Compare):
        return f"{expr(e.left, _SUM)} {e.op} {expr(e.right, _SUM)}"
    if isinstance(e, n.InSet):
        return f"{expr(e.item, _SUM)} {'not in' if e.negated else 'in'} {expr(e.set, _SUM)}"
    if isinstance(e, n.Not):  # a comparison under `not` keeps its parentheses, for the reader
        inner = e.operand
        return f"not {expr(inner, _SUM if not isinstance(inner, n.Not) else _NOT)}"
    if isinstance(e, n.And):  # parts that are `or`s in parentheses
        return " and ".join(expr(x, _NOT) for x in e.operands)
    if isinstance(e, n.Or):  # parts that are `and`s too, only for the reader
        return " or ".join(expr(x, _NOT) for x in e.operands)
    return literal(e)


def _argument(a) -> str:
    if isinstance(a, n.Filtered):
        return f"{expr(a.item)} where {expr(a.cond)}"
    return expr(a)


def cond(c, parent: str = "") -> str:
    """A condition in its place: a whole `when`, or a part of an `and`/`or` chain."""
    return expr(c, _NOT if parent in ("and", "or") else _IF)


def operand(e) -> str:
    return expr(e)


def conjuncts(c) -> list:
    if isinstance(c, n.And):
        return [x for part in c.operands for x in conjuncts(part)]
    return [c]


def action_ref(r) -> str:
    if not r.args:
        return r.name.name
    return f"{r.name.name}({', '.join(f'{a.name.name} = {expr(a.value)}' for a in r.args)})"


def output(o) -> str:
    if isinstance(o, n.NameOutput):
        return ", ".join(action_ref(r) for r in o.items)
    if isinstance(o, n.ValueOutput):
        return literal(o.value)
    items = []
    for item in o.items:
        if isinstance(item, n.Lookup):
            items.append(f"{item.map.name}[{item.key.name}]")
        elif isinstance(item, n.Ident):
            items.append(item.name)
        else:
            items.append(literal(item))
    return "(" + ", ".join(items) + ")"


def label(lbl) -> str:
    return f" {string(lbl.value)}" if lbl is not None else ""


# ── the printer ────────────────────────────────────────────────────────

class _Printer:
    def __init__(self, source: SourceFile, comments) -> None:
        self.source = source
        self.lines: list[str] = []
        self.comments = sorted(comments)
        self.used: set[int] = set()

    # comments
    def _code_before(self, line: int, col: int) -> bool:
        return bool(self.source.line(line)[: col - 1].strip())

    def leading(self, start_line: int, floor: int, indent: str) -> None:
        """Standalone comments on lines floor < L < start_line, in order."""
        last = 0
        for i, (line, col, text) in enumerate(self.comments):
            if i in self.used or not (floor < line < start_line) or self._code_before(line, col):
                continue
            if self._blank_before(line) and self.lines and self.lines[-1] != "" and not self.lines[-1].endswith("{"):
                self.lines.append("")
            self.lines.append(indent + text)
            self.used.add(i)
            last = line
        if last and self._blank_before(start_line) and start_line - 1 > last and start_line < 10**9:
            self.lines.append("")

    def inner(self, span, indent: str, after_code_only: bool = False) -> None:
        """Comments inside a declaration that spans several lines (a rule whose condition
        runs over lines, an enum value whose label is on the next line), which the one line
        it is printed as has no place for: kept, as standalone lines just above it. A comment
        after code on the last line is left for `trailing`."""
        for i, (line, col, text) in enumerate(self.comments):
            if i in self.used or not (span.line <= line <= span.end_line):
                continue
            code_before = self._code_before(line, col)
            if (line == span.end_line and code_before) or (after_code_only and not code_before):
                continue
            self.lines.append(indent + text)
            self.used.add(i)

    def trailing(self, end_line: int) -> None:
        """A comment after code on `end_line` goes at the end of the last printed line."""
        for i, (line, col, text) in enumerate(self.comments):
            if i not in self.used and line == end_line and self._code_before(line, col):
                self.lines[-1] += "  " + text
                self.used.add(i)

    def _blank_before(self, line: int) -> bool:
        return line > 1 and not self.source.line(line - 1).strip()

    def gap(self, node_line: int, floor: int) -> None:
        """Keep one blank line where the source had one before this node or its comments."""
        first = node_line
        for i, (line, col, _) in enumerate(self.comments):
            if i not in self.used and floor < line < node_line and not self._code_before(line, col):
                first = min(first, line)
        if self.lines and self.lines[-1] != "" and self._blank_before(first) and not self.lines[-1].endswith("{"):
            self.lines.append("")

    # strings
    def block(self, lit: n.StringLit, indent: str) -> list[str]:
        """A triple-quoted string re-indented under `indent`; verbatim if that would change it."""
        body = [indent + "  " + line if line.strip() else "" for line in lit.value.split("\n")]
        text = '"""\n' + "\n".join(body) + "\n" + indent + '"""'
        if '"""' not in lit.value and literals.read_string(text, 1)[0] == lit.value:
            return text.split("\n")
        raw = self.source.text
        start = _offset(self.source, lit.span.line, lit.span.column)
        end = _offset(self.source, lit.span.end_line, lit.span.end_column)
        return raw[start:end].split("\n")

    def text_value(self, lit: n.StringLit, indent: str) -> list[str]:
        if "\n" in lit.value or _is_triple(self.source, lit):
            return self.block(lit, indent)
        return [string(lit.value)]

    # declarations
    def module(self, m: n.Module) -> str:
        prev_end = 0
        for item in m.items:
            self.gap(item.span.line, prev_end)
            self.leading(item.span.line, prev_end, "")
            if isinstance(item, n.OutcomeDecl):  # its own lines keep the comments on lines of their own
                self.inner(item.span, "", after_code_only=True)
            elif not _container(item):
                self.inner(item.span, "")
            self.item(item)
            self.trailing(item.span.end_line)
            prev_end = item.span.end_line
        self.leading(10**9, prev_end, "")
        text = "\n".join(self.lines).rstrip("\n") + "\n"
        while "\n\n\n" in text:
            text = text.replace("\n\n\n", "\n\n")
        return text

    def item(self, d) -> None:
        add = self.lines.append
        if isinstance(d, n.PolicyDecl):
            add(f"policy {d.name.name}{label(d.label)}")
        elif isinstance(d, n.ZoneDecl):
            add(f"zone {string(d.name.value)}")
        elif isinstance(d, n.FactDecl):
            self.fact(d, "fact ", "")
        elif isinstance(d, n.RecordDecl):
            add(f"record {d.name.name}{label(d.label)} {{")
            prev = d.span.line
            for f in d.fields:
                self.leading(f.span.line, prev, "  ")
                if not (isinstance(f.type, n.EnumType)):
                    self.inner(f.span, "  ")
                self.fact(f, "", "  ")
                self.trailing(f.span.end_line)
                prev = f.span.end_line
            self.leading(d.span.end_line, prev, "  ")
            add("}")
        elif isinstance(d, n.LetDecl):
            add(f"let {d.name.name}{label(d.label)} = {operand(d.expr)}")
        elif isinstance(d, n.ConstDecl):
            if isinstance(d.value, n.MapLit):
                add(f"const {d.name.name}{label(d.label)} = {{")
                prev = d.value.span.line
                for e in d.value.entries:
                    self.leading(e.span.line, prev, "  ")
                    self.inner(e.span, "  ")
                    add(f"  {e.key.name}: {literal(e.value)},")
                    self.trailing(e.span.end_line)
                    prev = e.span.end_line
                self.leading(d.value.span.end_line, prev, "  ")
                add("}")
            else:
                add(f"const {d.name.name}{label(d.label)} = {operand(d.value)}")
        elif isinstance(d, n.RequireDecl):
            add(f"require {cond(d.cond)} {string(d.message.value)}")
        elif isinstance(d, n.ContextDecl):
            add(f"{'personal' if d.personal else 'context'} {d.name.name}{label(d.label)}: {d.type.name.name}")
        elif isinstance(d, n.ActionDecl):
            params = ", ".join(f"{p.name.name}{label(p.label)}: {p.type.name.name}" for p in d.params)
            add(f"action {d.name.name}{label(d.label)}" + (f" ({params})" if params else ""))
        elif isinstance(d, n.SnippetDecl):
            body = self.text_value(d.text, "")
            add(f"snippet {d.name.name} = {body[0]}")
            self.lines.extend(body[1:])
        elif isinstance(d, n.RepliesDecl):
            add(f"replies {string(d.path.value)}")
        elif isinstance(d, n.OutcomeDecl):
            self.outcome(d)
        elif isinstance(d, n.DecisionDecl):
            self.decision(d)
        elif isinstance(d, n.InvariantDecl):
            self.invariant(d)
        else:  # pragma: no cover
            raise TypeError(d)

    def fact(self, d: n.FactDecl, keyword: str, indent: str) -> None:
        """A fact, or (with no keyword, indented) a field of a record."""
        add = self.lines.append
        tail = f" = {expr(d.default)}" if d.default is not None else " optional" if d.optional else ""
        head = f"{indent}{keyword}{d.name.name}{label(d.label)}: "
        if isinstance(d.type, n.EnumType):
            add(head + "enum {")
            width = max(len(v.name.name) for v in d.type.values)
            prev = d.type.span.line
            for v in d.type.values:
                self.leading(v.span.line, prev, indent + "  ")
                self.inner(v.span, indent + "  ")
                text = v.name.name if v.label is None else f"{v.name.name.ljust(width)}  {string(v.label.value)}"
                add(f"{indent}  {text}")
                self.trailing(v.span.end_line)
                prev = v.span.end_line
            self.leading(d.type.span.end_line, prev, indent + "  ")
            add(indent + "}" + tail)
        elif isinstance(d.type, n.ListType):
            bound = f" (max {d.type.max.value})" if d.type.max is not None else ""
            add(f"{head}list of {d.type.item.name}{bound}{tail}")
        else:
            add(f"{head}{d.type.name.name}{tail}")

    def outcome(self, d: n.OutcomeDecl) -> None:
        add = self.lines.append
        head = f"outcome {d.name.name}{label(d.label)}"
        if not (d.discloses or d.actions or d.reply):
            add(head + " {}")
            return
        add(head + " {")
        if d.discloses:
            add("  discloses " + ", ".join(i.name for i in d.discloses))
        if d.actions:
            add("  actions " + ", ".join(action_ref(r) for r in d.actions))
        if d.reply is not None:
            body = self.text_value(d.reply, "  ")
            add("  reply " + body[0])
            self.lines.extend(body[1:])
        self.leading(d.span.end_line, d.span.line, "  ")
        add("}")

    def wrap(self, c, first: str, cont: str) -> None:
        """A condition after `first`, filled to the width; continuation lines start with
        `cont` and the joining `and`/`or` of a top-level chain."""
        if isinstance(c, n.Or) and not isinstance(c, n.And):
            joiner, parts = "or", [cond(p, "or") for p in _chain(c, n.Or)]
        else:
            joiner, parts = "and", [cond(p, "and") for p in conjuncts(c)]
        line = first + parts[0]
        for part in parts[1:]:
            candidate = f"{line} {joiner} {part}"
            if display_width(candidate) <= WIDTH:
                line = candidate
            else:
                self.lines.append(line)
                line = f"{cont}{joiner} {part}"
        self.lines.append(line)

    def decision(self, d: n.DecisionDecl) -> None:
        add = self.lines.append
        add(f"decision {d.name.name}{label(d.label)} ({d.hit_policy.name}) {{")
        prev = d.span.line
        for r in d.rules:
            self.gap(r.span.line, prev)
            self.leading(r.span.line, prev, "  ")
            self.inner(r.span, "  ")
            add(f"  rule {r.name.name}{label(r.label)}:")
            self.wrap(r.cond, "    when ", "     ")
            add(f"    then {output(r.output)}")
            self.trailing(r.span.end_line)
            prev = r.span.end_line
        if d.otherwise is not None:
            self.gap(d.otherwise.span.line, prev)
            self.leading(d.otherwise.span.line, prev, "  ")
            self.inner(d.otherwise.span, "  ")
            add(f"  otherwise {output(d.otherwise.output)}")
            self.trailing(d.otherwise.span.end_line)
            prev = d.otherwise.span.end_line
        self.leading(d.span.end_line, prev, "  ")
        add("}")

    def invariant(self, d: n.InvariantDecl) -> None:
        add = self.lines.append
        add(f"invariant {d.name.name}{label(d.label)}:")
        subject = f"{d.subject_kind} {d.subject.name}"
        if d.subject_kind == "always":
            self.wrap(d.cond, "  always ", "    ")
        elif d.cond is None:
            add(f"  never {subject}")
        else:
            add(f"  {subject} only when")
            self.wrap(d.cond, "    ", "    ")


def _container(item) -> bool:
    """Declarations whose printing places the comments inside them itself."""
    return (isinstance(item, (n.DecisionDecl, n.RecordDecl))
            or isinstance(item, n.FactDecl) and isinstance(item.type, n.EnumType)
            or isinstance(item, n.ConstDecl) and isinstance(item.value, n.MapLit))


def _chain(c, kind) -> list:
    if isinstance(c, kind):
        return [x for part in c.operands for x in _chain(part, kind)]
    return [c]


def _is_triple(source: SourceFile, lit: n.StringLit) -> bool:
    return source.line(lit.span.line)[lit.span.column - 1: lit.span.column + 2] == '"""'


def _offset(source: SourceFile, line: int, column: int) -> int:
    offset = 0
    for number in range(1, line):
        offset += len(source.line(number)) + 1
    return offset + column - 1


class FormatBug(RuntimeError):
    """fmt could not print a policy back as the same policy: a bug in policyc, never the
    author's; the CLI reports it as one (exit 70) and writes nothing."""


def format_source(source: SourceFile) -> tuple[str | None, list[Diagnostic]]:
    """(formatted text, []) or (None, the syntax errors). Raises FormatBug when the printed
    text would not be the same policy (tree or comments): nothing is ever written then."""
    module, comments, diags = parse_with_comments(source)
    if module is None or diags:
        return None, diags
    printer = _Printer(source, comments)
    text = printer.module(module)
    missing = len(comments) - len(printer.used)
    if text == source.text and not missing:
        return text, []  # already formatted: the same text reads as the same policy (half of a large `fmt --check`)
    again, again_comments, again_diags = parse_with_comments(SourceFile(source.path, text))
    if again is None or again_diags or again != module or len(again_comments) != len(comments) or missing:
        why = "다시 읽은 결과가 원래와 다릅니다" if again is not None else "다시 읽을 수 없습니다"
        if missing:
            why = f"주석 {missing}개를 둘 자리를 찾지 못했습니다"
        raise FormatBug(f"fmt 가 {source.path}{particle(source.path, '을/를')} 안전하게 정리하지 못해 그대로 둡니다 ({why}). "
                        "policyc 의 버그입니다: 이 파일을 첨부해 알려 주세요")
    return text, []
