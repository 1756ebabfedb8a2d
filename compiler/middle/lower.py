"""Checked pieces -> the decision-table IR `Policy` (ir.py). No checks happen here."""

from __future__ import annotations

from . import ir
from .resolve import Resolved


def _label(text: str | None, name: str) -> str:
    return text if text else name


def lower(resolved: Resolved, replies: dict[str, ir.Reply], snippets, source_path: str, sha256: str) -> ir.Policy:
    outcomes = tuple(
        ir.Outcome(o.name.name, _label(o.label.value if o.label else None, o.name.name),
                   tuple(dict.fromkeys(i.name for i in o.discloses)),
                   tuple(dict.fromkeys(i.name for i in o.actions)),
                   replies[o.name.name], o.span.line, o.name.span)
        for o in resolved.outcomes)
    return ir.Policy(
        name=resolved.name,
        label=resolved.label or resolved.name,
        source_path=source_path,
        source_sha256=sha256,
        facts=tuple(resolved.facts),
        derived=tuple(resolved.derived),
        consts=tuple(resolved.consts),
        requires=tuple(resolved.requires),
        contexts=tuple(resolved.contexts),
        actions=tuple(resolved.actions),
        outcomes=outcomes,
        snippets=tuple(snippets),
        decisions=tuple(resolved.decisions),
        invariants=tuple(resolved.invariants),
    )
