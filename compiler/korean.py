"""Korean in the compiler's own messages: the particle (조사) that agrees with a name,
chosen by the same josa() replies use."""

from __future__ import annotations

from .runtime.support import PolicyInputError, _without_trailing_parens, josa

_FALLBACK = {"이/가": "이(가)", "은/는": "은(는)", "을/를": "을(를)", "과/와": "과(와)", "으로/로": "(으)로",
             "이라고/라고": "(이)라고", "이나/나": "(이)나"}


def particle(word: str, pair: str) -> str:
    """The particle of `pair` ("이/가") that agrees with the last sound of `word`; both,
    written "이(가)", where no one can tell how the word is read: it ends in a lowercase
    Latin letter (`kind`, `bool`: an English word, not letters read aloud, and no particle
    library reads those right) or in something josa() cannot read."""
    last = _without_trailing_parens(word.rstrip("`'\" ]"))[-1:]  # 기간(duration): read as 기간
    if last.isascii() and last.islower():
        return _FALLBACK[pair]
    try:
        return josa(word, pair)[len(word):]
    except PolicyInputError:
        return _FALLBACK[pair]


def quoted(name: str, pair: str) -> str:
    """`name` in backticks with its particle: "`이름_계좌번호`는", "`URL`은", "`request`이(가)"."""
    return f"`{name}`{particle(name, pair)}"
