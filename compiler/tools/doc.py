"""`policyc doc`: the agent manual, generated from the policy, so it is always true.

    build_doc(result, module) -> Doc;  to_markdown(doc), to_html(doc, svgs)

Per value of the fact most rules split on (for the driver-info policy: what the
customer asks for), a table of the rules in order, conditions in the policy's own
Korean labels -> outcome; each outcome's reply rendered on facts where it is given;
the constants, the invariants (proven by the analysis), the author's notes (the
policy's comments) and a flow picture of each decision, drawn by Graphviz."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from dataclasses import dataclass, field

from ..analysis.regions import Regions
from ..middle import ir
from ..middle.values import typed_text, value_text
from ..runtime.support import josa
from ..pipeline import Result
from .diff import sample_context

_ROUNDING = {"floor": "내림", "ceil": "올림", "round": "반올림"}
_CALENDAR = {"date_of": "날짜", "time_of": "시각", "weekday": "요일"}
_AGGREGATE = {"sum": "합", "max": "최댓값", "min": "최솟값"}
_OPS = {"<": "미만", "<=": "이하", ">": "초과", ">=": "이상", "=": "정확히", "!=": "아님"}


@dataclass
class Section:
    title: str
    blocks: list = field(default_factory=list)  # ("p", text) | ("table", head, rows) | ("pre", text) | ("svg", name)


@dataclass
class Doc:
    title: str
    subtitle: str
    sections: list[Section]


class _Words(ir.Visitor):
    """Conditions and values in the policy's own labels."""

    def __init__(self, policy: ir.Policy) -> None:
        self.p = policy
        self.facts = policy.facts_by_name
        self.consts = policy.consts_by_name
        self.items: list[ir.Record] = []  # the records whose fields bare names are, inside aggregates

    def value(self, v) -> str:
        if isinstance(v, tuple) and v and isinstance(v[0], tuple):
            return ", ".join(f"{k}: {x}" for k, x in v)
        if isinstance(v, tuple):
            return ", ".join(v)
        return value_text(v)

    def const_value(self, c: ir.Const) -> str:
        """A constant in labels: sets and table keys by their enum labels, in enum order."""
        if c.type.kind == "set":
            return self.enum_labels(c.type.enum, c.value, ", ")
        if c.type.kind not in ("map", "tuple", "string"):
            return typed_text(c.value, c.type)
        if c.type.kind == "map":
            labels = {v.code: v.label for v in self.facts[c.type.enum].values}
            return ", ".join(f"{labels[k]}: {v}" for k, v in c.value)
        return self.value(c.value)

    def enum_labels(self, enum: str, codes, joiner: str = " 또는 ") -> str:
        """Codes of an enum type (a fact's, `record.field`, `weekday`) by their labels, in order."""
        if enum == "weekday":
            pairs = [(code, f"{label}요일") for code, label in ir.WEEKDAYS]
        elif "." in enum:
            record, name = enum.split(".", 1)
            pairs = [(v.code, v.label) for v in self.p.records_by_name[record].fields_by_name[name].values]
        else:
            pairs = [(v.code, v.label) for v in self.facts[enum].values]
        return joiner.join(label for code, label in pairs if code in codes)

    def visit_Call(self, e: ir.Call) -> str:
        args = [self.visit(a) for a in e.args]
        if e.fn in ("min", "max"):
            return f"{', '.join(args)} 중 {'작은' if e.fn == 'min' else '큰'} 값"
        if e.fn in _ROUNDING:
            return f"{args[0]}({args[1]} 단위로 {_ROUNDING[e.fn]})"
        return f"{args[0]}의 {_CALENDAR[e.fn]}"

    def visit_IfElse(self, e: ir.IfElse) -> str:
        return f"{self.cond(e.cond, False)}이면 {self.visit(e.then)}, 아니면 {self.visit(e.else_)}"

    def visit_Item(self, e: ir.Item) -> str:
        return self.items[-1].fields_by_name[e.name].label

    def _condition(self, e: ir.Expr) -> str:  # a condition where a value is read: a bool derived value
        return self.cond(e, False)

    visit_In = visit_Cmp = visit_And = visit_Or = visit_Not = _condition

    def visit_Given(self, e: ir.Given) -> str:
        return self.cond(e, False)

    def visit_Aggregate(self, e: ir.Aggregate) -> str:
        fact = self.facts[e.list]
        record = self.p.records_by_name[fact.type.item]
        self.items.append(record)
        try:
            where = "" if isinstance(e.where, ir.Value) else self.cond(e.where, False)
            field_label = record.fields_by_name[e.field].label if e.field else ""
        finally:
            self.items.pop()
        which = f"{where}인 {fact.label}" if where else fact.label
        if e.op == "count":
            return f"{which}의 수"
        if e.op == "any":
            return f"{josa(which, '이/가')} 있음"
        if e.op == "all":
            return f"모든 {josa(fact.label, '이/가')} {where}"
        if e.op == "first":
            return f"{which} 중 첫째의 {field_label}" if field_label else f"{which} 중 첫째"
        return f"{which}의 {field_label} {_AGGREGATE[e.op]}"

    # values: what a side of a comparison or a derived value reads as
    def label_of(self, e: ir.Expr) -> str:
        return self.visit(e)

    def visit_FactRef(self, e: ir.FactRef) -> str:
        return self.facts[e.name].label

    def visit_DerivedRef(self, e: ir.DerivedRef) -> str:
        return self.p.derived_by_name[e.name].label

    def visit_ConstRef(self, e: ir.ConstRef) -> str:
        return self.const_value(self.consts[e.name])

    def visit_Value(self, e: ir.Value) -> str:
        if e.type.kind == "enum":
            return self.enum_labels(e.type.enum, {e.value})
        return typed_text(e.value, e.type) if e.type.kind not in ("set", "tuple", "?") else self.value(e.value)

    def visit_Arith(self, e: ir.Arith) -> str:
        return f"{self.visit(e.left)} {e.op} {self.visit(e.right)}"

    def visit_Lookup(self, e: ir.Lookup) -> str:
        return f"{self.consts[e.map].label}[{self.facts[e.key.name].label}]"

    def visit_TupleOf(self, e: ir.TupleOf) -> str:
        return " ▶ ".join(self.visit(x) for x in e.items)

    def cond(self, e: ir.Expr | None, top: bool = True) -> str:
        if e is None:
            return "그 밖의 모든 경우"
        return _Conditions(self, top).visit(e)

    def output(self, decision: ir.Decision, rule: ir.Rule) -> str:
        if decision.yields_outcome:
            return self.p.rule_outcome(rule).label
        return self.visit(rule.output)


def words_of(policy: ir.Policy) -> _Words:
    """Values and conditions of `policy` in its own labels."""
    return _Words(policy)


class _Conditions(ir.Visitor):
    """A condition in labels: `·` between the parts of a rule, 그리고/또는 inside."""

    def __init__(self, words: _Words, top: bool) -> None:
        self.w = words
        self.top = top

    def _inner(self, e: ir.Expr) -> str:
        return _Conditions(self.w, False).visit(e)

    def visit_And(self, e: ir.And) -> str:
        if self.top:
            return " · ".join(self._inner(x) for x in e.operands)
        return "(" + " 그리고 ".join(self._inner(x) for x in e.operands) + ")"

    def visit_Or(self, e: ir.Or) -> str:
        text = " 또는 ".join(self._inner(x) for x in e.operands)
        return text if self.top else f"({text})"

    def visit_Not(self, e: ir.Not) -> str:
        if isinstance(e.operand, (ir.FactRef, ir.DerivedRef, ir.Item)):
            return f"{self.w.label_of(e.operand)}: 아니오"
        if isinstance(e.operand, ir.Given):
            return f"{self.w.label_of(e.operand.item)}: 없음"
        return f"아님({self._inner(e.operand)})"

    def visit_FactRef(self, e: ir.FactRef) -> str:
        return f"{self.w.facts[e.name].label}: 예"

    def visit_DerivedRef(self, e: ir.DerivedRef) -> str:
        return f"{self.w.label_of(e)}: 예"

    def visit_Item(self, e: ir.Item) -> str:
        return f"{self.w.label_of(e)}: 예"

    def visit_Given(self, e: ir.Given) -> str:
        return f"{self.w.label_of(e.item)}: 있음"

    def visit_Aggregate(self, e: ir.Aggregate) -> str:
        return self.w.label_of(e)

    def visit_Value(self, e: ir.Value) -> str:
        return self.w.label_of(e)

    def visit_In(self, e: ir.In) -> str:
        w = self.w
        group = e.set.value if isinstance(e.set, ir.Value) else w.consts[e.set.name].value
        named = f" ({w.consts[e.set.name].label})" if isinstance(e.set, ir.ConstRef) else ""
        if e.set.type.kind in ("window", "holidays"):
            text = f"{w.label_of(e.item)}: {typed_text(group, e.set.type)}{named}"
        else:
            text = f"{w.label_of(e.item)}: {w.enum_labels(e.item.type.enum, group)}{named}"
        return text + (" 아님" if e.negated else "")

    def visit_Cmp(self, e: ir.Cmp) -> str:
        w = self.w
        if e.left.type.kind == "enum" and isinstance(e.right, ir.Value):
            text = f"{w.label_of(e.left)}: {w.enum_labels(e.left.type.enum, {e.right.value})}"
            return text + (" 아님" if e.op == "!=" else "")
        if e.left.type.kind == "bool" and isinstance(e.right, ir.Value):
            return f"{w.label_of(e.left)}: {w.value(e.right.value if e.op == '=' else not e.right.value)}"
        named = f" ({w.consts[e.right.name].label})" if isinstance(e.right, ir.ConstRef) else ""
        return f"{w.label_of(e.left)} {w.label_of(e.right)} {_OPS[e.op]}{named}"


def _split_fact(policy: ir.Policy) -> str | None:
    """The enum fact most rules of the main decision test directly."""
    main = policy.main or (policy.decisions[0] if policy.decisions else None)
    counts: dict[str, int] = {}
    for rule in main.rules if main else ():
        for part in rule.conjuncts:
            item = part.item if isinstance(part, ir.In) else (part.left if isinstance(part, ir.Cmp) else None)
            if isinstance(item, ir.FactRef) and item.type.kind == "enum":
                counts[item.name] = counts.get(item.name, 0) + 1
    return max(counts, key=counts.get) if counts else None


def build_doc(result: Result, module) -> Doc:
    policy = result.policy
    words = _Words(policy)
    regions = Regions(policy)
    sections = []

    facts = Section("사실: 상담할 때 확인하는 것")
    rows = []
    for f in policy.facts:
        kind = {"enum": "선택", "bool": "예/아니오", "timestamp": "시각", "duration": "기간", "number": "숫자",
                "money": "금액", "date": "날짜", "time": "하루 중 시각",
                "list": f"{policy.records_by_name[f.type.item].label} 목록 (최대 {f.max_items}개)"
                if f.type.kind == "list" else ""}[f.type.kind]
        if f.optional:
            kind += " (없을 수 있음)"
        values = " · ".join(f"{v.label} (`{v.code}`)" for v in f.values) if f.values else ""
        default = words.value(f.default) if f.has_default else ""
        rows.append([f.label, f"`{f.name}`", kind, values, default])
    facts.blocks.append(("table", ["사실", "이름", "종류", "값", "없을 때"], rows))
    if policy.derived:
        facts.blocks.append(("table", ["계산한 값", "이름", "계산"],
                             [[d.label, f"`{d.name}`", words.label_of(d.expr)] for d in policy.derived]))
    sections.append(facts)

    consts = Section("기준")
    consts.blocks.append(("table", ["기준", "이름", "값"],
                          [[c.label, f"`{c.name}`", words.const_value(c)] for c in policy.consts]))
    sections.append(consts)

    split = _split_fact(policy)
    for d in policy.decisions:
        sec = Section(f"결정: {d.label or d.name}")
        sec.blocks.append(("p", f"`{d.name}` — {'위에서부터 처음 맞는 규칙이 정합니다' if d.hit_policy == 'first' else '규칙끼리 겹치지 않습니다'}."))
        sec.blocks.append(("svg", d.name))
        groups = [(None, None)]
        if split and d.yields_outcome:
            fact = next(f for f in policy.facts if f.name == split)
            groups = [(v.code, v.label) for v in fact.values]
        for code, label in groups:
            rows = []
            for rule in d.rules:
                if code is not None and rule.cond is not None:
                    if not regions.condition(rule.cond) & regions.where(split, code):
                        continue
                o_attrs = ""
                if d.yields_outcome:
                    o = policy.outcome(rule.output.value)
                    o_attrs = ", ".join([f"공개: {x}" for x in o.discloses] + [f"조치: {x}" for x in o.actions])
                rows.append([rule.name if rule.cond is not None else "그 밖", words.cond(rule.cond),
                             words.output(d, rule), o_attrs, f"{rule.decl_span.line}행"])
            title = f"{words.facts[split].label}: {label}" if code is not None else ""
            if title:
                sec.blocks.append(("h", title))
            sec.blocks.append(("table", ["규칙", "조건", "결과", "공개·조치", "정책"], rows))
        sections.append(sec)

    replies = Section("답변")
    main = policy.main
    if main is not None:
        shown = set()
        for rule, region in zip(main.rules, regions.rule_regions(main)):
            if not region:
                continue
            _, typed = region.example()
            try:
                decision = module.decide(typed)
                text = module.render(decision, sample_context(policy))
            except module.PolicyInputError:
                continue
            if (decision.outcome, text) in shown:
                continue
            shown.add((decision.outcome, text))
            o = policy.outcome(decision.outcome)
            replies.blocks.append(("h", f"{o.label} (`{o.name}`) — 규칙 {rule.name}"))
            replies.blocks.append(("pre", text))
        replies.blocks.insert(0, ("p", "값 자리에는 예시 값을 넣었습니다: " + ", ".join(
            f"{c.label} {v}" for c, v in zip(policy.contexts, sample_context(policy).values())) + "."))
    sections.append(replies)

    if policy.invariants:
        inv = Section("언제나 지켜지는 것 (불변식, policyc check 가 모든 경우에 대해 증명)")
        rows = []
        for i in policy.invariants:
            if i.subject_kind == "discloses":
                subject = f"{next(c.label for c in policy.contexts if c.name == i.subject)} 공개"
            elif i.subject_kind == "outcome":
                subject = f"결과 {policy.outcome(i.subject).label}"
            elif i.subject_kind == "action":
                subject = f"조치 {next(a.label for a in policy.actions if a.name == i.subject)}"
            else:
                subject = "모든 경우"
            rows.append([i.label, subject, "절대 없음" if i.cond is None else words.cond(i.cond), "✓ 증명됨"])
        inv.blocks.append(("table", ["약속", "대상", "이때만", ""], rows))
        sections.append(inv)

    notes = Section("정책 작성자의 설명 (정책 파일의 주석)")
    rows = [[f"{c.line}행", c.text.lstrip("#").strip()] for c in result.comments if c.text.lstrip("#").strip()
            and not set(c.text.lstrip("#").strip()) <= set("─ ")]
    notes.blocks.append(("table", ["위치", "설명"], rows))
    sections.append(notes)
    return Doc(policy.label, f"{policy.source_path} · SHA-256 {policy.source_sha256[:12]}", sections)


# ── the picture ────────────────────────────────────────────────────────

def dot_source(policy: ir.Policy, d: ir.Decision) -> str:
    words = _Words(policy)

    def q(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = ["digraph decision {", '  graph [rankdir=TB, fontname="Noto Sans CJK KR", nodesep=0.3, ranksep=0.35];',
             '  node [fontname="Noto Sans CJK KR", fontsize=11];', '  edge [fontname="Noto Sans CJK KR", fontsize=10];',
             f'  start [shape=oval, label={q("상담 시작: " + (d.label or d.name))}];']
    prev = "start"
    for i, rule in enumerate(d.rules):
        # one row per rule: the question on the left, its answer on the same rank to the right,
        # "아니오" straight down to the next question
        target = f"o{i}"
        lines.append(f'  {target} [shape=box, style="rounded,filled", fillcolor="#e8f1ff", '
                     f'label={q(words.output(d, rule))}];')
        if rule.cond is None:
            lines.append(f'  {prev} -> {target} [label={q("그 밖")}];')
            break
        node = f"r{i}"
        text = words.cond(rule.cond).replace(" · ", "\n")
        lines.append(f'  {node} [shape=box, style="filled", fillcolor="#fff8e1", label={q(text)}];')
        lines.append(f'  {{ rank=same; {node}; {target}; }}')
        lines.append(f'  {prev} -> {node}' + (f' [label={q("아니오")}]' if prev != "start" else "") + ";")
        lines.append(f'  {node} -> {target} [label={q("예")}];')
        prev = node
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_svg(dot: str) -> str:
    exe = shutil.which("dot")
    if exe is None:
        raise RuntimeError("Graphviz 의 dot 이 없습니다 (Debian: apt-get install graphviz)")
    out = subprocess.run([exe, "-Tsvg"], input=dot.encode("utf-8"), capture_output=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(f"Graphviz 가 그림을 그리지 못했습니다: {out.stderr.decode(errors='replace')[:200]}")
    svg = out.stdout.decode("utf-8")
    return svg[svg.index("<svg"):]  # inline: no XML prolog or doctype


# ── writing ────────────────────────────────────────────────────────────

# markup wherever it stands; `_` only at a word's edge (inside a word, as in driver_info, it is not)
_MD_SPECIAL = re.compile(r"([\\*\[\]|~]|(?<!\w)_|_(?!\w))")
# markup at the start of a line: a heading or bullet mark, or the `.`/`)` of "1. " (a
# backslash before a digit is no escape: it would be shown)
_MD_START = re.compile(r"^(\s*)(?:([#+-])|(\d+)([.)])(?=\s|$))")


def _md(text: str, cell: bool = False) -> str:
    """Text for Markdown: `code` spans kept as code (nothing inside them is markup), the rest
    with HTML escaped (a label's `<script>` is shown, not run) and Markdown's punctuation
    backslashed (a label cannot become a link, emphasis, a heading or a table column)."""
    flat = str(text).replace("\n", " ")
    parts = flat.split("`")
    unpaired = len(parts) % 2 == 0  # an odd backtick: no code spans, all text
    if unpaired:
        parts = [flat]
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append("`" + (part.replace("|", "\\|") if cell else part) + "`")
        else:
            escaped = _MD_SPECIAL.sub(r"\\\1", html.escape(part, quote=False))
            out.append(escaped.replace("`", "\\`") if unpaired else escaped)
    return _MD_START.sub(lambda m: m[1] + ("\\" + m[2] if m[2] else m[3] + "\\" + m[4]), "".join(out))


def _fence(text: str) -> str:
    """A code fence longer than any run of backticks in `text`, so it cannot be closed early."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def to_markdown(doc: Doc, svg_files: dict[str, str]) -> str:
    out = [f"# {_md(doc.title)}", "",
           f"_{_md(doc.subtitle)} — policyc doc 이 정책에서 만든 문서입니다. 고치지 말고 정책을 고치세요._", ""]
    for sec in doc.sections:
        out += [f"## {_md(sec.title)}", ""]
        for block in sec.blocks:
            kind = block[0]
            if kind == "p":
                out += [_md(block[1]), ""]
            elif kind == "h":
                out += [f"### {_md(block[1])}", ""]
            elif kind == "pre":
                fence = _fence(block[1])
                out += [fence, block[1], fence, ""]
            elif kind == "svg":
                out += [f"![{_md(block[1])}]({svg_files[block[1]]})", ""]
            elif kind == "table":
                head, rows = block[1], block[2]
                out.append("| " + " | ".join(_md(h) for h in head) + " |")
                out.append("|" + "---|" * len(head))
                out += ["| " + " | ".join(_md(c, cell=True) for c in row) + " |" for row in rows]
                out.append("")
    return "\n".join(out).rstrip() + "\n"


_CSS = """
body { font-family: "Noto Sans CJK KR", "Apple SD Gothic Neo", "Malgun Gothic", sans-serif; margin: 2rem auto;
       max-width: 1100px; color: #1d2330; line-height: 1.55; padding: 0 1rem; }
h1 { font-size: 1.7rem; margin-bottom: .2rem; } h2 { border-bottom: 2px solid #3d6fd8; padding-bottom: .2rem;
margin-top: 2.2rem; } h3 { margin-top: 1.4rem; color: #2c4a8a; }
.sub { color: #667; font-size: .9rem; }
table { border-collapse: collapse; width: 100%; margin: .6rem 0 1rem; font-size: .92rem; }
th, td { border: 1px solid #d5dbe6; padding: .35rem .55rem; vertical-align: top; text-align: left; }
th { background: #eef2f9; } tr:nth-child(even) td { background: #fafbfd; }
code { background: #f1f3f7; padding: 0 .25rem; border-radius: 3px; font-size: .88em; }
pre { background: #f7f9fc; border-left: 4px solid #3d6fd8; padding: .7rem 1rem; white-space: pre-wrap; }
.figure svg { max-width: 100%; height: auto; }
th { white-space: nowrap; } td:first-child, td:last-child { white-space: nowrap; }
.figure { overflow-x: auto; border: 1px solid #e3e7ef; border-radius: 6px; padding: .5rem; background: #fff; }
"""


def _inline(text: str) -> str:
    """Markdown's `code` spans as <code>, everything escaped."""
    parts = str(text).split("`")
    return "".join(f"<code>{html.escape(p)}</code>" if i % 2 else html.escape(p) for i, p in enumerate(parts))


def to_html(doc: Doc, svgs: dict[str, str]) -> str:
    out = ["<!DOCTYPE html>", '<html lang="ko"><head><meta charset="utf-8">',
           f"<title>{html.escape(doc.title)}</title><style>{_CSS}</style></head><body>",
           f"<h1>{html.escape(doc.title)}</h1>",
           f'<p class="sub">{html.escape(doc.subtitle)} — policyc doc 이 정책에서 만든 문서입니다. 고치지 말고 정책을 고치세요.</p>']
    for sec in doc.sections:
        out.append(f"<h2>{html.escape(sec.title)}</h2>")
        for block in sec.blocks:
            kind = block[0]
            if kind == "p":
                out.append(f"<p>{_inline(block[1])}</p>")
            elif kind == "h":
                out.append(f"<h3>{_inline(block[1])}</h3>")
            elif kind == "pre":
                out.append(f"<pre>{html.escape(block[1])}</pre>")
            elif kind == "svg":
                out.append(f'<div class="figure">{svgs[block[1]]}</div>')
            elif kind == "table":
                out.append("<table><thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in block[1])
                           + "</tr></thead><tbody>")
                for row in block[2]:
                    out.append("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>")
                out.append("</tbody></table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
