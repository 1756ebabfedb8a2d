"""The decision-table IR: plain frozen data, typed and spanned, with its indexes built once.

A `Policy` is what every analysis, back end and tool reads: its facts (with types and
defaults), derived values, constants, reply values, actions, outcomes with their replies,
and its decisions, each an ordered table of rules (`cond` -> `output`) under a hit policy.

Every expression carries its `type` and the `span` of the source it came from; both are
left out of equality, so a test can write an expected tree without them, and two spellings
of one condition are one key in a cache. Declarations carry `span` (their name, where a
diagnostic points) and `decl_span` (the whole declaration; its first line is the
`policy/x.policy:LINE` of generated code and reports).

Values are Python values: str for enum codes, bool, int/Decimal (numbers; money is int
won), datetime.timedelta, aware datetime.datetime, datetime.date, datetime.time (a time of
day), a tuple of codes for a set (in the order written), a tuple of (key, value) pairs for
a map (in enum order), (start, end) times for a window, a `Holidays` table.

Walking expressions: `children`, `walk`, `transform` and `Visitor` below; nothing else
should need an `isinstance` ladder over these node classes (see docs/architecture.md).
"""

from __future__ import annotations

import dataclasses
import operator
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Union

from ..source import NO_SPAN, Span


def _span() -> Any:
    return field(default=NO_SPAN, compare=False, repr=False)


# ── types ──────────────────────────────────────────────────────────────
# kind: "enum" (with `enum`, the declaring fact's name, `record.field` for a record's
# field, "weekday" for the days of the week), "bool", "timestamp", "duration", "number",
# "money", "date", "time" (of day), "text" (shown, never compared), "string", "set" (of enum
# `enum`), "map" (enum -> value kind in `item`), "tuple" (of strings; `item` is the length),
# "window" (times of day), "holidays" (a table of dates), "list" (of the record `item`),
# "actions", "outcome", "?" (not known: only in hand-built trees).


@dataclass(frozen=True)
class Type:
    kind: str
    enum: str | None = None
    item: str | None = None

    def __str__(self) -> str:
        """The type as authors read it in messages: 기간(duration), 열거형 kind."""
        if self.kind == "enum":
            return f"열거형 {self.enum}"
        if self.kind == "set":
            return f"{self.enum} 값의 집합"
        if self.kind == "map":
            return f"{self.enum} -> {self.item} 표"
        return f"{_KOREAN[self.kind]}({self.kind})" if self.kind in _KOREAN else self.kind

    @property
    def numeric(self) -> bool:
        """Ordered and measured on one axis: instants, durations, numbers, money, dates
        and times of day."""
        return self.kind in ORDERED

    @property
    def amount(self) -> bool:
        """A number or an amount of money: what `*`, `/`, `min`, `floor` work on."""
        return self.kind in ("number", "money")


_KOREAN = {"bool": "참거짓", "timestamp": "시각", "duration": "기간", "number": "숫자", "string": "문자열",
           "tuple": "값 묶음", "money": "금액", "date": "날짜", "time": "하루 중 시각", "text": "글",
           "window": "시간대", "holidays": "공휴일 표", "list": "목록", "actions": "조치"}
ORDERED = ("timestamp", "duration", "number", "money", "date", "time")

BOOL, TIMESTAMP, DURATION, NUMBER, STRING = (Type("bool"), Type("timestamp"), Type("duration"),
                                             Type("number"), Type("string"))
MONEY, DATE, TIME, TEXT, WINDOW = Type("money"), Type("date"), Type("time"), Type("text"), Type("window")
WEEKDAY = Type("enum", "weekday")
UNKNOWN = Type("?")
FACT_KINDS = ("bool", "timestamp", "duration", "number", "money", "date", "time")  # plus enum and list
FIELD_KINDS = FACT_KINDS + ("text",)  # a record's field may also be text, shown in replies
CONTEXT_KINDS = ("text", "phone", "number", "money")
PARAM_KINDS = ("number", "money", "duration", "date", "text", "bool")
WEEKDAYS = (("mon", "월"), ("tue", "화"), ("wed", "수"), ("thu", "목"), ("fri", "금"), ("sat", "토"), ("sun", "일"))


def _type() -> Any:
    return field(default=UNKNOWN, compare=False, repr=False)


# ── expressions ────────────────────────────────────────────────────────
# Each class names its child expressions in `_kids` (a field holding a tuple of them is
# marked with a trailing "*"): `children`, `walk` and `transform` need nothing else.


@dataclass(frozen=True)
class FactRef:
    name: str
    type: Type = _type()
    span: Span = _span()
    _kids = ()


@dataclass(frozen=True)
class DerivedRef:
    name: str
    type: Type = _type()
    span: Span = _span()
    _kids = ()


@dataclass(frozen=True)
class ConstRef:
    name: str
    type: Type = _type()
    span: Span = _span()
    _kids = ()


@dataclass(frozen=True)
class Value:
    value: Any
    type: Type = _type()
    span: Span = _span()
    _kids = ()


@dataclass(frozen=True)
class Arith:
    op: str  # "+" | "-" | "*" | "/" (`*` and `/` by a constant)
    left: "Expr"
    right: "Expr"
    type: Type = _type()
    span: Span = _span()
    _kids = ("left", "right")


@dataclass(frozen=True)
class Cmp:
    op: str  # "=" "!=" "<" "<=" ">" ">="
    left: "Expr"
    right: "Expr"
    type: Type = field(default=BOOL, compare=False, repr=False)
    span: Span = _span()
    _kids = ("left", "right")


@dataclass(frozen=True)
class In:
    item: "Expr"
    set: "Expr"  # ConstRef to a set, or Value(tuple of codes)
    negated: bool = False
    type: Type = field(default=BOOL, compare=False, repr=False)
    span: Span = _span()
    _kids = ("item", "set")


@dataclass(frozen=True)
class Not:
    operand: "Expr"
    type: Type = field(default=BOOL, compare=False, repr=False)
    span: Span = _span()
    _kids = ("operand",)


@dataclass(frozen=True)
class And:
    operands: tuple["Expr", ...]
    type: Type = field(default=BOOL, compare=False, repr=False)
    span: Span = _span()
    _kids = ("operands*",)


@dataclass(frozen=True)
class Or:
    operands: tuple["Expr", ...]
    type: Type = field(default=BOOL, compare=False, repr=False)
    span: Span = _span()
    _kids = ("operands*",)


@dataclass(frozen=True)
class Lookup:
    map: str  # a map constant
    key: "Expr"
    type: Type = _type()
    span: Span = _span()
    _kids = ("key",)


@dataclass(frozen=True)
class TupleOf:
    items: tuple["Expr", ...]
    type: Type = _type()
    span: Span = _span()
    _kids = ("items*",)


@dataclass(frozen=True)
class Call:
    """A built-in function: `min`, `max` (two or more values), `floor`, `ceil`, `round`
    (a value and the unit to round to: `floor(x, 100원)`), and the calendar of a timestamp
    in the policy's zone: `date_of`, `time_of`, `weekday`."""

    fn: str
    args: tuple["Expr", ...]
    type: Type = _type()
    span: Span = _span()
    _kids = ("args*",)


@dataclass(frozen=True)
class IfElse:
    cond: "Expr"
    then: "Expr"
    else_: "Expr"
    type: Type = _type()
    span: Span = _span()
    _kids = ("cond", "then", "else_")


@dataclass(frozen=True)
class Given:
    """Whether an optional value is there: an optional fact, a derived value that reads
    one, or `max`/`min`/`first` of a list that may have no item to take."""

    item: "Expr"
    type: Type = field(default=BOOL, compare=False, repr=False)
    span: Span = _span()
    _kids = ("item",)


@dataclass(frozen=True)
class Item:
    """A field of the list item an aggregate is looking at (`weight` in
    `count(pets where weight >= 15)`)."""

    name: str
    type: Type = _type()
    span: Span = _span()
    _kids = ()


@dataclass(frozen=True)
class Aggregate:
    """Over the items of a list fact for which `where` holds: `count`, `any`, `all`
    (`where` holds for every item), `sum`, `max`, `min` of a field, and `first` (a field of
    the first such item). `max`, `min` and `first` have no value when no item qualifies."""

    op: str
    list: str
    where: "Expr"  # Value(True) when every item counts
    field: str | None = None
    type: Type = _type()
    span: Span = _span()
    _kids = ("where",)


@dataclass(frozen=True)
class ActionCall:
    """An action with its arguments (`refund(amount = overpaid)`)."""

    name: str
    params: tuple[str, ...]
    args: tuple["Expr", ...]
    type: Type = field(default=Type("actions"), compare=False, repr=False)
    span: Span = _span()
    _kids = ("args*",)


@dataclass(frozen=True)
class Actions:
    """What a rule of an actions decision yields: one or more actions."""

    calls: tuple[ActionCall, ...]
    type: Type = field(default=Type("actions"), compare=False, repr=False)
    span: Span = _span()
    _kids = ("calls*",)


Expr = Union[FactRef, DerivedRef, ConstRef, Value, Arith, Cmp, In, Not, And, Or, Lookup, TupleOf, Call, IfElse,
             Given, Item, Aggregate, ActionCall, Actions]
NAMED = (FactRef, DerivedRef, ConstRef)  # the references to a declaration by name


@dataclass(frozen=True)
class Holidays:
    """A table of public holidays, read at build time (never at run time): the dates,
    and the years it covers (a date outside them cannot be told a holiday or not)."""

    country: str
    first_year: int
    last_year: int
    dates: frozenset


# ── walking expressions ────────────────────────────────────────────────

def _getter(kids: tuple[str, ...]) -> Callable[[Expr], tuple[Expr, ...]]:
    """A class's `children`, made once from its `_kids`: every pass walks every rule of a
    long table, so this runs for each node of the policy several times."""
    if len(kids) == 1 and kids[0][-1] == "*":
        return operator.attrgetter(kids[0][:-1])  # the field is the tuple
    if len(kids) == 1:
        name = kids[0]
        return lambda e: (getattr(e, name),)
    if all(kid[-1] != "*" for kid in kids):
        return operator.attrgetter(*kids)  # a tuple of the fields, in order
    return lambda e: tuple(x for kid in kids  # pragma: no cover — no class mixes a tuple field with others yet
                           for x in (getattr(e, kid[:-1]) if kid[-1] == "*" else (getattr(e, kid),)))


def children(e: Expr) -> tuple[Expr, ...]:
    """The direct child expressions of `e`, in order."""
    return _CHILDREN[type(e)](e) if e._kids else ()


def walk(e: Expr | None) -> Iterator[Expr]:
    """`e` and every expression inside it, parents before children, left to right; no
    recursion, so a deep expression cannot overflow the stack."""
    if e is None:
        return
    stack = [e]
    getters = _CHILDREN
    while stack:
        node = stack.pop()
        yield node
        if node._kids:
            stack.extend(reversed(getters[type(node)](node)))


def census(policy: "Policy") -> dict[str, frozenset]:
    """The kinds of node each part of `policy` holds ("derived", "requires", "conds",
    "outputs", "invariants"): marks (class, its type's kind, detail), the detail an
    Arith's op, a Call's function, the kind of an In's set, the name a reference reads
    (what `names_in` lists: a fact, derived value or constant, a Lookup's table, an
    Aggregate's list), an ActionCall's action, else None. One walk of the policy, kept in
    its memo: a pass that looks for a construct (a holiday table, a calendar call, arithmetic
    the partition cannot cut, a value that may be missing) or for the names used asks here,
    and walks the rules of a long table only where the construct is."""
    found = policy.memo.get("census")
    if found is None:
        parts = {"derived": [d.expr for d in policy.derived], "requires": [r.cond for r in policy.requires],
                 "conds": [r.cond for d in policy.decisions for r in d.rules if r.cond is not None],
                 "outputs": [r.output for d in policy.decisions for r in d.rules if r.output is not None],
                 "invariants": [i.cond for i in policy.invariants if i.cond is not None]}
        found = policy.memo["census"] = {part: frozenset(_marks(roots)) for part, roots in parts.items()}
    return found


def _marks(roots: list[Expr]) -> set[tuple]:
    marks: set[tuple] = set()
    stack = list(roots)
    getters = _CHILDREN
    while stack:
        node = stack.pop()
        cls = type(node)
        detail = _DETAIL[cls](node)
        marks.add((cls, node.type.kind, detail))
        if node._kids:
            stack.extend(getters[cls](node))
    return marks


def transform(e: Expr, fn: Callable[[Expr], Expr | None]) -> Expr:
    """A copy of `e` rebuilt bottom-up: each node, with its children already transformed,
    is passed to `fn`, whose result (or the node, when it returns None) takes its place."""
    rebuilt: dict[str, Any] = {}
    for kid in e._kids:
        if kid[-1] == "*":
            rebuilt[kid[:-1]] = tuple(transform(x, fn) for x in getattr(e, kid[:-1]))
        else:
            rebuilt[kid] = transform(getattr(e, kid), fn)
    node = dataclasses.replace(e, **rebuilt) if rebuilt else e
    out = fn(node)
    return node if out is None else out


def atoms(cond: Expr | None) -> Iterator[Expr]:
    """The tests a condition combines with and/or/not (comparisons, `in`, bool values),
    left to right; what is inside a test is not visited."""
    if cond is None:
        return
    stack = [cond]
    while stack:
        node = stack.pop()
        if isinstance(node, (And, Or, Not)):
            stack.extend(reversed(children(node)))
        else:
            yield node


def names_in(e: Expr | None) -> list[str]:
    """The names of the facts, derived values, constants, tables and lists `e` reads, in
    order (each node's `_DETAIL`, as `census` keeps it)."""
    return [_DETAIL[type(node)](node) for node in walk(e) if isinstance(node, READS)]


NODES = (FactRef, DerivedRef, ConstRef, Value, Arith, Cmp, In, Not, And, Or, Lookup, TupleOf, Call, IfElse, Given,
         Item, Aggregate, ActionCall, Actions)
_CHILDREN = {node: _getter(node._kids) for node in NODES if node._kids}
READS = (*NAMED, Lookup, Aggregate)  # the nodes that read a declaration by name (`names_in`)
_name = operator.attrgetter("name")
_DETAIL = {node: (lambda e: None) for node in NODES} | {
    Arith: operator.attrgetter("op"), Call: operator.attrgetter("fn"), In: lambda e: e.set.type.kind,
    FactRef: _name, DerivedRef: _name, ConstRef: _name, ActionCall: _name,
    Lookup: operator.attrgetter("map"), Aggregate: operator.attrgetter("list")}


class Visitor:
    """Dispatch on the node's class, as Jinja's NodeVisitor does: `visit(e)` calls
    `visit_<Class>(e)`. A back end or an analysis that computes something per kind of node
    subclasses it; a new kind of node then fails loudly in every visitor that lacks it.
    The table from class to method is built once per subclass."""

    _table: dict = {}

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls._table = {node: getattr(cls, "visit_" + node.__name__) for node in NODES
                      if hasattr(cls, "visit_" + node.__name__)}

    def visit(self, e: Expr) -> Any:
        try:
            method = self._table[type(e)]
        except KeyError:
            raise TypeError(f"{type(self).__name__} cannot visit {type(e).__name__}") from None
        return method(self, e)


# ── declarations ───────────────────────────────────────────────────────

@dataclass(frozen=True)
class EnumValue:
    code: str
    label: str


@dataclass(frozen=True)
class Fact:
    name: str
    label: str
    type: Type
    values: tuple[EnumValue, ...] = ()  # enum facts only
    default: Any = None
    has_default: bool = False
    span: Span = _span()
    decl_span: Span = _span()
    optional: bool = False  # may be left out, with no default: usable only where it is given
    max_items: int = 0  # a list fact's limit

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(v.code for v in self.values)

    def label_of(self, code: str) -> str:
        return next(v.label for v in self.values if v.code == code)


@dataclass(frozen=True)
class Record:
    """The items of a list fact: each a mapping of these fields (facts in their own right:
    a type, a label, a default or `optional`)."""

    name: str
    label: str
    fields: tuple[Fact, ...]
    span: Span = _span()
    decl_span: Span = _span()

    @property
    def fields_by_name(self) -> dict[str, Fact]:
        return {f.name: f for f in self.fields}


@dataclass(frozen=True)
class Derived:
    name: str
    label: str
    type: Type
    expr: Expr
    span: Span = _span()
    decl_span: Span = _span()
    # what must be there for it to have a value (middle/guards.py): ("fact", name) for an
    # optional fact, ("agg", Aggregate) for a max/min/first; none: it always has one
    needs: tuple = ()


@dataclass(frozen=True)
class Const:
    name: str
    label: str
    type: Type
    value: Any
    span: Span = _span()
    decl_span: Span = _span()


@dataclass(frozen=True)
class Require:
    cond: Expr
    message: str
    facts: tuple[str, ...]  # the facts it reads, named in the error
    span: Span = _span()


@dataclass(frozen=True)
class ContextValue:
    name: str
    label: str
    kind: str  # "text" | "phone" | "number" | "money"
    personal: bool
    span: Span = _span()


@dataclass(frozen=True)
class Param:
    name: str
    label: str
    type: Type


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    span: Span = _span()
    params: tuple[Param, ...] = ()


@dataclass(frozen=True)
class Reply:
    template: str
    needs: tuple[str, ...]  # context values the reply shows
    origin: Span = _span()  # the template's first line, in the policy or its YAML file
    uses: tuple[str, ...] = field(default=(), compare=False)  # every value it reads, snippets included
    filters: tuple[str, ...] = field(default=(), compare=False)  # every filter it applies, snippets included


@dataclass(frozen=True)
class Outcome:
    name: str
    label: str
    discloses: tuple[str, ...]
    actions: tuple[str, ...]
    reply: Reply
    span: Span = _span()
    decl_span: Span = _span()
    calls: tuple[ActionCall, ...] = ()  # its actions with their arguments, in `actions` order


@dataclass(frozen=True)
class Rule:
    name: str
    label: str
    cond: Expr | None  # None: the catch-all `otherwise`
    output: Expr  # Value(outcome name) for outcome decisions, else a value expression
    span: Span = _span()
    decl_span: Span = _span()

    @property
    def conjuncts(self) -> tuple[Expr, ...]:
        """The top-level `and` parts of the condition, each with its own span."""
        if self.cond is None:
            return ()
        return self.cond.operands if isinstance(self.cond, And) else (self.cond,)


@dataclass(frozen=True)
class Decision:
    name: str
    label: str
    hit_policy: str  # "first", "unique", or "all" (every matching rule's actions)
    rules: tuple[Rule, ...]
    yields_outcome: bool
    span: Span = _span()
    decl_span: Span = _span()
    yields_actions: bool = False  # its rules name actions, added to the decision's

    @property
    def yields_value(self) -> bool:
        """A value decision: a field of `Decision`, shown in replies (not the outcome, not actions)."""
        return not self.yields_outcome and not self.yields_actions


@dataclass(frozen=True)
class Invariant:
    """What must always hold: `subject` (a disclosed value, an outcome or an action)
    happens only where `cond` holds; `cond` None means never."""

    name: str
    label: str
    subject_kind: str  # "discloses" | "outcome" | "action" | "always" (cond holds for every valid input)
    subject: str
    cond: Expr | None
    span: Span = _span()
    decl_span: Span = _span()


def _index() -> Any:
    return field(init=False, compare=False, repr=False, default=None)


@dataclass(frozen=True)
class Policy:
    name: str
    label: str
    source_path: str
    source_sha256: str
    facts: tuple[Fact, ...]
    derived: tuple[Derived, ...]
    consts: tuple[Const, ...]
    requires: tuple[Require, ...]
    contexts: tuple[ContextValue, ...]
    actions: tuple[Action, ...]
    outcomes: tuple[Outcome, ...]
    snippets: tuple[tuple[str, str], ...]
    decisions: tuple[Decision, ...]
    invariants: tuple[Invariant, ...] = ()
    records: tuple[Record, ...] = ()
    zone: str = "Asia/Seoul"
    zone_offset: Any = None  # the zone's fixed UTC offset (a timedelta)
    # indexes, built in __post_init__ (so `dataclasses.replace` rebuilds them too)
    facts_by_name: dict[str, Fact] = _index()
    derived_by_name: dict[str, Derived] = _index()
    consts_by_name: dict[str, Const] = _index()
    contexts_by_name: dict[str, ContextValue] = _index()
    actions_by_name: dict[str, Action] = _index()
    outcomes_by_name: dict[str, Outcome] = _index()
    decisions_by_name: dict[str, Decision] = _index()
    records_by_name: dict[str, Record] = _index()
    main: Decision | None = _index()  # the decision whose results are outcomes (at most one)
    memo: dict[str, Any] = _index()  # what a pass computes from the whole policy, kept for the next caller

    def __post_init__(self) -> None:
        def by_name(items) -> dict:
            return {x.name: x for x in items}

        for attr, items in (("facts_by_name", self.facts), ("derived_by_name", self.derived),
                            ("consts_by_name", self.consts), ("contexts_by_name", self.contexts),
                            ("actions_by_name", self.actions), ("outcomes_by_name", self.outcomes),
                            ("decisions_by_name", self.decisions), ("records_by_name", self.records)):
            object.__setattr__(self, attr, by_name(items))
        object.__setattr__(self, "main", next((d for d in self.decisions if d.yields_outcome), None))
        object.__setattr__(self, "memo", {})

    def fact(self, name: str) -> Fact:
        return self.facts_by_name[name]

    def record_of(self, list_fact: str) -> Record:
        """The record of a list fact's items."""
        return self.records_by_name[self.facts_by_name[list_fact].type.item]

    def outcome(self, name: str) -> Outcome:
        return self.outcomes_by_name[name]

    def const(self, name: str) -> Const:
        return self.consts_by_name[name]

    def rule_outcome(self, rule: Rule) -> Outcome:
        """The outcome a rule of the main decision yields."""
        return self.outcomes_by_name[rule.output.value]

    def source_of(self, decl) -> str:
        """`policy/x.policy:LINE` of a declaration (a rule, a constant...)."""
        return f"{self.source_path}:{decl.decl_span.line}"
