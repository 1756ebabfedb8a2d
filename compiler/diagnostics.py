"""Diagnostics are data: a stable code, a severity, a span, a Korean message,
an optional label under the caret, an optional help line and related spans.

Passes return them; only `render_text` and `render_json` turn them into text.
"""

from __future__ import annotations

from . import jsontext
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from .codes import CODES
from .source import SourceFile, Span

ERROR = "error"
WARNING = "warning"
_SEVERITY_KO = {ERROR: "오류", WARNING: "경고"}


@dataclass(frozen=True)
class Related:
    span: Span
    message: str


@dataclass(frozen=True)
class Edit:
    """Replace the text of `span` with `text` (an empty span inserts, empty text deletes)."""

    span: Span
    text: str


@dataclass(frozen=True)
class Fix:
    """A change that resolves a diagnostic, as data: editors offer it as a quick fix and
    `policyc check --fix` applies the `safe` ones (they keep what the policy decides; a
    "did you mean" is a guess, offered but never applied unasked)."""

    title: str
    edits: tuple[Edit, ...]
    safe: bool = False


class Suggestion(str):
    """A help line naming the closest known name (`middle/names.suggest`): a Diagnostic
    given one as `help` carries the replacement of its span as a Fix."""

    name: str

    def __new__(cls, text: str, name: str) -> "Suggestion":
        obj = super().__new__(cls, text)
        obj.name = name
        return obj


@dataclass(frozen=True)
class Diagnostic:
    code: str
    span: Span
    message: str
    help: str | None = None
    label: str | None = None
    related: tuple[Related, ...] = ()
    notes: tuple[str, ...] = ()  # extra lines: the situation in the policy's words
    example: dict | None = field(default=None, compare=False)  # facts that decide() accepts
    # what the finding is about, for tools and tests (never parse the Korean message):
    # ("decision", name), ("rule", name), ("part", index), ("invariant", name), ...
    data: tuple[tuple[str, object], ...] = field(default=(), compare=False)
    fixes: tuple[Fix, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if self.code not in CODES:  # a bug in policyc, not in the policy
            raise KeyError(f"undefined diagnostic code {self.code}")
        if isinstance(self.help, Suggestion) and not self.fixes:
            from .korean import quoted

            fix = Fix(f"{quoted(self.help.name, '으로/로')} 고치기", (Edit(self.span, self.help.name),))
            object.__setattr__(self, "fixes", (fix,))

    @property
    def about(self) -> dict:
        return dict(self.data)

    @property
    def severity(self) -> str:
        return WARNING if self.code.startswith("W") else ERROR


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity == ERROR for d in diagnostics)


def sort_key(d: Diagnostic) -> tuple:
    return (d.span.file, d.span.line, d.span.column, d.code, d.message)


# ── text ──────────────────────────────────────────────────────────────

def display_width(text: str) -> int:
    """Terminal columns of `text`: Hangul and other wide characters take two."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


_WINDOW = 100  # characters of a source line shown at most


def _snippet(source: SourceFile | None, span: Span, label: str | None, gutter: int) -> list[str]:
    if source is None or not (1 <= span.line <= source.line_count):
        return []
    # control and bidi characters would reorder or hide what the author sees: show them as �
    text = "".join(ch if ch.isprintable() else ("\ufffd" if ch != "\t" else " ") for ch in source.line(span.line))
    start = max(1, span.column)
    end = span.end_column if span.end_line == span.line else len(text) + 1
    end = max(end, start + 1)
    if len(text) > _WINDOW:  # a long line is shown around the span, cut short with … on either side
        lo = max(0, start - 1 - _WINDOW // 3)
        hi = min(len(text), lo + _WINDOW)
        text = ("…" if lo else "") + text[lo:hi] + ("…" if hi < len(text) else "")
        shift = lo - (1 if lo else 0)
        start, end = start - shift, min(end, hi + 1) - shift
        end = max(end, start + 1)
    pad = " " * display_width(text[: start - 1])
    marks = "^" * max(1, display_width(text[start - 1 : end - 1]))
    bar = " " * gutter + " |"
    lines = [bar, f"{span.line:>{gutter}} | {text}", f"{bar} {pad}{marks}" + (f" {_cut(label, 100)}" if label else "")]
    return lines


def _cut(text: str, limit: int = 300) -> str:
    """A message quoting a name of thousands of characters is cut short on the terminal."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_text(diagnostics: Iterable[Diagnostic], sources: Mapping[str, SourceFile]) -> str:
    """rustc-style text: header, location, source line, caret underline, help."""
    out: list[str] = []
    for d in diagnostics:
        gutter = max(len(str(d.span.line)), *(len(str(r.span.line)) for r in d.related)) if d.related else len(str(d.span.line))
        out.append(f"{_SEVERITY_KO[d.severity]}[{d.code}]: {_cut(d.message)}")
        out.append(f"{' ' * gutter}--> {d.span}")
        out.extend(_snippet(sources.get(d.span.file), d.span, d.label, gutter))
        for r in d.related:
            out.append(f"{' ' * gutter}::: {r.span}")
            out.extend(_snippet(sources.get(r.span.file), r.span, r.message, gutter))
        for note in d.notes:
            out.append(f"{' ' * gutter} = 참고: {_cut(note)}")
        if d.example is not None:
            out.append(f"{' ' * gutter} = 예: {jsontext.dumps(d.example)}")
        if d.help:
            out.append(f"{' ' * gutter} = 도움말: {_cut(d.help)}")
        out.append("")
    return "\n".join(out)


def summary(diagnostics: list[Diagnostic]) -> str:
    errors = sum(d.severity == ERROR for d in diagnostics)
    warnings = len(diagnostics) - errors
    parts = []
    if errors:
        parts.append(f"오류 {errors}개")
    if warnings:
        parts.append(f"경고 {warnings}개")
    return ", ".join(parts) if parts else "문제 없음"


# ── JSON ──────────────────────────────────────────────────────────────

def to_json_obj(d: Diagnostic) -> dict:
    obj = {
        "code": d.code,
        "severity": d.severity,
        "file": d.span.file,
        "line": d.span.line,
        "column": d.span.column,
        "end_line": d.span.end_line,
        "end_column": d.span.end_column,
        "message": d.message,
        "help": d.help,
    }
    if d.notes:
        obj["notes"] = list(d.notes)
    if d.example is not None:
        obj["example"] = d.example
    if d.data:
        obj["data"] = dict(d.data)
    if d.fixes:
        obj["fixes"] = [{"title": f.title, "safe": f.safe, "edits": [
            {"file": e.span.file, "line": e.span.line, "column": e.span.column, "end_line": e.span.end_line,
             "end_column": e.span.end_column, "text": e.text} for e in f.edits]} for f in d.fixes]
    if d.related:
        obj["related"] = [
            {"file": r.span.file, "line": r.span.line, "column": r.span.column,
             "end_line": r.span.end_line, "end_column": r.span.end_column, "message": r.message}
            for r in d.related
        ]
    return obj


def render_json(diagnostics: Iterable[Diagnostic]) -> str:
    return jsontext.dumps([to_json_obj(d) for d in diagnostics], indent=2)


# ── CI reports ────────────────────────────────────────────────────────

def _gh_escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def render_github(diagnostics: Iterable[Diagnostic]) -> str:
    """GitHub Actions workflow commands: each diagnostic an annotation on its line of the
    pull request (`::error file=…,line=…::message`)."""
    lines = []
    for d in diagnostics:
        props = (f"file={_gh_escape(d.span.file, True)},line={d.span.line},col={d.span.column},"
                 f"endLine={d.span.end_line},endColumn={d.span.end_column},title={_gh_escape(d.code, True)}")
        text = d.message + (f"\n도움말: {d.help}" if d.help else "")
        lines.append(f"::{d.severity} {props}::{_gh_escape(text)}")
    return "\n".join(lines)


SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def sarif_log(diagnostics: Iterable[Diagnostic], version: str) -> dict:
    """A SARIF 2.1.0 log (code scanning): one rule per code (its Korean title and text),
    one result per diagnostic; columns are Unicode code points, as policyc counts them."""
    diagnostics = list(diagnostics)
    codes = sorted({d.code for d in diagnostics})
    rules = [{"id": code, "name": code,
              "shortDescription": {"text": CODES[code][0]},
              "fullDescription": {"text": CODES[code][1]},
              "defaultConfiguration": {"level": "warning" if code.startswith("W") else "error"}}
             for code in codes]

    def region(span: Span) -> dict:
        return {"startLine": max(span.line, 1), "startColumn": max(span.column, 1),
                "endLine": max(span.end_line, span.line, 1), "endColumn": max(span.end_column, 1)}

    results = []
    for d in diagnostics:
        result = {"ruleId": d.code, "ruleIndex": codes.index(d.code), "level": d.severity,
                  "message": {"text": d.message + (f" (도움말: {d.help})" if d.help else "")},
                  "locations": [{"physicalLocation": {"artifactLocation": {"uri": d.span.file},
                                                      "region": region(d.span)}}]}
        if d.related:
            result["relatedLocations"] = [{"id": i, "message": {"text": r.message}, "physicalLocation": {
                "artifactLocation": {"uri": r.span.file}, "region": region(r.span)}} for i, r in enumerate(d.related)]
        if d.fixes:
            result["fixes"] = [{"description": {"text": f.title}, "artifactChanges": [
                {"artifactLocation": {"uri": e.span.file},
                 "replacements": [{"deletedRegion": region(e.span), "insertedContent": {"text": e.text}}]}
                for e in f.edits]} for f in d.fixes]
        results.append(result)
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "policyc", "version": version, "rules": rules}},
        "columnKind": "unicodeCodePoints", "results": results}]}
