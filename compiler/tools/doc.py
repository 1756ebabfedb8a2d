"""`policyc doc`: the agent manual, generated from the policy, so it is always true.

    build_doc(result, module) -> Doc;  to_markdown(doc), to_html(doc, svgs)

Per value of the fact most rules split on (for the driver-info policy: what the
customer asks for), a table of the rules in order, conditions in the policy's own
Korean labels -> outcome; each outcome's reply rendered on facts where it is given;
the constants, the invariants (proven by the analysis), the author's notes (the
policy's comments) and a flow picture of each decision, drawn by Graphviz."""

from __future__ import annotations

import datetime as dt
import html
import re
import shutil
import subprocess
from dataclasses import dataclass, field

from ..analysis.encode import Encoder, fires, korean_duration
from ..analysis.mdd import FALSE
from ..analysis.space import Space
from ..middle import ir
from ..pipeline import Result
from .diff import sample_context
from .fmt import parse_with_comments

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


class _Words:
    """Conditions and values in the policy's own labels."""

    def __init__(self, policy: ir.Policy) -> None:
        self.p = policy
        self.facts = {f.name: f for f in policy.facts}
        self.derived = {d.name: d for d in policy.derived}
        self.consts = {c.name: c for c in policy.consts}

    def value(self, v) -> str:
        if isinstance(v, bool):
            return "예" if v else "아니오"
        if isinstance(v, dt.timedelta):
            return korean_duration(v // dt.timedelta(microseconds=1))
        if isinstance(v, dt.datetime):
            return v.strftime("%Y-%m-%d %H:%M") + f" ({v.strftime('%z')[:3]}:{v.strftime('%z')[3:]})"
        if isinstance(v, frozenset):
            return ", ".join(sorted(v))
        if isinstance(v, tuple) and v and isinstance(v[0], tuple):
            return ", ".join(f"{k}: {x}" for k, x in v)
        return str(v)

    def label_of(self, e) -> str:
        if isinstance(e, ir.FactRef):
            return self.facts[e.name].label
        if isinstance(e, ir.DerivedRef):
            return self.derived[e.name].label
        if isinstance(e, ir.ConstRef):
            return self.const_value(self.consts[e.name])
        if isinstance(e, ir.Value):
            return self.value(e.value)
        if isinstance(e, ir.Arith):
            return f"{self.label_of(e.left)} {e.op} {self.label_of(e.right)}"
        return "?"

    def const_value(self, c: ir.Const) -> str:
        """A constant in labels: sets and table keys by their enum labels, in enum order."""
        if c.type.kind == "set":
            return self.enum_labels(c.type.enum, c.value, ", ")
        if c.type.kind == "map":
            labels = {v.code: v.label for v in self.facts[c.type.enum].values}
            return ", ".join(f"{labels[k]}: {v}" for k, v in c.value)
        return self.value(c.value)

    def enum_labels(self, fact: str, codes, joiner: str = " 또는 ") -> str:
        labels = {v.code: v.label for v in self.facts[fact].values}
        return joiner.join(labels[c] for c in self.facts[fact].codes if c in codes)

    def cond(self, e, top: bool = True) -> str:
        if e is None:
            return "그 밖의 모든 경우"
        if isinstance(e, ir.And):
            return " · ".join(self.cond(x, False) for x in e.operands) if top else \
                "(" + " 그리고 ".join(self.cond(x, False) for x in e.operands) + ")"
        if isinstance(e, ir.Or):
            return ("" if top else "(") + " 또는 ".join(self.cond(x, False) for x in e.operands) + ("" if top else ")")
        if isinstance(e, ir.Not):
            if isinstance(e.operand, ir.FactRef):
                return f"{self.facts[e.operand.name].label}: 아니오"
            return f"아님({self.cond(e.operand, False)})"
        if isinstance(e, ir.FactRef):
            return f"{self.facts[e.name].label}: 예"
        if isinstance(e, ir.In):
            codes = e.set.value if isinstance(e.set, ir.Value) else self.consts[e.set.name].value
            named = f" ({self.consts[e.set.name].label})" if isinstance(e.set, ir.ConstRef) else ""
            text = f"{self.facts[e.item.name].label}: {self.enum_labels(e.item.name, codes)}{named}"
            return text + (" 아님" if e.negated else "")
        if isinstance(e, ir.Cmp):
            if isinstance(e.left, ir.FactRef) and self.facts[e.left.name].type.kind == "enum":
                text = f"{self.facts[e.left.name].label}: {self.enum_labels(e.left.name, {e.right.value})}"
                return text + (" 아님" if e.op == "!=" else "")
            if isinstance(e.left, ir.FactRef) and self.facts[e.left.name].type.kind == "bool":
                return f"{self.facts[e.left.name].label}: {self.value(e.right.value if e.op == '=' else not e.right.value)}"
            named = f" ({self.consts[e.right.name].label})" if isinstance(e.right, ir.ConstRef) else ""
            return f"{self.label_of(e.left)} {self.label_of(e.right)} {_OPS[e.op]}{named}"
        return "?"

    def output(self, decision: ir.Decision, rule: ir.Rule) -> str:
        if decision.yields_outcome:
            o = self.p.outcome(rule.output.value)
            return o.label
        e = rule.output
        if isinstance(e, ir.TupleOf):
            parts = []
            for item in e.items:
                if isinstance(item, ir.Lookup):
                    parts.append(f"{self.consts[item.map].label}[{self.facts[item.key.name].label}]")
                else:
                    parts.append(self.label_of(item))
            return " ▶ ".join(parts)
        return self.label_of(e)


def _split_fact(policy: ir.Policy) -> str | None:
    """The enum fact most rules of the main decision test directly."""
    main = policy.main or (policy.decisions[0] if policy.decisions else None)
    counts: dict[str, int] = {}
    for rule in main.rules if main else ():
        parts = rule.cond.operands if isinstance(rule.cond, ir.And) else ((rule.cond,) if rule.cond else ())
        for p in parts:
            item = p.item if isinstance(p, ir.In) else (p.left if isinstance(p, ir.Cmp) else None)
            if isinstance(item, ir.FactRef) and any(f.name == item.name and f.type.kind == "enum" for f in policy.facts):
                counts[item.name] = counts.get(item.name, 0) + 1
    return max(counts, key=counts.get) if counts else None


def build_doc(result: Result, module) -> Doc:
    policy = result.policy
    words = _Words(policy)
    space = Space(policy)
    enc = Encoder(space)
    sections = []

    facts = Section("사실: 상담할 때 확인하는 것")
    rows = []
    for f in policy.facts:
        kind = {"enum": "선택", "bool": "예/아니오", "timestamp": "시각", "duration": "기간", "number": "숫자"}[f.type.kind]
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
                    node = m_and(enc, enc.cond(rule.cond), space.index[split], fact_index(policy, split, code))
                    if node == FALSE:
                        continue
                o_attrs = ""
                if d.yields_outcome:
                    o = policy.outcome(rule.output.value)
                    o_attrs = ", ".join([f"공개: {x}" for x in o.discloses] + [f"조치: {x}" for x in o.actions])
                rows.append([rule.name if rule.cond is not None else "그 밖", words.cond(rule.cond),
                             words.output(d, rule), o_attrs, f"{rule.line}행"])
            title = f"{words.facts[split].label}: {label}" if code is not None else ""
            if title:
                sec.blocks.append(("h", title))
            sec.blocks.append(("table", ["규칙", "조건", "결과", "공개·조치", "정책"], rows))
        sections.append(sec)

    replies = Section("답변")
    main = policy.main
    if main is not None:
        shown = set()
        for rule, region in zip(main.rules, fires(enc, main)):
            if region == FALSE:
                continue
            _, typed = enc.example(enc.mdd.cube(region))
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
            else:
                subject = f"조치 {next(a.label for a in policy.actions if a.name == i.subject)}"
            rows.append([i.label, subject, "절대 없음" if i.cond is None else words.cond(i.cond), "✓ 증명됨"])
        inv.blocks.append(("table", ["약속", "대상", "이때만", ""], rows))
        sections.append(inv)

    notes = Section("정책 작성자의 설명 (정책 파일의 주석)")
    source = result.sources[policy.source_path]
    _, comments, _ = parse_with_comments(source)
    rows = [[f"{line}행", text.lstrip("#").strip()] for line, _, text in comments if text.lstrip("#").strip()
            and not set(text.lstrip("#").strip()) <= set("─ ")]
    notes.blocks.append(("table", ["위치", "설명"], rows))
    sections.append(notes)
    return Doc(policy.label, f"{policy.source_path} · SHA-256 {policy.source_sha256[:12]}", sections)


def fact_index(policy: ir.Policy, fact: str, code: str) -> int:
    return next(f for f in policy.facts if f.name == fact).codes.index(code)


def m_and(enc: Encoder, node: int, var_name_index: int, value: int) -> int:
    return enc.mdd.and_(node, enc.mdd.var_in(var_name_index, [value]))


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
_MD_START = re.compile(r"^(\s*)([#+-]|\d+\.)")   # markup at the start of a line


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
    return _MD_START.sub(r"\1\\\2", "".join(out))


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
