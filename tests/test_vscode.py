"""The VS Code extension: its TextMate grammar is generated from grammar/policy.lark (so
it knows every keyword), and its scopes hold when VS Code's own engine (vscode-textmate
with Oniguruma, run by Node) tokenizes policies; `.ci/run` installs the Node packages."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest

from compiler.frontend.parser import _keywords

from .conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import vscode_grammar  # noqa: E402

EXTENSION = ROOT / "editors/vscode"


def test_the_committed_grammar_is_generated_from_the_language_grammar():
    assert (EXTENSION / "syntaxes/policy.tmLanguage.json").read_text(encoding="utf-8") == vscode_grammar.text()


def test_every_keyword_of_the_language_is_highlighted():
    grammar = json.loads(vscode_grammar.text())
    highlighted = set()
    for rule in grammar["repository"]["keyword"]["patterns"]:
        inner = re.search(r"\(\?:([^)]*)\)", rule["match"]).group(1)
        highlighted |= set(inner.split("|"))
    words = {v for v in _keywords().values() if re.fullmatch(r"[a-z]+", v)}
    assert words and words <= highlighted


def test_the_extension_starts_the_language_server_for_policies_and_their_yaml():
    package = json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))
    assert package["contributes"]["grammars"][0]["scopeName"] == "source.policy"
    assert package["contributes"]["configuration"]["properties"]["policyc.command"]["default"] == ["policyc", "lsp"]
    client = (EXTENSION / "extension.js").read_text(encoding="utf-8")
    assert "*.replies.yaml" in client and "*.tests.yaml" in client and "TransportKind.stdio" in client


@pytest.mark.skipif(shutil.which("node") is None or not (EXTENSION / "node_modules/vscode-textmate").is_dir(),
                    reason="Node.js or the extension's packages are missing (.ci/run installs them with npm ci)")
def test_scopes_hold_in_vscode_textmate():
    done = subprocess.run(["node", "test/scopes.test.js", str(ROOT / "policy/driver_info.policy"),
                           str(ROOT / "policy/pet_ride_fare.policy")], cwd=EXTENSION, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "scope assertions passed" in done.stdout
