"""IR -> the Python module an app imports (`generated/<policy>.py`).

    generate(policy) -> str

The module offers decide(facts) -> Decision, render(decision, context) -> str,
OUTCOMES, FACTS_SCHEMA, PolicyInputError, SOURCE and SOURCE_SHA256. Read top to bottom it
is the policy first (its tables, Decision, decide(), the replies and render()), then the
runtime support it uses (cut from compiler/runtime/support.py by runtime_code.py: only
what this policy needs), then the few objects built from that support. It imports only the
standard library, jinja2 and hangulpy (the last two on first use), does not depend on the
jinja2 that built it, is byte-identical for the same IR, and is passed through compile()
before anyone writes it.
"""

from __future__ import annotations

import contextlib

import keyword
import textwrap

from .. import __version__
from ..middle import ir
from ..middle.evaluate import calendar_reads, holiday_tests
from ..middle.templates import keep_include_line_breaks
from ..runtime import support
from .runtime_code import support_code
from .table import Plan, packed
from .table import plan as table_plan
from .writer import CodeWriter, comment_text, literal, pretty

_CMP = {"=": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_JSON_TYPES = {"bool": {"type": "boolean"},
               "number": {"type": "number"},
               "money": {"type": "integer"},
               "duration": {"type": "string", "pattern": r"^(\d+(일|시간|분|초|ms|us|d|h|m|s))+$"},
               "timestamp": {"type": "string", "format": "date-time",
                             "pattern": f"^{support.ISO_TEXT.pattern}$"},  # what decide() reads
               "date": {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
               "time": {"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2})?$"},
               "text": {"type": "string"}}
_CHECKS = {"enum": "check_enum", "bool": "check_bool", "timestamp": "check_timestamp",
           "number": "check_number", "duration": "check_duration", "money": "check_money", "date": "check_date",
           "time": "check_time", "text": "check_text"}
_CONTEXT_CHECKS = {"text": "check_text", "phone": "format_phone", "number": "check_number", "money": "check_money"}
_EXACT = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide"}
_ROUNDING = {"floor": "floor_to", "ceil": "ceil_to", "round": "round_to"}
_FILTER_FUNCTIONS = {name: fn.__name__ for name, fn in support.FILTERS.items()}


def _ident(prefix: str, name: str, index: int) -> str:
    """A Python name for a policy name: readable when it is plain ASCII, numbered otherwise."""
    if name.isascii() and name.isidentifier() and not keyword.iskeyword(name):
        return f"{prefix}{name}"
    return f"{prefix}{index}"


def _docstring_safe(text: str) -> str:
    return comment_text(text).replace("\\", "/").replace('"', "'")


def _fact_schema(policy: ir.Policy, f: ir.Fact) -> dict:
    if f.type.kind == "enum":
        prop = {"type": "string", "enum": list(f.codes)}
    elif f.type.kind == "list":
        record = policy.record_of(f.name)
        prop = {"type": "array", "maxItems": f.max_items, "items": _object_schema(policy, record.fields, record.label)}
    else:
        prop = dict(_JSON_TYPES[f.type.kind])
    prop["description"] = f.label
    if f.type.kind == "enum":
        prop["x-labels"] = {v.code: v.label for v in f.values}
    if f.has_default and isinstance(f.default, (bool, str, int)):
        prop["default"] = f.default
    if f.optional:  # left out, or null: decide() reads both as "not given"
        prop = {"description": prop.pop("description"), "anyOf": [prop, {"type": "null"}]}
    return prop


def _object_schema(policy: ir.Policy, facts, title: str) -> dict:
    return {
        "title": title,
        "type": "object",
        "properties": {f.name: _fact_schema(policy, f) for f in facts},
        "required": [f.name for f in facts if not f.has_default and not f.optional],
        "additionalProperties": False,
    }


def facts_schema(policy: ir.Policy) -> dict:
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **_object_schema(policy, policy.facts, policy.label)}


class _Expr(ir.Visitor):
    """An IR expression as Python source over the module's own variables."""

    def __init__(self, gen: "_Gen") -> None:
        self.g = gen
        self.lists: list[str] = []  # the list facts whose items the expression being written reads

    def visit_FactRef(self, e: ir.FactRef) -> str:
        return self.g.var[e.name]

    visit_DerivedRef = visit_FactRef

    def visit_ConstRef(self, e: ir.ConstRef) -> str:
        return self.g.const[e.name]

    def visit_Value(self, e: ir.Value) -> str:
        return literal(e.value)  # a set is a tuple of codes, in the order written

    def visit_Arith(self, e: ir.Arith) -> str:
        if e.type.kind == "money" and e.op in "+-" and self.g.whole(e.left) and self.g.whole(e.right):
            return f"({self.visit(e.left)} {e.op} {self.visit(e.right)})"  # whole won: int arithmetic is exact
        if e.type.kind in ("number", "money"):  # exact, whatever decimal context the app has set
            self.g.roots.add("NUMBERS")
            return f"NUMBERS.{_EXACT[e.op]}({self.visit(e.left)}, {self.visit(e.right)})"
        return f"({self.visit(e.left)} {e.op} {self.visit(e.right)})"

    def visit_Call(self, e: ir.Call) -> str:
        args = [self.visit(a) for a in e.args]
        if e.fn in ("min", "max"):
            return f"{e.fn}({', '.join(args)})"
        if e.fn in _ROUNDING:
            self.g.roots.add(_ROUNDING[e.fn])
            return f"{_ROUNDING[e.fn]}({args[0]}, {args[1]})"
        self.g.roots.add("local_time")
        local = f"local_time({literal(_fact_name(e.args[0]))}, {args[0]}, _ZONE)"
        if e.fn == "date_of":
            return f"{local}.date()"
        if e.fn == "time_of":
            return f"{local}.time()"
        self.g.roots.add("_WEEKDAY_CODES")
        return f"_WEEKDAY_CODES[{local}.weekday()]"

    def visit_IfElse(self, e: ir.IfElse) -> str:
        return f"({self.visit(e.then)} if {self.visit(e.cond)} else {self.visit(e.else_)})"

    def visit_Given(self, e: ir.Given) -> str:
        return f"({self.visit(e.item)} is not None)"

    def visit_Item(self, e: ir.Item) -> str:
        return f"it[{literal(e.name)}]"

    def visit_Aggregate(self, e: ir.Aggregate) -> str:
        if e in self.g.agg_vars:  # computed once before a derived value that needs it
            return self.g.agg_vars[e]
        items = self.g.var[e.list]
        self.lists.append(e.list)
        try:
            where = self.visit(e.where)
        finally:
            self.lists.pop()
        keep = "" if where == "True" else f" if {where}"
        if e.op == "count":
            return f"sum(1 for it in {items}{keep})"
        if e.op == "any":
            return f"any({where} for it in {items})"
        if e.op == "all":
            return f"all({where} for it in {items})"
        values = f"(it{'' if e.field is None else f'[{literal(e.field)}]'} for it in {items}{keep})"
        if e.op == "first":
            return f"next({values}, None)"
        if e.op == "sum":
            self.g.roots.add("exact_sum")
            zero = "datetime.timedelta(0)" if e.type.kind == "duration" else "0"
            return f"exact_sum({values}, {zero})"
        return f"{e.op}({values}, default=None)"

    def visit_ActionCall(self, e: ir.ActionCall) -> str:
        args = ", ".join(f"{literal(p)}: {self.visit(a)}" for p, a in zip(e.params, e.args))
        return f"({literal(e.name)}, {{{args}}})"

    def visit_Actions(self, e: ir.Actions) -> str:
        return "(" + "".join(self.visit(c) + ", " for c in e.calls) + ")"

    def visit_Cmp(self, e: ir.Cmp) -> str:
        return f"{self.visit(e.left)} {_CMP[e.op]} {self.visit(e.right)}"

    def visit_In(self, e: ir.In) -> str:
        kind = e.set.type.kind
        if kind == "window":
            self.g.roots.add("in_window")
            found = f"in_window({self.visit(e.item)}, *{self.visit(e.set)})"
        elif kind == "holidays" and e in self.g.checked_dates:  # its date was checked up front: a lookup
            found = f"{self.visit(e.item)} in {self.visit(e.set)}[0]"
        elif kind == "holidays":
            self.g.roots.add("is_holiday")
            name = _fact_name(e.item)
            if name == "facts" and self.lists:  # a date of a list item: the list is named
                name = self.lists[-1]
            found = f"is_holiday({literal(name)}, {self.visit(e.item)}, {self.visit(e.set)})"
        else:
            return f"{self.visit(e.item)} {'not in' if e.negated else 'in'} {self.visit(e.set)}"
        return f"not {found}" if e.negated else found

    def visit_Not(self, e: ir.Not) -> str:
        inner = self.visit(e.operand)
        return f"not ({inner})" if isinstance(e.operand, (ir.And, ir.Or, ir.Cmp, ir.In)) else f"not {inner}"

    def _joined(self, e, joiner: str) -> str:
        return joiner.join(f"({self.visit(x)})" if isinstance(x, (ir.And, ir.Or)) else self.visit(x)
                           for x in e.operands)

    def visit_And(self, e: ir.And) -> str:
        return self._joined(e, " and ")

    def visit_Or(self, e: ir.Or) -> str:
        return self._joined(e, " or ")

    def visit_Lookup(self, e: ir.Lookup) -> str:
        return f"{self.g.const[e.map]}[{self.visit(e.key)}]"

    def visit_TupleOf(self, e: ir.TupleOf) -> str:
        if not e.items:
            return literal(())
        return "(" + ", ".join(self.visit(x) for x in e.items) + ("," if len(e.items) == 1 else "") + ")"


def _whole(e: ir.Expr, whole_derived: dict[str, bool]) -> bool:
    """Whether a money expression is always whole won (an int at run time): no `*`, `/`,
    rounding or aggregate in it, nor in a derived value it reads (they may hold a fraction)."""
    for x in ir.walk(e):
        if (isinstance(x, ir.Arith) and x.op in "*/") or (isinstance(x, ir.Call) and x.fn in _ROUNDING) \
                or isinstance(x, ir.Aggregate) or (isinstance(x, ir.DerivedRef) and not whole_derived.get(x.name)):
            return False
    return True


def _fact_name(e: ir.Expr) -> str:
    """The fact an error about `e` names: the first fact it reads."""
    return next((x.name for x in ir.walk(e) if isinstance(x, ir.FactRef)), "facts")


CHAIN = 500  # rules per if/elif chain (see _Gen.decision)
_TERMS = 16  # facts an anchored lookup sums in one expression


def _no_rule(d: ir.Decision) -> str:
    """What decide() raises where no rule of `d` matches (check proved it cannot happen)."""
    return f"raise PolicyInputError(\"facts\", {literal(f'결정 {d.name} 에 맞는 규칙이 없습니다')})"


class _Gen:
    def __init__(self, policy: ir.Policy) -> None:
        self.p = policy
        self.w = CodeWriter()
        self.var = {}
        for i, f in enumerate(policy.facts):
            self.var[f.name] = _ident("f_", f.name, i)
        for i, d in enumerate(policy.derived):
            self.var[d.name] = _ident("d_", d.name, i)
        self.const = {c.name: _ident("C_", c.name, i) for i, c in enumerate(policy.consts)}
        self.where = comment_text(policy.source_path)
        self.dn = {d.name: _ident("", d.name, i) for i, d in enumerate(policy.decisions)}
        self.expr = _Expr(self).visit
        self.roots = {"PolicyInputError", "read_mapping", "MISSING"}  # the support decide() needs
        self.agg_vars: dict[ir.Aggregate, str] = {}
        self.whole_derived: dict[str, bool] = {}  # in declaration order: a let reads only earlier ones
        for d in policy.derived:
            self.whole_derived[d.name] = _whole(d.expr, self.whole_derived)
        self.rec = {r.name: _ident("_check_item_", r.name, i) for i, r in enumerate(policy.records)}
        self.checked_dates = holiday_tests(policy)  # dates decide() checks against their table up front
        self.later: list[str] = []  # module-level definitions decide() refers to, written after it

    def whole(self, e: ir.Expr) -> bool:
        return _whole(e, self.whole_derived)

    def at(self, decl) -> str:
        """`policy/x.policy:LINE` of a declaration."""
        return f"{self.where}:{decl.decl_span.line}"

    def condition(self, keyword_: str, e: ir.Expr) -> None:
        """`if`/`elif` over a condition, one conjunct per line when it is long."""
        w = self.w
        if isinstance(e, ir.And) and len(e.operands) > 2:
            parts = [f"({self.expr(x)})" if isinstance(x, ir.Or) else self.expr(x) for x in e.operands]
            pad = " " * (len(keyword_) + 2)
            w.line(f"{keyword_} ({parts[0]}")
            for part in parts[1:-1]:
                w.line(f"{pad}and {part}")
            w.line(f"{pad}and {parts[-1]}):")
        else:
            w.line(f"{keyword_} {self.expr(e)}:")

    # ── the module ──
    def run(self) -> str:
        self.header()
        self.tables()
        self.decision_class()
        self.decide()
        self.render()
        self.support()
        if self.later:
            self.w.blank(2)
            self.w.line("# ── the indexes of long decision tables (see backend/table.py), built at import ──")
            self.w.blank()
            self.w.lines("\n".join(self.later))
        text = self.w.getvalue()
        for module in ("datetime", "decimal"):  # imported only where a value of the policy needs it
            if f"{module}." not in text.split(f"\nimport {module}\n", 1)[1]:
                text = text.replace(f"\nimport {module}\n", "\n", 1)
        return text

    def header(self) -> None:
        p, w = self.p, self.w
        w.line(f"# Generated by policyc {__version__} from {self.where}. DO NOT EDIT.")
        w.line("# Change the policy and run `policyc build` instead.")
        w.line(f"# Source SHA-256: {p.source_sha256}")
        w.line(f'"""{_docstring_safe(p.label)}: the decision module of {_docstring_safe(p.source_path)}.')
        w.line("")
        w.line("    decide(facts) -> Decision        validates the facts and applies the policy")
        w.line("    render(decision, context) -> str the Korean reply for the decision's outcome")
        w.line("")
        w.line("Invalid input raises PolicyInputError (a ValueError) naming the fact; nothing else escapes.")
        w.line("The policy comes first below; the runtime support it uses follows it.")
        w.line('"""')
        w.blank()
        w.line("import datetime")
        w.line("import decimal")
        w.line("from types import MappingProxyType")
        w.line("from typing import Any, Mapping, NamedTuple")
        w.blank()
        names = ["decide", "render", "Decision", "PolicyInputError", "OUTCOMES", "FACTS_SCHEMA",
                 "SOURCE", "SOURCE_SHA256"]
        w.line(f"__all__ = {literal(names)}")
        w.blank()
        w.line(f"SOURCE = {literal(p.source_path)}")
        w.line(f"SOURCE_SHA256 = {literal(p.source_sha256)}")
        w.blank()

    def tables(self) -> None:
        p, w = self.p, self.w
        w.line("# ── outcomes, facts and constants of the policy ──")
        w.blank()
        w.line(f"OUTCOMES = {literal(tuple(o.name for o in p.outcomes))}")
        w.blank()
        w.line(f"FACTS_SCHEMA = {pretty(facts_schema(p))}")
        w.blank()
        w.line("_EMPTY = MappingProxyType({})")
        w.line(f"_FACT_NAMES = frozenset({literal(tuple(f.name for f in p.facts))})")
        w.line(f"_CONTEXT_NAMES = frozenset({literal(tuple(c.name for c in p.contexts))})")
        for f in p.facts:
            if f.type.kind == "enum":
                w.line(f"_CODES_{self.var[f.name][2:]} = {literal(f.codes)}")
                w.line(f"_SET_{self.var[f.name][2:]} = frozenset(_CODES_{self.var[f.name][2:]})")
        if any(isinstance(x, ir.Call) and x.fn in ("date_of", "time_of", "weekday") for x in self.all_exprs()):
            seconds = int(p.zone_offset.total_seconds())
            w.line(f"_ZONE = datetime.timezone(datetime.timedelta(seconds={seconds}))  # {comment_text(p.zone)}")
        w.blank()
        for r in p.records:
            self.record_check(r)
        for c in p.consts:
            w.line(f"# {self.at(c)}  {comment_text(c.label)}")
            if c.type.kind == "set":  # written in the order the policy declares them
                value = literal(frozenset(c.value), c.value)
            else:
                value = literal(dict(c.value) if c.type.kind == "map" else c.value)
            w.line(f"{self.const[c.name]} = {value}")
        w.blank()
        w.line("_OUTCOME_ATTRS = {")
        with w.indent():
            for o in p.outcomes:
                w.line(f"{literal(o.name)}: ({literal(frozenset(o.discloses), o.discloses)}, "
                       f"{literal(frozenset(o.actions), o.actions)}),")
        w.line("}")
        for d in p.decisions:
            if d.yields_outcome:
                # (rule, where, outcome) + the outcome's attributes: one constant, fast to compile
                w.line(f"_RULES_{self.dn[d.name]} = tuple(row + _OUTCOME_ATTRS[row[2]] for row in (")
                with w.indent():
                    for r in d.rules:
                        w.line(f"({literal(r.name)}, {literal(p.source_of(r))}, {literal(r.output.value)}),")
                w.line("))")
            else:
                w.line(f"_RULES_{self.dn[d.name]} = {literal(tuple(r.name for r in d.rules))}")
        w.blank(2)

    def all_exprs(self):
        """Every expression of the policy, and everything inside each."""
        p = self.p
        roots = [d.expr for d in p.derived] + [r.cond for r in p.requires]
        roots += [x for d in p.decisions for r in d.rules for x in (r.cond, r.output) if x is not None]
        roots += [c for o in p.outcomes for c in o.calls]
        for root in roots:
            yield from ir.walk(root)

    def read_fact(self, f: ir.Fact, target: str, source: str, where: str) -> None:
        """`target = <f's value from the mapping `source`, checked>`; `where` names it in errors."""
        w = self.w
        name = where
        if f.optional:
            w.line(f"{target} = {source}.get({literal(f.name)})")
            w.line(f"if {target} is not None:  # left out: no value (the policy checks `is given`)")
            with w.indent():
                self.check_value(f, target, name)
            return
        fallback = literal(f.default) if f.has_default else "MISSING"
        w.line(f"{target} = {source}.get({literal(f.name)}, {fallback})")
        self.check_value(f, target, name)

    def check_value(self, f: ir.Fact, v: str, name: str) -> None:
        w = self.w
        kind = f.type.kind
        if kind == "list":
            self.roots.add("check_list")
            w.line(f"{v} = check_list({name}, {v}, {f.max_items}, {self.rec[f.type.item]})")
            return
        check = _CHECKS[kind]
        self.roots.add(check)
        # the common case inline; the check function only runs to raise or convert
        if kind == "enum":
            codes = self.enum_codes(f)
            w.line(f"if type({v}) is not str or {v} not in frozenset({codes}):" if codes.startswith("(")
                   else f"if type({v}) is not str or {v} not in _SET_{codes[7:]}:")  # exact: no __class__ can fake it
            with w.indent():
                w.line(f"{v} = check_enum({name}, {v}, {codes})")
        elif kind == "bool":
            w.line(f"if {v} is not True and {v} is not False:")
            with w.indent():
                w.line(f"{v} = check_bool({name}, {v})")
        elif kind == "timestamp":  # support.iso_shaped, inline (measured: 0.15 us a fact)
            self.roots.update(("_ZEROS", "_ISO_SHAPES", "_fromiso"))
            w.line(f"if (type({v}) is str and {v}.isascii() and {v}.encode().translate(_ZEROS) in _ISO_SHAPES")
            w.line(f"        and ({v}[-1] == 'Z' or {v}[-2] < '6')):")
            with w.indent():
                w.line("try:")
                with w.indent():
                    w.line(f"{v} = _fromiso({v})")
                w.line("except ValueError:  # no such date or time: the check says so")
                with w.indent():
                    w.line(f"{v} = check_timestamp({name}, {v})")
            w.line("else:")
            with w.indent():
                w.line(f"{v} = check_timestamp({name}, {v})")
        else:
            w.line(f"{v} = {check}({name}, {v})")

    def enum_codes(self, f: ir.Fact) -> str:
        """The source naming an enum fact's codes: the module's table for a fact, a literal for a field."""
        if f.name in self.var and f.type.enum == f.name:
            return f"_CODES_{self.var[f.name][2:]}"
        return literal(f.codes)

    def record_check(self, r: ir.Record) -> None:
        """`_check_item_<record>(name, value)`: one list item, as a read-only mapping of its fields."""
        w = self.w
        self.roots.add("read_mapping")
        fields = literal(tuple(f.name for f in r.fields))
        w.line(f"_FIELDS_{self.rec[r.name][12:]} = frozenset({fields})")
        w.blank(2)
        w.line(f"def {self.rec[r.name]}(name, value):")
        with w.indent():
            w.line(f'"""One item of a list of {comment_text(r.label)}."""')
            w.line(f'given = read_mapping(name, value, _FIELDS_{self.rec[r.name][12:]}, "필드")')
            for i, f in enumerate(r.fields):
                self.read_fact(f, f"v{i}", "given", f'name + {literal("." + f.name)}')
            items = ", ".join(f"{literal(f.name)}: v{i}" for i, f in enumerate(r.fields))
            w.line(f"return MappingProxyType({{{items}}})")
        w.blank(2)

    def decision_class(self) -> None:
        w, p = self.w, self.p
        w.line("class Decision(NamedTuple):")
        with w.indent():
            w.line('"""What the policy decided (immutable). `actions` are the follow-ups, with their values in')
            w.line("`action_args` (refund -> {amount: 1400}); `facts` are the validated facts (defaults filled")
            w.line("in), `derived` the values computed from them, `trace` the rule each decision took.\"\"\"")
            w.blank()
            if p.main is not None:
                w.line("outcome: str")
            for d in p.decisions:
                if d.yields_value:
                    w.line(f"{d.name}: Any")
            w.line("discloses: frozenset")
            w.line("actions: frozenset")
            w.line("action_args: Mapping[str, Mapping[str, Any]]")
            w.line("rule: str")
            w.line("source: str")
            w.line("facts: Mapping[str, Any]")
            w.line("derived: Mapping[str, Any]")
            w.line("trace: tuple")
        w.blank(2)

    def decide(self) -> None:
        w = self.w
        w.line("def decide(facts: Mapping[str, Any]) -> Decision:")
        with w.indent():
            w.line('"""Apply the policy to `facts` (a mapping of fact name to value)."""')
            w.line("try:")
            with w.indent():
                self._decide_body()
            w.line("except PolicyInputError:")
            with w.indent():
                w.line("raise")
            w.line("except Exception as error:  # hostile input (a value whose methods raise): fail closed")
            with w.indent():
                w.line('raise PolicyInputError("facts", f"사실을 읽을 수 없습니다: {type(error).__name__}") from None')
        w.blank(2)

    def _decide_body(self) -> None:
        w, p = self.w, self.p
        w.line('given = read_mapping("facts", facts, _FACT_NAMES, "사실")')
        for f in p.facts:
            self.read_fact(f, self.var[f.name], "given", literal(f.name))
        # derived values before the requirements, which may read them (the SQL back end
        # and the reference evaluator keep the same order)
        if p.derived:
            w.line("try:")
            with w.indent():
                for d in p.derived:
                    self.derived_value(d)
            w.line("except (OverflowError, ValueError) as error:")
            with w.indent():
                w.line("if type(error) is PolicyInputError:")
                with w.indent():
                    w.line("raise")
                w.line('raise PolicyInputError("facts", "계산할 수 없는 범위의 시각이나 기간입니다") from None')
        for test in self.checked_dates:  # every date a holiday table is asked about, up front
            self.roots.add("is_holiday")
            w.line(f"is_holiday({literal(_fact_name(test.item))}, {self.expr(test.item)}, {self.expr(test.set)})")
        for call in calendar_reads(p)[0]:  # every instant a requirement or rule reads the calendar of
            self.roots.add("local_time")
            w.line(f"local_time({literal(_fact_name(call.args[0]))}, {self.expr(call.args[0])}, _ZONE)")
        for r in p.requires:
            w.line(f"# {self.where}:{r.span.line}")
            w.line(f"if not ({self.expr(r.cond)}):")
            with w.indent():
                w.line(f"raise PolicyInputError({literal(', '.join(r.facts))}, {literal(r.message)})")
        collects = self.collects_actions()
        if collects:
            w.line("args = {}  # action -> its values")
        for d in p.decisions:
            self.decision(d)
        main = p.main
        if main is not None:
            w.line(f"rule_{self.dn[main.name]}, source_{self.dn[main.name]}, outcome_{self.dn[main.name]}, "
                   f"discloses, actions = fired_{self.dn[main.name]}")
        elif collects:
            w.line("actions = frozenset()")
        if collects:
            w.line("actions = actions | frozenset(args)")
            w.line("action_args = MappingProxyType({k: MappingProxyType(v) for k, v in args.items() if v})")
        facts = ", ".join(f"{literal(f.name)}: {self.var[f.name]}" for f in p.facts)
        derived = ", ".join(f"{literal(d.name)}: {self.var[d.name]}" for d in p.derived)
        trace = ", ".join(f"({literal(d.name)}, rule_{self.dn[d.name]})" for d in p.decisions)
        w.line("return Decision(  # positional, in field order: the cheapest way to build it")
        with w.indent():
            if main is not None:
                w.line(f"outcome_{self.dn[main.name]},")
            for d in p.decisions:
                if d.yields_value:
                    w.line(f"value_{self.dn[d.name]},  # {d.name}")
            if main is not None:
                w.line("discloses,")
                w.line("actions,")
            else:
                w.line("frozenset(),")
                w.line("actions," if collects else "frozenset(),")
            w.line("action_args," if collects else "_EMPTY,")
            if main is not None:
                w.line(f"rule_{self.dn[main.name]},")
                w.line(f"source_{self.dn[main.name]},")
            else:
                w.line('"", "",')
            w.line(f"MappingProxyType({{{facts}}}),")
            w.line(f"MappingProxyType({{{derived}}}),")
            w.line(f"({trace}{',' if len(p.decisions) == 1 else ''}),")
        w.line(")")

    def derived_value(self, d: ir.Derived) -> None:
        """A derived value; one that needs a value that may be missing is None without it."""
        w = self.w
        missing = []
        for kind, what in d.needs:
            if kind == "fact":
                missing.append(f"{self.var[what]} is None")
            else:  # an aggregate with no item to take: computed once, here
                if what not in self.agg_vars:
                    name = f"a_{len(self.agg_vars)}"
                    w.line(f"{name} = {self.expr(what)}")
                    self.agg_vars[what] = name
                missing.append(f"{self.agg_vars[what]} is None")
        value = self.expr(d.expr)
        if missing:
            value = f"None if {' or '.join(missing)} else {value}"
        w.line(f"{self.var[d.name]} = {value}  # {self.at(d)}")

    def decision(self, d: ir.Decision) -> None:
        """A decision as an if/elif chain, rule by rule in the policy's order. CPython compiles
        an elif chain as nested `orelse`s and fails past a few thousand (RecursionError, or
        MemoryError at 10,000): a long table is cut into chains of CHAIN rules, each after the
        first run only while no rule has fired."""
        w = self.w
        if d.yields_actions:
            self.actions_decision(d)
            return
        w.blank()
        found = table_plan(self.p, d)
        if found is not None:
            self.indexed(d, found)
            return
        w.line(f"# ── decision {d.name}: {comment_text(d.label)} ({d.hit_policy} matching rule wins) ──")
        name = self.dn[d.name]
        sentinel = f"fired_{name}" if d.yields_outcome else f"rule_{name}"
        chained = len(d.rules) > CHAIN
        if chained:
            w.line(f"{sentinel} = None")
        for start in range(0, len(d.rules), CHAIN):
            part = d.rules[start:start + CHAIN]
            last = start + CHAIN >= len(d.rules)
            if start:
                w.line(f"if {sentinel} is None:")
            with w.indent() if start else contextlib.nullcontext():
                self.chain(d, part, start, last)

    def indexed(self, d: ir.Decision, pl: Plan) -> None:
        """A long decision through its index: the boxes that can hold, then the first whose
        rule's residual test holds (backend/table.py)."""
        w, name = self.w, self.dn[d.name]
        w.line(f"# ── decision {d.name}: {comment_text(d.label)} ({d.hit_policy} matching rule wins; "
               f"{len(d.rules)} rules, looked up in _TABLE_{name}) ──")
        self.roots.add("RuleTable")
        cuts, text = packed(pl)
        self.later.append(f"# boxes of the rules in order, read by RuleTable.load: [exact, [fact, allowed...]...]\n"
                          f"_TABLE_{name} = RuleTable.load(\n    {literal(pl.dims)},\n    {pl.split},\n"
                          f"    {literal(cuts)},\n    \"\"\"{text}\"\"\",\n)")
        identity = pl.rule_of == tuple(range(len(d.rules)))
        if not identity:
            self.later.append(f"_RULE_OF_{name} = {literal(pl.rule_of)}")
        values = ", ".join(self.var[f] for f in pl.facts)
        # the common bucket inline, dimension by dimension (a call and a loop cost as much)
        bucket = f"_TABLE_{name}.one" if pl.split < 0 else f"_TABLE_{name}.buckets[{self.var[pl.facts[pl.split]]}]"
        w.line(f"bucket = {bucket}")
        w.line("kind = bucket[0]")
        w.line("if kind == 2:  # the entries each value reaches, then the rest of their tests")
        with w.indent():
            self.roots.add("admitted")
            slots, reached = [], []
            for k, f in enumerate(pl.facts):
                if k == pl.split:
                    continue
                if pl.dims[k] is not None:
                    slots.append(f"hits_{k}")
                    reached.append(f"hits_{k}[{self.var[f]}]")
                else:
                    slots += [f"cuts_{k}", f"hits_{k}", f"find_{k}"]
                    reached.append(f"hits_{k}[find_{k}(cuts_{k}, {self.var[f]})]")
            rows = textwrap.wrap(", ".join(["kind", "at", "found", "need", "base"] + slots), 80)
            if len(rows) == 1:
                w.line(f"{rows[0]} = bucket")
            else:
                w.line(f"({rows[0]}")
                for row in rows[1:-1]:
                    w.line(f" {row}")
                w.line(f" {rows[-1]}) = bucket")
            # one sum per _TERMS facts: CPython's compiler recurses once per `+` of a sum
            for start in range(0, len(reached), _TERMS):
                group = reached[start:start + _TERMS]
                w.line("found += " + group[0] if len(group) == 1 else "found += (" + group[0])
                for k, part in enumerate(group[1:], 2):
                    w.line(f"          + {part}" + (")" if k == len(group) else ""))
            w.line(f"bits = admitted(found, need, ({values},)) | base if found else base")
        said: set[str] = set()  # comments written once
        w.line("elif kind:")
        with w.indent():
            w.line("kind, tables, at, bits = bucket")
            for k, f in enumerate(pl.facts):
                if k == pl.split:
                    continue
                if pl.dims[k] is not None:
                    w.line(f"bits &= tables[{k}][{self.var[f]}]")
                else:
                    self.roots.add("_bisect_right")
                    v = self.var[f]
                    w.line(f"cuts, table = tables[{k}]")
                    note = "" if "_bisect_right" in said else "  # on a threshold: odd piece, else even"
                    said.add("_bisect_right")
                    w.line(f"piece = _bisect_right(cuts, {v}){note}")
                    w.line(f"bits &= table[2 * piece - 1 if piece and cuts[piece - 1] == {v} else 2 * piece]")
        w.line("else:")
        with w.indent():
            w.line(f"bits, at = _TABLE_{name}.candidates(({values},))")
        tests = {e: x for e, x in enumerate(pl.residual) if x is not None}
        if tests:
            params = sorted({self.var[x.name] for t in tests.values() for x in ir.walk(t)
                             if isinstance(x, (ir.FactRef, ir.DerivedRef))})
            made: dict[ir.Expr, str] = {}
            for e, test in tests.items():
                if test not in made:
                    made[test] = f"_when_{name}_{len(made)}"
                    self.later.append(f"def {made[test]}({', '.join(params)}):\n    return {self.expr(test)}\n")
            self.later.append(f"_WHEN_{name} = {{" + ", ".join(f"{e}: {made[x]}" for e, x in tests.items()) + "}")
            w.line("while bits:  # the first box whose rule's other tests hold")
            with w.indent():
                w.line("top = bits.bit_length() - 1")
                w.line("e = at[top]")
                w.line(f"test = _WHEN_{name}.get(e)")
                w.line(f"if test is None or test({', '.join(params)}):")
                with w.indent():
                    w.line("break")
                w.line("bits ^= 1 << top")
            w.line("else:")
            with w.indent():
                w.line("e = -1")
        else:
            w.line("e = at[bits.bit_length() - 1] if bits else -1")
        w.line("if e < 0:")
        with w.indent():
            w.line(_no_rule(d))
        rule = "e" if identity else f"_RULE_OF_{name}[e]"
        if d.yields_outcome:
            w.line(f"fired_{name} = _RULES_{name}[{rule}]")
            with_args = [o for o in self.p.outcomes if any(c.params for c in o.calls)
                         and any(r.output.value == o.name for r in d.rules)]
            for k, o in enumerate(with_args):
                w.line(f"{'if' if k == 0 else 'elif'} fired_{name}[2] == {literal(o.name)}:")
                with w.indent():
                    w.line(self.outcome_args(o))
        else:
            self.later.append(f"_VALUES_{name} = ({''.join(self.expr(r.output) + ', ' for r in d.rules)})")
            w.line(f"rule_{name} = _RULES_{name}[{rule}]")
            w.line(f"value_{name} = _VALUES_{name}[{rule}]")

    def chain(self, d: ir.Decision, part, start: int, last: bool) -> None:
        """One if/elif chain of a decision's rules, `start` the index of its first rule."""
        w, name = self.w, self.dn[d.name]
        for k, r in enumerate(part):
            i = start + k
            w.line(f"# {self.at(r)}  {comment_text(r.name)}")
            if r.cond is None:
                w.line("else:" if k else "if True:")
            else:
                self.condition("if" if k == 0 else "elif", r.cond)
            with w.indent():
                if d.yields_outcome:
                    w.line(f"fired_{name} = _RULES_{name}[{i}]")
                    outcome = self.p.outcome(r.output.value)
                    if any(c.params for c in outcome.calls):  # its actions' values, read where the rule knows they are there
                        w.line(self.outcome_args(outcome))
                else:
                    w.line(f"rule_{name} = _RULES_{name}[{i}]")
                    w.line(f"value_{name} = {self.expr(r.output)}")
        if last and d.rules and d.rules[-1].cond is not None:
            # `policyc check` proved the rules cover every valid input; fail closed all the same
            w.line("else:")
            with w.indent():
                w.line(_no_rule(d))

    def collects_actions(self) -> bool:
        """Whether decide() gathers actions beyond the outcome's fixed set."""
        p = self.p
        return any(d.yields_actions for d in p.decisions) or any(c.params for o in p.outcomes for c in o.calls)

    def outcome_args(self, o: ir.Outcome) -> str:
        """The line that records the values of an outcome's actions."""
        return "args.update({" + ", ".join(f"{literal(c.name)}: {{{self.call_args(c)}}}" for c in o.calls if c.params) + "})"

    def call_args(self, c: ir.ActionCall) -> str:
        return ", ".join(f"{literal(p)}: {self.expr(a)}" for p, a in zip(c.params, c.args))

    def actions_decision(self, d: ir.Decision) -> None:
        """A decision of actions: under (all) every rule that matches adds its actions (the
        first to name an action gives its values), under (first) the first rule only."""
        w = self.w
        w.blank()
        w.line(f"# ── decision {d.name}: {comment_text(d.label)} ({d.hit_policy} matching rules add actions) ──")
        w.line(f"rule_{self.dn[d.name]} = ()")
        for i, r in enumerate(d.rules):
            w.line(f"# {self.at(r)}  {comment_text(r.name)}")
            first = d.hit_policy != "all"
            if r.cond is None:
                w.line("if True:" if not first or i == 0 else "else:")
            else:
                self.condition("if" if not first or i == 0 else "elif", r.cond)
            with w.indent():
                w.line(f"rule_{self.dn[d.name]} += ({literal(r.name)},)")
                for c in r.output.calls:
                    w.line(f"args.setdefault({literal(c.name)}, {{{self.call_args(c)}}})")

    def render(self) -> None:
        w, p = self.w, self.p
        if p.main is None:
            w.line("def render(decision: Decision, context: Mapping[str, Any] = _EMPTY) -> str:")
            with w.indent():
                w.line('"""This policy decides values only; it has no outcome and so no reply."""')
                w.line('raise PolicyInputError("decision", "이 정책에는 결과(outcome)를 내는 결정이 없어 답변이 없습니다")')
            w.blank(2)
            return
        self.roots.update(("Templates", "finish_reply", "_describe", "Label"))
        self.roots.update(_CONTEXT_CHECKS[c.kind] for c in p.contexts)
        w.line("# ── replies ──")
        w.blank()
        sources = {name: keep_include_line_breaks(text) for name, text in p.snippets}
        sources.update({f"reply:{o.name}": keep_include_line_breaks(o.reply.template) for o in p.outcomes})
        w.line(f"_TEMPLATE_SOURCES = {pretty(sources)}")
        w.line("_REPLY_NEEDS = {")
        with w.indent():
            for o in p.outcomes:
                origin = f"{o.reply.origin.file}:{o.reply.origin.line}"
                w.line(f"{literal(o.name)}: {literal(o.reply.needs)},  # {comment_text(origin)}")
        w.line("}")
        kinds = {c.name: c.kind for c in p.contexts}
        w.line(f"_CONTEXT_KINDS = {literal(kinds)}")
        consts = ", ".join(f"{literal(c.name)}: {self.const[c.name]}" for c in p.consts)
        w.line(f"_CONSTANTS = {{{consts}}}")
        w.blank(2)
        w.line("def render(decision: Decision, context: Mapping[str, Any] = _EMPTY) -> str:")
        with w.indent():
            w.line('"""The Korean reply for `decision`. `context` gives the values the reply shows')
            w.line("(declared with `context`/`personal` in the policy); a missing one is an error.\"\"\"")
            w.line("try:")
            with w.indent():
                w.line("if type(decision) is not Decision:")
                with w.indent():
                    w.line('raise PolicyInputError("decision", f"decide() 가 돌려준 Decision 이어야 합니다: {_describe(decision)}")')
                w.line("# only what decide() decides for these facts is rendered: a Decision edited with")
                w.line("# _replace (another outcome, other disclosures) is turned down, never shown")
                w.line("genuine = decide(decision.facts)")
                w.line("if genuine != decision:")
                with w.indent():
                    w.line('raise PolicyInputError("decision", "decide() 가 이 사실로 내린 결정과 다릅니다 '
                           '(decide() 가 돌려준 Decision 을 고치지 말고 그대로 주세요)")')
                w.line("decision = genuine")
                w.line('given = read_mapping("context", context, _CONTEXT_NAMES, "답변 값")')
                w.line("needs = _REPLY_NEEDS[decision.outcome]")
                w.line("for name in needs:")
                with w.indent():
                    w.line("if name not in given:")
                    with w.indent():
                        w.line('raise PolicyInputError(name, f"결과 {decision.outcome} 의 답변에 필요한 값이 context 에 없습니다")')
                w.line("values = dict(_CONSTANTS)")
                w.line("for name, value in decision.facts.items():")
                with w.indent():
                    w.line("labels = _LABELS.get(name)")
                    w.line("values[name] = labels[value] if labels is not None else value")
                w.line("values.update(decision.derived)")
                for d in p.decisions:
                    if d.yields_value:
                        w.line(f"values[{literal(d.name)}] = decision.{d.name}")
                w.line("for name, value in given.items():")
                with w.indent():
                    w.line("values[name] = _CONTEXT_CHECKS[_CONTEXT_KINDS[name]](name, value)")
                w.line("try:")
                with w.indent():
                    w.line('return finish_reply(_TEMPLATES.get("reply:" + decision.outcome).render(values))')
                w.line("except PolicyInputError:")
                with w.indent():
                    w.line("raise")
                w.line("except Exception as error:  # a template that cannot render these values")
                with w.indent():
                    w.line('raise PolicyInputError("reply", f"답변을 만들 수 없습니다: {type(error).__name__}: {error}") from None')
            w.line("except PolicyInputError:")
            with w.indent():
                w.line("raise")
            w.line("except Exception as error:  # hostile context (a value whose methods raise): fail closed")
            with w.indent():
                w.line('raise PolicyInputError("context", f"답변 값을 읽을 수 없습니다: {type(error).__name__}") from None')
        w.blank(2)

    def support(self) -> None:
        """The runtime support this policy uses, then what is built from it at import."""
        w, p = self.w, self.p
        filters = sorted({f for o in p.outcomes for f in o.reply.filters})
        self.roots.update(_FILTER_FUNCTIONS[f] for f in filters)
        w.line("# ── policyc runtime support: the part of compiler/runtime/support.py this policy uses ──")
        w.blank()
        w.lines(support_code(self.roots))
        w.blank(2)
        w.line("# ── built from the support above, once, at import ──")
        w.blank()
        if p.main is None:
            return
        w.line("_LABELS = {")
        with w.indent():
            for f in p.facts:
                if f.type.kind == "enum":
                    pairs = ", ".join(f"{literal(v.code)}: Label({literal(v.code)}, {literal(v.label)})" for v in f.values)
                    w.line(f"{literal(f.name)}: {{{pairs}}},")
        w.line("}")
        used = dict.fromkeys(c.kind for c in p.contexts)
        w.line("_CONTEXT_CHECKS = {" + ", ".join(f"{literal(k)}: {_CONTEXT_CHECKS[k]}" for k in used) + "}")
        w.line("_FILTERS = {" + ", ".join(f"{literal(f)}: {_FILTER_FUNCTIONS[f]}" for f in filters) + "}")
        w.line("_TEMPLATES = Templates(_TEMPLATE_SOURCES, _FILTERS)")


def generate(policy: ir.Policy) -> str:
    source = _Gen(policy).run()
    compile(source, f"generated/{policy.name}.py", "exec")  # a bug in policyc must not reach the disk
    return source
