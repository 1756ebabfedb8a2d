"""Suggestions for misspelt names ("did you mean"), from difflib."""

from __future__ import annotations

import difflib
from typing import Iterable

from ..diagnostics import Suggestion


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    """A help line naming the closest candidate, or None when nothing is close."""
    found = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return Suggestion(f"비슷한 이름이 있습니다: `{found[0]}`", found[0]) if found else None
