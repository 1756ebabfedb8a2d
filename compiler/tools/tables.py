"""Tables of tickets for batch, impact and audit: named literally, checked, counted.

    with workspace() as folder:                 a private folder, removed afterwards
        table = open_table(path, folder)        Table(columns, rows, ...) or ValueError

A table is read exactly as named, never as a pattern (`tickets[2024].csv` is that file,
not `tickets2.csv`): the engines read it through a link with a plain name in a private
folder. Its rows are counted by policyc itself, not by the engine that decides them, so a
row an engine drops cannot go unnoticed: a CSV file is parsed once more by Python's `csv`
module (which also finds ragged rows, preamble lines and duplicate headers, with their
line numbers), a Parquet file's count is read from its footer.

CSV is read in one pinned dialect, never sniffed: UTF-8 (a BOM is allowed), a header line,
comma-separated, `"` quotes with `""` inside them, no comment character, an empty field is
a missing value.

Private folders and temporary outputs carry the process id of the run that made them; a
run removes those of runs that are no longer alive (killed, out of memory), so nothing
piles up in the temporary folder or beside the outputs.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..backend.sql import check_names, text
from ..korean import particle

MAX_FIELD = 2_097_152  # bytes in one CSV field or line: DuckDB's max_line_size, and csv's limit here
_PREFIX = "policyc-"


@dataclass(frozen=True)
class Table:
    path: Path        # as the user named it
    link: Path        # a plain name the engines read
    kind: str         # "csv" | "parquet"
    columns: tuple[str, ...]
    rows: int         # counted by policyc, independently of the engines

    def duckdb(self, numbered: bool = False) -> str | None:
        """The table as a DuckDB table function; `numbered` adds each row's position
        (file_row_number), which only Parquet has (None for CSV)."""
        if self.kind == "csv":
            if numbered:
                return None
            columns = "{" + ", ".join(f"{text(c)}: 'VARCHAR'" for c in self.columns) + "}"
            return (f"read_csv({text(str(self.link))}, header = true, auto_detect = false, columns = {columns}, "
                    f"delim = ',', quote = '\"', escape = '\"', comment = '', skip = 0, strict_mode = true, "
                    f"null_padding = false, max_line_size = {MAX_FIELD}, encoding = 'utf-8')")
        return f"read_parquet({text(str(self.link))}{', file_row_number = true' if numbered else ''})"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    except OSError:
        return True
    return True


def _pid_of(name: str, prefix: str) -> int | None:
    head = name[len(prefix):].split(".", 1)[0].split("-", 1)[0]
    return int(head) if name.startswith(prefix) and head.isdigit() else None


def _remove(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    except OSError:  # someone else's, or gone already: not ours to insist on
        pass


def clean_stale(folder: Path, prefix: str) -> list[Path]:
    """Remove what a run that is no longer alive left in `folder` (names `prefix<pid>...`,
    owned by this user); the paths removed."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        pid = _pid_of(entry.name, prefix)
        if pid is None or pid == os.getpid() or _alive(pid):
            continue
        try:
            if entry.stat(follow_symlinks=False).st_uid != os.getuid():
                continue
        except OSError:
            continue
        _remove(Path(entry.path))
        removed.append(Path(entry.path))
    return removed


@contextmanager
def workspace():
    """A private temporary folder for one run (links to the inputs, DuckDB's spill files,
    intermediate tables), removed afterwards; folders that killed runs left are removed
    first."""
    base = Path(tempfile.gettempdir())
    clean_stale(base, _PREFIX)
    folder = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-", dir=base))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def temporary_output(path: Path, tag: str) -> Path:
    """Where an output is written before it replaces `path`: the same folder (so the rename
    is atomic), under a name with no character of the user's (an engine may read it back,
    and Spark's paths treat `[`, `{`, `*` and `:` as syntax). Leftovers of dead runs in that
    folder are removed now."""
    prefix = ".policyc-"
    clean_stale(path.parent, prefix)
    digest = hashlib.sha256(path.name.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return path.with_name(f"{prefix}{os.getpid()}.{tag}.{digest}.tmp")


def _same(a: Path, b: Path) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _contains(folder: Path, path: Path) -> bool:
    """Whether `path` lies inside `folder` (links followed)."""
    try:
        return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(folder))
    except (OSError, ValueError):
        return False


def distinct_files(inputs: dict[str, Path | None], outputs: dict[str, Path | None]) -> None:
    """ValueError when an output is an input or another output (the same path, through a
    link, or a hard link), or a folder that holds one (Spark writes an output as a folder
    and replaces it whole): writing it would destroy what it replaces. Inputs may repeat."""
    given = [(what, path) for what, path in inputs.items() if path is not None]
    for what, path in outputs.items():
        if path is None:
            continue
        for other_what, other in given:
            if _same(path, other) or _contains(path, other):
                raise ValueError(f"{what}{particle(what, '이/가')} {other_what}{particle(other_what, '과/와')} "
                                 f"같은 파일이거나 그것을 담은 폴더입니다: {other} / {path}"
                                 " (다른 이름을 주세요; 아무것도 바꾸지 않았습니다)")
        given.append((what, path))


def check_outputs(*paths: Path, parts: bool = False) -> None:
    """ValueError for an output that cannot be written where it is named. With `parts`
    (Spark writes an output as a folder of Parquet parts) an existing folder may be
    replaced only when it holds nothing but such parts."""
    for path in paths:
        if not path.parent.is_dir():
            raise ValueError(f"출력 폴더가 없습니다: {path.parent}")
        if path.is_symlink():  # replacing it would replace the link, not what it points at
            raise ValueError(f"출력 경로가 링크입니다 (보통 파일의 이름을 주세요): {path}")
        if not path.exists():
            continue
        if path.is_dir():
            if not parts:
                raise ValueError(f"출력 경로가 폴더입니다 (파일 이름을 주세요): {path}")
            foreign = [p.name for p in path.iterdir() if not _SPARK_PART.fullmatch(p.name)]
            if foreign:
                raise ValueError(f"출력 폴더에 Spark 가 쓴 조각이 아닌 것이 있어 바꾸지 않습니다: {path} "
                                 f"({', '.join(sorted(foreign)[:3])})")
        elif not path.is_file():  # a device, a FIFO: never replaced by a file
            raise ValueError(f"출력 경로가 보통 파일이 아닙니다: {path}")


# what Spark writes into an output folder: part files, their checksums, the success marker
_SPARK_PART = re.compile(r"\.?part-[0-9]+-[0-9a-f-]+(\.c[0-9]+)?(\.[a-z0-9]+)*\.parquet(\.crc)?|\.?_SUCCESS(\.crc)?")


def open_table(path: Path, folder: Path) -> Table:
    """Check `path` and link it into `folder` under a plain name; its columns and rows."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise ValueError(f"입력은 .csv 나 .parquet 이어야 합니다: {path}")
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        raise ValueError(f"입력 파일이 없습니다: {path}") from None
    if not real.is_file():  # a folder, a FIFO, a device
        raise ValueError(f"입력이 보통 파일이 아닙니다: {path}")
    link = folder / f"input{'.csv' if suffix == '.csv' else '.parquet'}"
    link.unlink(missing_ok=True)
    os.symlink(real, link)
    columns, rows = (_csv_shape if suffix == ".csv" else _parquet_shape)(link, path)
    check_names(columns)
    return Table(path, link, "csv" if suffix == ".csv" else "parquet", columns, rows)


class _LineEnds:
    """The file's lines, as csv.reader reads them, noting how each record ends: one file,
    one kind of line end (\\n, \\r\\n or \\r) between records; a mix is read differently by
    the engines (DuckDB rejects it, Spark keeps a stray \\r in the last field). Line ends
    inside a quoted field are the field's own and may differ."""

    def __init__(self, handle) -> None:
        self.handle = handle
        self.last = ""
        self.kind: str | None = None

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = next(self.handle)
        self.last = "\r\n" if line.endswith("\r\n") else line[-1:] if line[-1:] in ("\n", "\r") else ""
        return line

    def record_ended(self, shown: Path, line: int) -> None:
        if not self.last:  # the last record, with no line end after it
            return
        if self.kind is None:
            self.kind = self.last
        elif self.last != self.kind:
            names = {"\n": "LF", "\r\n": "CRLF", "\r": "CR"}
            raise ValueError(f"{shown}:{line}: 줄바꿈이 섞여 있습니다 ({names[self.kind]} 와 {names[self.last]}): "
                             "편집기에서 한 가지 줄바꿈으로 저장하세요")


def _parquet_shape(link: Path, shown: Path) -> tuple[tuple[str, ...], int]:
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(link).metadata
        names = tuple(meta.schema.to_arrow_schema().names)
        return names, meta.num_rows
    except Exception as err:  # pyarrow's own errors for a file that is not Parquet
        raise ValueError(f"Parquet 파일을 읽을 수 없습니다: {shown} ({str(err).splitlines()[0][:200]})") from None


def _csv_shape(link: Path, shown: Path) -> tuple[tuple[str, ...], int]:
    """The header and the number of records, read by Python's csv module in the pinned
    dialect; ValueError with the line number for a record the decided table would not
    have in the same shape."""
    old = csv.field_size_limit()
    csv.field_size_limit(MAX_FIELD)
    try:
        with open(link, newline="", encoding="utf-8-sig") as handle:
            ends = _LineEnds(handle)
            reader = csv.reader(ends, delimiter=",", quotechar='"', doublequote=True, strict=True)
            try:
                header = next(reader, None)
                if header is None:
                    raise ValueError(f"CSV 파일이 비어 있습니다 (첫 줄은 열 이름이어야 합니다): {shown}")
                width = len(header)
                rows = 0
                ends.record_ended(shown, reader.line_num)
                for record in reader:
                    ends.record_ended(shown, reader.line_num)
                    if len(record) != width:
                        where = f"{shown}:{reader.line_num}"
                        if not record:
                            raise ValueError(f"{where}: 빈 줄입니다 (CSV 에는 빈 줄을 둘 수 없습니다)")
                        raise ValueError(f"{where}: 값이 {len(record)}개인데 머리글의 열은 {width}개입니다"
                                         + (" (머리글 앞에 다른 줄이 있지 않은지 보세요)" if rows == 0 else ""))
                    rows += 1
            except csv.Error as err:
                raise ValueError(f"{shown}:{reader.line_num}: CSV 를 읽을 수 없습니다 ({err})") from None
    except UnicodeDecodeError:
        raise ValueError(f"CSV 파일이 UTF-8 이 아닙니다: {shown} (편집기에서 UTF-8 로 저장하세요)") from None
    except OSError as err:
        raise ValueError(f"입력을 읽을 수 없습니다: {shown} ({err.strerror})") from None
    finally:
        csv.field_size_limit(old)
    return tuple(header), rows
