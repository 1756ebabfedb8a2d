"""The README stays true: its Quick start has exactly two commands, its app example
runs and says what the module does, and its table lists every diagnostic code."""

from __future__ import annotations

import re

from compiler.codes import CODES

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = README.index(f"## {title}")
    end = README.find("\n## ", start + 1)
    return README[start:end if end != -1 else None]


def test_quick_start_has_two_commands():
    blocks = re.findall(r"```sh\n(.*?)```", _section("Quick start"), re.S)
    assert len(blocks) == 1
    commands = [line for line in blocks[0].splitlines() if line.strip()]
    assert len(commands) == 2
    assert "policyc build" in commands[0] and "pytest" in commands[1]
    ci = (ROOT / ".ci/run").read_text(encoding="utf-8")
    assert commands[1].strip() in ci, ".ci/run must run the README's test command"


def test_app_example_runs_and_is_right(capsys):
    code = re.search(r"```python\n(.*?)```", _section("Using a policy from an app"), re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    d = namespace["d"]
    for line in code.splitlines():
        m = re.match(r"d\.(\w+)\s+# (.+)$", line.strip())
        if m and m.group(1) != "rule":
            assert repr(getattr(d, m.group(1))) == m.group(2).strip()
    assert (d.rule, d.source) == ("연락처_직접_안내", "policy/driver_info.policy:108")
    printed = capsys.readouterr().out
    assert "기사님 연락처는 010-1234-5678입니다." in printed


def test_every_code_is_documented():
    table = _section("Diagnostics")
    for code in CODES:
        assert f"| {code} |" in table, code
