"""Grammar rules -> AST (nodes.py), as the parser reduces them. One method per grammar
rule, named like it, given the rule's span and its built children.

Literal values are read here; a literal that lexes but is not a valid value
(a timestamp without its UTC offset, an unknown escape) becomes a diagnostic.
"""

from __future__ import annotations

import unicodedata

from lark import Token

from ..diagnostics import Diagnostic
from ..source import Span
from . import literals
from . import nodes as n


# Expressions may nest this deep (parentheses, `not`, `+`/`-`); the passes after the
# parser recurse over expressions, and Python's own compiler turns down generated code nested
# much deeper (200 parentheses).
MAX_NESTING = 100
_NESTING = {"or_cond", "and_cond", "not_cond", "binary", "negate", "call", "filtered", "field", "if_else",
            "compare", "in_set", "not_in_set", "is_given", "is_missing"}
_SAME_LEVEL = {"and_cond": n.And, "or_cond": n.Or}  # `a and b and c` is one level, not three
_DECLARATIONS = {"rule_decl", "otherwise_decl", "let_decl", "require_decl", "invariant_decl", "const_decl",
                 "fact_decl", "field_decl", "action_arg"}


# letters that show as nothing (Hangul fillers) or digits that are not 0-9: a name holding
# one can pass for another name
_FILLERS = {"\u115f", "\u1160", "\u3164", "\uffa0"}


def _misleading(ch: str) -> bool:
    category = unicodedata.category(ch)
    return ch in _FILLERS or category == "Cf" or (category == "Nd" and not ch.isascii())


def _flat(cls, parts) -> tuple:
    """The operands of an `and` (or `or`) chain, flattened: `(a and b) and c` is a, b, c."""
    out: list = []
    for part in parts:
        out.extend(part.operands if isinstance(part, cls) else (part,))
    return tuple(out)


def token_span(path: str, tok: Token) -> Span:
    return Span(path, tok.line, tok.column, tok.end_line, tok.end_column)


class _OptionalMark:
    """`optional` after a fact's type (a rule of its own in the grammar)."""


class _Meta:
    """Where a node is: what the methods below read (lark's Meta without its tree)."""

    __slots__ = ("line", "column", "end_line", "end_column", "empty")

    def __init__(self, at: tuple[int, int, int, int] | None) -> None:
        self.empty = at is None
        if at is not None:
            self.line, self.column, self.end_line, self.end_column = at


class ToAst:
    """Builds the AST bottom-up as the parser reduces each rule: `reduce(rule, children)`
    calls the method named like the rule with (meta, built children). The parser
    (parser.py) sets `at`, the span of the rule being reduced, and keeps `where`: the span
    of each result by id. No recursion, so a condition nested a thousand deep becomes a
    diagnostic, not a RecursionError. Each expression's nesting is counted on the way (an
    `and`/`or` chain counts once, however long)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.diagnostics: list[Diagnostic] = []
        self._too_deep = False
        self.where: dict[int, tuple[int, int, int, int] | None] = {}
        self.at: tuple[int, int, int, int] | None = None
        self._levels: dict[int, int] = {}

    def reduce(self, rule: str, children: list):
        meta = _Meta(self.at)
        result = getattr(self, rule)(meta, children)
        self._levels[id(result)] = self._level(rule, meta, children)
        return result

    def _level(self, rule: str, meta, children) -> int:
        """How deeply this expression nests; past MAX_NESTING, one E0104 per declaration."""
        if rule in _DECLARATIONS:
            self._too_deep = False
            return 0
        levels = self._levels
        if rule not in _NESTING:
            return max((levels.get(id(c), 0) for c in children if c is not None and type(c) is not Token), default=0)
        same = _SAME_LEVEL.get(rule)
        built = [c for c in children if c is not None and type(c) is not Token]
        level = max((levels.get(id(c), 0) if same is not None and isinstance(c, same) else levels.get(id(c), 0) + 1
                     for c in built), default=1)
        if level > MAX_NESTING and not self._too_deep:
            self._too_deep = True
            self.diagnostics.append(Diagnostic(
                "E0104", self._span(meta), f"식이 너무 깊게 겹쳐 있습니다 ({MAX_NESTING}단계까지 쓸 수 있습니다)",
                "괄호와 not 을 줄이거나, 부분 조건을 `let` 이나 다른 규칙으로 나누세요", "너무 깊은 식"))
        return level

    # ── helpers ──
    def _span(self, meta) -> Span:
        return Span(self.path, meta.line, meta.column, meta.end_line, meta.end_column)

    def _ident(self, tok: Token) -> n.Ident:
        name = str(tok)
        odd = next((i for i, ch in enumerate(name) if _misleading(ch)), None)
        if odd is not None:  # `ACTIVEㅤ` (a Hangul filler) would be a second ACTIVE that looks like the first
            ch = name[odd]
            at = Span(self.path, tok.line, tok.column + odd, tok.line, tok.column + odd + 1)
            self.diagnostics.append(Diagnostic(
                "E0100", at, f"이름에 보이지 않거나 헷갈리는 글자가 있습니다: U+{ord(ch):04X} "
                f"({unicodedata.name(ch, '이름 없는 글자')})",
                "이름에는 글자, ASCII 숫자, _ 만 씁니다. 그 글자를 지우세요", "이 글자"))
        return n.Ident(name, token_span(self.path, tok))

    def _problem(self, tok: Token, problem) -> None:
        if problem:
            message, help_ = problem
            self.diagnostics.append(Diagnostic("E0103", token_span(self.path, tok), message, help_))

    @staticmethod
    def _split(children):
        """Children as (identifiers..., optional label) helpers."""
        return list(children)

    def _label(self, children):
        return next((c for c in children if isinstance(c, n.StringLit)), None)

    # ── literals ──
    def string_lit(self, meta, ch):
        tok = ch[0]
        text, first, problem = literals.read_string(str(tok), tok.line)
        self._problem(tok, problem)
        return n.StringLit(text, first, token_span(self.path, tok))

    def label(self, meta, ch):
        return self.string_lit(meta, ch)

    def number_lit(self, meta, ch):
        value, problem = literals.read_number(str(ch[0]))
        self._problem(ch[0], problem)
        return n.NumberLit(value, self._span(meta))

    def duration_lit(self, meta, ch):
        value, problem = literals.read_duration(str(ch[0]))
        self._problem(ch[0], problem)
        return n.DurationLit(value, str(ch[0]), self._span(meta))

    def timestamp_lit(self, meta, ch):
        value, problem = literals.read_timestamp(str(ch[0]))
        self._problem(ch[0], problem)
        return n.TimestampLit(value, str(ch[0]), self._span(meta))

    def money_lit(self, meta, ch):
        value, problem = literals.read_money(str(ch[0]))
        self._problem(ch[0], problem)
        return n.MoneyLit(value, str(ch[0]), self._span(meta))

    def percent_lit(self, meta, ch):
        value, problem = literals.read_percent(str(ch[0]))
        self._problem(ch[0], problem)
        return n.PercentLit(value, str(ch[0]), self._span(meta))

    def grouped_number_lit(self, meta, ch):
        value, problem = literals.grouped_number_problem(str(ch[0]))
        self._problem(ch[0], problem)
        return n.NumberLit(value, self._span(meta))

    def date_lit(self, meta, ch):
        value, problem = literals.read_date(str(ch[0]))
        self._problem(ch[0], problem)
        return n.DateLit(value, str(ch[0]), self._span(meta))

    def time_lit(self, meta, ch):
        return self._time(ch[0])

    def _time(self, tok: Token) -> n.TimeLit:
        value, problem = literals.read_time(str(tok))
        self._problem(tok, problem)
        return n.TimeLit(value, str(tok), token_span(self.path, tok))

    def window_lit(self, meta, ch):
        return n.WindowLit(self._time(ch[0]), self._time(ch[1]), self._span(meta))

    def true_lit(self, meta, ch):
        return n.BoolLit(True, self._span(meta))

    def false_lit(self, meta, ch):
        return n.BoolLit(False, self._span(meta))

    def name_ref(self, meta, ch):
        return n.NameRef(self._ident(ch[0]), self._span(meta))

    def set_lit(self, meta, ch):
        return n.SetLit(tuple(self._ident(t) for t in ch if t is not None), self._span(meta))

    def binary(self, meta, ch):
        return n.Binary(str(ch[1]), ch[0], ch[2], self._span(meta))

    def negate(self, meta, ch):
        return n.Negate(ch[0], self._span(meta))

    def call(self, meta, ch):
        return n.Call(self._ident(ch[0]), tuple(c for c in ch[1:] if c is not None), self._span(meta))

    def filtered(self, meta, ch):
        return n.Filtered(ch[0], ch[1], self._span(meta))

    def field(self, meta, ch):
        return n.Field(ch[0], self._ident(ch[1]), self._span(meta))

    def if_else(self, meta, ch):
        return n.IfElse(ch[0], ch[1], ch[2], self._span(meta))

    def is_given(self, meta, ch):
        return n.IsGiven(ch[0], False, self._span(meta))

    def is_missing(self, meta, ch):
        return n.IsGiven(ch[0], True, self._span(meta))

    # ── conditions ──
    def compare(self, meta, ch):
        return n.Compare(str(ch[1]), ch[0], ch[2], self._span(meta))

    def in_set(self, meta, ch):
        return n.InSet(ch[0], ch[1], False, self._span(meta))

    def not_in_set(self, meta, ch):
        return n.InSet(ch[0], ch[1], True, self._span(meta))

    def not_cond(self, meta, ch):
        return n.Not(ch[0], self._span(meta))

    def and_cond(self, meta, ch):
        return n.And(_flat(n.And, ch), self._span(meta))

    def or_cond(self, meta, ch):
        return n.Or(_flat(n.Or, ch), self._span(meta))

    # ── declarations ──
    def start(self, meta, ch):
        return n.Module(tuple(ch), self._span(meta) if not meta.empty else Span(self.path, 1, 1, 1, 1))

    def policy_decl(self, meta, ch):
        return n.PolicyDecl(self._ident(ch[0]), self._label(ch[1:]), self._span(meta))

    def zone_decl(self, meta, ch):
        return n.ZoneDecl(self.string_lit(meta, [ch[0]]), self._span(meta))

    def fact_decl(self, meta, ch):
        name, rest = ch[0], ch[1:]
        label = rest.pop(0) if rest and isinstance(rest[0], n.StringLit) else None
        type_ref = rest.pop(0)
        tail = rest.pop(0) if rest else None
        optional = isinstance(tail, _OptionalMark)
        return n.FactDecl(self._ident(name), label, type_ref, None if optional else tail, optional, self._span(meta))

    field_decl = fact_decl

    def optional_mark(self, meta, ch):
        return _OptionalMark()  # a new object each time: the parser keeps each result's span by id

    def record_decl(self, meta, ch):
        name, rest = ch[0], ch[1:]
        label = rest.pop(0) if rest and isinstance(rest[0], n.StringLit) else None
        return n.RecordDecl(self._ident(name), label, tuple(rest), self._span(meta))

    def list_type(self, meta, ch):
        bound = None
        if ch[1] is not None:
            bound = self.number_lit(meta, [ch[1]])
        return n.ListType(self._ident(ch[0]), bound, self._span(meta))

    def enum_type(self, meta, ch):
        return n.EnumType(tuple(ch), self._span(meta))

    def enum_value(self, meta, ch):
        return n.EnumValue(self._ident(ch[0]), self._label(ch[1:]), self._span(meta))

    def named_type(self, meta, ch):
        return n.NamedType(self._ident(ch[0]), self._span(meta))

    def default(self, meta, ch):
        return ch[0]

    def let_decl(self, meta, ch):
        return n.LetDecl(self._ident(ch[0]), self._label(ch[1:-1]), ch[-1], self._span(meta))

    def const_decl(self, meta, ch):
        return n.ConstDecl(self._ident(ch[0]), self._label(ch[1:-1]), ch[-1], self._span(meta))

    def map_lit(self, meta, ch):
        return n.MapLit(tuple(ch), self._span(meta))

    def map_entry(self, meta, ch):
        return n.MapEntry(self._ident(ch[0]), ch[1], self._span(meta))

    def require_decl(self, meta, ch):
        return n.RequireDecl(ch[0], ch[1], self._span(meta))

    def context_kind(self, meta, ch):
        return str(ch[0])

    def context_decl(self, meta, ch):
        kind, name, rest = ch[0], ch[1], ch[2:]
        return n.ContextDecl(str(kind) == "personal", self._ident(name), self._label(rest[:-1]), rest[-1],
                             self._span(meta))

    def action_decl(self, meta, ch):
        params = next((c for c in ch[1:] if isinstance(c, tuple)), ())
        return n.ActionDecl(self._ident(ch[0]), self._label(ch[1:]), params, self._span(meta))

    def param_list(self, meta, ch):
        return tuple(ch)

    def param(self, meta, ch):
        return n.Param(self._ident(ch[0]), self._label(ch[1:-1]), ch[-1], self._span(meta))

    def action_ref(self, meta, ch):
        return n.ActionRef(self._ident(ch[0]), tuple(c for c in ch[1:] if c is not None), self._span(meta))

    output_ref = action_ref

    def action_arg(self, meta, ch):
        return n.ActionArg(self._ident(ch[0]), ch[1], self._span(meta))

    def snippet_decl(self, meta, ch):
        return n.SnippetDecl(self._ident(ch[0]), self.string_lit(meta, [ch[1]]), self._span(meta))

    def replies_decl(self, meta, ch):
        return n.RepliesDecl(self.string_lit(meta, [ch[0]]), self._span(meta))

    def name_list(self, meta, ch):
        return tuple(self._ident(t) for t in ch)

    def discloses_attr(self, meta, ch):
        return ("discloses", ch[0])

    def actions_attr(self, meta, ch):
        return ("actions", tuple(ch))

    def reply_attr(self, meta, ch):
        return ("reply", self.string_lit(meta, [ch[0]]))

    def outcome_decl(self, meta, ch):
        name, rest = ch[0], ch[1:]
        label = rest.pop(0) if rest and isinstance(rest[0], n.StringLit) else None
        attrs: dict = {"discloses": (), "actions": (), "reply": None}
        for key, value in rest:
            if key == "reply":
                attrs["reply"] = value  # a second reply is reported by the resolver? keep the last
            else:
                attrs[key] = attrs[key] + value
        return n.OutcomeDecl(self._ident(name), label, attrs["discloses"], attrs["actions"], attrs["reply"],
                             self._span(meta))

    def decision_decl(self, meta, ch):
        name, rest = ch[0], ch[1:]
        label = rest.pop(0) if rest and isinstance(rest[0], n.StringLit) else None
        hit = self._ident(rest.pop(0))
        rules = tuple(r for r in rest if isinstance(r, n.RuleDecl))
        otherwise = next((r for r in rest if isinstance(r, n.OtherwiseDecl)), None)
        return n.DecisionDecl(self._ident(name), label, hit, rules, otherwise, self._span(meta))

    def rule_decl(self, meta, ch):
        return n.RuleDecl(self._ident(ch[0]), self._label(ch[1:-2]), ch[-2], ch[-1], self._span(meta))

    def otherwise_decl(self, meta, ch):
        return n.OtherwiseDecl(ch[0], self._span(meta))

    def names_output(self, meta, ch):
        return n.NameOutput(tuple(ch), self._span(meta))

    def value_output(self, meta, ch):
        return n.ValueOutput(ch[0], self._span(meta))

    def tuple_output(self, meta, ch):
        items = tuple(self._ident(c) if isinstance(c, Token) else c for c in ch)
        return n.TupleOutput(items, self._span(meta))

    def discloses_subject(self, meta, ch):
        return ("discloses", self._ident(ch[0]))

    def outcome_subject(self, meta, ch):
        return ("outcome", self._ident(ch[0]))

    def action_subject(self, meta, ch):
        return ("action", self._ident(ch[0]))

    def never_body(self, meta, ch):
        return (ch[0], None)

    def only_when_body(self, meta, ch):
        return (ch[0], ch[1])

    def always_body(self, meta, ch):
        return (("always", n.Ident("", self._span(meta))), ch[0])

    def invariant_decl(self, meta, ch):
        name, rest = ch[0], ch[1:]
        label = rest.pop(0) if rest and isinstance(rest[0], n.StringLit) else None
        (kind, subject), cond = rest[0]
        return n.InvariantDecl(self._ident(name), label, kind, subject, cond, self._span(meta))

    def lookup(self, meta, ch):
        return n.Lookup(self._ident(ch[0]), self._ident(ch[1]), self._span(meta))
