"""The README and docs/ stay true: the Quick start has exactly two commands, the app
example runs and says what the module does, docs/diagnostics.md lists every diagnostic
code, docs/module.md says exactly what SOURCE_SHA256 hashes, every link points at a file
that exists, and nothing points outside the repository."""

from __future__ import annotations

import re

import pytest

from compiler.codes import CODES

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "docs").glob("*.md")}


def _section(title: str, text: str = README) -> str:
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


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
    table = DOCS["diagnostics.md"]
    for code in CODES:
        assert f"| {code} |" in table, code


def test_source_sha256_is_what_the_readme_says(tmp_path):
    """The hash recomputed from the README's own description, for the shipped policy and for
    a copy saved with a BOM and Windows line ends; and `sha256sum` for a policy without
    reply files."""
    import hashlib

    import generated.driver_info as m
    from compiler.pipeline import compile_policy

    assert "`SOURCE_SHA256` is the SHA-256 of: the policy file's text as UTF-8" in DOCS["module.md"]

    def recompute(policy: bytes, replies: list[tuple[str, bytes]]) -> str:
        def text(raw: bytes) -> bytes:
            return raw.decode("utf-8").removeprefix("\ufeff").replace("\r\n", "\n").encode("utf-8")

        digest = hashlib.sha256(text(policy))
        for shown, raw in replies:
            digest.update(b"\0" + shown.encode("utf-8") + b"\0" + text(raw))
        return digest.hexdigest()

    policy = (ROOT / "policy/driver_info.policy").read_bytes()
    replies = (ROOT / "policy/driver_info.replies.yaml").read_bytes()
    assert m.SOURCE_SHA256 == recompute(policy, [("driver_info.replies.yaml", replies)])
    (tmp_path / "policy").mkdir()
    (tmp_path / "policy/driver_info.policy").write_bytes(b"\xef\xbb\xbf" + policy.replace(b"\n", b"\r\n"))
    (tmp_path / "policy/driver_info.replies.yaml").write_bytes(replies.replace(b"\n", b"\r\n"))
    crlf = compile_policy(tmp_path / "policy/driver_info.policy", "policy/driver_info.policy")
    assert crlf.policy.source_sha256 == m.SOURCE_SHA256
    absolute = compile_policy(tmp_path / "policy/driver_info.policy")  # shown by another path: same hash
    assert absolute.policy.source_sha256 == m.SOURCE_SHA256
    plain = b'policy plain\nfact k "k": bool\noutcome o "o" { reply "o" }\ndecision d (first) { otherwise o }\n'
    (tmp_path / "plain.policy").write_bytes(plain)
    assert compile_policy(tmp_path / "plain.policy").policy.source_sha256 == hashlib.sha256(plain).hexdigest()


def test_links_point_at_files_that_exist():
    import re as _re

    pages = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "CHANGELOG.md", ROOT / "bench/README.md",
             *sorted((ROOT / "docs").rglob("*.md"))]
    broken = []
    for page in pages:
        for target in _re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if not target.startswith(("http://", "https://", "mailto:")) and not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert not broken, broken


def test_nothing_points_outside_the_repository():
    import subprocess

    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    if not tracked:
        pytest.skip("not a git checkout")
    outside, workspace = "../" + "shared", "/" + "work/"  # spelt in two, so this file does not match itself
    found = []
    for name in tracked:
        path = ROOT / name
        if path.suffix in (".py", ".md", ".policy", ".yaml", ".toml", ".json", ".txt", ".sh", "") and path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            if outside in text or workspace in text:
                found.append(name)
    assert not found, found


# the runs docs/cli.md shows, by the command they start with, the lines of the command,
# and the golden file test_tools.py checks that command's real output against
SHOWN_RUNS = [("$ policyc test --min-coverage 100", 1, "test.out"),
              ("$ policyc explain policy/driver_info.policy", 1, "explain.out"),
              ("$ echo '{\"request\"", 3, "decide.out"),
              ("$ policyc diff policy/driver_info.policy new/", 1, "diff.out")]


@pytest.mark.parametrize("command, lines, golden", SHOWN_RUNS)
def test_runs_shown_in_the_docs_print_what_policyc_prints(command, lines, golden):
    """What a run in docs/cli.md prints is what the command really prints (up to a `…`)."""
    text = DOCS["cli.md"]
    block = text[text.index(command):].split("```")[0].split("\n")[lines:]
    shown = "\n".join(block[:block.index("…")] if "…" in block else block).strip("\n")
    real = (ROOT / "tests/cases/tools" / golden).read_text(encoding="utf-8").replace("\r", "")
    assert shown and shown in real, f"docs/cli.md shows an old run of {command!r}: copy it from tests/cases/tools/{golden}"


def test_the_first_policy_walkthrough_works_as_written(tmp_path):
    """docs/language.md's step-by-step: the policy and cases it gives check, test at 100%
    and build, and the mistake it shows gives the error it shows."""
    import subprocess
    import sys

    text = DOCS["language.md"]
    walk = text[text.index("### Your first policy, step by step"):text.index("## Static analysis")]
    blocks = re.findall(r"```(\w*)\n(.*?)```", walk, re.S)
    policy = next(body for lang, body in blocks if body.startswith("policy refund"))
    cases = next(body for lang, body in blocks if lang == "yaml")
    mistake = next(body for lang, body in blocks if body.startswith("오류[E0300]"))
    run_shown = next(body for lang, body in blocks if body.startswith("$ policyc test"))
    folder = tmp_path / "mine/policy"
    folder.mkdir(parents=True)
    (folder / "refund.policy").write_text(policy, encoding="utf-8")
    (folder / "refund.tests.yaml").write_text(cases, encoding="utf-8")

    def policyc(*args):
        return subprocess.run([sys.executable, "-m", "compiler.cli", *args], cwd=tmp_path, capture_output=True,
                              text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=120)

    checked = policyc("check", "mine/policy/refund.policy")
    assert checked.returncode == 0 and "검사한 정책 1개: 문제 없음" in checked.stderr, checked.stderr
    tested = policyc("test", "--root", "mine", "--min-coverage", "100")
    assert tested.returncode == 0 and tested.stdout == run_shown.split("\n", 1)[1], tested.stdout
    assert policyc("build", "--root", "mine").returncode == 0
    app = subprocess.run([sys.executable, "-c", "from generated import refund\n"
                          "d = refund.decide({'reason': 'driver_no_show', 'waited': '20분'})\n"
                          "print(d.outcome, refund.render(d))"], cwd=tmp_path / "mine", capture_output=True,
                         text=True, timeout=60)
    assert app.stdout.strip() == "full_refund 요금 전액을 환불해 드리겠습니다.", app.stderr
    (folder / "refund.policy").write_text(policy.replace("waited > NO_SHOW_WAIT", "waited > 15"), encoding="utf-8")
    wrong = policyc("check", "mine/policy/refund.policy")
    assert wrong.returncode == 1 and mistake in wrong.stderr, wrong.stderr


def test_the_tests_yaml_defaults_example_runs(tmp_path):
    """docs/cli.md's `defaults:` example is a tests file `policyc test` passes."""
    import shutil

    from compiler.tools.testing import run_file

    text = DOCS["cli.md"]
    block = next(body for body in re.findall(r"```yaml\n(.*?)```", text, re.S) if body.startswith("defaults:"))
    shutil.copytree(ROOT / "policy", tmp_path / "policy")
    (tmp_path / "policy/driver_info.tests.yaml").write_text(block, encoding="utf-8")
    run = run_file(tmp_path / "policy/driver_info.tests.yaml", "driver_info.tests.yaml")
    assert run.diagnostics == [] and run.cases == 2 and run.failures == []
