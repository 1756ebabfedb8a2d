"""The AST: frozen dataclasses, one per grammar rule (`fact_decl` -> `FactDecl`).

Every node has a `span` that equality ignores, so tests can compare trees written
by hand without positions. Nodes are never edited after the parser builds them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Union

from ..source import NO_SPAN, Span


def _span() -> Span:
    return field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class Ident:
    name: str
    span: Span = _span()


# ── literals and expressions ───────────────────────────────────────────

@dataclass(frozen=True)
class StringLit:
    value: str
    first_line: int = field(default=1, compare=False, repr=False)  # file line of the text's line 1
    span: Span = _span()


@dataclass(frozen=True)
class NumberLit:
    value: Union[int, Decimal]
    span: Span = _span()


@dataclass(frozen=True)
class DurationLit:
    value: dt.timedelta
    text: str = field(default="", compare=False)
    span: Span = _span()


@dataclass(frozen=True)
class TimestampLit:
    value: dt.datetime
    text: str = field(default="", compare=False)
    span: Span = _span()


@dataclass(frozen=True)
class BoolLit:
    value: bool
    span: Span = _span()


@dataclass(frozen=True)
class MoneyLit:
    """20,000원: whole won."""

    value: int
    text: str = field(default="", compare=False)
    span: Span = _span()


@dataclass(frozen=True)
class PercentLit:
    """30%: the number 0.3."""

    value: Decimal
    text: str = field(default="", compare=False)
    span: Span = _span()


@dataclass(frozen=True)
class DateLit:
    value: dt.date
    text: str = field(default="", compare=False)
    span: Span = _span()


@dataclass(frozen=True)
class TimeLit:
    """A time of day: 22:00."""

    value: dt.time
    text: str = field(default="", compare=False)
    span: Span = _span()


Literal = Union[StringLit, NumberLit, DurationLit, TimestampLit, BoolLit, MoneyLit, PercentLit, DateLit, TimeLit]


@dataclass(frozen=True)
class NameRef:
    name: Ident
    span: Span = _span()


@dataclass(frozen=True)
class SetLit:
    items: tuple[Ident, ...]
    span: Span = _span()


@dataclass(frozen=True)
class WindowLit:
    """22:00..04:00: the times of day from the first (included) to the second (not
    included), across midnight when the second is earlier."""

    start: TimeLit
    end: TimeLit
    span: Span = _span()


@dataclass(frozen=True)
class Binary:
    op: str  # "+" | "-" | "*" | "/"
    left: "Expr"
    right: "Expr"
    span: Span = _span()


@dataclass(frozen=True)
class Negate:
    operand: "Expr"
    span: Span = _span()


@dataclass(frozen=True)
class Filtered:
    """`pets where weight >= 15`: a list argument with a condition on its items."""

    item: "Expr"
    cond: "Expr"
    span: Span = _span()


@dataclass(frozen=True)
class Call:
    """`min(a, b)`, `count(pets where assistance)`, `time_of(departed_at)`."""

    func: Ident
    args: tuple["Expr", ...]
    span: Span = _span()


@dataclass(frozen=True)
class Field:
    """`pets.weight`: a field of each item of a list (or of the one item `first` finds)."""

    base: "Expr"
    name: Ident
    span: Span = _span()


@dataclass(frozen=True)
class IfElse:
    cond: "Expr"
    then: "Expr"
    else_: "Expr"
    span: Span = _span()


@dataclass(frozen=True)
class IsGiven:
    """`paid is given` (or `is missing`, negated): whether an optional value is there."""

    operand: "Expr"
    negated: bool = False
    span: Span = _span()


@dataclass(frozen=True)
class Compare:
    op: str  # = != < <= > >=
    left: "Expr"
    right: "Expr"
    span: Span = _span()


@dataclass(frozen=True)
class InSet:
    item: "Expr"
    set: "Expr"
    negated: bool = False
    span: Span = _span()


@dataclass(frozen=True)
class Not:
    operand: "Expr"
    span: Span = _span()


@dataclass(frozen=True)
class And:
    """`a and b and c`: one node with every part (a chain is flat, however long)."""

    operands: tuple["Cond", ...]
    span: Span = _span()


@dataclass(frozen=True)
class Or:
    operands: tuple["Cond", ...]
    span: Span = _span()


Operand = Union[NameRef, SetLit, WindowLit, Literal]
Expr = Union[Operand, Binary, Negate, Call, Filtered, Field, IfElse, IsGiven, "Compare", "InSet", "Not", "And", "Or"]
Cond = Expr  # a condition is an expression of type bool


# ── declarations ───────────────────────────────────────────────────────

@dataclass(frozen=True)
class EnumValue:
    name: Ident
    label: StringLit | None = None
    span: Span = _span()


@dataclass(frozen=True)
class EnumType:
    values: tuple[EnumValue, ...]
    span: Span = _span()


@dataclass(frozen=True)
class NamedType:
    name: Ident
    span: Span = _span()


@dataclass(frozen=True)
class ListType:
    """`list of pet (max 5)`: at most `max` items of the record `item`."""

    item: Ident
    max: NumberLit | None = None
    span: Span = _span()


TypeRef = Union[EnumType, NamedType, ListType]


@dataclass(frozen=True)
class PolicyDecl:
    name: Ident
    label: StringLit | None = None
    span: Span = _span()


@dataclass(frozen=True)
class ZoneDecl:
    """`zone "Asia/Seoul"`: the zone a timestamp's date and time of day are read in."""

    name: StringLit
    span: Span = _span()


@dataclass(frozen=True)
class FactDecl:
    """A fact; a field of a record is one too. `default` makes it optional with that value,
    `optional` optional with no value (usable only where the policy checked it is given)."""

    name: Ident
    label: StringLit | None
    type: TypeRef
    default: "Expr | None" = None
    optional: bool = False
    span: Span = _span()


@dataclass(frozen=True)
class RecordDecl:
    """`record pet "반려동물" { weight "몸무게": number ... }`: the items of a list fact."""

    name: Ident
    label: StringLit | None
    fields: tuple[FactDecl, ...]
    span: Span = _span()


@dataclass(frozen=True)
class LetDecl:
    name: Ident
    label: StringLit | None
    expr: Expr
    span: Span = _span()


@dataclass(frozen=True)
class MapEntry:
    key: Ident
    value: Literal
    span: Span = _span()


@dataclass(frozen=True)
class MapLit:
    entries: tuple[MapEntry, ...]
    span: Span = _span()


@dataclass(frozen=True)
class ConstDecl:
    name: Ident
    label: StringLit | None
    value: Union[Operand, MapLit]
    span: Span = _span()


@dataclass(frozen=True)
class RequireDecl:
    cond: Cond
    message: StringLit
    span: Span = _span()


@dataclass(frozen=True)
class ContextDecl:
    personal: bool
    name: Ident
    label: StringLit | None
    type: NamedType
    span: Span = _span()


@dataclass(frozen=True)
class Param:
    name: Ident
    label: StringLit | None
    type: NamedType
    span: Span = _span()


@dataclass(frozen=True)
class ActionDecl:
    name: Ident
    label: StringLit | None = None
    params: tuple[Param, ...] = ()
    span: Span = _span()


@dataclass(frozen=True)
class ActionArg:
    name: Ident
    value: "Expr"
    span: Span = _span()


@dataclass(frozen=True)
class ActionRef:
    """`refund(amount = overpaid)`, or a bare name (an outcome, or an action without
    parameters): what an outcome's `actions` or a rule's `then` names."""

    name: Ident
    args: tuple[ActionArg, ...] = ()
    span: Span = _span()


@dataclass(frozen=True)
class SnippetDecl:
    name: Ident
    text: StringLit
    span: Span = _span()


@dataclass(frozen=True)
class RepliesDecl:
    path: StringLit
    span: Span = _span()


@dataclass(frozen=True)
class OutcomeDecl:
    name: Ident
    label: StringLit | None
    discloses: tuple[Ident, ...] = ()
    actions: tuple[ActionRef, ...] = ()
    reply: StringLit | None = None
    span: Span = _span()


@dataclass(frozen=True)
class Lookup:
    map: Ident
    key: Ident
    span: Span = _span()


@dataclass(frozen=True)
class NameOutput:
    """`then decline` (an outcome) or `then refund(amount = x), note` (actions)."""

    items: tuple[ActionRef, ...]
    span: Span = _span()

    @property
    def name(self) -> Ident:
        return self.items[0].name


@dataclass(frozen=True)
class ValueOutput:
    value: Literal
    span: Span = _span()


@dataclass(frozen=True)
class TupleOutput:
    items: tuple[Union[Literal, Ident, Lookup], ...]
    span: Span = _span()


Output = Union[NameOutput, ValueOutput, TupleOutput]


@dataclass(frozen=True)
class RuleDecl:
    name: Ident
    label: StringLit | None
    cond: Cond
    output: Output
    span: Span = _span()


@dataclass(frozen=True)
class OtherwiseDecl:
    output: Output
    span: Span = _span()


@dataclass(frozen=True)
class DecisionDecl:
    name: Ident
    label: StringLit | None
    hit_policy: Ident
    rules: tuple[RuleDecl, ...]
    otherwise: OtherwiseDecl | None = None
    span: Span = _span()


@dataclass(frozen=True)
class InvariantDecl:
    """`invariant NAME: never discloses X` or `invariant NAME: discloses X only when COND`
    (subjects: `discloses`, `outcome`, `action`). `cond` is None for `never`."""

    name: Ident
    label: StringLit | None
    subject_kind: str  # "discloses" | "outcome" | "action" | "always" (`always COND`: subject unnamed)
    subject: Ident
    cond: Cond | None = None
    span: Span = _span()


Decl = Union[InvariantDecl, PolicyDecl, ZoneDecl, RecordDecl, FactDecl, LetDecl, ConstDecl, RequireDecl, ContextDecl,
             ActionDecl, SnippetDecl, RepliesDecl, OutcomeDecl, DecisionDecl]


@dataclass(frozen=True)
class Module:
    """One `.policy` file: its declarations in source order."""

    items: tuple[Decl, ...]
    span: Span = _span()
