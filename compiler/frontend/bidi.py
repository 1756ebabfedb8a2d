"""Trojan Source: bidirectional control characters in a source file.

    bidi_controls(source) -> [Diagnostic W0105]

A comment, label or reply that holds U+202E (RIGHT-TO-LEFT OVERRIDE) and its kin is shown
by editors in an order other than the one the compiler reads, so a reviewer can approve a
rule that does something else (CVE-2021-42574). Each one is a warning at its place.
"""

from __future__ import annotations

import re
import unicodedata

from ..diagnostics import Diagnostic
from ..source import SourceFile, Span

_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def bidi_controls(source: SourceFile) -> list[Diagnostic]:
    out = []
    for number in range(1, source.line_count + 1):
        for m in _CONTROLS.finditer(source.line(number)):
            ch = m.group()
            name = unicodedata.name(ch, "BIDI CONTROL")
            out.append(Diagnostic(
                "W0105", Span(source.path, number, m.start() + 1, number, m.start() + 2),
                f"글의 방향을 바꾸는 보이지 않는 문자 U+{ord(ch):04X} ({name})",
                "화면에 보이는 순서와 policyc 가 읽는 순서가 다를 수 있습니다. 필요 없다면 지우세요",
                "여기 (화면에는 보이지 않음)"))
    return out
