"""Text -> AST. The only place that sees lark's errors; it translates them into
Korean diagnostics that say what was expected, in the author's words.

    parse(source) -> (Module | None, [Diagnostic])

Never raises for any input text.
"""

from __future__ import annotations

import functools
import re
import threading
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

from lark import Lark, Token
from lark.lexer import LexerThread, PatternStr, UnlessCallback
from lark.parsers.lalr_analysis import Shift
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from ..diagnostics import Diagnostic
from ..korean import quoted
from ..source import SourceFile, Span
from . import nodes
from .transform import ToAst, token_span

# What each terminal means to a policy author. Keywords and punctuation are shown as written.
_TERMINAL_WORDS = {
    "NAME": "이름",
    "STRING": "문자열 \"...\"",
    "NUMBER": "숫자",
    "DURATION": "기간 (3일, 72시간)",
    "TIMESTAMP": "시각 (2023-07-03T14:00+09:00)",
    "COMPOP": "비교 연산자 (=, !=, <, <=, >, >=)",
    "ADDOP": "+ 또는 -",
    "$END": "파일 끝",
}


def grammar_text() -> str:
    """The grammar, from the checkout (grammar/ beside compiler/) or the installed package."""
    local = Path(__file__).resolve().parents[2] / "grammar" / "policy.lark"
    if local.is_file():
        return local.read_text(encoding="utf-8")
    return resources.files("grammar").joinpath("policy.lark").read_text(encoding="utf-8")


class Comment(NamedTuple):
    line: int
    column: int
    text: str  # from `#` to the end of the line, trailing spaces dropped


class _Parser:
    """The one Lark parser of the language, building the AST as it parses: no parse tree is
    made (at 100,000 rules the tree and lark's position bookkeeping took half the parse).
    Each reduction calls `ToAst` through `_Reduce`, which works out the node's span from its
    tokens and children as lark's propagate_positions does. Comments are ignored by the
    grammar; the lexer hands each one to `_comment`. One parse at a time: the lock keeps two
    threads' builders and comments apart."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._comments: list[Token] = []
        self.builder: ToAst | None = None
        self.lark = Lark(grammar_text(), parser="lalr", maybe_placeholders=True, transformer=_Rules(self),
                         lexer_callbacks={"COMMENT": self._comment})
        callbacks = self.lark._callbacks  # the reduction callbacks the LALR parser calls, by rule
        for rule in [r for r in callbacks if not isinstance(r, str)]:
            callbacks[rule] = _Reduce(self, callbacks[rule], rule.options.expand1 and not rule.alias)
        self._table = _Table(self.lark)

    def _comment(self, token: Token) -> Token:
        self._comments.append(token)
        return token

    def parse(self, text: str, builder: ToAst):
        with self._lock:
            self._comments = []
            self.builder = builder
            try:
                return self._table.parse(text, builder), [Comment(c.line, c.column, str(c).rstrip()) for c in self._comments]
            finally:
                self._comments = []
                self.builder = None


class _Table:
    """lark's LALR table, driven here: the loop of lark's `ParserState.feed_token` with each
    action looked up once per state and symbol (no Rule hashed per reduction), and a
    reduction of a `?rule` to its one built child (an operand's climb up the precedence
    levels: two reductions in three) done without a call. The tokens are those of lark's
    contextual lexer, its loop run here with lark's own per-state regexes and callbacks
    (whitespace passed over by `skip`, a keyword told from a NAME by a lookup), each token
    fed to the table in the same loop; its errors are lark's. Where each value is rides on a
    stack beside the values, so a reduction's span is read off it, where in lark's own loop
    `_Reduce` works it out from the children. The AST and comments are those `Lark.parse`
    gives (tests/test_parser_golden.py compares them), in about half its time (a grid of
    100,000 rules: 26.6 -> 21 s for the table, 22.7 -> 16.1 s for the lexer's loop; mixed
    at 2,000 rules, 2.47 -> 2.10 G instructions for the loop, the lookup and the stack)."""

    __slots__ = ("lark", "start", "end", "actions", "state_stack", "lexers", "skip")

    def __init__(self, lark: Lark) -> None:
        lalr = lark.parser.parser.parser
        table, callbacks = lalr.parse_table, lalr.callbacks
        start = lark.options.start[0]
        self.lark, self.start, self.end = lark, table.start_states[start], table.end_states[start]
        # per state and symbol: the state to shift to (an int), or (size, callback, the
        # rule's name, whether it is a `?rule` of one symbol). The name as a plain str: lark
        # keeps some as Tokens, whose == is a Python method, run at every lookup by it
        self.actions: dict[int, dict[str, Any]] = {}
        for state, row in table.states.items():
            self.actions[state] = {
                symbol: arg if action is Shift else _reduction(arg, callbacks[arg])
                for symbol, (action, arg) in row.items()}
        self.state_stack: list[int] = []
        # per state, what lark's contextual lexer would use there: its regexes (in lark's
        # order), its callbacks (a keyword's name for a NAME that spells it; comments), the
        # terminals it skips and those that may hold a line break
        self.lexers: dict[int, tuple] = {}
        contextual = lark.parser.lexer
        flags = lark.lexer_conf.g_regex_flags
        for state, basic in contextual.lexers.items():
            scanner = basic.scanner  # builds basic.callback too
            callbacks, keywords = dict(basic.callback), {}
            for name, callback in basic.callback.items():
                spelled = _spellings(callback, flags)
                if spelled is not None:  # a NAME that spells a keyword: looked up, not matched again
                    keywords[name] = spelled
                    del callbacks[name]
            self.lexers[state] = (tuple(scanner._mres), callbacks, basic.ignore_types, basic.newline_types, keywords)
        self.skip = _skipper(lark, {name for _, callbacks, _, _, keywords in self.lexers.values()
                                          for name in (*callbacks, *keywords)})

    @property
    def position(self) -> int:  # what lark's contextual lexer asks of the parser: its state
        return self.state_stack[-1]

    def parse(self, text: str, builder: ToAst):
        actions, end = self.actions, self.end
        stack = self.state_stack = [self.start]
        values: list = []
        # beside each value, where it is: (line, column, end line, end column) of a token, of
        # what a rule covered (its first to its last token: a parenthesised expression with
        # its parentheses), None for nothing; what `_Reduce` works out in lark's own loop
        places: list = []
        # the tokens of lark's contextual lexer (`ContextualLexer.lex`), its loop written out:
        # the same regexes tried in the same order for the parser's state, the same
        # callbacks, lines and columns counted the same way. Whitespace (`skip`) is passed
        # over without a Token; where no terminal matches, lark's lexer raises its error.
        # Each token is then fed to the table in the same loop (a call per token costs).
        lexers, new, skip = self.lexers, Token._future_new, self.skip
        pos, line, line_start, size = 0, 1, 0, len(text)
        last, ended = None, False
        while True:
            if skip is not None and pos < size:
                m = skip(text, pos)
                if m is not None:
                    value = m.group(0)
                    if "\n" in value:
                        line += value.count("\n")
                        line_start = pos + value.rindex("\n") + 1
                    pos = m.end()
            if pos < size:
                mres, callbacks, ignore, newline, keywords = lexers[stack[-1]]
                for mre in mres:
                    m = mre.match(text, pos)
                    if m is not None:
                        break
                else:
                    self._raise_at(text, pos, line, line_start, last)
                value, kind = m.group(0), m.lastgroup
                stop = pos + len(value)
                breaks = value.count("\n") if kind in newline else 0
                if kind in ignore and kind not in callbacks and kind not in keywords:
                    if breaks:
                        line += breaks
                        line_start = pos + value.rindex("\n") + 1
                    pos = stop
                    continue
                first_line, column = line, pos - line_start + 1
                if breaks:
                    line += breaks
                    line_start = pos + value.rindex("\n") + 1
                place = first_line, column, line, stop - line_start + 1
                spelled = keywords.get(kind)  # lark's UnlessCallback, as a lookup: `and` is AND, not a NAME
                token = new(kind if spelled is None else spelled.get(value, kind), value, pos, *place, stop)
                pos = stop
                callback = callbacks.get(kind)
                if callback is not None:
                    token = callback(token)
                    place = token.line, token.column, token.end_line, token.end_column
                if kind in ignore:
                    continue
                last = token
            elif ended:  # pragma: no cover — lark's tables never shift $END; lark's feed returned None
                return None
            else:
                ended = True
                token = Token.new_borrow_pos("$END", "", last) if last is not None else Token("$END", "", 0, 1, 1)
            # lark's feed_token: reduce while the state says so, then shift (or, at the end
            # of the text, return what the start rule built)
            kind = token.type
            while True:
                row = actions[stack[-1]]
                act = row.get(kind)
                if act is None:
                    raise UnexpectedToken(token, {s for s in row if s.isupper()})
                if type(act) is int:
                    stack.append(act)
                    values.append(token)
                    places.append(place)
                    break
                size_, callback, origin, unit = act
                if unit and type(values[-1]) is not Token:  # `?rule` of one built child: that child
                    stack.pop()
                    stack.append(actions[stack[-1]][origin])
                    continue
                at = None
                if size_:
                    children = values[-size_:]
                    covered = places[-size_:]
                    for first in covered:
                        if first is not None:
                            for final in reversed(covered):
                                if final is not None:
                                    break
                            at = first[0], first[1], final[2], final[3]
                            break
                    del stack[-size_:]
                    del values[-size_:]
                    del places[-size_:]
                else:
                    children = []
                builder.at = at
                rule = callback.rule
                result = builder.reduce(rule, children) if rule is not None else callback.inner(children)
                values.append(result)
                places.append(None if result is None else at)
                stack.append(actions[stack[-1]][origin])
                if kind == "$END" and stack[-1] == end:
                    return values[-1]

    def _raise_at(self, text: str, pos: int, line: int, line_start: int, last: Token | None) -> None:
        """lark's contextual lexer from `pos` on: it raises the error it raises there."""
        thread = LexerThread.from_text(self.lark.parser.lexer, text)
        counter = thread.state.line_ctr
        counter.char_pos, counter.line, counter.line_start_pos = pos, line, line_start
        counter.column = pos - line_start + 1
        thread.state.last_token = last
        for _ in thread.lex(self):
            break
        raise AssertionError(f"lark's lexer matched at {pos} where the table's did not")  # pragma: no cover


def _skipper(lark: Lark, called: set[str]):
    """The `match` of one regex for the ignored terminals without a callback (whitespace),
    or None. Every state's lexer has them; matching them first gives the same tokens only
    if no other terminal can match where one of them does: checked here on each character
    that begins one, followed by each printable ASCII character, a Hangul syllable or the end."""
    quiet = [t for t in lark.terminals if t.name in lark.ignore_tokens and t.name not in called]
    others = [t for t in lark.terminals if t not in quiet]
    if not quiet:
        return None
    regex = re.compile("|".join(f"(?:{t.pattern.to_regexp()})" for t in quiet))
    flags = lark.lexer_conf.g_regex_flags
    starts = [c for c in map(chr, range(0x3000)) if regex.match(c)]
    tails = [""] + [chr(c) for c in range(32, 127)] + ["가"]
    for t in others:
        pattern = re.compile(t.pattern.to_regexp(), flags)
        if any(pattern.match(c + tail) for c in starts for tail in tails):
            return None
    return regex.match


def _spellings(callback, flags: int) -> dict[str, str] | None:
    """{spelling: keyword terminal} for lark's callback that makes a NAME spelling a keyword
    that keyword (its `UnlessCallback`), where a lookup does what it does: plain strings, no
    regex flags, so a full match is equality. None for any other callback."""
    if type(callback) is not UnlessCallback or flags:
        return None
    terminals = callback.scanner.terminals
    if not all(type(t.pattern) is PatternStr and not t.pattern.flags for t in terminals):
        return None
    spelled: dict[str, str] = {}
    for t in terminals:  # the first listed wins, as in the scanner's alternation
        spelled.setdefault(t.pattern.value, t.name)
    return spelled


def _reduction(rule, callback) -> tuple:
    """(size, callback, the rule's name, whether its reduction is its one built child: the
    case `_Reduce` returns at once, so `_Table` skips the call)."""
    size = len(rule.expansion)
    return size, callback, str(rule.origin.name), size == 1 and isinstance(callback, _Reduce) and callback.inlined


class _Rules:
    """What lark calls once a rule's children are filtered: the ToAst method named like the
    rule, given the span `_Reduce` worked out."""

    def __init__(self, parser: _Parser) -> None:
        self._parser = parser

    def __getattr__(self, name: str):
        if name.startswith("_") or not hasattr(ToAst, name):
            raise AttributeError(name)
        return _Build(self._parser, name)


class _Build:
    """ToAst's method for one rule, as lark's callback (`_Reduce` calls it without this
    frame where lark has nothing to filter first)."""

    __slots__ = ("parser", "rule")

    def __init__(self, parser: _Parser, rule: str) -> None:
        self.parser, self.rule = parser, rule

    def __call__(self, children):
        return self.parser.builder.reduce(self.rule, children)


class _Reduce:
    """One rule's reduction: the span of what it covers, from the first to the last of its
    tokens and children (a child made by an inlined rule, like a parenthesised expression,
    counts with its parentheses), then lark's own callback. This is what lark's own loop
    calls (`Lark.parse`, which the tests compare `_Table` with); `_Table` reads the span off
    its stack of places and calls `rule` or `inner` itself."""

    __slots__ = ("parser", "inner", "inlined", "rule")

    def __init__(self, parser: _Parser, inner, inlined: bool) -> None:
        self.parser, self.inner, self.inlined = parser, inner, inlined
        self.rule = inner.rule if isinstance(inner, _Build) else None  # lark calls ToAst directly

    def __call__(self, children):
        if self.inlined and len(children) == 1 and type(children[0]) is not Token:
            return children[0]  # `?rule` of one child is that child, where it was (most reductions)
        builder = self.parser.builder
        where = builder.where
        first = last = None
        for c in children:
            if c is not None:
                first = _where(c, where)
                if first is not None:
                    break
        for c in reversed(children):
            if c is not None:
                last = _where(c, where)
                if last is not None:
                    break
        at = builder.at = None if first is None else (first[0], first[1], last[2], last[3])
        result = builder.reduce(self.rule, children) if self.rule is not None else self.inner(children)
        span = getattr(result, "span", None)
        if span is None or span[1:] != at:  # a node's own span where it says where it is: most
            where[id(result)] = (result, at)  # the result kept: its id is not reused meanwhile
        return result


def _where(value, where: dict) -> tuple | None:
    """(line, column, end line, end column) of a token or a built value, None for none."""
    if type(value) is Token:
        return value.line, value.column, value.end_line, value.end_column
    entry = where.get(id(value))
    if entry is not None and entry[0] is value:
        return entry[1]
    span = getattr(value, "span", None)
    return None if span is None else span[1:]


@functools.lru_cache(maxsize=1)
def _parser() -> _Parser:
    return _Parser()


def _lark() -> Lark:
    return _parser().lark


@functools.lru_cache(maxsize=1)
def _keywords() -> dict[str, str]:
    """Terminal name -> its literal text, for keywords and punctuation."""
    out = {}
    for term in _lark().terminals:
        if term.pattern.type == "str":
            out[term.name] = term.pattern.value
    return out


def keyword_words() -> frozenset[str]:
    """The words the grammar spells as literals (`fact`, `when`, `true`, ...): what editors
    highlight and what no declaration may be renamed to."""
    return frozenset(v for v in _keywords().values() if v.isalpha())


def _describe(terminal: str) -> str:
    if terminal in _TERMINAL_WORDS:
        return _TERMINAL_WORDS[terminal]
    text = _keywords().get(terminal)
    return f"`{text}`" if text else terminal


def _expected(terms) -> str:
    words = sorted({_describe(t) for t in terms})
    if len(words) > 8:
        words = words[:8] + ["…"]
    return ", ".join(words)


def _token_text(tok: Token) -> str:
    text = str(tok)
    return text if len(text) <= 30 else text[:27] + "…"


def _translate(source: SourceFile, err: UnexpectedInput) -> Diagnostic:
    path = source.path
    if isinstance(err, UnexpectedCharacters):
        line, col = err.line, err.column
        ch = source.line(line)[col - 1 : col] or " "
        span = Span(path, line, col, line, col + 1)
        if ch == '"':
            return Diagnostic("E0100", span, "문자열이 닫히지 않았습니다", 
                              "같은 줄에서 \"로 닫거나, 여러 줄이면 \"\"\"...\"\"\" 를 쓰세요", "여기서 시작한 문자열")
        if ch.isdigit() and not ch.isascii():
            return Diagnostic("E0100", span, f"ASCII 가 아닌 숫자 `{ch}` (U+{ord(ch):04X})",
                              "숫자는 0-9 로만 씁니다: 다른 문자의 숫자는 비슷해 보여도 다른 값입니다", "이 숫자")
        if ch.isdigit():
            return Diagnostic("E0100", span, "숫자 뒤에 알 수 없는 글자가 있습니다",
                              "기간은 3일, 72시간, 30분, 10초 (또는 3d, 72h, 30m, 10s) 처럼 씁니다", "여기")
        return Diagnostic("E0100", span, f"정책 언어에 없는 문자 `{ch}`",
                          "이름은 글자로 시작해 글자, 숫자, _ 로 이어집니다. 주석은 # 로 시작합니다", "이 문자")
    if isinstance(err, UnexpectedToken):
        tok = err.token
        if tok.type == "$END":
            last = max(1, source.line_count)
            col = len(source.line(last)) + 1
            span = Span(path, last, col, last, col + 1)
            return Diagnostic("E0102", span, "선언이 끝나기 전에 파일이 끝났습니다",
                              f"여기에 올 수 있는 것: {_expected(err.expected)}. 닫는 `}}` 가 빠지지 않았는지 보세요")
        span = token_span(path, tok)
        expected = err.expected
        help_ = f"여기에 올 수 있는 것: {_expected(expected)}"
        if "NAME" in expected and tok.type in _keywords() and str(tok).isidentifier():
            help_ = f"{quoted(str(tok), '은/는')} 예약어라서 이름으로 쓸 수 없습니다. 다른 이름을 쓰세요"
        elif "THEN" in expected and tok.type in ("NAME", "STRING"):
            help_ = "조건 뒤에 `then 결과` 가 와야 합니다. 조건을 이을 때는 `and` 나 `or` 를 쓰세요"
        return Diagnostic("E0101", span, f"여기에 {quoted(_token_text(tok), '이/가')} 올 수 없습니다", help_, "예상하지 못한 낱말")
    if isinstance(err, UnexpectedEOF):  # pragma: no cover — LALR reports $END as UnexpectedToken
        last = max(1, source.line_count)
        return Diagnostic("E0102", Span(path, last, 1, last, 2), "선언이 끝나기 전에 파일이 끝났습니다")
    raise err  # pragma: no cover


def parse_with_comments(source: SourceFile) -> tuple[nodes.Module | None, list[Comment], list[Diagnostic]]:
    """Parse one policy file; the module, its comments in order, and diagnostics. On a
    syntax error: (None, [], [that error]). Never raises for any input text."""
    builder = ToAst(source.path)
    try:
        module, comments = _parser().parse(source.text, builder)
    except UnexpectedInput as err:
        return None, [], [_translate(source, err)]
    return module, comments, builder.diagnostics


def parse(source: SourceFile) -> tuple[nodes.Module | None, list[Diagnostic]]:
    """Parse one policy file. On a syntax error: (None, [that error])."""
    module, _, diags = parse_with_comments(source)
    return module, diags
