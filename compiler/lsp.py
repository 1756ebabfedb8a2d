"""`policyc lsp`: the language server (stdio), on the language service (compiler/service).

Every answer comes from `service.core.analyse`, which compiles the editor's unsaved texts
through `pipeline.compile_policy`, the same path as `policyc check`: the editor and CI never
disagree. Positions are converted between the service's code points and the client's
UTF-16 (or negotiated UTF-32) units line by line, so Hangul and characters outside the
BMP land where they are. No request can fail on any text: a handler that meets an error
answers nothing and logs it (`window/logMessage`), never a JSON-RPC error.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import threading
import traceback
from pathlib import Path

from lsprotocol import types as t
from pygls.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from . import __version__
from .diagnostics import Diagnostic, Fix
from .frontend.parser import keyword_words
from .service import core
from .source import SourceFile, Span

DEBOUNCE_S = 0.25


class PolicyServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("policyc", __version__)
        self.analyses: dict[Path, core.Analysis] = {}
        self.versions: dict[Path, int] = {}
        self.published: dict[Path, set[str]] = {}  # policy -> URIs it last published to
        # one analysis at a time, whichever thread asks: the SMT solver (z3) is not thread-safe,
        # and two overlapping analyses crashed the server (SIGSEGV in libz3) while typing
        self.lock = threading.Lock()

    # ── files and positions ──
    def policy_of(self, path: Path) -> Path | None:
        """The policy a file belongs to: itself, `x.tests.yaml` -> `x.policy`, a replies
        file -> the policy beside it that names it."""
        name = path.name
        if name.endswith(".policy"):
            return path
        if name.endswith(".tests.yaml"):
            return path.with_name(name[: -len(".tests.yaml")] + ".policy")
        if name.endswith((".yaml", ".yml")):
            for candidate in sorted(path.parent.glob("*.policy")):
                text = self.text_of(candidate)
                if text is not None and re.search(rf'replies\s+"{re.escape(name)}"', text):
                    return candidate
        return None

    def text_of(self, path: Path) -> str | None:
        doc = self.workspace.text_documents.get(from_fs_path(str(path)))
        if doc is not None:
            return doc.source
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def overlay(self) -> dict[Path, str]:
        out = {}
        for uri, doc in list(self.workspace.text_documents.items()):
            fs = to_fs_path(uri)
            if fs:
                try:
                    out[Path(fs).resolve()] = doc.source
                except (OSError, RuntimeError, ValueError):
                    pass
        return out

    def lines(self, path: Path) -> list[str]:
        text = self.text_of(path)
        return (text or "").split("\n")

    def to_range(self, span: Span, path: Path) -> t.Range:
        """A service span (1-based code points) as the client's range."""
        rng = t.Range(t.Position(max(span.line - 1, 0), max(span.column - 1, 0)),
                      t.Position(max(span.end_line - 1, 0), max(span.end_column - 1, 0)))
        return self.workspace.position_codec.range_to_client_units(self.lines(path), rng)

    def from_position(self, path: Path, pos: t.Position) -> tuple[int, int]:
        p = self.workspace.position_codec.position_from_client_units(self.lines(path), pos)
        return p.line + 1, p.character + 1

    def file_path(self, analysis: core.Analysis, shown: str) -> Path:
        """The file a span's shown path names (shown paths are relative to the policy's folder)."""
        if shown == analysis.shown:
            return analysis.path
        return analysis.path.parent / Path(shown).name if Path(shown).parent == Path(analysis.shown).parent \
            else analysis.path.parent / Path(shown).relative_to(Path(analysis.shown).parent)

    def analysis_for(self, uri: str) -> tuple[core.Analysis, Path, str] | None:
        fs = to_fs_path(uri)
        if not fs:
            return None
        path = Path(fs)
        policy = self.policy_of(path)
        if policy is None:
            return None
        analysis = self.analyses.get(policy) or self.analyse(policy)
        if analysis is None:
            return None
        shown = analysis.shown if path == policy else (Path(analysis.shown).parent / path.name).as_posix()
        return analysis, path, shown

    def locate(self, uri: str, position: t.Position):
        """(analysis, path, shown path, line, column) of a position in a document, or None."""
        found = self.analysis_for(uri)
        if found is None:
            return None
        analysis, path, shown = found
        return (analysis, path, shown, *self.from_position(path, position))

    def workspace_edit(self, analysis: core.Analysis, edits) -> t.WorkspaceEdit:
        changes: dict[str, list[t.TextEdit]] = {}
        for e in edits:
            path = self.file_path(analysis, e.span.file)
            changes.setdefault(from_fs_path(str(path)), []).append(t.TextEdit(self.to_range(e.span, path), e.text))
        return t.WorkspaceEdit(changes=changes)

    def analyse(self, policy: Path) -> core.Analysis | None:
        shown = policy.name
        try:
            with self.lock:
                analysis = core.analyse(policy, shown, self.overlay(), self.analyses.get(policy))
        except Exception:  # never a crash on any text: log it, answer nothing
            self.show_message_log("policyc: " + traceback.format_exc(limit=5), t.MessageType.Error)
            return None
        self.analyses[policy] = analysis
        return analysis

    def test_run(self, analysis: core.Analysis):
        from .tools.testing import run_file

        tests = core.tests_path(analysis.path)
        return run_file(tests, (Path(analysis.shown).parent / tests.name).as_posix(), self.overlay())

    def analyse_if_current(self, policy: Path, version: int) -> core.Analysis | None:
        """The analysis for an edit, unless a newer edit came while this one waited its turn."""
        with self.lock:
            if self.versions.get(policy) != version:
                return None
        return self.analyse(policy)

    # ── diagnostics ──
    def publish(self, policy: Path, analysis: core.Analysis) -> None:
        by_file: dict[str, list[t.Diagnostic]] = {}
        diagnostics = list(analysis.diagnostics)
        if analysis.tests is not None and analysis.policy is not None:  # the tests YAML's own problems
            try:
                run = self.test_run(analysis)
                diagnostics += [d for d in run.diagnostics if d.span.file == analysis.tests.path]
            except Exception:
                self.show_message_log("policyc: " + traceback.format_exc(limit=5), t.MessageType.Error)
        for d in diagnostics:
            path = self.file_path(analysis, d.span.file)
            uri = from_fs_path(str(path))
            by_file.setdefault(uri, []).append(self.lsp_diagnostic(d, path))
        uris = set(by_file) | {from_fs_path(str(policy))}
        for uri in uris | self.published.get(policy, set()):
            self.publish_diagnostics(uri, by_file.get(uri, []))
        self.published[policy] = uris

    def lsp_diagnostic(self, d: Diagnostic, path: Path) -> t.Diagnostic:
        message = d.message + (f"\n도움말: {d.help}" if d.help else "")
        return t.Diagnostic(
            range=self.to_range(d.span, path), message=message, source="policyc", code=d.code,
            severity=t.DiagnosticSeverity.Warning if d.severity == "warning" else t.DiagnosticSeverity.Error,
            data={"fixes": [_fix_json(f) for f in d.fixes]} if d.fixes else None)

    async def changed(self, uri: str) -> None:
        """Re-check after the author pauses; a result older than the latest edit is dropped."""
        fs = to_fs_path(uri)
        policy = self.policy_of(Path(fs)) if fs else None
        if policy is None:
            return
        version = self.versions.get(policy, 0) + 1
        self.versions[policy] = version
        await asyncio.sleep(DEBOUNCE_S)
        if self.versions.get(policy) != version:
            return  # a newer edit will publish
        analysis = await asyncio.get_running_loop().run_in_executor(None, self.analyse_if_current, policy, version)
        if analysis is not None and self.versions.get(policy) == version:
            self.publish(policy, analysis)


def _fix_json(f: Fix) -> dict:
    return {"title": f.title, "safe": f.safe, "edits": [
        {"span": list(e.span), "text": e.text} for e in f.edits]}


server = PolicyServer()


def _safe(handler):
    """A request handler that never fails: an error is logged and the answer is empty."""

    @functools.wraps(handler)
    def run(ls: PolicyServer, params):
        try:
            return handler(ls, params)
        except Exception:
            ls.show_message_log("policyc: " + traceback.format_exc(limit=5), t.MessageType.Error)
            return None

    return run


@server.feature(t.TEXT_DOCUMENT_DID_OPEN)
async def did_open(ls: PolicyServer, params: t.DidOpenTextDocumentParams) -> None:
    await ls.changed(params.text_document.uri)


@server.feature(t.TEXT_DOCUMENT_DID_CHANGE)
async def did_change(ls: PolicyServer, params: t.DidChangeTextDocumentParams) -> None:
    await ls.changed(params.text_document.uri)


@server.feature(t.TEXT_DOCUMENT_DID_SAVE)
async def did_save(ls: PolicyServer, params: t.DidSaveTextDocumentParams) -> None:
    await ls.changed(params.text_document.uri)


@server.feature(t.TEXT_DOCUMENT_HOVER)
@_safe
def hover(ls: PolicyServer, params: t.HoverParams) -> t.Hover | None:
    found = ls.locate(params.text_document.uri, params.position)
    if found is None:
        return None
    analysis, path, shown, line, col = found
    if shown != analysis.shown:
        named = core.name_at_yaml(analysis, shown, line, col)
        if named is None:
            return None
        spans = analysis.index.declared(named[0])
        if not spans:
            return None
        line, col = spans[0].span.line, spans[0].span.column
        answer = core.hover(analysis, analysis.shown, line, col)
        return t.Hover(t.MarkupContent(t.MarkupKind.Markdown, answer[0]), ls.to_range(named[1], path)) if answer else None
    answer = core.hover(analysis, shown, line, col)
    if answer is None:
        return None
    return t.Hover(t.MarkupContent(t.MarkupKind.Markdown, answer[0]), ls.to_range(answer[1], path))


def _name_at(ls: PolicyServer, uri: str, position: t.Position):
    found = ls.locate(uri, position)
    if found is None:
        return None
    analysis, path, shown, line, col = found
    named = analysis.index.at(shown, line, col) if shown == analysis.shown else core.name_at_yaml(analysis, shown, line, col)
    return (analysis, named) if named else None


@server.feature(t.TEXT_DOCUMENT_DEFINITION)
@_safe
def definition(ls: PolicyServer, params: t.DefinitionParams) -> list[t.Location] | None:
    found = _name_at(ls, params.text_document.uri, params.position)
    if found is None:
        return None
    analysis, (name, _) = found
    return [t.Location(from_fs_path(str(analysis.path)), ls.to_range(s.span, analysis.path))
            for s in analysis.index.declared(name)]


@server.feature(t.TEXT_DOCUMENT_REFERENCES)
@_safe
def references(ls: PolicyServer, params: t.ReferenceParams) -> list[t.Location] | None:
    found = _name_at(ls, params.text_document.uri, params.position)
    if found is None:
        return None
    analysis, (name, _) = found
    out = []
    for span in core.references(analysis, name):
        path = ls.file_path(analysis, span.file)
        out.append(t.Location(from_fs_path(str(path)), ls.to_range(span, path)))
    return out


@server.feature(t.TEXT_DOCUMENT_PREPARE_RENAME)
@_safe
def prepare_rename(ls: PolicyServer, params: t.PrepareRenameParams):
    found = _name_at(ls, params.text_document.uri, params.position)
    if found is None:
        return None
    analysis, (name, span) = found
    why = core.not_renamable(analysis, name)
    if why is not None:
        raise_error(why)
    path = Path(to_fs_path(params.text_document.uri))
    return t.PrepareRenameResult_Type1(range=ls.to_range(span, path), placeholder=name)


def raise_error(why: str):
    """LSP's RequestFailed (-32803): the request was understood and cannot be done; the
    editor shows `why` to the author."""
    from pygls.exceptions import JsonRpcException

    raise JsonRpcException(message=why, code=-32803)


@server.feature(t.TEXT_DOCUMENT_RENAME)
def rename(ls: PolicyServer, params: t.RenameParams) -> t.WorkspaceEdit | None:
    """A refusal (a fact, an outcome: the app's contract) is the one answer that is an
    error, as LSP asks: the editor shows its reason."""
    found = _name_at(ls, params.text_document.uri, params.position)
    if found is None:
        return None
    analysis, (name, _) = found
    edits, why = core.rename(analysis, name, params.new_name)
    if edits is None:
        raise_error(why)
    return ls.workspace_edit(analysis, edits)


@server.feature(t.TEXT_DOCUMENT_FORMATTING)
@_safe
def formatting(ls: PolicyServer, params: t.DocumentFormattingParams) -> list[t.TextEdit] | None:
    from .tools.fmt import format_source

    path = Path(to_fs_path(params.text_document.uri))
    if not path.name.endswith(".policy"):
        return None
    text = ls.text_of(path) or ""
    formatted, diags = format_source(SourceFile(path.name, text))
    if formatted is None or formatted == text:
        return []
    lines = text.split("\n")
    end = t.Position(len(lines) - 1, len(lines[-1]))
    rng = ls.workspace.position_codec.range_to_client_units(lines, t.Range(t.Position(0, 0), end))
    return [t.TextEdit(rng, formatted)]


@server.feature(t.TEXT_DOCUMENT_CODE_ACTION)
@_safe
def code_action(ls: PolicyServer, params: t.CodeActionParams) -> list[t.CodeAction] | None:
    found = ls.analysis_for(params.text_document.uri)
    if found is None:
        return None
    analysis, path, shown = found
    start = ls.from_position(path, params.range.start)
    end = ls.from_position(path, params.range.end)
    out = []
    for d in analysis.diagnostics:
        if d.span.file != shown or not d.fixes:
            continue
        if (d.span.end_line, d.span.end_column) < start or (d.span.line, d.span.column) > end:
            continue
        for fix in d.fixes:
            out.append(t.CodeAction(title=fix.title, kind=t.CodeActionKind.QuickFix, is_preferred=fix.safe,
                                    diagnostics=[ls.lsp_diagnostic(d, path)], edit=ls.workspace_edit(analysis, fix.edits)))
    return out


@server.feature(t.TEXT_DOCUMENT_COMPLETION, t.CompletionOptions(trigger_characters=[" ", "{", ","]))
@_safe
def completion(ls: PolicyServer, params: t.CompletionParams) -> t.CompletionList | None:
    found = ls.locate(params.text_document.uri, params.position)
    if found is None:
        return None
    analysis, path, shown, line, col = found
    before = ls.lines(path)[line - 1][: col - 1] if line - 1 < len(ls.lines(path)) else ""
    items = [t.CompletionItem(label=name, detail=detail, kind=kind)
             for name, detail, kind in _candidates(analysis, before)]
    return t.CompletionList(is_incomplete=False, items=items)


def _candidates(analysis: core.Analysis, before: str) -> list[tuple[str, str, t.CompletionItemKind]]:
    """What may come next, from the text before the cursor on its line."""
    index, policy = analysis.index, analysis.policy
    compared = re.search(r"([A-Za-z_가-힣][\w가-힣]*)\s*(?:!?=|(?:not\s+)?in\s*\{[^}]*)\s*$", before)
    if compared:
        fact = compared.group(1)
        values = [s for s in index.symbols if s.kind == "value" and s.owner == fact]
        if values:
            return [(s.name, core.label(s), t.CompletionItemKind.EnumMember) for s in values]
    if re.search(r"\bthen\s+[\w가-힣]*$", before):
        kinds = ("outcome", "action")
        return [(s.name, core.label(s), t.CompletionItemKind.Event) for s in index.symbols if s.kind in kinds]
    if re.search(r"\bdiscloses\s+([\w가-힣]+\s*,\s*)*[\w가-힣]*$", before):
        personal = {c.name for c in policy.contexts if c.personal} if policy is not None else None
        return [(s.name, core.label(s), t.CompletionItemKind.Property) for s in index.symbols
                if s.kind == "context" and (personal is None or s.name in personal)]
    names = [(s.name, core.label(s), t.CompletionItemKind.Variable) for s in index.symbols
             if s.kind in ("fact", "let", "const")]
    return names + [(k, "키워드", t.CompletionItemKind.Keyword) for k in sorted(keyword_words())]


@server.feature(t.TEXT_DOCUMENT_INLAY_HINT)
@_safe
def inlay_hints(ls: PolicyServer, params: t.InlayHintParams) -> list[t.InlayHint] | None:
    """The Korean label after each enum code a condition compares with (`request = driver_phone`
    shows `기사 전화번호`)."""
    found = ls.analysis_for(params.text_document.uri)
    if found is None:
        return None
    analysis, path, shown = found
    if shown != analysis.shown:
        return []
    labels = {s.name: core.label(s) for s in analysis.index.symbols if s.kind == "value" and core.label(s)}
    out = []
    for ref in analysis.index.refs:
        if ref.name in labels and ref.span.file == shown:
            end = ls.to_range(ref.span, path).end
            if params.range.start.line <= end.line <= params.range.end.line:
                out.append(t.InlayHint(position=end, label=f" {labels[ref.name]}", kind=t.InlayHintKind.Type))
    return out


@server.feature(t.TEXT_DOCUMENT_CODE_LENS)
@_safe
def code_lens(ls: PolicyServer, params: t.CodeLensParams) -> list[t.CodeLens] | None:
    """On each decision: which of its rules the tests YAML's cases reach, decided by the
    module built from the text as it is now."""
    found = ls.analysis_for(params.text_document.uri)
    if found is None:
        return None
    analysis, path, shown = found
    if shown != analysis.shown or analysis.policy is None or analysis.tests is None:
        return []
    run = ls.test_run(analysis)
    out = []
    for sym in analysis.index.symbols:
        if sym.kind == "decision" and sym.name in run.rules:
            rules = run.rules[sym.name]
            reached = sum(1 for _, _, hit in rules if hit)
            missed = [name for name, _, hit in rules if not hit]
            title = f"사례 {run.cases}개 중: 규칙 {reached}/{len(rules)} 확인" + (
                f" (안 거친 규칙: {', '.join(missed)})" if missed else "")
            out.append(t.CodeLens(range=ls.to_range(sym.span, path), command=t.Command(title=title, command="")))
    return out


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    server.start_io()
    return 0
