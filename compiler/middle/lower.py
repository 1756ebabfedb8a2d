"""Checked pieces -> the decision-table IR `Policy` (ir.py). No checks happen here, and
no AST is read: the resolver and the template checker hand over plain data."""

from __future__ import annotations

from . import ir
from .resolve import Resolved


def lower(resolved: Resolved, replies: dict[str, ir.Reply], snippets: tuple[tuple[str, str], ...],
          source_path: str, sha256: str) -> ir.Policy:
    outcomes = tuple(ir.Outcome(o.name, o.label, o.discloses, o.actions, replies[o.name], o.span, o.decl_span,
                                o.calls) for o in resolved.outcomes)
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
        records=tuple(resolved.records),
        zone=resolved.zone,
        zone_offset=resolved.zone_offset,
    )
