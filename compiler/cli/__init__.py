"""`policyc`: the command line. One module per group of commands: args.py (the parser,
with each command's Korean help), compile.py (build, check, explain), author.py (test,
fmt, diff, doc, decide), data.py (batch, impact, audit); common.py holds what they share
(exit codes 0 done, 1 findings, 2 usage or bad input, 3 disclosure widens, 70 a policyc
bug)."""

from __future__ import annotations

import os
import sys

from .args import build_parser
from .author import cmd_decide, cmd_diff, cmd_doc, cmd_fmt, cmd_lsp, cmd_serve, cmd_test
from .common import EXIT_BUG, EXIT_USAGE, out
from .compile import cmd_build, cmd_check, cmd_explain
from .data import cmd_audit, cmd_batch, cmd_impact


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    handler = {"build": cmd_build, "check": cmd_check, "explain": cmd_explain, "decide": cmd_decide,
               "test": cmd_test, "fmt": cmd_fmt, "diff": cmd_diff,
               "doc": cmd_doc, "batch": cmd_batch,
               "impact": cmd_impact, "audit": cmd_audit, "lsp": cmd_lsp,
               "serve": cmd_serve}[args.command]
    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130
    except OSError as err:  # the file system said no (permissions, a full disk, a folder where a file goes)
        where = f": {err.filename}" if err.filename else ""
        out(f"policyc: 파일을 읽거나 쓸 수 없습니다{where} ({err.strerror or type(err).__name__})", sys.stderr)
        return EXIT_USAGE
    except Exception as err:  # a bug in policyc, never the author's fault
        if os.environ.get("POLICYC_DEBUG"):
            raise
        out(f"policyc: 내부 오류입니다 (policyc 의 버그): {type(err).__name__}: {err}\n"
            "POLICYC_DEBUG=1 로 다시 실행하면 자세한 내용을 볼 수 있습니다.", sys.stderr)
        return EXIT_BUG


def entry() -> None:
    """The console script. The command runs in a thread with a deep stack: the analysis
    recurses once per variable of a policy's fact space, and a policy of hundreds of bool
    facts must be checked, not end in RecursionError."""
    from ..pipeline import deep_stack

    def run() -> int:
        try:
            return main()
        except SystemExit as done:  # argparse's --help and usage errors
            return done.code if isinstance(done.code, int) else EXIT_USAGE

    try:
        code = deep_stack(run)
    except KeyboardInterrupt:  # Ctrl-C reaches the waiting thread, not the worker
        sys.exit(130)
    if sys.argv[1:2] in (["build"], ["check"]):
        # Everything is written and nothing is left to clean up: leave without freeing a
        # large policy's objects one by one (seconds at 100,000 rules), as mypy does.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code if isinstance(code, int) else 0 if code is None else 1)
    sys.exit(code)
