"""`policyc lsp` end to end: the real server started over stdio, driven by pygls's own
language client, on copies of the shipped policies. What an author sees as they type:
the diagnostic of a typo with its fix, hover, completion, definition, references, rename
(and its refusal for the app's contract), formatting, code actions, inlay hints, code
lenses; positions right for Hangul and for characters outside the BMP."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from pathlib import Path

import pytest

pytest.importorskip("pygls")

from lsprotocol import types as t  # noqa: E402
from pygls.lsp.client import BaseLanguageClient  # noqa: E402
from pygls.uris import from_fs_path  # noqa: E402

from .conftest import ROOT  # noqa: E402


class Session:
    """A client talking to `python -m compiler.cli lsp`, collecting published diagnostics."""

    def __init__(self, folder: Path, encoding: str = "utf-16") -> None:
        self.folder = folder
        self.encoding = encoding
        self.client = BaseLanguageClient("policyc-tests", "1")
        self.diagnostics: dict[str, list[t.Diagnostic]] = {}
        self.arrived = asyncio.Event()

        @self.client.feature(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def published(params: t.PublishDiagnosticsParams) -> None:
            self.diagnostics[params.uri] = params.diagnostics
            self.arrived.set()

    async def __aenter__(self) -> "Session":
        await self.client.start_io(sys.executable, "-m", "compiler.cli", "lsp", cwd=str(ROOT))
        kinds = {"utf-16": t.PositionEncodingKind.Utf16, "utf-32": t.PositionEncodingKind.Utf32}
        result = await self.client.initialize_async(t.InitializeParams(
            capabilities=t.ClientCapabilities(general=t.GeneralClientCapabilities(
                position_encodings=[kinds[self.encoding]])),
            root_uri=from_fs_path(str(self.folder))))
        self.capabilities = result.capabilities
        self.client.initialized(t.InitializedParams())
        return self

    async def __aexit__(self, *exc) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()

    def uri(self, name: str) -> str:
        return from_fs_path(str(self.folder / name))

    async def open(self, name: str, text: str | None = None) -> str:
        uri = self.uri(name)
        text = (self.folder / name).read_text(encoding="utf-8") if text is None else text
        self.arrived.clear()
        self.client.text_document_did_open(t.DidOpenTextDocumentParams(t.TextDocumentItem(uri, "policy", 1, text)))
        return uri

    async def change(self, name: str, text: str, version: int) -> None:
        self.arrived.clear()
        self.client.text_document_did_change(t.DidChangeTextDocumentParams(
            t.VersionedTextDocumentIdentifier(version, self.uri(name)),
            [t.TextDocumentContentChangeEvent_Type2(text=text)]))

    async def diagnostics_of(self, name: str) -> list[t.Diagnostic]:
        await asyncio.wait_for(self.arrived.wait(), timeout=60)
        return self.diagnostics.get(self.uri(name), [])


def _folder(tmp_path: Path, policy: str) -> Path:
    for path in (ROOT / "policy").glob(f"{policy}.*"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def _at(text: str, needle: str, offset: int = 0, encoding: str = "utf-16") -> t.Position:
    """The position of `needle` (plus `offset` characters) in the client's units."""
    return _pos(text, text.index(needle) + offset, encoding)


def _pos(text: str, index: int, encoding: str = "utf-16") -> t.Position:
    line = text.count("\n", 0, index)
    start = text.rfind("\n", 0, index) + 1
    before = text[start:index]
    units = len(before.encode("utf-16-le")) // 2 if encoding == "utf-16" else len(before)
    return t.Position(line, units)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, timeout=120))


def test_a_typo_gets_its_diagnostic_and_quick_fix_as_you_type(tmp_path):
    folder = _folder(tmp_path, "driver_info")
    name = "driver_info.policy"
    text = (folder / name).read_text(encoding="utf-8")

    async def session():
        async with Session(folder) as s:
            await s.open(name)
            assert await s.diagnostics_of(name) == []  # the shipped policy is clean
            typo = text.replace("then guide_safe_call", "then guide_safe_cal", 1)
            await s.change(name, typo, 2)
            found = await s.diagnostics_of(name)
            assert [d.code for d in found] == ["E0201"]
            d = found[0]
            assert d.range.start == _at(typo, "then guide_safe_cal", 5) and "guide_safe_cal" in d.message
            actions = await s.client.text_document_code_action_async(t.CodeActionParams(
                t.TextDocumentIdentifier(s.uri(name)), d.range, t.CodeActionContext([d])))
            assert [a.title for a in actions] == ["`guide_safe_call`(으)로 고치기"]
            edit = actions[0].edit.changes[s.uri(name)][0]
            assert edit.new_text == "guide_safe_call" and edit.range == d.range
            await s.change(name, text, 3)  # the fix applied: clean again
            assert await s.diagnostics_of(name) == []

    run(session())


def test_hover_definition_references_completion_and_hints(tmp_path):
    folder = _folder(tmp_path, "driver_info")
    name = "driver_info.policy"
    text = (folder / name).read_text(encoding="utf-8")
    use = text.index("DIRECT_CONTACT_WINDOW", text.index("const DIRECT_CONTACT_WINDOW") + 30)

    async def session():
        async with Session(folder) as s:
            uri = await s.open(name)
            await s.diagnostics_of(name)
            doc = t.TextDocumentIdentifier(uri)
            pos = _pos(text, use + 3)  # inside a use of the constant, not its declaration
            hover = await s.client.text_document_hover_async(t.HoverParams(doc, pos))
            assert "기사 동의 없이 연락처 안내 기간" in hover.contents.value and "3일" in hover.contents.value
            outcome = await s.client.text_document_hover_async(t.HoverParams(
                doc, _at(text, "outcome disclose_driver_phone", 10)))
            assert "010-1234-5678입니다" in outcome.contents.value  # its reply, with sample values
            where = await s.client.text_document_definition_async(t.DefinitionParams(doc, pos))
            assert [w.range.start for w in where] == [_at(text, "DIRECT_CONTACT_WINDOW")]
            refs = await s.client.text_document_references_async(t.ReferenceParams(
                text_document=doc, position=pos, context=t.ReferenceContext(include_declaration=True)))
            assert len(refs) == text.count("DIRECT_CONTACT_WINDOW") + (
                folder / "driver_info.replies.yaml").read_text(encoding="utf-8").count("DIRECT_CONTACT_WINDOW")
            line = text[: text.index("request = ")].count("\n")
            col = len(text.split("\n")[line][: text.split("\n")[line].index("request = ") + len("request = ")])
            done = await s.client.text_document_completion_async(t.CompletionParams(doc, t.Position(line, col)))
            labels = {i.label: i.detail for i in done.items}
            assert labels["driver_phone"] == "연락처" and "guide_safe_call" not in labels
            done = await s.client.text_document_completion_async(t.CompletionParams(doc, _at(text, "then ", 5)))
            assert "guide_safe_call" in {i.label for i in done.items}
            hints = await s.client.text_document_inlay_hint_async(t.InlayHintParams(
                doc, t.Range(t.Position(0, 0), t.Position(text.count("\n"), 0))))
            assert any(h.label.strip() == "연락처" for h in hints)
            lenses = await s.client.text_document_code_lens_async(t.CodeLensParams(doc))
            assert lenses and all("규칙" in lens.command.title for lens in lenses)

    run(session())


def test_rename_follows_every_file_and_refuses_the_apps_contract(tmp_path):
    folder = _folder(tmp_path, "driver_info")
    name = "driver_info.policy"
    text = (folder / name).read_text(encoding="utf-8")

    async def session():
        async with Session(folder) as s:
            doc = t.TextDocumentIdentifier(await s.open(name))
            await s.diagnostics_of(name)
            edit = await s.client.text_document_rename_async(t.RenameParams(
                doc, _at(text, "DIRECT_CONTACT_WINDOW", 2), "CONTACT_DAYS"))
            assert sum(len(v) for v in edit.changes.values()) == text.count("DIRECT_CONTACT_WINDOW") + (
                folder / "driver_info.replies.yaml").read_text(encoding="utf-8").count("DIRECT_CONTACT_WINDOW")
            from pygls.exceptions import JsonRpcException

            with pytest.raises(JsonRpcException) as refused:
                await s.client.text_document_rename_async(t.RenameParams(doc, _at(text, "fact request", 6), "req"))
            assert "앱이 이 이름으로 사실을 보냅니다" in str(refused.value)
            formatted = await s.client.text_document_formatting_async(t.DocumentFormattingParams(
                doc, t.FormattingOptions(tab_size=2, insert_spaces=True)))
            assert formatted == []  # the shipped policy is formatted already
            messy = text.replace("fact request", "fact   request", 1)
            await s.change(name, messy, 2)
            formatted = await s.client.text_document_formatting_async(t.DocumentFormattingParams(
                doc, t.FormattingOptions(tab_size=2, insert_spaces=True)))
            assert formatted[0].new_text == text

    run(session())


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_positions_past_hangul_and_outside_the_bmp(tmp_path, encoding):
    """A typo after Hangul and an emoji (two UTF-16 units, one code point) is pointed at
    in the units the client negotiated."""
    folder = tmp_path
    text = ('policy p "p"\n\nfact a "가나 😀": bool\n\noutcome yes "예 😀" { reply "네" }\noutcome no "아니오" { reply "아니요" }\n\n'
            'decision d "😀 결정" (first) {\n  rule 첫째 "😀😀": when a then yse\n  otherwise no\n}\n')
    (folder / "p.policy").write_text(text, encoding="utf-8")

    async def session():
        async with Session(folder, encoding) as s:
            await s.open("p.policy")
            found = await s.diagnostics_of("p.policy")
            assert [d.code for d in found] == ["E0201"]
            assert found[0].range.start == _at(text, "yse", encoding=encoding)
            hover = await s.client.text_document_hover_async(t.HoverParams(
                t.TextDocumentIdentifier(s.uri("p.policy")), _at(text, "yes \"예", 1, encoding)))
            assert "예 😀" in hover.contents.value

    run(session())


def test_the_servers_diagnostics_equal_check_json_on_fuzzed_policies(tmp_path):
    """Property: on random and broken policies the server publishes what `policyc check
    --format json` prints (codes and positions), and no request fails."""
    import random

    sys.path.insert(0, str(ROOT / "scripts"))
    from fuzz_policies import mutate

    from .policygen import random_policy

    rng = random.Random(13)
    texts = [random_policy(seed) for seed in range(4)]
    texts += [mutate(x, rng) for x in texts]
    folder = tmp_path

    async def session():
        async with Session(folder) as s:
            for i, text in enumerate(texts):
                name = f"p{i}.policy"
                (folder / name).write_text(text, encoding="utf-8")
                doc = t.TextDocumentIdentifier(await s.open(name, text))
                got = await s.diagnostics_of(name)
                want = [(d["code"], d["line"] - 1) for d in _check_json(folder / name)]
                assert sorted((d.code, d.range.start.line) for d in got) == sorted(want), text
                for line in range(0, text.count("\n"), 3):  # every request answers (None at worst)
                    await s.client.text_document_hover_async(t.HoverParams(doc, t.Position(line, 4)))
                    await s.client.text_document_completion_async(t.CompletionParams(doc, t.Position(line, 4)))

    run(session())


def _check_json(path: Path) -> list[dict]:
    """What `policyc check FILE --format json` prints for the policy file, run in process."""
    import contextlib
    import io

    from compiler.cli import main

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(io.StringIO()):
        main(["check", str(path), "--format", "json"])
    return [d for d in json.loads(printed.getvalue()) if d["file"] == str(path)]


def test_rename_never_takes_a_word_of_the_language_nor_rewrites_prose(tmp_path):
    """Renaming a value to `true` would make `if night then …` always hold; a rule's name
    inside a case's name ("차액 환불") is prose, not a reference."""
    from compiler.service.core import analyse, references, rename

    folder = _folder(tmp_path, "pet_ride_fare")
    analysis = analyse(folder / "pet_ride_fare.policy", "pet_ride_fare.policy")
    for word in ("true", "count", "max", "holidays", "when"):
        edits, why = rename(analysis, "night", word)
        assert edits is None and "정책 언어의 낱말" in why, word
    tests = (folder / "pet_ride_fare.tests.yaml").read_text(encoding="utf-8")
    assert "차액 환불" in tests
    assert [s for s in references(analysis, "환불") if s.file.endswith(".tests.yaml")] == []  # only prose names it
    named = [s for s in references(analysis, "결제_전") if s.file.endswith(".tests.yaml")]
    assert named and all("rule: 결제_전" in tests.split("\n")[s.line - 1] for s in named)
