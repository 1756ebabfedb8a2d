"""The whole front and middle of the compiler, one stage after another.

    compile_policy(path, shown_as, overlaps=False) -> Result(policy | None, diagnostics, sources)

parse -> resolve (names, types) -> reply files -> templates -> lower (IR) -> analysis
(unused declarations; gaps, dead rules, overlaps, implied conditions, invariants).

Each stage takes data and returns new data plus diagnostics. The pipeline stops
after a stage that reported errors and goes on past warnings, so everything one
stage can find is reported at once. Nothing here raises for bad input.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

from .analysis.checks import analyze
from .backend.sql import batch_limits
from .middle.guards import check as check_guards
from .analysis.unused import unused
from .diagnostics import Diagnostic, has_errors, sort_key
from .frontend.bidi import bidi_controls
from .frontend.parser import Comment, parse_with_comments
from .frontend.replies_yaml import RepliesFile, load_replies
from .middle import ir
from .middle.lower import lower
from .middle.resolve import resolve
from .middle.templates import check_replies
from .source import SourceFile, Span


@dataclass
class Result:
    policy: ir.Policy | None
    diagnostics: list[Diagnostic]
    sources: dict[str, SourceFile] = field(default_factory=dict)
    comments: list[Comment] = field(default_factory=list)  # the policy file's, in order (doc shows them)

    @property
    def ok(self) -> bool:
        return self.policy is not None and not has_errors(self.diagnostics)


MAX_POLICY_BYTES = 64 * 2**20   # a policy of 100,000 rules is about 12 MB
MAX_YAML_BYTES = 8 * 2**20      # reply and test files


def read_source(path: Path, shown_as: str, at: Span | None = None,
                limit: int = MAX_POLICY_BYTES) -> tuple[SourceFile | None, list[Diagnostic]]:
    """A source file as text (UTF-8, a BOM dropped, CRLF read as LF), or E0001. Only a
    regular file of at most `limit` bytes is read: a FIFO would hang the compiler and
    /dev/zero would fill its memory; neither is opened for more than a look at its kind."""
    where = at or Span(shown_as, 1, 1, 1, 1)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO opens without waiting
    except FileNotFoundError:
        return None, [Diagnostic("E0001", where, f"파일이 없습니다: {shown_as}", "경로와 파일 이름을 확인하세요")]
    except OSError as err:
        return None, [Diagnostic("E0001", where, f"파일을 읽을 수 없습니다: {shown_as} ({err.strerror})",
                                 "파일 권한과 경로를 확인하세요")]
    except ValueError:  # a path no file system accepts (a NUL byte in it); found by atheris
        return None, [Diagnostic("E0001", where, f"쓸 수 없는 파일 경로입니다: {shown_as!r}",
                                 "경로에 보이지 않는 문자(NUL 등)가 없는지 확인하세요")]
    try:
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                return None, [Diagnostic("E0001", where, f"보통 파일이 아닙니다: {shown_as}",
                                         "폴더, 장치, FIFO 는 읽지 않습니다. 정책과 YAML 은 보통 파일로 두세요")]
            data = handle.read(limit + 1) if info.st_size <= limit else b""
    except OSError as err:
        return None, [Diagnostic("E0001", where, f"파일을 읽을 수 없습니다: {shown_as} ({err.strerror})",
                                 "파일 권한과 경로를 확인하세요")]
    if info.st_size > limit or len(data) > limit:
        return None, [Diagnostic("E0001", where, f"파일이 너무 큽니다: {shown_as} (최대 {limit // 2**20} MB)",
                                 "정책을 여러 파일로 나누거나 파일이 맞는지 확인하세요")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        return None, [Diagnostic("E0001", Span(shown_as, line, 1, line, 2),
                                 f"UTF-8 이 아닌 바이트가 있습니다 ({err.start} 번째 바이트)",
                                 "편집기에서 파일을 UTF-8 로 저장하세요")]
    if text.startswith("\ufeff"):
        text = text[1:]
    return SourceFile(shown_as, text.replace("\r\n", "\n")), []


def inside(folder: Path, rel: str) -> Path | None:
    """`folder/rel` when it is a relative path that stays inside `folder` once `..` and
    symbolic links are followed; None otherwise. A policy names its reply files this way:
    an absolute path, `../`, or a link out of the folder would let a policy read (and
    print in its diagnostics, or compile into generated/) any file on the machine."""
    if not rel or "\0" in rel or Path(rel).is_absolute() or Path(rel).drive:
        return None
    try:
        base = folder.resolve()
        target = (base / rel).resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    return target if target.is_relative_to(base) and target != base else None


def _finish(policy, diags, sources, comments=()) -> Result:
    return Result(policy, sorted(diags, key=sort_key), sources, list(comments))


@contextlib.contextmanager
def no_gc():
    """Compiling builds hundreds of thousands of small objects and frees few; the cyclic
    collector would rescan them all again and again (measured: a third of a large check)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def compile_policy(path: Path, shown_as: str | None = None, overlaps: bool = False,
                   analysis: bool = True, overlay: Mapping[Path, str] | None = None,
                   meanwhile: Callable[[ir.Policy], None] | None = None) -> Result:
    """`analysis=False` stops after lowering (tests use it to run the analysis on
    policies it will reject). `meanwhile(policy)` is called with the lowered policy just
    before the analysis (build starts generating the module there, in another process)."""
    with no_gc():
        try:
            return _compile(path, shown_as, overlaps, analysis, overlay or {}, meanwhile)
        except RecursionError:  # the analysis recurses once per variable: hundreds of bool facts
            return deep_stack(lambda: _compile(path, shown_as, overlaps, analysis, overlay or {}, meanwhile))


def batch_warnings(policy: ir.Policy) -> list[Diagnostic]:
    """W0610 for what `policyc batch` cannot run in `policy`, on DuckDB or only on Spark
    (`check --batch` shows it, `batch` turns the policy down with it before reading a row)."""
    duckdb = batch_limits(policy)
    spark = [x for x in batch_limits(policy, "spark") if x not in duckdb]
    out = []
    for limits, engines in ((duckdb, "policyc batch"), (spark, "policyc batch --engine spark")):
        if limits:
            span, what = limits[0]
            others = f" 외 {len(limits) - 1}곳" if len(limits) > 1 else ""
            out.append(Diagnostic("W0610", span, f"이 정책은 {engines} 로 돌릴 수 없습니다: {what}{others}",
                                  "decide() 와 explain, test, doc 은 됩니다. 표 전체를 결정하려면 생성된 모듈의 "
                                  "decide() 를 쓰세요", "batch 의 SQL 이 아직 모르는 구문"))
    return out


def deep_stack(work):
    """`work()` in a thread with a 1 GB stack and a recursion limit to match (`policyc`
    runs every command that way; this is for callers of compile_policy that do not)."""
    import sys
    import threading

    result: list = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            result.append(work())
        except BaseException as err:  # handed back to the caller's thread
            errors.append(err)

    old_limit, old_size = sys.getrecursionlimit(), threading.stack_size()
    sys.setrecursionlimit(max(old_limit, 200_000))
    threading.stack_size(1024 * 1024 * 1024)
    try:
        worker = threading.Thread(target=run, name="policyc-deep", daemon=True)
        worker.start()
        worker.join()
    finally:
        threading.stack_size(old_size)
        sys.setrecursionlimit(old_limit)
    if errors:
        raise errors[0]
    return result[0]


def _compile(path: Path, shown_as: str | None, overlaps: bool, analysis: bool,
             overlay: Mapping[Path, str], meanwhile: Callable[[ir.Policy], None] | None = None) -> Result:
    """`overlay`: texts that stand for files (an editor's unsaved buffers), by resolved path."""
    shown_as = shown_as or path.as_posix()

    def read(at_path: Path, shown: str, at: Span | None = None, limit: int = MAX_POLICY_BYTES):
        try:
            text = overlay.get(at_path.resolve()) if overlay else None
        except (OSError, RuntimeError, ValueError):
            text = None
        if text is not None:
            return SourceFile(shown, text.lstrip("\ufeff").replace("\r\n", "\n")), []
        return read_source(at_path, shown, at, limit)

    source, diags = read(path, shown_as)
    if source is None:
        return _finish(None, diags, {})
    sources = {shown_as: source}
    module, comments, diags = parse_with_comments(source)
    diags = bidi_controls(source) + diags
    if module is None or has_errors(diags):
        return _finish(None, diags, sources, comments)

    resolved, found = resolve(module, path.stem, shown_as)
    diags += found

    yaml_files: list[RepliesFile] = []
    digest = hashlib.sha256(source.text.encode("utf-8"))
    for named in resolved.replies_files:
        rel = named.value
        yaml_shown = (Path(shown_as).parent / rel).as_posix()
        yaml_path = inside(path.parent, rel) if "\0" not in rel else path.parent / rel
        if yaml_path is None:
            diags.append(Diagnostic("E0001", named.span, "답변 파일은 정책 파일과 같은 폴더(또는 그 아래)에 있어야 합니다",
                                    "정책 폴더 안의 상대 경로를 쓰세요 (예: replies \"driver_info.replies.yaml\"); "
                                    "절대 경로, `..`, 폴더 밖을 가리키는 링크는 읽지 않습니다", "정책 폴더 밖의 파일"))
            continue
        ysource, found = read(yaml_path, yaml_shown, named.span, MAX_YAML_BYTES)
        diags += found
        if ysource is None:
            continue
        sources[yaml_shown] = ysource
        diags += bidi_controls(ysource)
        # the path as the policy writes it, so the hash is the same from any working directory
        digest.update(b"\0" + rel.encode("utf-8") + b"\0" + ysource.text.encode("utf-8"))
        loaded, found = load_replies(ysource)
        diags += found
        if loaded is not None:
            yaml_files.append(loaded)
    if has_errors(diags):
        return _finish(None, diags, sources, comments)

    (replies, snippets), found = check_replies(resolved, yaml_files, sources)
    diags += found
    if has_errors(diags):
        return _finish(None, diags, sources, comments)
    policy = lower(resolved, replies, snippets, shown_as, digest.hexdigest())
    diags += check_guards(policy)
    if has_errors(diags):
        return _finish(None, diags, sources, comments)
    if not analysis:
        return _finish(policy, diags, sources, comments)
    if meanwhile is not None:
        meanwhile(policy)
    diags += unused(policy)
    diags += analyze(policy, overlaps=overlaps)

    if has_errors(diags):
        return _finish(None, diags, sources, comments)
    return _finish(policy, diags, sources, comments)
