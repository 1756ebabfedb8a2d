"""policyc test, fmt, diff, doc, decide: the policy author's tools."""

from __future__ import annotations

from .. import jsontext
import sys
from pathlib import Path

from ..build import write_atomic
from ..diagnostics import render_text
from ..pipeline import read_source
from ..tools.diff import diff_policies, facts_differ
from ..tools.diff import report_json as diff_json
from ..tools.diff import report_text as diff_text
from ..tools.explain import render_reply
from ..tools.fmt import format_source
from ..tools.load import decision_json, load, parse_assignments, read_json
from ..tools.testing import report_json, report_text, run_file
from ..korean import particle
from .common import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    EXIT_WIDENS,
    no_policies,
    out,
    POLICY_FAILS,
    print_errors,
    read_stdin,
)


def cmd_test(args) -> int:
    from ..tools.load import jsonable

    root = Path(args.root)
    files = [Path(f) for f in args.files] or sorted((root / "policy").glob("*.tests.yaml"))
    if not files:
        out(f"policyc: 사례 파일이 없습니다: {(root / 'policy').as_posix()}/*.tests.yaml", sys.stderr)
        return EXIT_USAGE
    runs = [run_file(f, f.as_posix()) for f in files]
    if args.junit:
        from ..build import write_atomic
        from ..tools.testing import junit_xml

        write_atomic(Path(args.junit), junit_xml([r for r in runs if not r.diagnostics]))
    if args.lcov or args.cobertura:
        from ..build import write_atomic
        from ..tools.testing import cobertura, lcov

        done = [r for r in runs if not r.diagnostics]
        if args.lcov:
            write_atomic(Path(args.lcov), lcov(done))
        if args.cobertura:
            write_atomic(Path(args.cobertura), cobertura(done))
    proposed = {}
    if args.suggest:
        from ..tools.testing import suggest_cases, suggestions_yaml

        proposed = {run.file: suggest_cases(run) for run in runs}
        for run in runs if args.format == "text" else ():
            if proposed[run.file]:
                out(f"# {run.file}: 제안하는 사례 {len(proposed[run.file])}개 "
                    "(기대는 지금 정책이 내리는 결정입니다: 맞는지 확인하세요)")
                out(suggestions_yaml(proposed[run.file]))
    status = EXIT_OK
    for run in runs:
        if run.diagnostics:
            out(render_text(run.diagnostics, run.sources), sys.stderr)
            # a policy that does not compile ends as in every command; a broken cases file is bad input
            failed = POLICY_FAILS if run.policy_failed else EXIT_USAGE
            status = max(status, failed)
    if args.format == "json":
        reports = [report_json(r) | ({"suggestions": jsonable(proposed[r.file])} if args.suggest else {})
                   for r in runs if not r.diagnostics]
        out(jsontext.dumps(reports, indent=2))
    else:
        for run in runs:
            if not run.diagnostics:
                out(report_text(run))
    if status != EXIT_OK:
        return status
    if any(r.failures for r in runs):
        return EXIT_FINDINGS
    low = [r for r in runs if r.coverage < args.min_coverage]
    if low:
        out(f"policyc: 범위가 --min-coverage {args.min_coverage:g}% 보다 낮습니다: "
            + ", ".join(f"{r.file} {r.coverage:.1f}%" for r in low), sys.stderr)
        return EXIT_FINDINGS
    return EXIT_OK


def cmd_fmt(args) -> int:
    root = Path(args.root)
    files = [Path(f) for f in args.files] or sorted((root / "policy").glob("*.policy"))
    if not files:
        return no_policies(root, "text")
    status, changed = EXIT_OK, []
    for path in files:
        source, diags = read_source(path, path.as_posix())
        text = None
        if source is not None:
            text, diags = format_source(source)
        if text is None:
            out(render_text(diags, {source.path: source} if source else {}), sys.stderr)
            status = POLICY_FAILS  # as in every command: a policy that does not parse (or is not there)
            continue
        if text != source.text:
            changed.append(path)
            if not args.check:
                write_atomic(path, text)
    for path in changed:
        out(f"{'정리할 파일' if args.check else '정리함'}: {path.as_posix()}", sys.stderr)
    if status == EXIT_OK and args.check and changed:
        out("policyc: `policyc fmt` 로 정리하고 커밋하세요.", sys.stderr)
        return EXIT_FINDINGS
    if status == EXIT_OK and not changed:
        out(f"모두 정리되어 있습니다 (파일 {len(files)}개).", sys.stderr)
    return status


def cmd_diff(args) -> int:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        if args.git:
            if args.new:
                out("policyc: --git 에는 정책 파일 하나만 줍니다", sys.stderr)
                return EXIT_USAGE
            new_path = Path(args.old)
            if args.git.startswith("-"):  # git would read it as an option (--output=...)
                out(f"policyc: --git 에는 커밋이나 브랜치 이름을 줍니다: {args.git!r}", sys.stderr)
                return EXIT_USAGE
            try:
                old_path = _from_git(args.git, new_path, Path(tmp))
            except ValueError as err:
                out(f"policyc: {err}", sys.stderr)
                return EXIT_USAGE
            old_name, new_name = f"{args.old}@{args.git}", args.old
        else:
            if not args.new:
                out("policyc: 비교할 정책 파일 두 개(이전, 이후)를 주세요", sys.stderr)
                return EXIT_USAGE
            old_path, new_path, old_name, new_name = Path(args.old), Path(args.new), args.old, args.new
        old_result, old_module = load(old_path, old_name)
        new_result, new_module = load(new_path, new_name)
        for result, module in ((old_result, old_module), (new_result, new_module)):
            if module is None:
                print_errors(result)
                return POLICY_FAILS
        problems = facts_differ(old_result.policy, new_result.policy)
        if problems:
            out("policyc: 사실 선언이 달라 경우별로 비교할 수 없습니다:\n  " + "\n  ".join(problems), sys.stderr)
            return EXIT_USAGE
        try:
            changes = diff_policies(old_result.policy, new_result.policy, old_module, new_module)
        except ValueError as err:
            out(f"policyc: {err}", sys.stderr)
            return EXIT_USAGE
    if args.format == "json":
        out(jsontext.dumps(diff_json(changes), indent=2))
    else:
        out(diff_text(old_name, new_name, changes))
    if any(c.widens for c in changes):
        return EXIT_WIDENS
    return EXIT_FINDINGS if changes else EXIT_OK


def _from_git(rev: str, path: Path, into: Path) -> Path:
    """The policy (and the reply files it names) as they were at `rev`, copied into `into`.
    The reply files are the ones the front end reads in that version's text; a path that
    leaves the policy's folder is not copied (compiling the copy then reports E0001)."""
    import subprocess

    from ..frontend.nodes import RepliesDecl
    from ..korean import quoted
    from ..frontend.parser import parse
    from ..pipeline import inside
    from ..source import SourceFile

    def show(rel: Path) -> str:
        top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=path.parent or ".", capture_output=True,
                             text=True)
        if top.returncode != 0:
            raise ValueError("git 저장소 안이 아닙니다")
        name = (rel.resolve()).relative_to(Path(top.stdout.strip()).resolve()).as_posix()
        shown = subprocess.run(["git", "show", "--end-of-options", f"{rev}:{name}"], cwd=top.stdout.strip(),
                               capture_output=True)
        if shown.returncode != 0:
            raise ValueError(f"{rev} 에 {quoted(name, '이/가')} 없습니다: {shown.stderr.decode(errors='replace').strip()}")
        return shown.stdout.decode("utf-8", errors="replace")

    text = show(path)
    target = into / path.name
    target.write_text(text, encoding="utf-8")
    module, _ = parse(SourceFile(target.as_posix(), text))
    for decl in module.items if module is not None else ():
        if isinstance(decl, RepliesDecl):
            source, copy = inside(path.parent, decl.path.value), inside(into, decl.path.value)
            if source is not None and copy is not None:
                copy.parent.mkdir(parents=True, exist_ok=True)
                copy.write_text(show(source), encoding="utf-8")
    return target


def cmd_doc(args) -> int:
    from ..tools.doc import build_doc, dot_source, render_svg, to_html, to_markdown

    folder = Path(args.output)
    if folder.exists() and not folder.is_dir():
        out(f"policyc: -o 에는 폴더를 줍니다. {folder}{particle(str(folder), '은/는')} 파일입니다 (문서 파일 여러 개를 그 폴더에 씁니다)", sys.stderr)
        return EXIT_USAGE
    result, module = load(Path(args.policy), args.policy)
    if module is None:
        print_errors(result)
        return POLICY_FAILS
    policy = result.policy
    try:
        svgs = {d.name: render_svg(dot_source(policy, d)) for d in policy.decisions}
    except (RuntimeError, OSError) as err:
        out(f"policyc: {err}", sys.stderr)
        return EXIT_USAGE
    doc = build_doc(result, module)
    files = {d: f"{policy.name}-{d}.svg" for d in svgs}
    for name, svg in svgs.items():
        write_atomic(folder / files[name], svg)
    write_atomic(folder / f"{policy.name}.md", to_markdown(doc, files))
    write_atomic(folder / f"{policy.name}.html", to_html(doc, svgs))
    out(f"문서: {(folder / f'{policy.name}.md').as_posix()}, {(folder / f'{policy.name}.html').as_posix()}", sys.stderr)
    return EXIT_OK


def cmd_decide(args) -> int:
    def fail(name: str, problem: str) -> int:
        out(jsontext.dumps({"error": {"name": name, "problem": problem}}))
        return EXIT_USAGE

    result, module = load(Path(args.policy), args.policy)
    if module is None:
        print_errors(result)
        diags = [d for d in result.diagnostics if d.severity == "error"]
        first = diags[0] if diags else None
        fail("policy", f"{first.span}: {first.message}" if first else "정책을 컴파일할 수 없습니다")
        return POLICY_FAILS
    try:
        context = parse_assignments(args.context, "--context")
        facts = read_json(read_stdin())
    except ValueError as err:
        return fail("input", str(err))
    try:
        decision = module.decide(facts)
        answer = decision_json(result.policy, decision)
        reply, missing = render_reply(result.policy, module, decision, context)
        answer["reply"] = reply
        if missing:
            answer["reply_needs"] = missing
    except module.PolicyInputError as err:
        return fail(err.name, err.problem)
    answer["source_sha256"] = result.policy.source_sha256
    out(jsontext.dumps(answer))
    return EXIT_OK


def cmd_lsp(args) -> int:
    try:
        from ..lsp import main
    except ImportError:
        out("policyc: 언어 서버에 필요한 패키지가 없습니다: pip install 'policyc[lsp]'", sys.stderr)
        return 2
    return main()


def cmd_serve(args) -> int:
    try:
        from ..serve.app import main
    except ImportError:
        out("policyc: 놀이터에 필요한 패키지가 없습니다: pip install 'policyc[serve]'", sys.stderr)
        return EXIT_USAGE
    try:
        return main(Path(args.root), args.port, args.open, out=lambda text, flush=True: out(text))
    except OSError as err:
        out(f"policyc: 서버를 열 수 없습니다: {err.strerror or err}", sys.stderr)
        return EXIT_USAGE
