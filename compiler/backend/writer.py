"""A small writer for generated Python: lines, indentation, literals.

Every literal goes through `literal()`, which only ever emits Python's own `repr`
of plain data (str, int, bool, Decimal, datetime, timedelta, tuples, frozensets,
dicts), so no text from a policy can become code.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal
from typing import Any, Iterator


class CodeWriter:
    def __init__(self) -> None:
        self._lines: list[str] = []
        self._depth = 0

    def line(self, text: str = "") -> None:
        self._lines.append(("    " * self._depth + text) if text else "")

    def lines(self, text: str) -> None:
        for line in text.split("\n"):
            self.line(line)

    def blank(self, count: int = 1) -> None:
        for _ in range(count):
            self.line()

    @contextlib.contextmanager
    def indent(self) -> Iterator[None]:
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1

    def getvalue(self) -> str:
        text = "\n".join(self._lines).rstrip("\n") + "\n"
        while "\n\n\n\n" in text:
            text = text.replace("\n\n\n\n", "\n\n\n")
        return text


def comment_text(text: str) -> str:
    """Policy text made safe to sit in a `#` comment: one printable line."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text)
    return cleaned.strip()[:100]


def literal(value: Any, order: tuple[str, ...] = ()) -> str:
    """Python source for a plain value. Sets are written in `order` (enum order), then sorted."""
    if value is None or isinstance(value, (bool, int, str)):
        return repr(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Decimal):
        return f"decimal.Decimal({str(value)!r})"
    if isinstance(value, dt.timedelta):
        return f"datetime.timedelta(days={value.days}, seconds={value.seconds}, microseconds={value.microseconds})"
    if isinstance(value, dt.datetime):
        offset = value.utcoffset()
        return (f"datetime.datetime({value.year}, {value.month}, {value.day}, {value.hour}, {value.minute}, "
                f"{value.second}, {value.microsecond}, tzinfo=datetime.timezone("
                f"datetime.timedelta(seconds={int(offset.total_seconds())})))")
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return f"datetime.date({value.year}, {value.month}, {value.day})"
    if isinstance(value, dt.time):
        return f"datetime.time({value.hour}, {value.minute}, {value.second}, {value.microsecond})"
    if type(value).__name__ == "Holidays":  # ir.Holidays: (dates, first year, last year), as the runtime takes it
        return (f"(frozenset({literal(tuple(d for d, _ in value.dates))}), {value.first_year}, "
                f"{value.last_year})")
    if isinstance(value, frozenset):
        items = sorted(value, key=lambda v: (order.index(v) if v in order else len(order), v))
        return f"frozenset({literal(tuple(items))})"
    if isinstance(value, tuple):
        inner = ", ".join(literal(v, order) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v, order) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v, order)}" for k, v in value.items()) + "}"
    raise TypeError(f"no literal for {type(value).__name__}")


def pretty(value: Any, indent: int = 0) -> str:
    """A multi-line literal for JSON-like data (dicts, lists, str, bool, numbers)."""
    pad = "    " * (indent + 1)
    end = "    " * indent
    if isinstance(value, dict) and value:
        body = ",\n".join(f"{pad}{literal(k)}: {pretty(v, indent + 1)}" for k, v in value.items())
        return "{\n" + body + ",\n" + end + "}"
    if isinstance(value, list) and value and any(isinstance(v, (dict, list)) for v in value):
        body = ",\n".join(f"{pad}{pretty(v, indent + 1)}" for v in value)
        return "[\n" + body + ",\n" + end + "]"
    return literal(value)
