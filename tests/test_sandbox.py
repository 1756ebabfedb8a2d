"""Replies render in Jinja2's sandbox with StrictUndefined and no globals: a template
sees the values the policy hands it and nothing reachable from them."""

from __future__ import annotations

import pytest

from compiler.backend.python import generate
from compiler.pipeline import compile_policy

from .conftest import load_module

ESCAPES = [
    "{{ kind.__class__ }}",
    "{{ kind.code.__class__.__mro__ }}",
    "{{ NAMES.__class__.__subclasses__() }}",
    "{{ self.__init__.__globals__ }}",
    "{{ kind.code.format.__globals__ }}",
    "{{ kind.__init__.__globals__['__builtins__'] }}",
    "{{ WINDOW.__reduce_ex__(2) }}",
    "{{ (kind.label ~ '').join }}",
    "{% for x in NAMES %}{{ x.__class__ }}{% endfor %}",
]


def _policy(tmp_path, reply: str):
    path = tmp_path / "escape.policy"
    path.write_text('fact kind "종류": enum { a "가", b "나" }\nconst NAMES = {a, b}\nconst WINDOW = 3일\n'
                    f'outcome yes "예" {{ reply """{reply}""" }}\n'
                    'decision d (first) { otherwise yes }\n', encoding="utf-8")
    return compile_policy(path, "escape.policy")


@pytest.mark.parametrize("template", ESCAPES)
def test_templates_cannot_reach_beyond_their_values(tmp_path, template):
    result = _policy(tmp_path, template)
    if not result.ok:  # refused when compiled: fine, nothing escapes
        assert result.diagnostics
        return
    module = load_module("escape", generate(result.policy), tmp_path)
    decision = module.decide({"kind": "a"})
    try:
        text = module.render(decision)
    except module.PolicyInputError:
        return
    for leak in ("<class", "__builtins__", "<built-in", "function", "mro", "module"):
        assert leak not in text, (template, text)


@pytest.mark.parametrize("name", ["range", "lipsum", "cycler", "joiner", "namespace", "dict", "config", "request_x"])
def test_no_globals_exist(tmp_path, name):
    result = _policy(tmp_path, "{{ " + name + " }}")
    assert not result.ok and [d.code for d in result.diagnostics] == ["E0504"]


def test_values_it_is_handed_work(tmp_path):
    result = _policy(tmp_path, "{{ kind }}/{{ kind.code }}/{{ kind.label }}/{{ WINDOW | days }}일/{{ kind in NAMES }}")
    assert result.ok, result.diagnostics
    module = load_module("fine", generate(result.policy), tmp_path)
    assert module.render(module.decide({"kind": "b"})) == "나/b/나/3일/True"
