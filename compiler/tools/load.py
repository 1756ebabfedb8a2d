"""Compile a policy and load its module in memory, the way the tools run a policy:
exactly the code `policyc build` would write, without touching generated/."""

from __future__ import annotations

import datetime as dt
import sys
import types
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..backend.python import generate
from ..middle.values import duration_text
from ..pipeline import Result, compile_policy


def load(path: Path, shown_as: str | None = None, overlay=None) -> tuple[Result, types.ModuleType | None]:
    """The policy compiled and its module built in memory (`overlay`: unsaved texts by path)."""
    result = compile_policy(path, shown_as or path.as_posix(), overlay=overlay)
    if not result.ok:
        return result, None
    return result, module_of(result)


def module_of(result: Result) -> types.ModuleType:
    """The generated module of a compiled policy, built in memory."""
    name = f"policyc_loaded_{result.policy.name}_{result.policy.source_sha256[:12]}"
    module = types.ModuleType(name)
    module.__file__ = f"<policyc {result.policy.source_path}>"
    sys.modules[name] = module  # dataclasses look their module up there
    exec(compile(generate(result.policy), module.__file__, "exec"), module.__dict__)  # noqa: S102 — our own generated code
    return module


def jsonable(value: Any) -> Any:
    """Decision values as JSON: sets sorted, tuples as lists, instants and durations as
    text, numbers as they are (for jsontext.dumps)."""
    if isinstance(value, (frozenset, set)):
        return sorted(jsonable(v) for v in value)
    if isinstance(value, (tuple, list)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return duration_text(value)
    return value  # numbers stay exact: jsontext writes a Decimal as the JSON number it is


def decision_json(policy, decision) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if policy.main is not None:
        out["outcome"] = decision.outcome
    for d in policy.decisions:
        if d.yields_value:
            out[d.name] = jsonable(getattr(decision, d.name))
    out["action_args"] = {name: {k: jsonable(v) for k, v in given.items()}
                          for name, given in decision.action_args.items()}
    out.update(discloses=jsonable(decision.discloses), actions=jsonable(decision.actions), rule=decision.rule,
               source=decision.source, trace=[list(t) for t in decision.trace])
    return out


def read_json(text: str) -> Any:
    """JSON text as Python values, numbers with a point as exact Decimals (0.3 is 0.3);
    ValueError (with the line and column) for text that is not JSON, or that nests deeper
    than Python's recursion limit ([[[[...)."""
    import json

    try:
        # an integer of thousands of digits is a Decimal: the fact's own check then says it is
        # too big, in Korean (Python's int() turns down more than 4,300 digits, in English)
        return json.loads(text, parse_float=Decimal, parse_int=lambda s: int(s) if len(s) <= 40 else Decimal(s))
    except json.JSONDecodeError as err:
        raise ValueError(f"JSON 을 읽을 수 없습니다 ({err.lineno}행 {err.colno}열: {err.msg})") from None
    except RecursionError:
        raise ValueError("JSON 이 너무 깊게 겹쳐 있습니다 (사실은 이름: 값 의 한 단계 객체입니다)") from None


def parse_assignments(items: list[str], what: str) -> dict[str, Any]:
    """`key=value` pairs; a value that reads as JSON (true, 3, "x") is taken as JSON."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ValueError(f"{what} 는 이름=값 으로 적습니다: {item!r}")
        try:
            out[key] = read_json(raw)
        except ValueError:
            out[key] = raw
    return out
