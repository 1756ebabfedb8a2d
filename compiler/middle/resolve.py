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

import datetime as dt
import keyword
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from ..diagnostics import Diagnostic, Related
from ..frontend import nodes as n
from ..korean import particle, quoted
from ..source import Named, Span, Text
from . import ir
from .exactness import Exactness
from .exprs import LITERAL_TYPES, ExprTyper
from .guards import Guards
from .ir import STRING, Type
from .names import suggest

RESERVED_FIELDS = ("outcome", "discloses", "actions", "action_args", "rule", "source", "facts", "derived", "trace",
                   "count", "index", "policy_error", "file_row_number")  # Decision's fields, and `policyc batch`'s columns
# a fact is a column of `policyc batch`'s output too: it may not be named like one the query adds
RESERVED_FACTS = ("outcome", "discloses", "actions", "rule", "policy_error")
LIST_LIMIT = 100  # the most items a list fact may declare: the analysis reasons about each


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
    calls: tuple[ir.ActionCall, ...] = ()


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
    records: list[ir.Record] = field(default_factory=list)
    zone: str = "Asia/Seoul"
    zone_offset: Any = None


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
        self.enums: dict[str, ir.Fact] = {"weekday": ir.Fact("weekday", "요일", ir.WEEKDAY, tuple(
            ir.EnumValue(code, label) for code, label in ir.WEEKDAYS))}
        self.const_values: dict[str, Any] = {}
        self.records: dict[str, ir.Record] = {}
        self.facts: dict[str, ir.Fact] = {}
        self.optional_derived: set[str] = set()  # derived values that read a value that may be missing
        self.deps: dict[str, frozenset] = {}  # and what each needs (middle/guards.py)
        self.typer = ExprTyper(self)
        self.exact = Exactness(self)

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
    # ── what the expression typer asks ──
    def enum(self, name: str) -> ir.Fact:
        return self.enums[name]

    def all_codes(self) -> list[str]:
        return [c for name, f in self.enums.items() if name != "weekday" for c in f.codes]

    def record_of(self, list_fact: str) -> ir.Record:
        return self.records[self.values[list_fact][1].item]

    def may_be_missing(self, e: ir.Expr) -> bool:
        """Whether a value may be absent: an optional fact or field, a derived value that
        reads one, a max/min/first over items that may not be there."""
        if isinstance(e, ir.FactRef):
            f = self.facts.get(e.name)
            return f is not None and f.optional
        if isinstance(e, ir.DerivedRef):
            return e.name in self.optional_derived
        if isinstance(e, ir.Item):
            record = self.typer.item
            return record is not None and record.fields_by_name[e.name].optional
        return isinstance(e, ir.Aggregate) and e.op in ("max", "min", "first")

    # ── the pass ──
    def run(self) -> Resolved:
        items = self.module.items
        self._header([i for i in items if isinstance(i, n.PolicyDecl)])
        self._zone([i for i in items if isinstance(i, n.ZoneDecl)])
        for item in items:
            if isinstance(item, n.RecordDecl):
                self._record(item)
        declared = [(item, self._fact(item)) for item in items if isinstance(item, n.FactDecl)]
        for item in items:
            if isinstance(item, n.ConstDecl):
                self._const(item)
        for item, fact in declared:  # after the constants: a default may name one (`= LIMIT`)
            if fact is not None:
                fact = self._with_default(item, fact)
                self.facts[fact.name] = fact
                self.out.facts.append(fact)
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

    def _zone(self, zones: list[n.ZoneDecl]) -> None:
        """The zone dates and times of day are read in: a fixed UTC offset (Korea since 1988),
        so a decision never depends on the zone rules installed where it runs."""
        import zoneinfo

        for z in zones[1:]:
            self.error("E0200", z.span, "`zone` 선언이 두 번 있습니다", "하나만 남기세요",
                       related=(Related(zones[0].span, "처음 선언한 곳"),))
        name = zones[0].name.value if zones else "Asia/Seoul"
        try:
            zone = zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            self.error("E0313", zones[0].name.span, f"알 수 없는 시간대: `{name}`",
                       "IANA 시간대 이름을 쓰세요 (예: \"Asia/Seoul\")")
            return
        offsets = {zone.utcoffset(dt.datetime(year, month, 1)) for year in range(1990, 2101) for month in (1, 7)}
        if len(offsets) != 1:
            self.error("E0313", zones[0].name.span, f"`{name}` 은 일광 절약 시간(서머타임)이 있어 쓸 수 없습니다",
                       "UTC 기준 차이가 늘 같은 시간대만 씁니다 (예: \"Asia/Seoul\", \"Asia/Tokyo\", \"UTC\")")
            return
        self.out.zone, self.out.zone_offset = name, offsets.pop()

    def _record(self, d: n.RecordDecl) -> None:
        fields, seen = [], {}
        for f in d.fields:
            if isinstance(f.type, n.ListType):
                self.error("E0203", f.type.span, "레코드의 필드는 목록일 수 없습니다", "목록은 사실로만 선언합니다")
                continue
            fact = self._typed_fact(f, f"{d.name.name}.{f.name.name}", ir.FIELD_KINDS)
            if fact is None or not self._declare(seen, f.name, "필드", f.name.span):
                continue
            fields.append(self._with_default(f, fact))
        record = ir.Record(d.name.name, _text(d.label) or d.name.name, tuple(fields), d.name.span, d.span)
        if self._declare(self.records, d.name, "레코드", record):
            self.out.records.append(record)

    def _typed_fact(self, d: n.FactDecl, enum_name: str, kinds: tuple[str, ...]) -> ir.Fact | None:
        """A fact's (or a field's) name, label and type; its default comes later."""
        if isinstance(d.type, n.EnumType):
            values, seen = [], {}
            for v in d.type.values:
                if self._declare(seen, v.name, "열거값", v.name.span):
                    values.append(ir.EnumValue(v.name.name, _text(v.label) or v.name.name))
            typ = Type("enum", enum_name)
        elif isinstance(d.type, n.ListType):
            if d.type.item.name not in self.records:
                self.error("E0203", d.type.item.span, f"알 수 없는 레코드: `{d.type.item.name}`",
                           suggest(d.type.item.name, self.records) or
                           "먼저 `record 이름 \"설명\" { 필드: 종류 ... }` 로 선언하세요")
                return None
            values, typ = [], Type("list", item=d.type.item.name)
        else:
            kind = d.type.name.name
            if kind not in kinds:
                self.error("E0203", d.type.span, f"사실의 종류로 쓸 수 없습니다: `{kind}`",
                           suggest(kind, kinds + ("enum",)) or
                           f"enum {{ ... }}, {', '.join(kinds)}, list of 레코드 중 하나를 쓰세요")
                return None
            values, typ = [], Type(kind)
        limit = 0
        if isinstance(d.type, n.ListType):
            limit = d.type.max.value if d.type.max is not None else 0
            if not isinstance(limit, int) or not 1 <= limit <= LIST_LIMIT:
                span = d.type.max.span if d.type.max is not None else d.type.span
                self.error("E0203", span, "목록의 최대 항목 수를 1 에서 100 사이로 적으세요",
                           f"`list of {d.type.item.name} (max 5)` 처럼 씁니다: decide() 는 더 많은 항목을 받지 않습니다")
                return None
        fact = ir.Fact(d.name.name, _text(d.label) or d.name.name, typ, tuple(values), span=d.name.span,
                       decl_span=d.span, optional=d.optional, max_items=limit)
        if typ.kind == "enum":
            self.enums[enum_name] = fact
        return fact

    def _fact(self, d: n.FactDecl) -> ir.Fact | None:
        fact = self._typed_fact(d, d.name.name, ir.FACT_KINDS)
        if fact is None:
            return None
        if d.name.name.casefold() in RESERVED_FACTS:
            self.error("E0403", d.name.span, f"{quoted(d.name.name, '은/는')} 사실 이름으로 쓸 수 없습니다",
                       "결정 결과(`policyc batch` 의 출력 열)와 겹칩니다. 다른 이름을 쓰세요")
        if not self._declare(self.values, d.name, "이름", ("fact", fact.type, d.name.span)):
            return None
        self.facts[fact.name] = fact
        return fact

    def _with_default(self, d: n.FactDecl, fact: ir.Fact) -> ir.Fact:
        default, has_default = None, False
        if d.default is not None:
            got = self.typer.expr(d.default, fact.type)
            if got is not None:
                if fact.type.kind == "list":
                    self.error("E0305", d.default.span, "목록 사실에는 기본값을 두지 않습니다",
                               "항목이 없으면 앱이 빈 목록 [] 을 줍니다")
                elif got.type != fact.type or not isinstance(got, (ir.Value, ir.ConstRef)):
                    self.error("E0305", d.default.span,
                               f"기본값의 종류가 사실의 종류와 다릅니다: 사실은 {fact.type}, 기본값은 {got.type}",
                               "사실과 같은 종류의 값을 기본값으로 쓰세요")
                else:
                    default = got.value if isinstance(got, ir.Value) else self.const_values[got.name]
                    has_default = True
        return ir.Fact(fact.name, fact.label, fact.type, fact.values, default, has_default, fact.span, fact.decl_span,
                       fact.optional, fact.max_items)

    # ── constants ──
    def _const(self, d: n.ConstDecl) -> None:
        if isinstance(d.value, n.MapLit):
            got = self._map(d.value)
        elif isinstance(d.value, n.Call) and d.value.func.name == "holidays":
            got = self._holidays(d.value)
        else:
            got = self.typer.expr(d.value, None)
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

    def _holidays(self, call: n.Call) -> ir.Value | None:
        """`holidays("KR", 2024, 2030)`: the public holidays of those years, read now (at
        build time) from the `holidays` library, so a decision never depends on what is
        installed where it runs."""
        args = call.args
        shape = 'holidays("KR", 2024, 2030) 처럼 나라 코드와 첫해, 마지막 해를 씁니다'
        if (len(args) != 3 or not isinstance(args[0], n.StringLit)
                or not all(isinstance(a, n.NumberLit) and isinstance(a.value, int) for a in args[1:])):
            self.error("E0312", call.span, "공휴일 표를 만들 수 없습니다", shape)
            return None
        country, first, last = args[0].value, args[1].value, args[2].value
        if not 1900 <= first <= last <= first + 50 <= 2200:
            self.error("E0312", call.span, f"공휴일 표의 해가 맞지 않습니다: {first}~{last}", "50년 이내로, 첫해부터 마지막 해 순서로 씁니다")
            return None
        import holidays

        try:
            table = holidays.country_holidays(country, years=range(first, last + 1), language="ko")
        except NotImplementedError:
            self.error("E0312", args[0].span, f"`holidays` 라이브러리에 없는 나라 코드: `{country}`",
                       "ISO 3166 두 글자 코드를 쓰세요 (대한민국: \"KR\")")
            return None
        except Exception:  # a language the table lacks: the default names
            table = holidays.country_holidays(country, years=range(first, last + 1))
        dates = tuple(sorted((day, str(name)) for day, name in table.items()))
        value = ir.Holidays(country, first, last, dates)
        return ir.Value(value, Type("holidays"), call.span)

    def _map(self, m: n.MapLit) -> ir.Value | None:
        keys = [e.key for e in m.entries]
        enum = self.enum_of([k.name for k in keys], m.span)
        if enum is None:
            return None
        seen: dict = {}
        entries, kinds = [], set()
        for e in m.entries:
            if not self._declare(seen, e.key, "표의 항목", e.key.span):
                continue
            kinds.add(LITERAL_TYPES[type(e.value)].kind)
            entries.append((e.key.name, e.value.value))
        if len(kinds) > 1:
            self.error("E0304", m.span, "표의 값은 모두 같은 종류여야 합니다", "모두 문자열이나 모두 숫자로 적으세요")
            return None
        order = {v.code: i for i, v in enumerate(self.enums[enum].values)}
        entries.sort(key=lambda kv: order[kv[0]])
        return ir.Value(tuple(entries), Type("map", enum, kinds.pop() if kinds else "string"), m.span)

    def enum_of(self, codes: list[str], span: Span) -> str | None:
        """The one enum that has all of `codes`, or None after reporting why not."""
        owners = [name for name, fact in self.enums.items() if set(codes) <= set(fact.codes)]
        if len(owners) > 1 and "weekday" in owners:  # a policy's own enum before the days of the week
            owners.remove("weekday")
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
        expr = self.typer.expr(d.expr)
        if expr is None:
            return
        if expr.type.kind in ("set", "map", "window", "holidays", "list", "record", "outcome", "actions"):
            self.error("E0303", d.expr.span, f"파생값은 {expr.type}일 수 없습니다",
                       "파생값은 수, 금액, 기간, 시각, 날짜, 참거짓, 열거값처럼 한 값입니다")
            return
        exact = self.exact.check(expr, d.name.name)
        guards = Guards(self.facts, self.records, self.deps)
        needs = tuple(sorted({key for key, _ in guards.unguarded(expr, frozenset())}, key=repr))
        if self._declare(self.values, d.name, "이름", ("derived", expr.type, d.name.span)):
            if needs:
                self.optional_derived.add(d.name.name)
                self.deps[d.name.name] = frozenset(needs)
            self.exact.declare(d.name.name, expr if exact else None)
            self.out.derived.append(ir.Derived(d.name.name, _text(d.label) or d.name.name, expr.type, expr,
                                               d.name.span, d.span, needs))

    def _require(self, d: n.RequireDecl) -> None:
        cond = self.typer.cond(d.cond)
        if cond is not None:
            self.exact.check(cond)
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
            elif isinstance(node, ir.Aggregate):  # a list fact, read item by item
                out[node.list] = None
            elif isinstance(node, ir.DerivedRef):
                out.update(dict.fromkeys(reads[node.name]))
        return list(out)

    # ── reply values, actions, outcomes ──
    def _contexts_and_actions(self, items) -> None:
        contexts: dict = {}
        actions: dict = {}
        for d in items:
            if isinstance(d, n.ContextDecl):
                kind = d.type.name.name
                if kind not in ir.CONTEXT_KINDS:
                    self.error("E0203", d.type.span, f"답변 값의 종류로 쓸 수 없습니다: `{kind}`",
                               suggest(kind, ir.CONTEXT_KINDS) or "text, phone, number, money 중 하나를 쓰세요")
                    continue
                if d.name.name in self.values:
                    self._declare(self.values, d.name, "이름", None)
                    continue
                if self._declare(contexts, d.name, "답변 값", d.name.span):
                    self.out.contexts.append(ir.ContextValue(d.name.name, _text(d.label) or d.name.name, kind,
                                                             d.personal, d.name.span))
            elif isinstance(d, n.ActionDecl):
                params, seen = [], {}
                for p in d.params:
                    kind = p.type.name.name
                    if kind not in ir.PARAM_KINDS:
                        self.error("E0203", p.type.span, f"조치의 값 종류로 쓸 수 없습니다: `{kind}`",
                                   suggest(kind, ir.PARAM_KINDS) or f"{', '.join(ir.PARAM_KINDS)} 중 하나를 쓰세요")
                    elif self._declare(seen, p.name, "조치의 값", p.name.span):
                        params.append(ir.Param(p.name.name, _text(p.label) or p.name.name, Type(kind)))
                if self._declare(actions, d.name, "조치", d.name.span):
                    self.out.actions.append(ir.Action(d.name.name, _text(d.label) or d.name.name, d.name.span,
                                                      tuple(params)))

    def _outcomes(self, items) -> None:
        seen: dict = {}
        personal = {c.name for c in self.out.contexts if c.personal}
        for d in items:
            if not isinstance(d, n.OutcomeDecl) or not self._declare(seen, d.name, "결과", d.name.span):
                continue
            for ident in d.discloses:
                if ident.name not in personal:
                    self.error("E0509", ident.span, f"personal 로 선언되지 않은 공개 대상: `{ident.name}`",
                               suggest(ident.name, personal) or "먼저 `personal 이름 \"설명\": text` 로 선언하세요")
            calls = [c for c in (self._action_call(r) for r in d.actions) if c is not None]
            unique = tuple({c.name: c for c in calls}.values())
            self.out.outcomes.append(OutcomeSpec(
                d.name.name, _text(d.label) or d.name.name, tuple(dict.fromkeys(i.name for i in d.discloses)),
                tuple(c.name for c in unique), None if d.reply is None else _as_text(d.reply),
                d.name.span, d.span, unique))

    def _action_call(self, ref: n.ActionRef) -> ir.ActionCall | None:
        """An action with its arguments, each of its parameter's type."""
        action = next((a for a in self.out.actions if a.name == ref.name.name), None)
        if action is None:
            self.error("E0509", ref.name.span, f"선언되지 않은 조치: `{ref.name.name}`",
                       suggest(ref.name.name, [a.name for a in self.out.actions]) or
                       "먼저 `action 이름 \"설명\"` 으로 선언하세요")
            return None
        params = {p.name: p for p in action.params}
        given: dict[str, ir.Expr] = {}
        for arg in ref.args:
            param = params.get(arg.name.name)
            if param is None:
                self.error("E0509", arg.name.span, f"조치 `{action.name}` 에 없는 값: `{arg.name.name}`",
                           suggest(arg.name.name, params) or f"이 조치의 값: {', '.join(params) or '없음'}")
                return None
            value = self.typer.expr(arg.value, param.type)
            if value is None:
                return None
            if value.type != param.type:
                self.error("E0300", arg.value.span, f"`{action.name}` 의 `{param.name}` 은 {param.type}인데 {value.type}입니다",
                           "금액이면 1,000원처럼 원을 붙여 씁니다" if param.type.kind == "money" else None)
                return None
            self.exact.check(value)
            given[param.name] = value
        missing = [p for p in params if p not in given]
        if missing:
            self.error("E0509", ref.span, f"조치 `{action.name}` 에 값이 빠졌습니다: {', '.join(missing)}",
                       f"{action.name}({', '.join(f'{p} = …' for p in params)}) 처럼 모든 값을 적으세요")
            return None
        return ir.ActionCall(action.name, tuple(params), tuple(given[p] for p in params), span=ref.span)

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
            if d.hit_policy.name not in ("first", "unique", "all"):
                self.error("E0401", d.hit_policy.span, f"지원하지 않는 적중 정책: `{d.hit_policy.name}`",
                           suggest(d.hit_policy.name, ("first", "unique", "all")) or
                           "`(first)`: 위에서부터 처음 맞는 규칙, `(unique)`: 규칙끼리 겹치면 안 됨, "
                           "`(all)`: 맞는 규칙의 조치를 모두 (조치를 내는 결정)")
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
            if inv.subject_kind != "always" and inv.subject.name not in known[inv.subject_kind]:
                self.error("E0509", inv.subject.span, f"{what[inv.subject_kind]} 중에 없는 이름: `{inv.subject.name}`",
                           suggest(inv.subject.name, known[inv.subject_kind])
                           or f"먼저 {what[inv.subject_kind]}{particle(what[inv.subject_kind], '을/를')} 선언하세요")
                continue
            cond = None
            if inv.cond is not None:
                cond = self.typer.cond(inv.cond)
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
            cond = self.typer.cond(r.cond)
            if cond is not None:
                self.exact.check(cond)
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
        if d.hit_policy.name == "all" and first_type.kind != "actions":
            self.error("E0401", d.hit_policy.span, "`(all)` 은 조치를 내는 결정에만 씁니다",
                       "결과나 값을 내는 결정은 `(first)` 나 `(unique)` 를 쓰세요")
            return None
        return ir.Decision(d.name.name, _text(d.label), d.hit_policy.name, tuple(rules),
                           first_type.kind == "outcome", d.name.span, d.span, first_type.kind == "actions")

    def _output(self, o: n.Output) -> tuple[ir.Expr, Type] | None:
        if isinstance(o, n.NameOutput):
            name = o.name.name
            actions = {a.name for a in self.out.actions}
            outcome = any(x.name == name for x in self.out.outcomes)
            if len(o.items) > 1 or o.items[0].args or (name in actions and not outcome):
                calls = [self._action_call(r) for r in o.items]
                if any(c is None for c in calls):
                    return None
                return ir.Actions(tuple({c.name: c for c in calls}.values()), span=o.span), Type("actions")
            if any(x.name == name for x in self.out.outcomes):
                return ir.Value(name, Type("outcome"), o.span), Type("outcome")
            if name in self.values and self.values[name][0] == "const":
                typ = self.values[name][1]
                return ir.ConstRef(name, typ, o.span), typ
            self.error("E0201", o.span, f"알 수 없는 결과: `{name}`",
                       suggest(name, [x.name for x in self.out.outcomes] + sorted(actions)) or
                       "먼저 `outcome 이름 \"설명\" { ... }` 로 선언하세요", "선언되지 않은 결과")
            return None
        if isinstance(o, n.ValueOutput):
            typ = LITERAL_TYPES[type(o.value)]
            return ir.Value(o.value.value, typ, o.span), typ
        items = []
        for item in o.items:
            if isinstance(item, n.Lookup):
                got = self._lookup(item)
            elif isinstance(item, n.Ident):
                got = self.typer.expr(n.NameRef(item, item.span), None)
                if got is not None and not isinstance(got, ir.ConstRef):
                    self.error("E0306", item.span, "묶음에는 문자열, 문자열 기준, 표[사실] 만 쓸 수 있습니다")
                    got = None
            else:
                got = ir.Value(item.value, LITERAL_TYPES[type(item)], item.span)
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
        key = self.typer.expr(n.NameRef(lk.key, lk.key.span), None)
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
