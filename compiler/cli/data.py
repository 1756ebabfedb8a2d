"""policyc batch, impact, audit: the policy over tables of tickets (DuckDB, Spark)."""

from __future__ import annotations

import sys
from pathlib import Path

from ..build import write_atomic
from ..middle import ir
from ..tools.tables import check_outputs, distinct_files
from .common import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    EXIT_WIDENS,
    POLICY_FAILS,
    compiled,
    out,
)


def policy_sources(path: str, policy: ir.Policy) -> tuple[Path, ...]:
    """The policy file and the reply files it reads, as paths from here."""
    replies = dict.fromkeys(Path(o.reply.origin.file) for o in policy.outcomes if o.reply.origin.file != policy.source_path)
    return (Path(path), *replies)


def cmd_batch(args) -> int:
    from ..backend.sql import batch_limits
    from ..tools.batch import run_batch, run_batch_spark

    try:
        for package in (("pyspark", "pyarrow") if args.engine == "spark" else ("duckdb", "pyarrow", "numpy")):
            __import__(package)
    except ImportError:
        extra = "spark" if args.engine == "spark" else "batch"
        out(f"policyc: --engine {args.engine} 에 필요한 패키지가 없습니다: pip install 'policyc[{extra}]'", sys.stderr)
        return EXIT_USAGE

    policy = compiled(args.policy)
    if policy is None:
        return POLICY_FAILS
    limits = batch_limits(policy, args.engine)
    if limits:
        out(f"policyc: 이 정책은 batch --engine {args.engine} 로 돌릴 수 없습니다 (W0610, `policyc check --batch` 가 미리 알려 줍니다): "
            + ", ".join(f"{what} ({span.line}행)" for span, what in limits), sys.stderr)
        return EXIT_USAGE
    output = Path(args.output)
    errors = Path(args.errors) if args.errors else output.with_suffix(".errors.parquet")
    sources = policy_sources(args.policy, policy)  # outputs may overwrite none of them
    for flag, path in (("--output", output), ("--errors", errors)):
        if path.suffix.lower() not in ("", ".parquet"):  # never Parquet bytes under a .csv name
            out(f"policyc: {flag} {path.as_posix()}: 결과는 Parquet 로만 씁니다. "
                f"`{path.with_suffix('.parquet').name}` 처럼 .parquet 로 끝나는 이름을 쓰세요", sys.stderr)
            return EXIT_USAGE
    try:
        if args.engine == "spark":
            done = run_batch_spark(policy, Path(args.input), output, errors, policy_files=sources)
        else:
            progress = sys.stdout.isatty() if args.progress is None else args.progress
            done = run_batch(policy, Path(args.input), output, errors, progress=progress,
                             memory_limit=args.memory_limit, policy_files=sources)
    except ValueError as err:
        out(f"policyc: {err}", sys.stderr)
        return EXIT_USAGE
    out(f"입력 {done.rows}행: 결정 {done.decided}행 -> {output.as_posix()}, "
        f"잘못된 사실 {done.errors}행 -> {errors.as_posix()}", sys.stderr)
    return EXIT_OK


def cmd_impact(args) -> int:
    from ..tools.impact import impact, impact_csv, impact_html, impact_table

    old, new = compiled(args.old), compiled(args.new)
    if old is None or new is None:
        return POLICY_FAILS
    try:
        reports = {"--csv": Path(args.csv) if args.csv else None, "--html": Path(args.html) if args.html else None}
        inputs = {"입력": Path(args.input)} | {f"정책 파일 {p}": p for p in (*policy_sources(args.old, old),
                                                                        *policy_sources(args.new, new))}
        distinct_files(inputs, reports)
        for report in reports.values():
            if report is not None:
                check_outputs(report)
        total, rows = impact(old, new, Path(args.input))
    except ValueError as err:
        out(f"policyc: {err}", sys.stderr)
        return EXIT_USAGE
    out(impact_table(total, rows))
    if args.csv:
        write_atomic(Path(args.csv), impact_csv(rows))
    if args.html:
        write_atomic(Path(args.html), impact_html(total, rows, f"{args.old} → {args.new}"))
    if any(r.widens for r in rows):
        return EXIT_WIDENS
    return EXIT_FINDINGS if rows else EXIT_OK


def cmd_audit(args) -> int:
    from ..tools.impact import audit, audit_table

    policy = compiled(args.policy)
    if policy is None:
        return POLICY_FAILS
    try:
        total, rows = audit(policy, Path(args.input), args.recorded)
    except ValueError as err:
        out(f"policyc: {err}", sys.stderr)
        return EXIT_USAGE
    out(audit_table(total, rows))
    if any(r.forbidden for r in rows):
        return EXIT_WIDENS
    return EXIT_FINDINGS if rows else EXIT_OK
