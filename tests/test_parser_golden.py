"""Parser golden cases: tests/cases/parse/<name>.policy -> <name>.ast, the AST
without positions, one node per line. Also: spans point at the right text."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from compiler.frontend import nodes as n
from compiler.frontend.parser import parse
from compiler.source import SourceFile

from .conftest import ROOT, check_golden

CASES = sorted((ROOT / "tests/cases/parse").glob("*.policy")) + [ROOT / "policy/driver_info.policy"]


def dump(node, indent: int = 0) -> str:
    pad = "  " * indent
    if isinstance(node, tuple):
        return "".join(dump(x, indent) for x in node)
    if dataclasses.is_dataclass(node):
        fields = [f for f in dataclasses.fields(node) if f.compare]
        simple = [f"{f.name}={getattr(node, f.name)!r}" for f in fields
                  if not (dataclasses.is_dataclass(getattr(node, f.name)) or isinstance(getattr(node, f.name), tuple))]
        out = f"{pad}{type(node).__name__}({', '.join(simple)})\n"
        for f in fields:
            value = getattr(node, f.name)
            if dataclasses.is_dataclass(value) or (isinstance(value, tuple) and value):
                out += f"{pad}  .{f.name}\n" + dump(value, indent + 2)
        return out
    return f"{pad}{node!r}\n"


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_parse_golden(case: Path, update_goldens: bool):
    source = SourceFile(case.name, case.read_text(encoding="utf-8"))
    module, diags = parse(source)
    assert diags == [] and module is not None
    golden = ROOT / "tests/cases/parse" / f"{case.stem}.ast"
    check_golden(golden, dump(module), update_goldens)


def test_equality_ignores_spans():
    a, _ = parse(SourceFile("a.policy", "fact x: bool"))
    b, _ = parse(SourceFile("b.policy", "\n\n   fact   x :  bool  # 주석"))
    assert a == b
    assert a.items[0] == n.FactDecl(n.Ident("x"), None, n.NamedType(n.Ident("bool")))


def test_spans_point_at_the_text():
    text = 'fact 요청 "요청 정보": enum { 연락처 "연락처" }\nconst 기간 = 3일'
    module, _ = parse(SourceFile("k.policy", text))
    fact, const = module.items
    assert (fact.name.span.line, fact.name.span.column, fact.name.span.end_column) == (1, 6, 8)
    assert (const.value.span.line, const.value.span.column, const.value.span.end_column) == (2, 12, 14)


def test_triple_quoted_text_is_dedented():
    text = 'snippet s = """\n    첫 줄\n      들여쓴 줄\n  """'
    module, _ = parse(SourceFile("s.policy", text))
    lit = module.items[0].text
    assert lit.value == "첫 줄\n  들여쓴 줄" and lit.first_line == 2


@pytest.mark.parametrize("text, value", [
    ("const X = 3일", "3 days, 0:00:00"), ("const X = 72h", "3 days, 0:00:00"), ("const X = 1d12h", "1 day, 12:00:00"),
    ("const X = 1시간30분", "1:30:00"), ("const X = 10s", "0:00:10"),
])
def test_durations(text, value):
    module, _ = parse(SourceFile("d.policy", text))
    assert str(module.items[0].value.value) == value


def _everything(node):
    """Every field of every node, spans included (dump leaves positions out)."""
    if isinstance(node, tuple):
        return tuple(_everything(x) for x in node)
    if dataclasses.is_dataclass(node):
        return (type(node).__name__,) + tuple(_everything(getattr(node, f.name)) for f in dataclasses.fields(node))
    return node


def _outcome(run):
    """What `run()` builds (every field) or the lark error it raises, as comparable data."""
    from lark.exceptions import UnexpectedCharacters, UnexpectedToken

    try:
        return _everything(run())
    except UnexpectedToken as err:
        return ("token", err.token.type, str(err.token), err.token.line, err.token.column, sorted(err.expected))
    except UnexpectedCharacters as err:
        return ("characters", err.line, err.column)


def _by_lark(text: str):
    """What lark's own parser loop gives with the same callbacks: the AST, or the error."""
    from compiler.frontend import parser
    from compiler.frontend.transform import ToAst

    p = parser._parser()
    p.builder = ToAst("x.policy")
    p._comments = []
    try:
        return _outcome(lambda: (p.lark.parse(text), [(c.line, c.column, str(c)) for c in p._comments]))
    finally:
        p.builder = None
        p._comments = []


def _by_table(text: str):
    from compiler.frontend import parser
    from compiler.frontend.transform import ToAst

    def run():
        module, comments = parser._parser().parse(text, ToAst("x.policy"))
        return module, [(c.line, c.column, c.text) for c in comments]
    return _outcome(run)


def test_the_parser_loop_builds_what_larks_own_loop_builds():
    """parser._Table drives lark's LALR table and lexes itself (faster): on every policy the
    repository holds, and on each of them cut short or with a character changed at a few
    places, it builds the same AST, spans included, sees the same comments, and raises the
    same error, as `Lark.parse`."""
    import random

    texts = [p.read_text(encoding="utf-8") for p in sorted(ROOT.glob("policy/*.policy"))
             + sorted(ROOT.glob("tests/policies/*.policy")) + sorted((ROOT / "tests/cases").rglob("*.policy"))]
    assert len(texts) > 30
    rng = random.Random(7)
    compared = errors = 0
    for text in texts:
        variants = [text, text[: len(text) // 2]]
        for _ in range(3):
            at = rng.randrange(len(text))
            variants.append(text[:at] + rng.choice(["(", ")", "}", " and ", "then", "1", '"', "@", "\n", "\t",
                                                            "\r\n", " # 주석\n", "\n\n  "]) + text[at + 1:])
        for variant in variants:
            want = _by_lark(variant)
            assert _by_table(variant) == want, variant[:200]
            compared += 1
            errors += want[0] in ("token", "characters")
    assert errors > 50 and compared - errors > 30


def test_whitespace_is_skipped_apart_only_where_no_other_terminal_can_start():
    """The parser passes whitespace over with one small regex before trying the state's
    terminals: the same tokens only because no terminal of the grammar can match where
    whitespace starts. A grammar with such a terminal gets no shortcut."""
    from lark import Lark

    from compiler.frontend import parser

    assert parser._parser()._table.skip is not None  # the policy grammar: taken
    indented = Lark('''
        start: (WORD | INDENT)+
        WORD: /[a-z]+/
        INDENT: /\\n +/
        %import common.WS
        %ignore WS
    ''', parser="lalr")
    assert parser._skipper(indented, set()) is None
    plain = Lark('''
        start: WORD+
        WORD: /[a-z]+/
        %import common.WS
        %ignore WS
    ''', parser="lalr")
    assert parser._skipper(plain, set()) is not None
