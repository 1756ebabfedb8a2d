"""Reply templates kept in a YAML file beside the policy.

    load_replies(source) -> (RepliesFile | None, [Diagnostic])

The file has two mappings, `snippets` (name -> template) and `replies`
(outcome -> template), and is validated against schemas/replies.schema.json with
jsonschema; every error points at the YAML line it is about.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from ..diagnostics import Diagnostic
from ..source import Named, SourceFile, Text
from .yaml_source import load_yaml, node_at, node_span


@dataclass(frozen=True)
class RepliesFile:
    path: str
    snippets: tuple[tuple[Named, Text], ...]
    replies: tuple[tuple[Named, Text], ...]


def _text_start(node: yaml.ScalarNode) -> int:
    """File line of the scalar text's first line (a `|` block starts on the next line)."""
    return node.start_mark.line + (2 if node.style in ("|", ">") else 1)


def load_replies(source: SourceFile) -> tuple[RepliesFile | None, list[Diagnostic]]:
    path = source.path
    root, data, diags = load_yaml(source, "replies.schema.json", "E0507", "E0508",
                                  "최상위에는 snippets 와 replies 만 두고, 각 항목은 `이름: 문구` 로 적습니다", "답변 ")
    if root is None or diags:
        return None, diags

    def entries(section: str):
        out = []
        mapping = node_at(root, [section]) if section in data else None
        for k, v in (mapping.value if isinstance(mapping, yaml.MappingNode) else []):
            out.append((Named(k.value, node_span(path, k)), Text(v.value, _text_start(v), node_span(path, k))))
        return tuple(out)

    return RepliesFile(path, entries("snippets"), entries("replies")), []
