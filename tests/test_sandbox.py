"""Replies render in Jinja2's sandbox with StrictUndefined and no globals: a template sees
the values the policy hands it and nothing reachable from them.

Two walls, each tested on its own: the compiler refuses such templates (E0504/E0506), and
a generated module whose templates were swapped after the build (nothing the compiler saw)
still refuses them at render time. The second test would fail with a plain
jinja2.Environment: the same templates leak there, which the last test shows."""

from __future__ import annotations

import jinja2
import pytest

from compiler.backend.python import generate
from compiler.pipeline import compile_policy

from .conftest import load_module

ESCAPES = [
    "{{ kind.__class__ }}",
    "{{ kind.code.__class__.__mro__ }}",
    "{{ NAMES.__class__.__subclasses__() }}",
    "{{ kind.code.format.__globals__ }}",
    "{{ kind.__init__.__globals__['__builtins__'] }}",
    "{{ WINDOW.__reduce_ex__(2) }}",
    "{{ (kind.label ~ '').join }}",
    "{% for x in NAMES %}{{ x.__class__ }}{% endfor %}",
    "{{ kind.code.__len__() }}",
    "{{ 9 ** 9 ** 9 }}",
]


def _policy(tmp_path, reply: str):
    path = tmp_path / "escape.policy"
    path.write_text('fact kind "종류": enum { a "가", b "나" }\nconst NAMES = {a, b}\nconst WINDOW = 3일\n'
                    f'outcome yes "예" {{ reply """{reply}""" }}\n'
                    'decision d (first) { otherwise yes }\n', encoding="utf-8")
    return compile_policy(path, "escape.policy")


@pytest.fixture(scope="module")
def benign(tmp_path_factory):
    """A module built from an innocent reply: its templates are swapped in the tests."""
    tmp = tmp_path_factory.mktemp("sandbox")
    result = _policy(tmp, "{{ kind }}")
    assert result.ok, result.diagnostics
    return load_module("sandbox_benign", generate(result.policy), tmp)


@pytest.mark.parametrize("template", ESCAPES)
def test_the_compiler_refuses_templates_that_reach_beyond_their_values(tmp_path, template):
    result = _policy(tmp_path, template)
    assert not result.ok
    assert {d.code for d in result.diagnostics if d.severity == "error"} <= {"E0504", "E0506"}


@pytest.mark.parametrize("template", ESCAPES)
def test_the_sandbox_refuses_them_at_render_time(benign, template):
    m = benign
    sources = dict(m._TEMPLATE_SOURCES, **{"reply:yes": template})
    original = m._TEMPLATES
    m._TEMPLATES = m.Templates(sources, m._FILTERS)
    try:
        with pytest.raises(m.PolicyInputError) as error:
            m.render(m.decide({"kind": "a"}))
        assert error.value.name == "reply"
    finally:
        m._TEMPLATES = original


def test_the_same_templates_leak_without_the_sandbox(benign):
    """What the sandbox is for: a plain environment prints the class, the MRO, globals."""
    m = benign
    values = {"kind": m._LABELS["kind"]["a"], "NAMES": m.C_NAMES, "WINDOW": m.C_WINDOW}
    leaked = 0
    for template in ESCAPES[:-1]:  # not 9 ** 9 ** 9: it would run for ever
        try:
            text = jinja2.Environment().from_string(template).render(values)
        except Exception:
            continue
        leaked += any(mark in text for mark in ("<class", "__builtins__", "<built-in", "function", "<method"))
    assert leaked >= 5


@pytest.mark.parametrize("name", ["range", "lipsum", "cycler", "joiner", "namespace", "dict", "config", "request_x",
                                  "self", "loop", "super"])
def test_no_globals_exist(tmp_path, name):
    result = _policy(tmp_path, "{{ " + name + " }}")
    assert not result.ok and [d.code for d in result.diagnostics] == ["E0504"]


def test_values_it_is_handed_work(tmp_path):
    result = _policy(tmp_path, "{{ kind }}/{{ kind.code }}/{{ kind.label }}/{{ WINDOW | days }}일/{{ kind in NAMES }}")
    assert result.ok, result.diagnostics
    module = load_module("fine", generate(result.policy), tmp_path)
    assert module.render(module.decide({"kind": "b"})) == "나/b/나/3일/True"
