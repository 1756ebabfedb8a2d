"""JSON as policyc writes it: json.dumps's layout, with exact decimals.

    dumps(value, indent=None) -> str

A Decimal is written as the JSON number it is (0.3, 999999999999999.999999999, 1000 for
1E+3), never through a float: JSON numbers are decimals, and an app reading them with
`parse_float=Decimal` (as `policyc decide` does) gets back exactly what the policy meant.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from .runtime.support import number_text


def dumps(value: Any, indent: int | None = None) -> str:
    return "".join(_parts(value, indent, 0))


def _parts(value: Any, indent: int | None, depth: int):
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"JSON has no number {value}")
        yield number_text(value)
    elif isinstance(value, dict):
        yield from _container("{", "}", [(k, v) for k, v in value.items()], indent, depth, keyed=True)
    elif isinstance(value, (list, tuple)):
        yield from _container("[", "]", [(None, v) for v in value], indent, depth, keyed=False)
    else:
        yield json.dumps(value, ensure_ascii=False)


def _container(open_: str, close: str, items: list, indent: int | None, depth: int, keyed: bool):
    if not items:
        yield open_ + close
        return
    inner = "" if indent is None else "\n" + " " * (indent * (depth + 1))
    comma = ", " if indent is None else ","
    yield open_
    for i, (key, item) in enumerate(items):
        yield (comma if i else "") + inner
        if keyed:
            yield json.dumps(str(key), ensure_ascii=False) + ": "
        yield from _parts(item, indent, depth + 1)
    yield "" if indent is None else "\n" + " " * (indent * depth)
    yield close
