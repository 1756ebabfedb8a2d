"""Source files and spans.

A `Span` is a range in one source file, 1-based lines and columns counted in Unicode
code points, `end_column` exclusive (the column just after the last character).
Spans never take part in equality of the nodes that carry them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


@dataclass(frozen=True)
class SourceFile:
    """The text of one input file and the path we show for it."""

    path: str
    text: str
    _lines: tuple[str, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_lines", tuple(self.text.split("\n")))

    def line(self, number: int) -> str:
        """Line `number` (1-based) without its newline; "" past the end."""
        if 1 <= number <= len(self._lines):
            return self._lines[number - 1].rstrip("\r")
        return ""

    @property
    def line_count(self) -> int:
        return len(self._lines)

    def position(self, offset: int) -> tuple[int, int]:
        """(line, column) of a 0-based character offset."""
        offset = max(0, min(offset, len(self.text)))
        line = self.text.count("\n", 0, offset) + 1
        start = self.text.rfind("\n", 0, offset) + 1
        return line, offset - start + 1

    def span(self, start: int, end: int) -> "Span":
        """The span of character offsets [start, end)."""
        line, col = self.position(start)
        end_line, end_col = self.position(max(start, end))
        return Span(self.path, line, col, end_line, end_col)


class Span(NamedTuple):
    """Immutable and ordered like a frozen dataclass; a tuple because a large policy
    has hundreds of thousands of them and a tuple is the cheapest thing to build."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


NO_SPAN = Span("<unknown>", 1, 1, 1, 1)


class Named(NamedTuple):
    """A name as written in a source file (a snippet's, an outcome's, a disclosed value's)."""

    name: str
    span: Span


class Text(NamedTuple):
    """A string as written in a source file: a reply template, a snippet, a file path.
    `first_line` is the file line of the text's own first line (a triple-quoted or YAML
    block string starts on the line after its opening), so template errors point there."""

    value: str
    first_line: int
    span: Span
