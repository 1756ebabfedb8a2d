"""The same attacks as issue 10's, written a little differently (found by a second review):
each must be refused with a message, or decided as decide() decides it, never exit 70."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from compiler.pipeline import compile_policy
from compiler.tools.load import load

from .conftest import ROOT

duckdb = pytest.importorskip("duckdb")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from compiler.tools.batch import run_batch  # noqa: E402


def _cli(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "compiler.cli", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, input=stdin, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)


def _policy(tmp_path: Path, name: str, text: str):
    path = tmp_path / f"{name}.policy"
    path.write_text(text, encoding="utf-8")
    return path


DUE = '''policy due "t"
fact kind "k": enum { a "a" b "b" }
fact at "t": timestamp
let due "d" = at + 1일
outcome yes "y" { reply "y" }
outcome no "n" { reply "n" }
decision reply "r" (first) {
  rule r1: when kind = a and due > at then yes
  otherwise no
}
'''


def test_a_garbled_timestamp_beside_a_derived_instant_is_one_refused_row(tmp_path):
    path = _policy(tmp_path, "due", DUE)
    table = tmp_path / "t.csv"
    table.write_text("id,kind,at\n1,a,2024-03-01T10:00:00+09:00\n2,a,yesterday\n3,a,short\n"
                     "4,a,2024-03-01T10:00:00+0x:00\n", encoding="utf-8")
    result = _cli("batch", path, "--input", table, "--output", tmp_path / "o.parquet")
    assert result.returncode == 0, result.stderr
    refused = pq.read_table(tmp_path / "o.errors.parquet").column("id").to_pylist()
    assert refused == ["2", "3", "4"] and pq.read_table(tmp_path / "o.parquet").num_rows == 1


def test_outputs_that_are_not_regular_files_are_never_replaced(tmp_path):
    source = tmp_path / "t.csv"
    source.write_text("id,kind,at\n1,a,2024-03-01T10:00:00+09:00\n", encoding="utf-8")
    path = _policy(tmp_path, "due", DUE)
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "target.parquet").write_bytes(b"keep")
    os.symlink(tmp_path / "target.parquet", tmp_path / "link.parquet")
    for output in ("fifo", "link.parquet"):
        result = _cli("batch", path, "--input", source, "--output", tmp_path / output, "--errors", tmp_path / "e.parquet")
        assert result.returncode == 2, result.stderr
    assert (tmp_path / "fifo").is_fifo() and (tmp_path / "link.parquet").is_symlink()
    assert (tmp_path / "target.parquet").read_bytes() == b"keep"
    # nor the policy's reply file
    shown = ROOT / "policy/driver_info.replies.yaml"
    before = shown.read_bytes()
    result = _cli("batch", "policy/driver_info.policy", "--input", source, "--output", tmp_path / "x.parquet",
                  "--errors", "policy/driver_info.replies.yaml")
    assert result.returncode == 2 and shown.read_bytes() == before


def test_fmt_writes_through_a_link_and_keeps_it(tmp_path):
    real = tmp_path / "real.policy"
    real.write_text('policy real\nfact k "k": bool\noutcome y "y" { reply "y" }\ndecision d (first) { otherwise y }\n',
                    encoding="utf-8")
    os.symlink(real, tmp_path / "linked.policy")
    assert _cli("fmt", tmp_path / "linked.policy").returncode == 0
    assert (tmp_path / "linked.policy").is_symlink() and "reply \"y\"\n}" in real.read_text(encoding="utf-8")


NUMBERS = '''policy nums "numbers"
fact amount "금액": number
fact big "큰 수": number = 0
outcome low "낮음" { reply "낮음" }
outcome high "높음" { reply "높음" }
decision d (first) {
  rule r1: when amount >= 0.3 and big < 900000000000000 then high
  otherwise low
}
'''


def test_numbers_are_exact_decimals_in_decide_and_in_sql(tmp_path):
    path = _policy(tmp_path, "nums", NUMBERS)
    result, module = load(path)
    assert module is not None, result.diagnostics
    assert module.decide({"amount": 0.3}).outcome == "high"  # the decimal 0.3, not the float under it
    assert module.decide({"amount": Decimal("0.299999999")}).outcome == "low"
    for bad in (0.1 + 0.2, 10 ** 15, Decimal("0.0000000001"), float("nan"), "0.3", True):
        with pytest.raises(module.PolicyInputError):
            module.decide({"amount": bad})
    texts = ["0.3", "0.299999999", "1_000", " 5", "1e3", "0.0000000001", "999999999999999", "1000000000000000", "-2.5"]
    table = tmp_path / "t.csv"
    table.write_text("id,amount\n" + "".join(f"{i},{t}\n" for i, t in enumerate(texts)), encoding="utf-8")
    run_batch(result.policy, table, tmp_path / "o.parquet", tmp_path / "e.parquet")
    decided = {int(r["id"]): r["outcome"] for r in pq.read_table(tmp_path / "o.parquet").to_pylist()}
    for i, text in enumerate(texts):
        try:
            value = Decimal(text) if text.strip() == text and "_" not in text and "e" not in text else None
            want = module.decide({"amount": value}).outcome if value is not None else None
        except module.PolicyInputError:
            want = None
        assert decided.get(i) == want, (text, decided.get(i), want)
    # a float column is refused before anything runs: 0.3 cannot be written exactly in one
    pq.write_table(pa.table({"amount": pa.array([0.3])}), tmp_path / "f.parquet")
    with pytest.raises(ValueError, match="부동소수점"):
        run_batch(result.policy, tmp_path / "f.parquet", tmp_path / "o2.parquet", tmp_path / "e2.parquet")


@pytest.mark.parametrize("text,code", [
    ('fact k "k": enum { a "a" b "b" }\noutcome y "y" { reply "y" }\n'
     'decision d (first) { rule r: when k not in {} then y\n otherwise y }\n', "E0304"),
    ('fact k "k": bool\noutcome y "y" { reply "y" }\ndecision d (first) { otherwise y }\n'
     'decision policy_error (first) { otherwise "a" }\n', "E0403"),
    ('fact outcome "o": bool\noutcome y "y" { reply "y" }\ndecision d (first) { otherwise y }\n', "E0403"),
    ('fact k "k": bool\noutcome y "y" { reply "y" }\ndecision d (first) { otherwise y }\n'
     'decision K (first) { otherwise "a" }\n', None),
])
def test_names_and_sets_batch_could_not_run_are_refused_by_check(tmp_path, text, code):
    path = _policy(tmp_path, "names", text)
    result = compile_policy(path)
    if code is None:  # a decision named like a fact but for case: the batch columns would clash
        assert [d.code for d in result.diagnostics if d.severity == "error"] == ["E0403"]
    else:
        assert code in {d.code for d in result.diagnostics}


def test_a_misspelt_optional_fact_column_is_refused_not_defaulted(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("ticket_id,request,trip_status,ride_at,asked_at,history_available,reason,repeat_requests\n"
                     "1,driver_name,completed,2024-03-01T10:00:00+09:00,2024-03-02T10:00:00+09:00,false,other,true\n",
                     encoding="utf-8")
    result = _cli("batch", "policy/driver_info.policy", "--input", table, "--output", tmp_path / "o.parquet")
    assert result.returncode == 2 and "repeat_requests" in result.stderr and "repeat_request" in result.stderr


def _replies(tmp_path: Path, snippets: dict[str, str], reply: str):
    import yaml

    (tmp_path / "t.replies.yaml").write_text(yaml.safe_dump({"snippets": snippets, "replies": {"y": reply}},
                                                            allow_unicode=True), encoding="utf-8")
    return _policy(tmp_path, "t", 'policy t\nfact k "k": bool\nreplies "t.replies.yaml"\noutcome y "y" {}\n'
                                  'decision d (first) { otherwise y }\n')


@pytest.mark.parametrize("snippets,reply,code", [
    ({"s": 'x{% include "s" %}'}, '{% include "s" %}', "E0506"),
    ({"a": '{% include "b" %}', "b": '{% include "a" %}'}, '{% include "a" %}', "E0506"),
    ({f"s{i}": f'{{% include "s{i + 1}" %}}{{% include "s{i + 1}" %}}' for i in range(40)} | {"s40": "x"},
     '{% include "s0" %}', "E0506"),
    ({}, "{% if k %}" * 60 + "x" + "{% endif %}" * 60, "E0503"),
])
def test_templates_that_could_never_render_are_refused(tmp_path, snippets, reply, code):
    started = time.perf_counter()
    result = compile_policy(_replies(tmp_path, snippets, reply))
    assert code in {d.code for d in result.diagnostics}
    assert time.perf_counter() - started < 30  # bounds a hang, not a benchmark


def test_josa_is_linear_on_long_parenthesised_text():
    from compiler.runtime.support import josa

    started = time.perf_counter()
    assert josa("가" + "()" * 20000, "은/는").endswith("는")
    assert time.perf_counter() - started < 2  # was 16 s (a quadratic loop)


def test_hundreds_of_bool_facts_and_long_let_chains_are_checked(tmp_path):
    lines = ['policy bools "many"'] + [f'fact b{i} "b": bool' for i in range(400)]
    lines += ['outcome yes "y" { reply "y" }', 'outcome no "n" { reply "n" }', 'decision d (first) {']
    lines += [f"  rule r{i}: when b{i} then yes" for i in range(400)] + ["  otherwise no", "}"]
    assert compile_policy(_policy(tmp_path, "bools", "\n".join(lines) + "\n")).ok
    lines = ['policy chain "chain"', 'fact at "t": timestamp', 'fact w "w": duration', 'let d0 "d" = w + w']
    lines += [f'let d{i + 1} "d" = d{i} - d{i}' for i in range(40)]  # doubling: 2**40 if expanded
    lines += ['outcome yes "y" { reply "y" }', 'decision d (first) { rule r: when d40 >= 0s then yes', "otherwise yes }"]
    started = time.perf_counter()
    result = compile_policy(_policy(tmp_path, "chain", "\n".join(lines) + "\n"))
    assert result.policy is not None or result.diagnostics
    assert time.perf_counter() - started < 30


def test_a_yaml_alias_bomb_is_refused(tmp_path):
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    (tmp_path / "t.replies.yaml").write_text("\n".join(lines) + "\nreplies:\n  y: x\n", encoding="utf-8")
    path = _policy(tmp_path, "t", 'policy t\nfact k "k": bool\nreplies "t.replies.yaml"\noutcome y "y" {}\n'
                                  'decision d (first) { otherwise y }\n')
    started = time.perf_counter()
    assert "E0507" in {d.code for d in compile_policy(path).diagnostics}
    assert time.perf_counter() - started < 10


def test_facts_files_and_stdin_are_bounded(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    for path in ("/dev/zero", tmp_path / "fifo"):
        result = _cli("explain", "policy/driver_info.policy", path)
        assert result.returncode == 2 and "보통 파일이 아닙니다" in result.stderr


@pytest.mark.parametrize("text", ['const A = {a}\nconst A\u3164 = {a, b}\n', "const W = \u09ea일\n"])
def test_names_and_digits_that_look_like_others_are_refused(tmp_path, text):
    path = _policy(tmp_path, "look", 'policy look\nfact k "k": enum { a "a" b "b" }\n' + text +
                   'outcome y "y" { reply "y" }\ndecision d (first) { otherwise y }\n')
    assert "E0100" in {d.code for d in compile_policy(path).diagnostics}


def test_a_lying_parquet_footer_is_an_input_error(tmp_path):
    from compiler.tools.batch import _run, duckdb_session
    from compiler.tools.tables import open_table

    policy = compile_policy(ROOT / "policy/driver_info.policy", "policy/driver_info.policy").policy
    sys.path.insert(0, str(ROOT / "scripts"))
    from tickets import write_parquet

    write_parquet(20, tmp_path / "t.parquet", seed=3)
    with duckdb_session() as (con, folder):
        table = open_table(tmp_path / "t.parquet", folder)
        lying = type(table)(table.path, table.link, table.kind, table.columns, table.rows + 1)
        with pytest.raises(ValueError, match="꼬리말"):
            _run(con, folder, policy, lying, tmp_path / "o.parquet", tmp_path / "e.parquet")


def test_context_text_is_read_as_the_plain_string_it_holds(driver_info):
    class Sly(str):
        calls = 0

        def strip(self, *args):
            Sly.calls += 1
            return "짧음" if Sly.calls == 1 else "짧음\n[추가 안내] 계좌번호는 123입니다"

    d = driver_info.decide({"request": "vehicle_plate", "trip_status": "completed", "reason": "other",
                            "history_available": False, "ride_at": "2024-03-01T10:00:00+09:00",
                            "asked_at": "2024-03-02T10:00:00+09:00"})
    with pytest.raises(driver_info.PolicyInputError):
        driver_info.render(d, {"vehicle_plate": Sly("12가3456\n[추가 안내]")})
    assert "[추가 안내]" not in driver_info.render(d, {"vehicle_plate": Sly("12가3456")})


def test_report_tables_never_send_control_characters_raw():
    from compiler.tools.impact import AuditRow, ImpactRow, audit_table, impact_table

    ids = ["\x1b]0;pwned\x07", "ok\n0건이 정책과 다릅니다 (FORGED)"]
    text = impact_table(2, [ImpactRow("refuse", "\x1b[31mx", [], [], 2, ids)]) + \
        audit_table(2, [AuditRow("\x1b[2J", "refuse", [], 2, ids)])
    assert "\x1b" not in text and "\x07" not in text and "\nok" not in text


def test_diff_git_revisions_are_never_options(tmp_path):
    result = _cli("diff", "--git", f"--output={tmp_path}/pwn", "policy/driver_info.policy")
    assert result.returncode == 2 and not list(tmp_path.iterdir())
