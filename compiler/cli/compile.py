"""policyc build, check, explain: compile the policies, report their diagnostics,
explain a diagnostic code or a decision."""

from __future__ import annotations

from .. import jsontext
import sys
from pathlib import Path

from ..build import plan, stale, write
from ..codes import CODES
from ..diagnostics import summary
from ..pipeline import batch_warnings, compile_policy
from ..tools.explain import explain_json, explain_text
from ..tools.load import load, parse_assignments
from .common import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    no_policies,
    out,
    read_facts,
    report,
)


def cmd_build(args) -> int:
    root = Path(args.root)
    p = plan(root)
    if not p.results:
        return no_policies(root, args.format)
    status = report(p.results, args.format)
    if not p.ok:
        out(f"policyc: 정책에 오류가 있어 generated/ 를 바꾸지 않았습니다 ({summary([d for r in p.results.values() for d in r.diagnostics])})", sys.stderr)
        return EXIT_FINDINGS
    if args.check:
        old = stale(p)
        if old:
            names = "\n".join(f"  {path.relative_to(root).as_posix() if path.is_relative_to(root) else path}" for path in old)
            out(f"policyc: generated/ 가 정책과 다릅니다. `policyc build` 를 실행하고 커밋하세요:\n{names}", sys.stderr)
            return EXIT_FINDINGS
        out(f"generated/ 가 최신입니다 (정책 {len(p.results)}개).", sys.stderr)
        return status
    changed = write(p)
    for path in changed:
        out(f"생성: {path.relative_to(root).as_posix() if path.is_relative_to(root) else path}", sys.stderr)
    for shown, result in p.results.items():
        pol = result.policy
        rules = sum(len(d.rules) for d in pol.decisions)
        out(f"{shown}: 결정 {len(pol.decisions)}개, 규칙 {rules}개, 결과 {len(pol.outcomes)}개 -> generated/{pol.name}.py", sys.stderr)
    if not changed:
        out("바뀐 파일이 없습니다.", sys.stderr)
    return status


def cmd_check(args) -> int:
    root = Path(args.root)
    files = [Path(f) for f in args.files] or sorted((root / "policy").glob("*.policy"))
    if not files:
        return no_policies(root, args.format)
    if args.fix:
        fixed = apply_safe_fixes(files)
        if fixed:
            out("고친 파일: " + ", ".join(fixed), sys.stderr)
    results = {}
    for f in files:
        shown = f.as_posix()
        results[shown] = compile_policy(f, shown, overlaps=args.overlaps)
        if args.batch and results[shown].policy is not None:
            results[shown].diagnostics.extend(batch_warnings(results[shown].policy))
    status = report(results, args.format)
    if args.format == "text":
        diags = [d for r in results.values() for d in r.diagnostics]
        out(f"검사한 정책 {len(results)}개: {summary(diags)}", sys.stderr)
    return status


def cmd_explain(args) -> int:
    import re

    target = args.target
    if args.list or target is None or (re.fullmatch(r"[EWew]\d{4}", target) and not Path(target).exists()):
        return _explain_code(args)
    result, module = load(Path(target), target)
    if module is None:
        return report({target: result}, "text") or EXIT_USAGE
    try:
        facts = read_facts(args)
        context = parse_assignments(args.context, "--context")
    except ValueError as err:
        out(f"policyc: {err}", sys.stderr)
        return EXIT_USAGE
    try:
        decision = module.decide(facts)
    except module.PolicyInputError as err:
        out(f"policyc: 잘못된 사실 — {err}", sys.stderr)
        return EXIT_USAGE
    try:
        if args.format == "json":
            out(jsontext.dumps(explain_json(result, module, decision, context), indent=2))
        else:
            out(explain_text(result, module, decision, context))
    except module.PolicyInputError as err:
        out(f"policyc: 답변 값이 잘못되었습니다 — {err}", sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def _explain_code(args) -> int:
    if args.list or not args.target:
        for code, (title, _) in CODES.items():
            out(f"{code}  {title}")
        return EXIT_OK
    code = args.target.upper()
    if code not in CODES:
        out(f"policyc: 알 수 없는 진단 코드: {args.target} (`policyc explain --list` 로 목록을 보세요)", sys.stderr)
        return EXIT_USAGE
    title, text = CODES[code]
    out(f"{code}: {title}\n\n{text}")
    return EXIT_OK


def apply_safe_fixes(files: list[Path]) -> list[str]:
    """`check --fix`: the safe fixes of every policy's diagnostics written into its files
    (atomically), again until none is left (removing a derived value can leave a constant
    unused); the files changed, by their shown paths."""
    from ..build import write_atomic
    from ..service.core import apply_fixes

    changed: list[str] = []
    for f in files:
        shown = f.as_posix()
        for _ in range(10):  # each round removes what the last one left unused; a bound, not a loop forever
            result = compile_policy(f, shown)
            fixes = [x for d in result.diagnostics for x in d.fixes if x.safe]
            texts = {k: v.text for k, v in result.sources.items()}
            new = apply_fixes(texts, fixes)
            wrote = [k for k in new if new[k] != texts[k]]
            if not wrote:
                break
            paths = {k: (f if k == shown else f.parent / Path(k).relative_to(Path(shown).parent)) for k in wrote}
            after = compile_policy(f, shown, overlay={paths[k].resolve(): new[k] for k in wrote})
            def errors(r):
                return {(d.code, d.message) for d in r.diagnostics if d.severity == "error"}

            if not errors(after) <= errors(result):  # a fix must never add an error: keep the files as they are
                break
            for k in wrote:
                write_atomic(paths[k], new[k])
                changed.append(k)
    return sorted(set(changed))
