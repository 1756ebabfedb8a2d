"""The standing guard of issue 10 (hypothesis): hostile tables for `policyc batch`, hostile
policy text for the compiler, hostile values for the generated module. Only the errors
policyc documents come out (ValueError with a message for a table, diagnostics for a
policy, PolicyInputError for facts), never a traceback; no table row is lost or decided
other than decide() decides it; a CLI run exits 0-3, never 70 (a policyc bug)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.backend.python import generate
from compiler.diagnostics import render_text
from compiler.pipeline import compile_policy

from .conftest import ROOT

duckdb = pytest.importorskip("duckdb")
pq = pytest.importorskip("pyarrow.parquet")

FACTS = ["request", "trip_status", "ride_at", "asked_at", "history_available", "reason", "repeat_request"]
RESERVED = ["__ok", "__f_request", "__r0", "__in0", "__in2", "__row", "policy_error", "outcome", "file_row_number",
            "Request", "RIDE_AT", "ticket_id", "", " "]
CELLS = ["driver_phone", "vehicle_plate", "completed", "in_progress", "other", "lost_item", "true", "false",
         "2024-03-01T10:00:00+09:00", "2024-03-04T10:00:00+09:00", "9999-12-31T23:59:59Z", "#", "# 주석", "#1",
         "=cmd|'/C calc'!A0", "", '"', '""', "a,b", "줄\n바꿈", "\r", "NULL", "\u202e", "x" * 300]
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                          HealthCheck.function_scoped_fixture])


@st.composite
def hostile_csv(draw) -> str:
    """A CSV text: the facts' columns, maybe dropped, renamed or doubled, extra columns named
    like the query's own; cells with `#`, quotes, separators, newlines; some ragged rows,
    blank lines and preamble."""
    header = [c for c in FACTS if draw(st.integers(0, 9)) > 0]
    header += draw(st.lists(st.sampled_from(RESERVED), max_size=3))
    header = header or ["ticket_id"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    if draw(st.integers(0, 9)) == 0:
        out.write("exported by the app\n")
    writer.writerow(header)
    for _ in range(draw(st.integers(0, 12))):
        width = len(header) if draw(st.integers(0, 12)) else draw(st.integers(0, len(header) + 2))
        row = [draw(st.sampled_from(CELLS)) for _ in range(width)]
        if draw(st.integers(0, 20)) == 0:
            out.write("\n")
        writer.writerow(row)
    return out.getvalue()


@pytest.fixture(scope="module")
def policy():
    return compile_policy(ROOT / "policy/driver_info.policy", "policy/driver_info.policy").policy


def _decide(module, record: dict):
    facts = {k: v for k, v in record.items() if k in FACTS and v not in (None, "")}
    for name in ("history_available", "repeat_request"):
        if name in facts:
            facts[name] = {"true": True, "false": False}.get(facts[name], facts[name])
    try:
        d = module.decide(facts)
    except module.PolicyInputError:
        return None
    return d.outcome, d.rule


@SETTINGS
@given(hostile_csv())
def test_hostile_tables_lose_no_row(tmp_path_factory, policy, driver_info, text):
    from compiler.tools.batch import run_batch

    folder = tmp_path_factory.mktemp("csv")
    source = folder / "t.csv"
    source.write_text(text, encoding="utf-8", newline="")
    try:
        done = run_batch(policy, source, folder / "out.parquet", folder / "errors.parquet")
    except ValueError as err:  # refused, with a reason, nothing written
        assert str(err) and not (folder / "out.parquet").exists()
        return
    records = list(csv.DictReader(io.StringIO(text, newline="")))
    assert done.rows == len(records) == done.decided + done.errors
    decided = pq.read_table(folder / "out.parquet").to_pylist()
    errors = pq.read_table(folder / "errors.parquet").to_pylist()
    assert len(decided) + len(errors) == len(records)
    # rows come back in input order; every decided row is the module's decision
    wanted = [_decide(driver_info, r) for r in records]
    assert [(d["outcome"], d["rule"]) for d in decided] == [w for w in wanted if w is not None]
    assert len(errors) == sum(w is None for w in wanted)


POLICY = (ROOT / "policy/driver_info.policy").read_text(encoding="utf-8")
HOSTILE_PIECES = ["9" * 400, "not " * 150, "(" * 120 + "history_available" + ")" * 120, " and history_available" * 400,
                  "{{ 9 ** (9 ** 9) }}", "{{ 'x' * 99999999 }}", "{{ SAFE_CALL_NUMBER['x'] }}", "{{ self }}",
                  "{{ loop }}", "{% set x = 1 %}", "{% for x in ACTIVE %}{{ x }}{% endfor %}", "\u202e", "\u2066",
                  'replies "/etc/passwd"', 'replies "../README.md"', "999999999999999999999일", "1" * 40 + "h",
                  "\x00", "\ufeff", "# " + "가" * 5000, "{" * 50]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, len(POLICY)), st.sampled_from(HOSTILE_PIECES)), min_size=1, max_size=3))
def test_hostile_policy_text_gives_diagnostics(tmp_path_factory, edits):
    text = POLICY
    for at, piece in sorted(edits, reverse=True):
        text = text[:at] + piece + text[at:]
    folder = tmp_path_factory.mktemp("policy")
    (folder / "driver_info.policy").write_text(text, encoding="utf-8")
    (folder / "driver_info.replies.yaml").write_text((ROOT / "policy/driver_info.replies.yaml").read_text(
        encoding="utf-8"), encoding="utf-8")
    result = compile_policy(folder / "driver_info.policy", "policy/driver_info.policy")
    rendered = render_text(result.diagnostics, result.sources)
    assert max((len(line) for line in rendered.splitlines()), default=0) < 400  # long lines are cut
    if result.ok:
        compile(generate(result.policy), "generated/driver_info.py", "exec")
    else:
        assert any(d.severity == "error" for d in result.diagnostics)


def test_the_cli_never_exits_70_on_hostile_input(tmp_path: Path):
    """Each attack of issue 10 through the command line: a clear message and exit 1 or 2."""
    import os
    import subprocess
    import sys

    def cli(*args, stdin=""):
        return subprocess.run([sys.executable, "-m", "compiler.cli", *map(str, args)], cwd=ROOT, input=stdin,
                              capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)

    deep_json = "[" * 100_000 + "]" * 100_000
    (tmp_path / "facts.json").write_text(deep_json, encoding="utf-8")
    (tmp_path / "a_file").write_text("x", encoding="utf-8")
    fifo = tmp_path / "fifo.policy"
    os.mkfifo(fifo)
    runs = [
        cli("decide", "policy/driver_info.policy", stdin=deep_json),
        cli("explain", "policy/driver_info.policy", tmp_path / "facts.json"),
        cli("decide", "policy/driver_info.policy", "--context", "driver_phone=" + "[" * 100_000, stdin="{}"),
        cli("doc", "policy/driver_info.policy", "-o", tmp_path / "a_file"),
        cli("check", fifo),
        cli("check", "/dev/zero"),
    ]
    for result in runs:
        assert result.returncode in (1, 2), (result.args, result.returncode, result.stderr[-500:])
        assert "Traceback" not in result.stderr and "내부 오류" not in result.stderr
    assert "폴더" in runs[3].stderr


def test_doc_markdown_shows_labels_as_text(tmp_path: Path):
    """A label with HTML or Markdown in it is shown as written, in the Markdown as in the HTML."""
    from compiler.tools.doc import build_doc, to_html, to_markdown
    from compiler.tools.load import load

    path = tmp_path / "labels.policy"
    path.write_text('policy labels "<script>alert(1)</script> [클릭](http://x) | # 제목"\n'
                    'fact k "<img src=x onerror=alert(1)> *굵게* `코드`": bool\n'
                    'outcome yes "예 <b>" { reply "예" }\noutcome no "아니오" { reply "아니오" }\n'
                    'decision d "결정 ![x](y)" (first) {\n  rule r "규칙 <i>": when k then yes\n  otherwise no\n}\n',
                    encoding="utf-8")
    result, module = load(path)
    assert module is not None, result.diagnostics
    doc = build_doc(result, module)
    md = to_markdown(doc, {"d": "labels-d.svg"})
    assert "<script>" not in md and "<img" not in md and "<b>" not in md and "<i>" not in md
    assert "&lt;script&gt;" in md and "\\[클릭\\]" in md and "\\*굵게\\*" in md
    page = to_html(doc, {"d": "<svg></svg>"})
    assert "<script>" not in page and "<img" not in page
