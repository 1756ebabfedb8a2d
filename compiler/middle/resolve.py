"""Names and types: AST -> typed, spanned IR pieces, plus diagnostics. The AST stops here:
what later passes need (outcomes and their inline replies, snippets, reply files) leaves
as plain records (`OutcomeSpec`, `source.Named`, `source.Text`).

    resolve(module, policy_name, path) -> (Resolved, [Diagnostic])

Checks: duplicate names, unknown names (with a suggestion), fact and reply-value
types, type mismatches in conditions and derived values, sets and maps of enum
values, outcome attributes, decision shape (hit policy, catch-all, one kind of
result per decision, at most one decision of outcomes). Whether a table lookup can
miss a value is proven by the analysis (E0307, analysis/checks.py); reply templates are
checked afterwards (templates.py).
"""

from __future__ import annotations

import keyword
import re
import unicodedata
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ..diagnostics import Diagnostic, Related
from ..frontend import nodes as n
from ..source import Named, Span, Text
from . import ir
from ..runtime.support import NUMBER_LIMIT
from .ir import BOOL, DURATION, NUMBER, STRING, TIMESTAMP, Type
from .values import EXACT_LIMIT
from ..korean import particle, quoted
from .names import suggest

RESERVED_FIELDS = ("outcome", "discloses", "actions", "rule", "source", "facts", "derived", "trace", "count", "index",
                   "policy_error", "file_row_number")  # Decision's fields, and the columns `policyc batch` adds
# a fact is a column of `policyc batch`'s output too: it may not be named like one the query adds
RESERVED_FACTS = ("outcome", "discloses", "actions", "rule", "policy_error")
_LITERAL_TYPES = {n.StringLit: STRING, n.NumberLit: NUMBER, n.DurationLit: DURATION,
                  n.TimestampLit: TIMESTAMP, n.BoolLit: BOOL}
_ARITH = {("timestamp", "-", "timestamp"): DURATION, ("timestamp", "+", "duration"): TIMESTAMP,
          ("timestamp", "-", "duration"): TIMESTAMP, ("duration", "+", "duration"): DURATION,
          ("duration", "-", "duration"): DURATION, ("number", "+", "number"): NUMBER,
          ("number", "-", "number"): NUMBER}


@dataclass(frozen=True)
class OutcomeSpec:
    """An outcome as declared: its reply comes later (inline here, or from a YAML file)."""

    name: str
    label: str
    discloses: tuple[str, ...]
    actions: tuple[str, ...]
    reply: Text | None
    span: Span
    decl_span: Span


@dataclass
class Resolved:
    """What the later passes need, in plain data: the IR pieces, the outcomes whose
    replies are still to be checked, the snippets and the reply files the policy names."""

    name: str
    label: str
    facts: list[ir.Fact] = field(default_factory=list)
    derived: list[ir.Derived] = field(default_factory=list)
    consts: list[ir.Const] = field(default_factory=list)
    requires: list[ir.Require] = field(default_factory=list)
    contexts: list[ir.ContextValue] = field(default_factory=list)
    actions: list[ir.Action] = field(default_factory=list)
    outcomes: list[OutcomeSpec] = field(default_factory=list)
    snippets: list[tuple[Named, Text]] = field(default_factory=list)
    replies_files: list[Text] = field(default_factory=list)
    decisions: list[ir.Decision] = field(default_factory=list)
    invariants: list[ir.Invariant] = field(default_factory=list)


def _text(label: n.StringLit | None) -> str:
    return label.value if label else ""


def _as_text(lit: n.StringLit) -> Text:
    return Text(lit.value, lit.first_line, lit.span)


class Resolver:
    def __init__(self, module: n.Module, policy_name: str, path: str) -> None:
        self.module = module
        self.path = path
        self.diags: list[Diagnostic] = []
        self.out = Resolved(policy_name, "")
        # the value namespace: facts, derived values, constants -> (kind, type, span)
        self.values: dict[str, tuple[str, Type, Span]] = {}
        self.enums: dict[str, ir.Fact] = {}
        self.const_values: dict[str, Any] = {}
        self.magnitudes: dict[str, Fraction] = {}  # per derived number: the largest size it can reach

    # ── reporting ──
    def error(self, code: str, span: Span, message: str, help_: str | None = None,
              label: str | None = None, related: tuple[Related, ...] = ()) -> None:
        self.diags.append(Diagnostic(code, span, message, help_, label, related))

    def _declare(self, table: dict, ident: n.Ident, what: str, entry) -> bool:
        if ident.name in table:
            first = table[ident.name]
            first_span = first if isinstance(first, Span) else first[2]
            self.error("E0200", ident.span, f"{what} {quoted(ident.name, '이/가')} 이미 선언되어 있습니다",
                       "둘 중 하나의 이름을 바꾸세요", "두 번째 선언",
                       (Related(first_span, "처음 선언한 곳"),))
            return False
        table[ident.name] = entry
        return True

    # ── the pass ──
    def run(self) -> Resolved:
        items = self.module.items
        self._header([i for i in items if isinstance(i, n.PolicyDecl)])
        declared = [(item, self._fact(item)) for item in items if isinstance(item, n.FactDecl)]
        for item in items:
            if isinstance(item, n.ConstDecl):
                self._const(item)
        for item, fact in declared:  # after the constants: a default may name one (`= LIMIT`)
            if fact is not None:
                self.out.facts.append(self._with_default(item, fact))
        for item in items:
            if isinstance(item, n.LetDecl):
                self._let(item)
        for item in items:
            if isinstance(item, n.RequireDecl):
                self._require(item)
        self._contexts_and_actions(items)
        self._outcomes(items)
        self.out.snippets = [(Named(i.name.name, i.name.span), _as_text(i.text))
                             for i in items if isinstance(i, n.SnippetDecl)]
        self.out.replies_files = [_as_text(i.path) for i in items if isinstance(i, n.RepliesDecl)]
        self._decisions([i for i in items if isinstance(i, n.DecisionDecl)])
        self._invariants([i for i in items if isinstance(i, n.InvariantDecl)])
        return self.out

    def _header(self, headers: list[n.PolicyDecl]) -> None:
        name = self.out.name
        valid = re.fullmatch(r"[a-z][a-z0-9_]*", name) is not None
        if not valid:
            span = headers[0].name.span if headers else Span(self.path, 1, 1, 1, 2)
            self.error("E0510", span, f"정책 파일 이름 {quoted(name, '은/는')} 파이썬 모듈 이름이 될 수 없습니다",
                       "영문 소문자로 시작하고 소문자, 숫자, _ 만 쓰는 파일 이름으로 바꾸세요 (예: driver_info.policy)")
        for h in headers[1:]:
            self.error("E0200", h.span, "`policy` 선언이 두 번 있습니다", "하나만 남기세요",
                       related=(Related(headers[0].span, "처음 선언한 곳"),))
        if headers:
            h = headers[0]
            if valid and h.name.name != name:
                self.error("E0510", h.name.span,
                           f"정책 이름 {quoted(h.name.name, '이/가')} 파일 이름 {quoted(name, '과/와')} 다릅니다",
                           f"`policy {name}` {particle(name, '으로/로')} 고치거나 파일 이름을 `{h.name.name}.policy` 로 바꾸세요")
            self.out.label = _text(h.label)

    # ── facts ──
    def _fact(self, d: n.FactDecl) -> ir.Fact | None:
        """The fact's name, type and values, declared; its default comes later."""
        if isinstance(d.type, n.EnumType):
            values, seen = [], {}
            for v in d.type.values:
                if self._declare(seen, v.name, "열거값", v.name.span):
                    values.append(ir.EnumValue(v.name.name, _text(v.label) or v.name.name))
            typ = Type("enum", d.name.name)
        else:
            kind = d.type.name.name
            if kind not in ir.FACT_KINDS:
                self.error("E0203", d.type.span, f"사실의 종류로 쓸 수 없습니다: `{kind}`",
                           suggest(kind, ir.FACT_KINDS + ("enum",)) or
                           "enum { ... }, bool, timestamp, duration, number 중 하나를 쓰세요")
                return None
            values, typ = [], Type(kind)
        if d.name.name.casefold() in RESERVED_FACTS:
            self.error("E0403", d.name.span, f"{quoted(d.name.name, '은/는')} 사실 이름으로 쓸 수 없습니다",
                       "결정 결과(`policyc batch` 의 출력 열)와 겹칩니다. 다른 이름을 쓰세요")
        fact = ir.Fact(d.name.name, _text(d.label) or d.name.name, typ, tuple(values), span=d.name.span,
                       decl_span=d.span)
        if typ.kind == "enum":
            self.enums[fact.name] = fact
        if not self._declare(self.values, d.name, "이름", ("fact", typ, d.name.span)):
            return None
        return fact

    def _with_default(self, d: n.FactDecl, fact: ir.Fact) -> ir.Fact:
        default, has_default = None, False
        if d.default is not None:
            got = self._operand(d.default, fact.type)
            if got is not None:
                if got.type != fact.type or not isinstance(got, (ir.Value, ir.ConstRef)):
                    self.error("E0305", d.default.span, f"기본값의 종류가 사실의 종류와 다릅니다: 사실은 {fact.type}, 기본값은 {got.type}",
                               "사실과 같은 종류의 값을 기본값으로 쓰세요")
                else:
                    default = got.value if isinstance(got, ir.Value) else self.const_values[got.name]
                    has_default = True
        return ir.Fact(fact.name, fact.label, fact.type, fact.values, default, has_default, fact.span, fact.decl_span)

    # ── constants ──
    def _const(self, d: n.ConstDecl) -> None:
        if isinstance(d.value, n.MapLit):
            got = self._map(d.value)
        else:
            got = self._operand(d.value, None)
            if got is not None and not isinstance(got, ir.Value):
                self.error("E0201", d.value.span, "기준의 값은 값 그대로 적어야 합니다",
                           "다른 기준이나 사실을 가리킬 수 없습니다")
                got = None
        if got is None:
            return
        if self._declare(self.values, d.name, "이름", ("const", got.type, d.name.span)):
            self.const_values[d.name.name] = got.value
            self.out.consts.append(ir.Const(d.name.name, _text(d.label) or d.name.name, got.type, got.value,
                                            d.name.span, d.span))

    def _map(self, m: n.MapLit) -> ir.Value | None:
        keys = [e.key for e in m.entries]
        enum = self._enum_of([k.name for k in keys], m.span)
        if enum is None:
            return None
        seen: dict = {}
        entries, kinds = [], set()
        for e in m.entries:
            if not self._declare(seen, e.key, "표의 항목", e.key.span):
                continue
            kinds.add(_LITERAL_TYPES[type(e.value)].kind)
            entries.append((e.key.name, e.value.value))
        if len(kinds) > 1:
            self.error("E0304", m.span, "표의 값은 모두 같은 종류여야 합니다", "모두 문자열이나 모두 숫자로 적으세요")
            return None
        order = {v.code: i for i, v in enumerate(self.enums[enum].values)}
        entries.sort(key=lambda kv: order[kv[0]])
        return ir.Value(tuple(entries), Type("map", enum, kinds.pop() if kinds else "string"), m.span)

    def _enum_of(self, codes: list[str], span: Span) -> str | None:
        """The one enum that has all of `codes`, or None after reporting why not."""
        owners = [name for name, fact in self.enums.items() if set(codes) <= set(fact.codes)]
        if len(owners) == 1:
            return owners[0]
        if not codes:
            self.error("E0304", span, "빈 집합은 쓸 수 없습니다", "집합에 값을 하나 이상 적으세요")
        elif len(owners) > 1:
            self.error("E0304", span, f"이 값들이 여러 열거형({', '.join(owners)})에 모두 있어 어느 것인지 알 수 없습니다",
                       "열거값 이름을 서로 다르게 지으세요")
        else:
            all_codes = [c for f in self.enums.values() for c in f.codes]
            for code in codes:
                if code not in all_codes:
                    self.error("E0202", span, f"어떤 열거형에도 없는 값: `{code}`", suggest(code, all_codes))
                    return None
            self.error("E0304", span, "한 집합에 서로 다른 열거형의 값이 섞여 있습니다",
                       "집합은 한 사실의 값들로만 만드세요")
        return None

    # ── derived values and requirements ──
    def _let(self, d: n.LetDecl) -> None:
        expr = self._arith(d.expr)
        if expr is None:
            return
        if expr.type.kind == "number":
            largest = self._magnitude(expr)
            if largest >= EXACT_LIMIT:
                self.error("E0308", d.expr.span, f"{quoted(d.name.name, '은/는')} 10의 29제곱 이상이 될 수 있어 "
                           "정확히 계산할 수 없습니다",
                           "숫자 사실은 10의 15제곱 미만입니다. 같은 값을 여러 번 더하지 않았는지 보세요",
                           f"최대 {len(str(int(largest)))}자리 수")
                largest = Fraction(0)  # reported once, here: values built on it are not reported again
            self.magnitudes[d.name.name] = largest
        if self._declare(self.values, d.name, "이름", ("derived", expr.type, d.name.span)):
            self.out.derived.append(ir.Derived(d.name.name, _text(d.label) or d.name.name, expr.type, expr,
                                               d.name.span, d.span))

    def _arith(self, e: n.Expr) -> ir.Expr | None:
        if not isinstance(e, n.Binary):
            return self._operand(e, None)
        left, right = self._arith(e.left), self._arith(e.right)
        if left is None or right is None:
            return None
        result = _ARITH.get((left.type.kind, e.op, right.type.kind))
        if result is None:
            self.error("E0303", e.span, f"{left.type} {e.op} {right.type}{particle(str(right.type), '은/는')} 계산할 수 없습니다",
                       "시각 - 시각, 시각 ± 기간, 기간 ± 기간, 숫자 ± 숫자 만 됩니다")
            return None
        return ir.Arith(e.op, left, right, result, e.span)

    def _magnitude(self, e: ir.Expr) -> Fraction:
        """The largest size a number expression can reach: each number fact is under
        10**15 (what decide() accepts), a sum adds sizes."""
        if isinstance(e, ir.Arith):
            return self._magnitude(e.left) + self._magnitude(e.right)
        if isinstance(e, ir.FactRef):
            return Fraction(NUMBER_LIMIT)
        if isinstance(e, ir.DerivedRef):
            return self.magnitudes[e.name]
        if isinstance(e, ir.ConstRef):
            return abs(Fraction(self.const_values[e.name]))
        return abs(Fraction(e.value))

    def _require(self, d: n.RequireDecl) -> None:
        cond = self._cond(d.cond)
        if cond is not None:
            self.out.requires.append(ir.Require(cond, d.message.value, tuple(self._facts_read(cond)), d.span))

    def _facts_read(self, e: ir.Expr) -> list[str]:
        """The facts an expression reads, in order, through derived values, each once."""
        reads: dict[str, list[str]] = {}  # per derived value, in declaration order: no recursion
        for d in self.out.derived:
            reads[d.name] = self._direct_reads(d.expr, reads)
        return self._direct_reads(e, reads)

    @staticmethod
    def _direct_reads(e: ir.Expr, reads: dict[str, list[str]]) -> list[str]:
        out: dict[str, None] = {}
        for node in ir.walk(e):
            if isinstance(node, ir.FactRef):
                out[node.name] = None
            elif isinstance(node, ir.DerivedRef):
                out.update(dict.fromkeys(reads[node.name]))
        return list(out)

    # ── operands and conditions ──
    def _operand(self, e: n.Operand, expect: Type | None) -> ir.Expr | None:
        """The typed IR expression, or None after reporting. A bare name that is not a
        fact, derived value or constant is read as a value of `expect`'s enum."""
        if type(e) in _LITERAL_TYPES:
            return ir.Value(e.value, _LITERAL_TYPES[type(e)], e.span)
        if isinstance(e, n.SetLit):
            codes = [i.name for i in e.items]
            if not codes:  # `x in {}` is never true: surely not what was meant
                self.error("E0304", e.span, "빈 집합은 쓸 수 없습니다", "집합에 값을 하나 이상 적으세요")
                return None
            if expect is not None and expect.kind == "enum":
                enum = expect.enum
                for i in e.items:
                    if i.name not in self.enums[enum].codes:
                        self._unknown_value(i, enum)
                        return None
            else:
                enum = self._enum_of(codes, e.span)
                if enum is None:
                    return None
            return ir.Value(tuple(dict.fromkeys(codes)), Type("set", enum), e.span)  # in the order written
        if isinstance(e, n.NameRef):
            name = e.name.name
            if name in self.values:
                kind, typ, _ = self.values[name]
                ref = {"fact": ir.FactRef, "derived": ir.DerivedRef, "const": ir.ConstRef}[kind]
                return ref(name, typ, e.span)
            if expect is not None and expect.kind == "enum":
                if name in self.enums[expect.enum].codes:
                    return ir.Value(name, expect, e.span)
                self._unknown_value(e.name, expect.enum)
                return None
            self.error("E0201", e.span, f"알 수 없는 이름: `{name}`",
                       suggest(name, list(self.values) + [c for f in self.enums.values() for c in f.codes]),
                       "선언되지 않은 이름")
            return None
        raise TypeError(e)  # pragma: no cover — the grammar allows nothing else

    def _unknown_value(self, ident: n.Ident, enum: str) -> None:
        fact = self.enums[enum]
        self.error("E0202", ident.span, f"`{enum}` 에 없는 값: `{ident.name}`",
                   suggest(ident.name, fact.codes) or f"가능한 값: {', '.join(fact.codes)}",
                   f"{fact.label}의 값이 아님")

    def _pair(self, left: n.Operand, right: n.Operand):
        """Type both sides of a comparison; a bare enum value takes the other side's type."""
        def standalone(e):
            return isinstance(e, n.NameRef) and e.name.name not in self.values
        if standalone(left) and not standalone(right):
            r = self._operand(right, None)
            lt = self._operand(left, r.type) if r else None
            return None if lt is None else (lt, r)
        lt = self._operand(left, None)
        r = self._operand(right, lt.type) if lt else None
        return None if r is None else (lt, r)

    def _cond(self, c: n.Cond) -> ir.Expr | None:
        if isinstance(c, (n.And, n.Or)):
            parts = [self._cond(x) for x in c.operands]
            if any(x is None for x in parts):
                return None
            cls = ir.And if isinstance(c, n.And) else ir.Or
            ops = []  # a written `a and (b and c)` is three parts; what sugar lowers to stays one
            for written, part in zip(c.operands, parts):
                ops.extend(part.operands if isinstance(part, cls) and isinstance(written, type(c)) else (part,))
            return cls(tuple(ops), span=c.span)
        if isinstance(c, n.Not):
            inner = self._cond(c.operand)
            return None if inner is None else ir.Not(inner, span=c.span)
        if isinstance(c, n.Truth):
            got = self._operand(c.operand, None)
            if got is None:
                return None
            if got.type != BOOL:
                hint = ("`사실 = 값` 처럼 비교하세요" if got.type.kind == "enum"
                        else "비교 연산자(=, <, <= …)로 비교하세요")
                self.error("E0302", c.span, f"조건은 참이나 거짓이어야 하는데 {got.type} 입니다", hint)
                return None
            return got
        if isinstance(c, n.Compare):
            pair = self._pair(c.left, c.right)
            if pair is None:
                return None
            le, re_ = pair
            lt, rt = le.type, re_.type
            if lt != rt:
                kinds = {lt.kind, rt.kind}
                help_ = ("기간에는 단위를 붙여 씁니다: 15분, 3일, 72시간" if kinds == {"duration", "number"}
                         else "시각과 시각의 차이는 기간입니다: `let 경과 = 나중 - 먼저` 로 두고 기간끼리 비교하세요"
                         if kinds == {"timestamp", "duration"} else "같은 종류의 값끼리 비교하세요")
                self.error("E0300", c.span, f"{lt}{particle(str(lt), '과/와')} {rt}{particle(str(rt), '은/는')} 비교할 수 없습니다",
                           help_, "종류가 다른 비교")
                return None
            if c.op not in ("=", "!=") and not lt.numeric:
                self.error("E0301", c.span, f"{lt} 에는 크기 비교 {quoted(c.op, '을/를')} 쓸 수 없습니다",
                           "= 나 != 로 비교하세요" + (", 여러 값이면 `in {...}`" if lt.kind == "enum" else ""))
                return None
            if lt.kind in ("set", "map", "tuple"):
                self.error("E0301", c.span, f"{lt}{particle(str(lt), '은/는')} 비교할 수 없습니다", "`값 in 집합` 으로 쓰세요")
                return None
            return ir.Cmp(c.op, le, re_, span=c.span)
        if isinstance(c, n.InSet):
            item = self._operand(c.item, None)
            if item is None:
                return None
            if item.type.kind != "enum":
                self.error("E0301", c.span, f"`in` 은 열거형 사실에만 쓸 수 있는데 {item.type} 입니다",
                           "열거형 사실을 `사실 in {값, 값}` 처럼 쓰세요")
                return None
            got = self._operand(c.set, item.type)
            if got is None:
                return None
            if got.type != Type("set", item.type.enum):
                self.error("E0300", c.set.span, f"{item.type} 의 값이 {got.type} 에 있는지 볼 수 없습니다",
                           f"{item.type.enum} 의 값으로 만든 집합을 쓰세요")
                return None
            return ir.In(item, got, c.negated, span=c.span)
        raise TypeError(c)  # pragma: no cover

    # ── reply values, actions, outcomes ──
    def _contexts_and_actions(self, items) -> None:
        contexts: dict = {}
        actions: dict = {}
        for d in items:
            if isinstance(d, n.ContextDecl):
                kind = d.type.name.name
                if kind not in ir.CONTEXT_KINDS:
                    self.error("E0203", d.type.span, f"답변 값의 종류로 쓸 수 없습니다: `{kind}`",
                               suggest(kind, ir.CONTEXT_KINDS) or "text, phone, number 중 하나를 쓰세요")
                    continue
                if d.name.name in self.values:
                    self._declare(self.values, d.name, "이름", None)
                    continue
                if self._declare(contexts, d.name, "답변 값", d.name.span):
                    self.out.contexts.append(ir.ContextValue(d.name.name, _text(d.label) or d.name.name, kind,
                                                             d.personal, d.name.span))
            elif isinstance(d, n.ActionDecl):
                if self._declare(actions, d.name, "조치", d.name.span):
                    self.out.actions.append(ir.Action(d.name.name, _text(d.label) or d.name.name, d.name.span))

    def _outcomes(self, items) -> None:
        seen: dict = {}
        personal = {c.name for c in self.out.contexts if c.personal}
        actions = {a.name for a in self.out.actions}
        for d in items:
            if not isinstance(d, n.OutcomeDecl) or not self._declare(seen, d.name, "결과", d.name.span):
                continue
            for ident in d.discloses:
                if ident.name not in personal:
                    self.error("E0509", ident.span, f"personal 로 선언되지 않은 공개 대상: `{ident.name}`",
                               suggest(ident.name, personal) or "먼저 `personal 이름 \"설명\": text` 로 선언하세요")
            for ident in d.actions:
                if ident.name not in actions:
                    self.error("E0509", ident.span, f"선언되지 않은 조치: `{ident.name}`",
                               suggest(ident.name, actions) or "먼저 `action 이름 \"설명\"` 으로 선언하세요")
            self.out.outcomes.append(OutcomeSpec(
                d.name.name, _text(d.label) or d.name.name, tuple(dict.fromkeys(i.name for i in d.discloses)),
                tuple(dict.fromkeys(i.name for i in d.actions)), None if d.reply is None else _as_text(d.reply),
                d.name.span, d.span))

    # ── decisions ──
    def _decisions(self, decisions: list[n.DecisionDecl]) -> None:
        if not decisions:
            span = self.module.span
            self.error("E0404", Span(span.file, 1, 1, 1, 2), "정책에 결정(decision)이 없습니다",
                       "`decision 이름 (first) { rule ...: when ... then ... otherwise ... }` 를 더하세요")
            return
        seen: dict = {}
        main: n.DecisionDecl | None = None
        for d in decisions:
            if not self._declare(seen, d.name, "결정", d.name.span):
                continue
            if d.name.name.casefold() in RESERVED_FIELDS:
                self.error("E0403", d.name.span, f"{quoted(d.name.name, '은/는')} 결정 이름으로 쓸 수 없습니다",
                           "Decision 의 다른 필드나 `policyc batch` 가 더하는 열과 겹칩니다. 다른 이름을 쓰세요")
            elif d.name.name.casefold() in {f.name.casefold() for f in self.out.facts}:
                self.error("E0403", d.name.span, f"{quoted(d.name.name, '은/는')} 결정 이름으로 쓸 수 없습니다",
                           "같은 이름의 사실이 있습니다 (`policyc batch` 의 출력에서 두 열이 겹칩니다). 다른 이름을 쓰세요")
            elif not _field_name_ok(d.name.name):
                self.error("E0403", d.name.span, f"{quoted(d.name.name, '은/는')} 결정 이름으로 쓸 수 없습니다",
                           "결정 이름은 Decision 의 필드 이름이 됩니다. 파이썬 예약어가 아니고 _ 로 시작하지 않는 이름을 쓰세요")
            if d.hit_policy.name not in ("first", "unique"):
                self.error("E0401", d.hit_policy.span, f"지원하지 않는 적중 정책: `{d.hit_policy.name}`",
                           suggest(d.hit_policy.name, ("first", "unique")) or
                           "`(first)`: 위에서부터 처음 맞는 규칙, `(unique)`: 규칙끼리 겹치면 안 됨")
            decision = self._decision(d)
            if decision is None:
                continue
            if decision.yields_outcome:
                if main is not None:
                    self.error("E0402", d.name.span, "결과(outcome)를 내는 결정이 둘 이상입니다",
                               "하나의 결정만 결과를 내게 하고, 나머지는 값(문자열, 숫자, 묶음)을 내게 하세요",
                               related=(Related(main.name.span, "처음 결과를 내는 결정"),))
                main = main or d
            self.out.decisions.append(decision)

    def _invariants(self, invariants: list[n.InvariantDecl]) -> None:
        seen: dict = {}
        known = {"discloses": {c.name for c in self.out.contexts if c.personal},
                 "outcome": {o.name for o in self.out.outcomes},
                 "action": {a.name for a in self.out.actions}}
        what = {"discloses": "personal 로 선언한 개인정보", "outcome": "결과(outcome)", "action": "조치(action)"}
        for inv in invariants:
            self._declare(seen, inv.name, "불변식", inv.name.span)
            if inv.subject.name not in known[inv.subject_kind]:
                self.error("E0509", inv.subject.span, f"{what[inv.subject_kind]} 중에 없는 이름: `{inv.subject.name}`",
                           suggest(inv.subject.name, known[inv.subject_kind])
                           or f"먼저 {what[inv.subject_kind]}{particle(what[inv.subject_kind], '을/를')} 선언하세요")
                continue
            cond = None
            if inv.cond is not None:
                cond = self._cond(inv.cond)
                if cond is None:
                    continue
            self.out.invariants.append(ir.Invariant(inv.name.name, _text(inv.label) or inv.name.name,
                                                    inv.subject_kind, inv.subject.name, cond, inv.name.span, inv.span))

    def _decision(self, d: n.DecisionDecl) -> ir.Decision | None:
        rule_names: dict = {}
        rules: list[ir.Rule] = []
        kinds: list[tuple[Type, Span]] = []
        ok = True
        for r in d.rules:
            self._declare(rule_names, r.name, "규칙", r.name.span)
            cond = self._cond(r.cond)
            out = self._output(r.output)
            if cond is None or out is None:
                ok = False
                continue
            rules.append(ir.Rule(r.name.name, _text(r.label), cond, out[0], r.name.span, r.span))
            kinds.append((out[1], r.output.span))
        # Without `otherwise`, the static analysis (compiler/analysis) proves the rules
        # cover every valid input, or reports the gap (E0400) with an example.
        if d.otherwise is not None:
            out = self._output(d.otherwise.output)
            if out is None:
                ok = False
            else:
                rules.append(ir.Rule("otherwise", "", None, out[0], d.otherwise.span, d.otherwise.span))
                kinds.append((out[1], d.otherwise.output.span))
        if not ok or not kinds:
            return None
        first_type, first_span = kinds[0]
        for typ, span in kinds[1:]:
            if typ != first_type:
                self.error("E0306", span, f"이 결정의 결과는 {first_type} 인데 여기서는 {typ} 입니다",
                           "한 결정의 모든 규칙은 같은 종류의 결과를 내야 합니다", None,
                           (Related(first_span, "첫 규칙의 결과"),))
                return None
        return ir.Decision(d.name.name, _text(d.label), d.hit_policy.name, tuple(rules),
                           first_type.kind == "outcome", d.name.span, d.span)

    def _output(self, o: n.Output) -> tuple[ir.Expr, Type] | None:
        if isinstance(o, n.NameOutput):
            name = o.name.name
            if any(x.name == name for x in self.out.outcomes):
                return ir.Value(name, Type("outcome"), o.span), Type("outcome")
            if name in self.values and self.values[name][0] == "const":
                typ = self.values[name][1]
                return ir.ConstRef(name, typ, o.span), typ
            self.error("E0201", o.span, f"알 수 없는 결과: `{name}`",
                       suggest(name, [x.name for x in self.out.outcomes]) or
                       "먼저 `outcome 이름 \"설명\" { ... }` 로 선언하세요", "선언되지 않은 결과")
            return None
        if isinstance(o, n.ValueOutput):
            typ = _LITERAL_TYPES[type(o.value)]
            return ir.Value(o.value.value, typ, o.span), typ
        items = []
        for item in o.items:
            if isinstance(item, n.Lookup):
                got = self._lookup(item)
            elif isinstance(item, n.Ident):
                got = self._operand(n.NameRef(item, item.span), None)
                if got is not None and not isinstance(got, ir.ConstRef):
                    self.error("E0306", item.span, "묶음에는 문자열, 문자열 기준, 표[사실] 만 쓸 수 있습니다")
                    got = None
            else:
                got = ir.Value(item.value, _LITERAL_TYPES[type(item)], item.span)
            if got is None:
                return None
            if got.type != STRING:
                self.error("E0306", item.span, f"묶음의 값은 문자열이어야 하는데 {got.type} 입니다")
                return None
            items.append(got)
        typ = Type("tuple", item=str(len(items)))
        return ir.TupleOf(tuple(items), typ, o.span), typ

    def _lookup(self, lk: n.Lookup) -> ir.Expr | None:
        entry = self.values.get(lk.map.name)
        if entry is None or entry[0] != "const" or entry[1].kind != "map":
            self.error("E0201", lk.map.span, f"표(map) 기준이 아닙니다: `{lk.map.name}`",
                       suggest(lk.map.name, [k for k, v in self.values.items() if v[1].kind == "map"]))
            return None
        mtype = entry[1]
        key = self._operand(n.NameRef(lk.key, lk.key.span), None)
        if key is None:
            return None
        if key.type != Type("enum", mtype.enum) or not isinstance(key, ir.FactRef):
            self.error("E0300", lk.key.span,
                       f"{quoted(lk.map.name, '은/는')} {mtype.enum} 의 값으로 찾는 표인데 {key.type} 입니다",
                       f"`{lk.map.name}[{mtype.enum}]` 처럼 쓰세요")
            return None
        # whether every value that can reach this lookup has an entry is proven by the analysis (E0307)
        return ir.Lookup(lk.map.name, key, Type(mtype.item or "string"), lk.span)


def _field_name_ok(name: str) -> bool:
    """A decision name becomes a Python attribute: an identifier that Python keeps as written."""
    return (name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("_")
            and unicodedata.normalize("NFKC", name) == name)


def resolve(module: n.Module, policy_name: str, path: str) -> tuple[Resolved, list[Diagnostic]]:
    r = Resolver(module, policy_name, path)
    out = r.run()
    return out, r.diags
