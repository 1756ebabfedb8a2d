"""Write the VS Code extension's TextMate grammar from the language's own grammar.

    python scripts/vscode_grammar.py          writes editors/vscode/syntaxes/policy.tmLanguage.json
    python scripts/vscode_grammar.py --check  exit 1 if the committed file differs (CI, tests)

The keywords are every word the lark grammar (grammar/policy.lark) spells as a literal, so a
keyword added to the language is highlighted once this is run, and CI fails until it is.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from compiler.frontend.parser import keyword_words  # noqa: E402

TARGET = ROOT / "editors/vscode/syntaxes/policy.tmLanguage.json"
# keywords that start a declaration (shown as storage), the rest are control words
_DECLARE = {"policy", "zone", "fact", "record", "let", "const", "require", "context", "personal", "action",
            "outcome", "decision", "rule", "invariant", "snippet", "replies"}
_CONSTANTS = {"true", "false"}
def _word(alternatives: str) -> str:
    """A whole word: Hangul letters count as letters, so `fact` in `fact이름` is not one."""
    return r"(?<![\p{L}\p{N}_])(?:" + alternatives + r")(?![\p{L}\p{N}_])"


def grammar() -> dict:
    words = sorted(keyword_words())
    declare = [w for w in words if w in _DECLARE]
    control = [w for w in words if w not in _DECLARE and w not in _CONSTANTS]
    name = r"[\p{L}_][\p{L}\p{N}_]*"
    return {
        "$schema": "https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json",
        "name": "policyc policy",
        "scopeName": "source.policy",
        "fileTypes": ["policy"],
        "patterns": [{"include": "#comment"}, {"include": "#string"}, {"include": "#declaration"},
                     {"include": "#keyword"}, {"include": "#literal"}, {"include": "#operator"},
                     {"include": "#name"}],
        "repository": {
            "comment": {"name": "comment.line.number-sign.policy", "match": "#.*$"},
            "string": {"patterns": [
                {"name": "string.quoted.triple.policy", "begin": '"""', "end": '"""',
                 "patterns": [{"include": "#template"}]},
                {"name": "string.quoted.double.policy", "begin": '"', "end": '"',
                 "patterns": [{"name": "constant.character.escape.policy", "match": r"\\."},
                              {"include": "#template"}]}]},
            "template": {"patterns": [
                {"name": "meta.embedded.expression.jinja", "begin": r"\{\{", "end": r"\}\}"},
                {"name": "meta.embedded.block.jinja", "begin": r"\{%", "end": r"%\}"}]},
            "declaration": {"match": _word("|".join(declare)) + r"\s+(" + name + ")",
                            "captures": {"0": {"name": "storage.type.policy"},
                                         "1": {"name": "entity.name.policy"}}},
            "keyword": {"patterns": [
                {"name": "storage.type.policy", "match": _word("|".join(declare))},
                {"name": "keyword.control.policy", "match": _word("|".join(control))},
                {"name": "constant.language.boolean.policy", "match": _word("|".join(sorted(_CONSTANTS)))}]},
            "literal": {"patterns": [
                {"name": "constant.numeric.money.policy", "match": r"\b[0-9][0-9,]*원"},
                {"name": "constant.numeric.timestamp.policy",
                 "match": r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?"},
                {"name": "constant.numeric.time.policy", "match": r"\b\d{2}:\d{2}(?:\.\.\d{2}:\d{2})?"},
                {"name": "constant.numeric.duration.policy", "match": r"\b[0-9]+(?:일|시간|분|초|ms|us|d|h|m|s)(?![\p{L}\p{N}_])"},
                {"name": "constant.numeric.policy", "match": r"\b[0-9]+(?:\.[0-9]+)?%?"}]},
            "operator": {"name": "keyword.operator.policy", "match": r"!=|<=|>=|=|<|>|\+|-|\*|/"},
            "name": {"patterns": [
                {"name": "variable.other.constant.policy", "match": r"(?<![\p{L}\p{N}_])[A-Z][A-Z0-9_]*(?![\p{L}\p{N}_])"},
                {"name": "variable.other.policy", "match": name}]},
        },
    }


def text() -> str:
    return json.dumps(grammar(), ensure_ascii=False, indent=2) + "\n"


def main() -> int:
    if "--check" in sys.argv:
        if not TARGET.is_file() or TARGET.read_text(encoding="utf-8") != text():
            print(f"{TARGET.relative_to(ROOT)} 이 grammar/policy.lark 와 다릅니다: python scripts/vscode_grammar.py",
                  file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text(), encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
