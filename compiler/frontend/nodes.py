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


Literal = Union[StringLit, NumberLit, DurationLit, TimestampLit, BoolLit]


@dataclass(frozen=True)
class NameRef:
    name: Ident
    span: Span = _span()


@dataclass(frozen=True)
class SetLit:
    items: tuple[Ident, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Binary:
    op: str  # "+" | "-"
    left: "Expr"
    right: "Expr"
    span: Span = _span()


Operand = Union[NameRef, SetLit, StringLit, NumberLit, DurationLit, TimestampLit, BoolLit]
Expr = Union[Operand, Binary]


@dataclass(frozen=True)
class Compare:
    op: str  # = != < <= > >=
    left: Operand
    right: Operand
    span: Span = _span()


@dataclass(frozen=True)
class InSet:
    item: Operand
    set: Operand
    negated: bool = False
    span: Span = _span()


@dataclass(frozen=True)
class Truth:
    """A bare bool operand used as a condition (`when paid then ...`)."""

    operand: Operand
    span: Span = _span()


@dataclass(frozen=True)
class Not:
    operand: "Cond"
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


Cond = Union[Compare, InSet, Truth, Not, And, Or]


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


TypeRef = Union[EnumType, NamedType]


@dataclass(frozen=True)
class PolicyDecl:
    name: Ident
    label: StringLit | None = None
    span: Span = _span()


@dataclass(frozen=True)
class FactDecl:
    name: Ident
    label: StringLit | None
    type: TypeRef
    default: Operand | None = None
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
class ActionDecl:
    name: Ident
    label: StringLit | None = None
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
    actions: tuple[Ident, ...] = ()
    reply: StringLit | None = None
    span: Span = _span()


@dataclass(frozen=True)
class Lookup:
    map: Ident
    key: Ident
    span: Span = _span()


@dataclass(frozen=True)
class NameOutput:
    name: Ident
    span: Span = _span()


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
    subject_kind: str  # "discloses" | "outcome" | "action"
    subject: Ident
    cond: Cond | None = None
    span: Span = _span()


Decl = Union[InvariantDecl, PolicyDecl, FactDecl, LetDecl, ConstDecl, RequireDecl, ContextDecl, ActionDecl,
             SnippetDecl, RepliesDecl, OutcomeDecl, DecisionDecl]


@dataclass(frozen=True)
class Module:
    """One `.policy` file: its declarations in source order."""

    items: tuple[Decl, ...]
    span: Span = _span()
