"""What the commands share: exit codes, printing, compiling a policy for a command."""

from __future__ import annotations

import sys
from pathlib import Path

from .. import jsontext
from ..diagnostics import has_errors, render_github, render_json, render_text, sarif_log
from ..pipeline import MAX_YAML_BYTES, compile_policy, read_source
from ..tools.load import parse_assignments, read_json

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_BUG = 0, 1, 2, 70
EXIT_WIDENS = 3  # diff, impact: the new version discloses more; audit: a forbidden disclosure


def out(text: str, stream=None) -> None:
    stream = stream or sys.stdout
    stream.write(text if text.endswith("\n") else text + "\n")


def report(results, fmt: str) -> int:
    diags = [d for r in results.values() for d in r.diagnostics]
    if fmt == "json":
        out(render_json(diags))
    elif fmt == "github":
        if diags:
            out(render_github(diags))
    elif fmt == "sarif":
        from .. import __version__

        out(jsontext.dumps(sarif_log(diags, __version__), indent=2))
    else:
        sources = {k: v for r in results.values() for k, v in r.sources.items()}
        if diags:
            out(render_text(diags, sources), sys.stderr)
    return EXIT_FINDINGS if has_errors(diags) else EXIT_OK


def no_policies(root: Path, fmt: str) -> int:
    message = f"정책 파일이 없습니다: {(root / 'policy').as_posix()}/*.policy"
    if fmt == "json":
        out(render_json([]))
    out(f"policyc: {message}\n정책 저장소의 최상위 폴더에서 실행하거나 --root 로 그 폴더를 알려 주세요.", sys.stderr)
    return EXIT_USAGE


def compiled(path: str):
    """The policy's IR, or None after printing its errors (the caller returns POLICY_FAILS)."""
    result = compile_policy(Path(path), path)
    if not result.ok:
        print_errors(result)
        return None
    return result.policy


# A policy that does not compile ends every command the same way: its errors as
# `policyc check` prints them, and exit 1.
POLICY_FAILS = EXIT_FINDINGS


def print_errors(result) -> None:
    """A policy that does not compile: its errors, as `policyc check` shows them."""
    out(render_text([d for d in result.diagnostics if d.severity == "error"], result.sources), sys.stderr)


def read_stdin() -> str:
    """Standard input, up to MAX_YAML_BYTES: more is turned down rather than read for ever."""
    text = sys.stdin.read(MAX_YAML_BYTES + 1)
    if len(text) > MAX_YAML_BYTES:
        raise ValueError(f"표준 입력이 너무 깁니다 (최대 {MAX_YAML_BYTES // 2**20} MB)")
    return text


def read_facts(args) -> dict:
    if args.fact:
        return parse_assignments(args.fact, "--fact")
    if args.facts_file and args.facts_file != "-":
        # a regular file of a bounded size: /dev/zero or a FIFO is turned down, not read for ever
        source, diags = read_source(Path(args.facts_file), args.facts_file, limit=MAX_YAML_BYTES)
        if source is None:
            raise ValueError(f"사실 파일: {diags[0].message}")
        text = source.text
    else:
        text = read_stdin()
    facts = read_json(text)
    if not isinstance(facts, dict):
        raise ValueError("사실은 JSON 객체 {\"이름\": 값, ...} 이어야 합니다")
    return facts
