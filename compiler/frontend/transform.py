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


class ToAst:
    """Builds the AST bottom-up as the parser reduces each rule: `reduce(rule, children)`
    calls the method named like the rule with (span, built children). The parser
    (parser.py) sets `at`, the span of the rule being reduced; in lark's own loop it also
    keeps `where`: by id, each result (kept) and where it is, for results whose own span
    does not say it (a parenthesised expression, a tuple, lark's tree of a `_rule`). No
    recursion, so a condition nested a thousand deep becomes a diagnostic, not a
    RecursionError. Each expression's nesting is counted on the way (an `and`/`or` chain
    counts once, however long)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.diagnostics: list[Diagnostic] = []
        self._too_deep = False
        self.where: dict[int, tuple[object, tuple[int, int, int, int] | None]] = {}
        self.at: tuple[int, int, int, int] | None = None
        self._levels: dict[int, int] = {}

    def reduce(self, rule: str, children: list):
        """The node for `rule`. Each method is given the node's span (None for a rule that
        covers nothing: an empty file) and its children."""
        at = self.at
        span = None if at is None else Span(self.path, *at)
        result = getattr(self, rule)(span, children)
        self._levels[id(result)] = self._level(rule, span, children)
        return result

    def _level(self, rule: str, span, children) -> int:
        """How deeply this expression nests; past MAX_NESTING, one E0104 per declaration."""
        if rule in _DECLARATIONS:
            self._too_deep = False
            return 0
        levels = self._levels
        nesting = rule in _NESTING
        same = _SAME_LEVEL.get(rule)
        level = None
        for c in children:
            if c is None or type(c) is Token:
                continue
            below = levels.get(id(c), 0)
            if nesting and (same is None or not isinstance(c, same)):
                below += 1
            if level is None or below > level:
                level = below
        if level is None:
            return 1 if nesting else 0
        if level > MAX_NESTING and not self._too_deep:
            self._too_deep = True
            self.diagnostics.append(Diagnostic(
                "E0104", span, f"식이 너무 깊게 겹쳐 있습니다 ({MAX_NESTING}단계까지 쓸 수 있습니다)",
                "괄호와 not 을 줄이거나, 부분 조건을 `let` 이나 다른 규칙으로 나누세요", "너무 깊은 식"))
        return level

    # ── helpers ──
    def _ident(self, tok: Token) -> n.Ident:
        name = str(tok)
        # an ASCII name has none (the fillers and other digits are beyond ASCII, as is every Cf)
        odd = None if name.isascii() else next((i for i, ch in enumerate(name) if _misleading(ch)), None)
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
    def string_lit(self, span, ch):
        tok = ch[0]
        text, first, problem = literals.read_string(str(tok), tok.line)
        self._problem(tok, problem)
        return n.StringLit(text, first, token_span(self.path, tok))

    def label(self, span, ch):
        return self.string_lit(span, ch)

    def number_lit(self, span, ch):
        value, problem = literals.read_number(str(ch[0]))
        self._problem(ch[0], problem)
        return n.NumberLit(value, span)

    def duration_lit(self, span, ch):
        value, problem = literals.read_duration(str(ch[0]))
        self._problem(ch[0], problem)
        return n.DurationLit(value, str(ch[0]), span)

    def timestamp_lit(self, span, ch):
        value, problem = literals.read_timestamp(str(ch[0]))
        self._problem(ch[0], problem)
        return n.TimestampLit(value, str(ch[0]), span)

    def money_lit(self, span, ch):
        value, problem = literals.read_money(str(ch[0]))
        self._problem(ch[0], problem)
        return n.MoneyLit(value, str(ch[0]), span)

    def percent_lit(self, span, ch):
        value, problem = literals.read_percent(str(ch[0]))
        self._problem(ch[0], problem)
        return n.PercentLit(value, str(ch[0]), span)

    def grouped_number_lit(self, span, ch):
        value, problem = literals.grouped_number_problem(str(ch[0]))
        self._problem(ch[0], problem)
        return n.NumberLit(value, span)

    def date_lit(self, span, ch):
        value, problem = literals.read_date(str(ch[0]))
        self._problem(ch[0], problem)
        return n.DateLit(value, str(ch[0]), span)

    def time_lit(self, span, ch):
        return self._time(ch[0])

    def _time(self, tok: Token) -> n.TimeLit:
        value, problem = literals.read_time(str(tok))
        self._problem(tok, problem)
        return n.TimeLit(value, str(tok), token_span(self.path, tok))

    def window_lit(self, span, ch):
        return n.WindowLit(self._time(ch[0]), self._time(ch[1]), span)

    def true_lit(self, span, ch):
        return n.BoolLit(True, span)

    def false_lit(self, span, ch):
        return n.BoolLit(False, span)

    def name_ref(self, span, ch):
        return n.NameRef(self._ident(ch[0]), span)

    def set_lit(self, span, ch):
        return n.SetLit(tuple(self._ident(t) for t in ch if t is not None), span)

    def binary(self, span, ch):
        return n.Binary(str(ch[1]), ch[0], ch[2], span)

    def negate(self, span, ch):
        return n.Negate(ch[0], span)

    def call(self, span, ch):
        return n.Call(self._ident(ch[0]), tuple(c for c in ch[1:] if c is not None), span)

    def filtered(self, span, ch):
        return n.Filtered(ch[0], ch[1], span)

    def field(self, span, ch):
        return n.Field(ch[0], self._ident(ch[1]), span)

    def if_else(self, span, ch):
        return n.IfElse(ch[0], ch[1], ch[2], span)

    def is_given(self, span, ch):
        return n.IsGiven(ch[0], False, span)

    def is_missing(self, span, ch):
        return n.IsGiven(ch[0], True, span)

    # ── conditions ──
    def compare(self, span, ch):
        return n.Compare(str(ch[1]), ch[0], ch[2], span)

    def in_set(self, span, ch):
        return n.InSet(ch[0], ch[1], False, span)

    def not_in_set(self, span, ch):
        return n.InSet(ch[0], ch[1], True, span)

    def not_cond(self, span, ch):
        return n.Not(ch[0], span)

    def and_cond(self, span, ch):
        return n.And(_flat(n.And, ch), span)

    def or_cond(self, span, ch):
        return n.Or(_flat(n.Or, ch), span)

    # ── declarations ──
    def start(self, span, ch):
        return n.Module(tuple(ch), span if span is not None else Span(self.path, 1, 1, 1, 1))

    def policy_decl(self, span, ch):
        return n.PolicyDecl(self._ident(ch[0]), self._label(ch[1:]), span)

    def zone_decl(self, span, ch):
        return n.ZoneDecl(self.string_lit(span, [ch[0]]), span)

    def fact_decl(self, span, ch):
        name, rest = ch[0], ch[1:]
        label = rest.pop(0) if rest and isinstance(rest[0], n.StringLit) else None
        type_ref = rest.pop(0)
        tail = rest.pop(0) if rest else None
        optional = isinstance(tail, _OptionalMark)
        return n.FactDecl(self._ident(name), label, type_ref, None if optional else tail, optional, span)

    field_decl = fact_decl

    def optional_mark(self, span, ch):
        return _OptionalMark()  # a new object each time: the parser keeps each result's span by id

    def record_decl(self, span, ch):
        name, rest = ch[0], ch[1:]
        label = rest.pop(0) if rest and isinstance(rest[0], n.StringLit) else None
        return n.RecordDecl(self._ident(name), label, tuple(rest), span)

    def list_type(self, span, ch):
        bound = None
        if ch[1] is not None:
            bound = self.number_lit(span, [ch[1]])
        return n.ListType(self._ident(ch[0]), bound, span)

    def enum_type(self, span, ch):
        return n.EnumType(tuple(ch), span)

    def enum_value(self, span, ch):
        return n.EnumValue(self._ident(ch[0]), self._label(ch[1:]), span)

    def named_type(self, span, ch):
        return n.NamedType(self._ident(ch[0]), span)

    def default(self, span, ch):
        return ch[0]

    def let_decl(self, span, ch):
        return n.LetDecl(self._ident(ch[0]), self._label(ch[1:-1]), ch[-1], span)

    def const_decl(self, span, ch):
        return n.ConstDecl(self._ident(ch[0]), self._label(ch[1:-1]), ch[-1], span)

    def map_lit(self, span, ch):
        return n.MapLit(tuple(ch), span)

    def map_entry(self, span, ch):
        return n.MapEntry(self._ident(ch[0]), ch[1], span)

    def require_decl(self, span, ch):
        return n.RequireDecl(ch[0], ch[1], span)

    def context_kind(self, span, ch):
        return str(ch[0])

    def context_decl(self, span, ch):
        kind, name, rest = ch[0], ch[1], ch[2:]
        return n.ContextDecl(str(kind) == "personal", self._ident(name), self._label(rest[:-1]), rest[-1],
                             span)

    def action_decl(self, span, ch):
        params = next((c for c in ch[1:] if isinstance(c, tuple)), ())
        return n.ActionDecl(self._ident(ch[0]), self._label(ch[1:]), params, span)

    def param_list(self, span, ch):
        return tuple(ch)

    def param(self, span, ch):
        return n.Param(self._ident(ch[0]), self._label(ch[1:-1]), ch[-1], span)

    def action_ref(self, span, ch):
        return n.ActionRef(self._ident(ch[0]), tuple(c for c in ch[1:] if c is not None), span)

    output_ref = action_ref

    def action_arg(self, span, ch):
        return n.ActionArg(self._ident(ch[0]), ch[1], span)

    def snippet_decl(self, span, ch):
        return n.SnippetDecl(self._ident(ch[0]), self.string_lit(span, [ch[1]]), span)

    def replies_decl(self, span, ch):
        return n.RepliesDecl(self.string_lit(span, [ch[0]]), span)

    def name_list(self, span, ch):
        return tuple(self._ident(t) for t in ch)

    def discloses_attr(self, span, ch):
        return ("discloses", ch[0])

    def actions_attr(self, span, ch):
        return ("actions", tuple(ch))

    def reply_attr(self, span, ch):
        return ("reply", self.string_lit(span, [ch[0]]))

    def outcome_decl(self, span, ch):
        name, rest = ch[0], ch[1:]
        label = rest.pop(0) if rest and isinstance(rest[0], n.StringLit) else None
        attrs: dict = {"discloses": (), "actions": (), "reply": None}
        for key, value in rest:
            if key == "reply":
                attrs["reply"] = value  # a second reply is reported by the resolver? keep the last
            else:
                attrs[key] = attrs[key] + value
        return n.OutcomeDecl(self._ident(name), label, attrs["discloses"], attrs["actions"], attrs["reply"],
                             span)

    def decision_decl(self, span, ch):
        name, rest = ch[0], ch[1:]
        label = rest.pop(0) if rest and isinstance(rest[0], n.StringLit) else None
        hit = self._ident(rest.pop(0))
        rules = tuple(r for r in rest if isinstance(r, n.RuleDecl))
        otherwise = next((r for r in rest if isinstance(r, n.OtherwiseDecl)), None)
        return n.DecisionDecl(self._ident(name), label, hit, rules, otherwise, span)

    def rule_decl(self, span, ch):
        return n.RuleDecl(self._ident(ch[0]), self._label(ch[1:-2]), ch[-2], ch[-1], span)

    def otherwise_decl(self, span, ch):
        return n.OtherwiseDecl(ch[0], span)

    def names_output(self, span, ch):
        return n.NameOutput(tuple(ch), span)

    def value_output(self, span, ch):
        return n.ValueOutput(ch[0], span)

    def tuple_output(self, span, ch):
        items = tuple(self._ident(c) if isinstance(c, Token) else c for c in ch)
        return n.TupleOutput(items, span)

    def discloses_subject(self, span, ch):
        return ("discloses", self._ident(ch[0]))

    def outcome_subject(self, span, ch):
        return ("outcome", self._ident(ch[0]))

    def action_subject(self, span, ch):
        return ("action", self._ident(ch[0]))

    def never_body(self, span, ch):
        return (ch[0], None)

    def only_when_body(self, span, ch):
        return (ch[0], ch[1])

    def always_body(self, span, ch):
        return (("always", n.Ident("", span)), ch[0])

    def invariant_decl(self, span, ch):
        name, rest = ch[0], ch[1:]
        label = rest.pop(0) if rest and isinstance(rest[0], n.StringLit) else None
        (kind, subject), cond = rest[0]
        return n.InvariantDecl(self._ident(name), label, kind, subject, cond, span)

    def lookup(self, span, ch):
        return n.Lookup(self._ident(ch[0]), self._ident(ch[1]), span)
