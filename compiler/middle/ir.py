"""The decision-table IR: plain frozen data, no behaviour beyond small helpers.

A `Policy` is what every back end and analysis reads: its facts (with types and
defaults), derived values, constants, reply values, outcomes with their replies, and
its decisions, each an ordered table of rules (`cond` -> `output`) under a hit policy.
Values are Python values: str for enum codes, bool, int/Decimal, datetime.timedelta,
aware datetime.datetime, frozenset[str] for sets, tuple[(key, value), ...] for maps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Union

from ..source import NO_SPAN, Span


def _span() -> Any:
    return field(default=NO_SPAN, compare=False, repr=False)

# ── types ──────────────────────────────────────────────────────────────
# kind: "enum" (with `enum`, the declaring fact's name), "bool", "timestamp",
# "duration", "number", "string", "set" (of enum `enum`), "map" (enum -> value kind
# in `item`), "tuple" (of strings), "outcome".


@dataclass(frozen=True)
class Type:
    kind: str
    enum: str | None = None
    item: str | None = None

    def __str__(self) -> str:
        if self.kind == "enum":
            return f"enum {self.enum}"
        if self.kind == "set":
            return f"{self.enum} 값의 집합"
        if self.kind == "map":
            return f"{self.enum} -> {self.item} 표"
        return self.kind


BOOL, TIMESTAMP, DURATION, NUMBER, STRING = (Type("bool"), Type("timestamp"), Type("duration"),
                                             Type("number"), Type("string"))
FACT_KINDS = ("bool", "timestamp", "duration", "number")  # plus enum, declared inline
CONTEXT_KINDS = ("text", "phone", "number")


# ── expressions ────────────────────────────────────────────────────────

@dataclass(frozen=True)
class FactRef:
    name: str


@dataclass(frozen=True)
class DerivedRef:
    name: str


@dataclass(frozen=True)
class ConstRef:
    name: str


@dataclass(frozen=True)
class Value:
    value: Any


@dataclass(frozen=True)
class Arith:
    op: str  # "+" | "-"
    left: "Expr"
    right: "Expr"


@dataclass(frozen=True)
class Cmp:
    op: str  # "=" "!=" "<" "<=" ">" ">="
    left: "Expr"
    right: "Expr"


@dataclass(frozen=True)
class In:
    item: "Expr"
    set: "Expr"  # ConstRef to a set, or Value(frozenset)
    negated: bool = False


@dataclass(frozen=True)
class Not:
    operand: "Expr"


@dataclass(frozen=True)
class And:
    operands: tuple["Expr", ...]


@dataclass(frozen=True)
class Or:
    operands: tuple["Expr", ...]


@dataclass(frozen=True)
class Lookup:
    map: str  # a map constant
    key: "Expr"


@dataclass(frozen=True)
class TupleOf:
    items: tuple["Expr", ...]


Expr = Union[FactRef, DerivedRef, ConstRef, Value, Arith, Cmp, In, Not, And, Or, Lookup, TupleOf]


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
    line: int = 0
    span: Span = _span()

    @cached_property
    def codes(self) -> tuple[str, ...]:
        return tuple(v.code for v in self.values)


@dataclass(frozen=True)
class Derived:
    name: str
    label: str
    type: Type
    expr: Expr
    line: int = 0
    span: Span = _span()


@dataclass(frozen=True)
class Const:
    name: str
    label: str
    type: Type
    value: Any
    line: int = 0
    span: Span = _span()


@dataclass(frozen=True)
class Require:
    cond: Expr
    message: str
    facts: tuple[str, ...]  # the facts it reads, named in the error
    line: int = 0


@dataclass(frozen=True)
class ContextValue:
    name: str
    label: str
    kind: str  # "text" | "phone" | "number"
    personal: bool
    span: Span = _span()


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    span: Span = _span()


@dataclass(frozen=True)
class Reply:
    template: str
    needs: tuple[str, ...]  # context values the reply shows
    origin: str  # "path:line" of the template's first line
    uses: tuple[str, ...] = field(default=(), compare=False)  # every value it reads, snippets included


@dataclass(frozen=True)
class Outcome:
    name: str
    label: str
    discloses: tuple[str, ...]
    actions: tuple[str, ...]
    reply: Reply
    line: int = 0
    span: Span = _span()


@dataclass(frozen=True)
class Rule:
    name: str
    label: str
    cond: Expr | None  # None: the catch-all `otherwise`
    output: Expr  # Value(outcome name) for outcome decisions, else a value expression
    line: int
    span: Span = _span()
    parts: tuple[Span, ...] = field(default=(), compare=False, repr=False)  # spans of top-level `and` parts


@dataclass(frozen=True)
class Decision:
    name: str
    label: str
    hit_policy: str
    rules: tuple[Rule, ...]
    yields_outcome: bool
    line: int = 0
    span: Span = _span()


@dataclass(frozen=True)
class Invariant:
    """What must always hold: `subject` (a disclosed value, an outcome or an action)
    happens only where `cond` holds; `cond` None means never."""

    name: str
    label: str
    subject_kind: str  # "discloses" | "outcome" | "action"
    subject: str
    cond: Expr | None
    line: int = 0
    span: Span = _span()


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

    @property
    def main(self) -> Decision | None:
        """The decision whose results are outcomes (at most one)."""
        return next((d for d in self.decisions if d.yields_outcome), None)

    def fact(self, name: str) -> Fact:
        return next(f for f in self.facts if f.name == name)

    def outcome(self, name: str) -> Outcome:
        return next(o for o in self.outcomes if o.name == name)

    def const(self, name: str) -> Const:
        return next(c for c in self.consts if c.name == name)
