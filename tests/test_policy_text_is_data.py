"""Policy text is data, never code: Korean and keyword-like names, labels and strings
with quotes, triple quotes, backslashes, newlines, `{{ }}` and `__import__` compile to a
module that does exactly what the policy says."""

from __future__ import annotations

import pytest

from compiler.backend.python import generate
from compiler.pipeline import compile_policy

from .conftest import ROOT, load_module


@pytest.fixture(scope="module")
def odd(tmp_path_factory):
    result = compile_policy(ROOT / "tests/policies/odd_names.policy", "tests/policies/odd_names.policy")
    assert result.ok, result.diagnostics
    source = generate(result.policy)
    return result.policy, load_module("odd_names", source, tmp_path_factory.mktemp("odd")), source


def test_decides_as_written(odd):
    _, m, _ = odd
    d = m.decide({"요청": "class"})
    assert (d.outcome, d.rule, d.분류) == ("예", "규칙_1", ("기본", "__import__('os')"))
    assert m.decide({"요청": "연락처", "import": True}).outcome == "아니오"
    nfkc = m.decide({"요청": "ﬁle"})
    assert nfkc.분류 == ("합자", "\"\"\" '''") and nfkc.outcome == "아니오"
    with pytest.raises(m.PolicyInputError):
        m.decide({"요청": "file"})  # the NFKC form is a different, unknown value


def test_replies_show_text_as_text(odd):
    _, m, _ = odd
    text = m.render(m.decide({"요청": "연락처"}))
    # a triple-quoted template is raw text: its backslashes stay as written
    assert text == '연락처 {{ 7*7 }} / 연락처 {{ 7*7 }}은 / False / 끝 \\"\\"" \\\\'
    assert m.render(m.decide({"요청": "ﬁle"})) == "아니오 {{ 그대로"


def test_no_label_becomes_code(odd):
    _, _, source = odd
    code_lines = [l for l in source.splitlines() if not l.lstrip().startswith("#")]
    assert not any("system('echo" in l and "'__import__" not in l and "\"__import__" not in l for l in code_lines)
    compile(source, "odd_names.py", "exec")


def test_keyword_decision_name_is_rejected(tmp_path):
    path = tmp_path / "kw.policy"
    path.write_text('fact k: bool\ndecision class (first) { otherwise "x" }\n', encoding="utf-8")
    result = compile_policy(path, "kw.policy")
    assert [d.code for d in result.diagnostics] == ["E0403"]


def test_bidi_and_invisible_characters(tmp_path):
    """In a name they are rejected; in text they stay data and never reach the source raw."""
    path = tmp_path / "bidi.policy"
    path.write_text('fact kind "종\u202e류\u200b": enum { a "가\u202e나", b }\n'
                    'outcome yes "예" { reply "{{ kind }} \u2066숨김\u2069" }\n'
                    'decision d (first) { otherwise yes }\n', encoding="utf-8")
    result = compile_policy(path, "bidi.policy")
    assert result.ok, result.diagnostics
    # each direction control is a warning at its place (Trojan Source), the zero-width space is not
    assert [(d.code, d.span.line, d.span.column) for d in result.diagnostics if d.code == "W0105"] == [
        ("W0105", 1, 13), ("W0105", 1, 30), ("W0105", 2, 37), ("W0105", 2, 40)]
    source = generate(result.policy)
    assert not any(ch in source for ch in "\u202e\u200b\u2066\u2069")  # written as escapes
    module = load_module("bidi", source, tmp_path)
    assert module.render(module.decide({"kind": "a"})) == "가\u202e나 \u2066숨김\u2069"
    path.write_text('fact ki\u202end: bool\ndecision d (first) { otherwise "x" }\n', encoding="utf-8")
    bad = compile_policy(path, "bidi.policy")
    assert [d.code for d in bad.diagnostics] == ["E0100", "W0105"]
