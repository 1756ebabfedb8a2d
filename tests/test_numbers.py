"""Numbers are exact decimals everywhere a user meets them: decide() whatever decimal
context the app set, the analysis (its examples are numbers decide() accepts), JSON and
YAML read by the tools, replies and documents, batch over typed columns, and diff."""

from __future__ import annotations

import decimal
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from compiler.analysis.regions import Regions
from compiler.middle import ir
from compiler.runtime.support import check_number
from compiler.tools.load import load

from .conftest import ROOT, needs_spark

SHOP = '''policy shop "가게"
fact price "가격": number
fact fee "수수료": number = 1.50
fact member "회원": bool = false
let total "합계" = price + fee
let net "순액" = price - 0.3
context amount "금액": number
outcome call "전화" { reply "합계 {{ total }}원, 금액 {{ amount }}원, 순액 {{ net | josa(\\"은/는\\") }} 그대로" }
outcome none "없음" { reply "없음" }
decision reply "답" (first) {
  rule 한도: when total > 100000000 and net > 0 then call
  rule 회원: when member and net > 0.1 then call
  otherwise none
}
'''


def _cli(*args, stdin=None, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "compiler.cli", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, input=stdin, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.policy"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def shop(tmp_path):
    path = _write(tmp_path / "policy", "shop", SHOP)
    result, module = load(path)
    assert module is not None, result.diagnostics
    return path, result.policy, module


def test_decide_is_exact_whatever_decimal_context_the_app_set(shop):
    _, _, module = shop
    facts = {"price": Decimal("99999998.500000001"), "member": False}  # total 100000000.000000001
    with decimal.localcontext(decimal.Context(prec=4)):
        assert module.decide(facts).outcome == "call"
        with pytest.raises(module.PolicyInputError, match="9자리"):  # 20 places: never rounded into range
            module.decide({"price": Decimal("100000000.00000000000000000001")})
    assert module.decide(facts).outcome == "call"
    assert module.decide({**facts, "price": Decimal("99999998.5")}).outcome == "none"


def test_tools_read_json_and_yaml_numbers_as_decimals(shop, tmp_path):
    path, _, _ = shop
    decided = _cli("decide", path, stdin='{"price": 99999998.500000001}')
    assert decided.returncode == 0, decided.stderr
    assert json.loads(decided.stdout)["outcome"] == "call"  # as a float it would be 99999998.5
    shown = _cli("explain", path, "--fact", "price=99999998.500000001", "--context", "amount=99999999999999.999999999")
    assert shown.returncode == 0, shown.stderr
    assert "금액 99999999999999.999999999원" in shown.stdout and "합계 100000000.000000001원" in shown.stdout
    (tmp_path / "policy/shop.tests.yaml").write_text(
        "cases:\n  - name: 경계 바로 위\n    facts: {price: 99999998.500000001}\n    expect: {outcome: call}\n"
        "  - name: 회원\n    facts: {price: 0.41, member: true}\n    expect: {outcome: call}\n", encoding="utf-8")
    tested = _cli("test", tmp_path / "policy/shop.tests.yaml")
    assert tested.returncode in (0, 1) and "통과 2/2" in tested.stdout, tested.stdout + tested.stderr


def test_replies_print_numbers_as_written_not_in_exponent_form(shop):
    _, _, module = shop
    decision = module.decide({"price": Decimal("1E+9")})
    reply = module.render(decision, {"amount": Decimal("1E-7")})
    assert "합계 1000000001.50원" in reply and "금액 0.0000001원" in reply and "순액 999999999.7은" in reply
    assert "E" not in reply
    assert module.render(module.decide({"price": 1e9}), {"amount": -0.0}).count("금액 0원") == 1  # no -0


def test_analysis_works_on_the_numbers_decide_accepts(tmp_path):
    # no number lies strictly between 9.999999999 and 10: no gap, and r2 is already implied
    path = _write(tmp_path, "grid", '''policy grid "g"
fact p "p": number
outcome a "a" { reply "a" }
outcome b "b" { reply "b" }
decision d (first) {
  rule r1: when p <= 9.999999999 then a
  rule r2: when p >= 10 then b
}
''')
    out = json.loads(_cli("check", path, "--format", "json").stdout)
    assert [d["code"] for d in out] == ["W0604"]
    # a gap at the top of the range: its example is a number decide() takes
    path = _write(tmp_path, "top", '''policy top "t"
fact p "p": number
outcome a "a" { reply "a" }
decision d (first) {
  rule r1: when p < 999999999999999 then a
}
''')
    result, _ = load(path)
    gap = next(d for d in result.diagnostics if d.code == "E0400")
    value = check_number("p", gap.example["p"])  # decide() takes it (it used to be 10**15)
    assert 999999999999999 <= value < 10 ** 15


def test_a_let_with_a_decimal_builds_and_its_boundaries_read_in_its_own_terms(tmp_path):
    path = _write(tmp_path, "net", '''policy net "n"
fact p "p": number
let q "순액" = p - 0.5
outcome a "a" { reply "a" }
outcome b "b" { reply "b" }
decision d (first) {
  rule r1: when q > 0.1 and q <= 0.2 and q < 0.3 then a
  otherwise b
}
''')
    checked = _cli("check", path)
    assert checked.returncode == 0 and "순액: 0.1 초과 0.2 이하" in checked.stderr, checked.stderr
    assert _cli("diff", path, path).returncode == 0


def test_a_let_chain_that_could_outgrow_exact_decimals_is_refused_and_diff_stays_linear(tmp_path):
    lets = "".join(f"let x{i} = x{i - 1} + x{i - 1}\n" for i in range(1, 47))
    text = ('policy dbl "d"\nfact x0 "p": number\n' + lets +
            'outcome a "a" { reply "a" }\noutcome b "b" { reply "b" }\n'
            'decision d (first) {\n  rule r: when x46 > 5000000 then a\n  otherwise b\n}\n')
    old = _write(tmp_path / "old", "dbl", text)
    new = _write(tmp_path / "new", "dbl", text.replace("x46 > 5000000", "x46 > 6000000"))
    result, _ = load(old)
    assert result.ok  # 2**46 * 10**15 < 10**29
    merged = Regions.of_versions(result.policy, load(new)[0].policy).policy
    assert sum(len(list(ir.walk(d.expr))) for d in merged.derived) == 2 * 46 * 3  # renamed, not written out
    changed = _cli("diff", old, new)
    # x46 moves in steps of 2**46 billionths (about 70368.7): the boundaries are read in its terms
    assert changed.returncode == 1 and "x46: 5000000 초과" in changed.stdout, changed.stdout
    too_big = _write(tmp_path, "big", text.replace("x46 > 5000000", "x47 > 5").replace(
        "outcome a", "let x47 = x46 + x46\noutcome a"))
    assert "E0308" in _cli("check", too_big).stderr


def test_diff_sees_a_changed_default(tmp_path):
    old = _write(tmp_path / "old", "shop", SHOP.replace("otherwise none", "rule 없음: when not member then none\n"
                                                                         "  otherwise call"))
    new = _write(tmp_path / "new", "shop", old.read_text(encoding="utf-8").replace("= false", "= true"))
    result = _cli("diff", old, new, "--format", "json")
    assert result.returncode == 1, result.stdout + result.stderr
    changes = json.loads(result.stdout)
    assert changes and all(c["absent"] == ["member"] for c in changes)
    assert all("member" not in c["example"] for c in changes)
    text = _cli("diff", old, new).stdout
    assert "회원: 주지 않음 (기본값 아니오 → 예)" in text


def test_documents_do_not_backslash_a_leading_number(tmp_path):
    path = _write(tmp_path, "doc", '''policy doc "d"
fact p "p": number
const FEE "1.50 수수료" = 1.50
outcome a "a" { reply "a" }
outcome b "b" { reply "b" }
decision d (first) {
  rule r: when p > FEE then a
  otherwise b
}
''')
    page = _cli("doc", path, "-o", tmp_path / "out")
    assert page.returncode == 0, page.stderr
    text = (tmp_path / "out/doc.md").read_text(encoding="utf-8")
    assert "1.50" in text and "\\1" not in text


def test_impact_and_audit_refuse_a_policy_without_outcomes(tmp_path):
    path = _write(tmp_path, "values", '''policy values "v"
fact k "k": enum { a "a" b "b" }
decision kind (first) {
  rule r: when k = a then "가"
  otherwise "나"
}
''')
    table = tmp_path / "t.csv"
    table.write_text("id,k\n1,a\n2,b\n", encoding="utf-8")
    for args in (("impact", path, path, "--input", table), ("audit", path, "--input", table, "--recorded", "k")):
        result = _cli(*args)
        assert result.returncode == 2 and "결과(outcome)를 내는 결정이 없어" in result.stderr, result.stderr
    (tmp_path / "values.tests.yaml").write_text(
        "policy: values.policy\ncases:\n  - name: x\n    facts: {k: a}\n    expect: {kind: 가, reply_contains: [가]}\n",
        encoding="utf-8")
    tested = _cli("test", tmp_path / "values.tests.yaml")
    assert tested.returncode == 2 and "E0702" in tested.stderr


def _typed_table(pa, with_decimal: bool):
    price = pa.array([99999999, 100, 99999999], pa.int64())  # with the default fee 1.50: over the limit
    fee = (pa.array([None, Decimal("2.25"), None], pa.decimal128(10, 2)) if with_decimal
           else pa.array([None, 2, None], pa.int32()))
    return pa.table({"id": ["1", "2", "3"], "price": price, "fee": fee})


@pytest.mark.parametrize("with_decimal", [False, True])
def test_batch_fills_an_empty_typed_number_cell_with_the_default(tmp_path, shop, with_decimal):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pytest.importorskip("duckdb")
    path, _, module = shop
    source = tmp_path / "t.parquet"
    pq.write_table(_typed_table(pa, with_decimal), source)
    result = _cli("batch", path, "--input", source, "--output", tmp_path / "o.parquet")
    assert result.returncode == 0, result.stderr
    assert pq.read_table(tmp_path / "o.errors.parquet").num_rows == 0
    decided = pq.read_table(tmp_path / "o.parquet").to_pylist()
    assert [r["id"] for r in decided] == ["1", "2", "3"]
    given = _typed_table(pa, with_decimal).to_pylist()
    for row, facts in zip(decided, given):
        facts = {"price": facts["price"]} | ({} if facts["fee"] is None else {"fee": Decimal(facts["fee"])})
        assert row["outcome"] == module.decide(facts).outcome
    assert [r["outcome"] for r in decided] == ["call", "none", "call"]


@needs_spark
def test_spark_fills_an_empty_typed_number_cell_with_the_default(tmp_path, shop):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from compiler.tools.batch import run_batch_spark

    _, policy, _ = shop
    source = tmp_path / "t.parquet"
    pq.write_table(_typed_table(pa, True), source)
    done = run_batch_spark(policy, source, tmp_path / "out", tmp_path / "bad")  # in this process: one JVM for all
    assert (done.decided, done.errors) == (3, 0)
    decided = sorted(pq.read_table(tmp_path / "out").to_pylist(), key=lambda r: r["id"])
    assert [r["outcome"] for r in decided] == ["call", "none", "call"]


def test_a_json_integer_of_thousands_of_digits_is_refused_in_korean():
    """Python's int() refuses past 4,300 digits with an English message; the fact's own
    check says it instead (helper review round 3, item 13)."""
    facts = ('{"fare": ' + "9" * 5000 + ', "cancelled_at": "2024-01-01T00:00:00Z", '
             '"reserved_for": "2024-01-01T01:00:00Z"}')
    result = _cli("decide", "tests/policies/cancellation_fee.policy", stdin=facts)
    assert result.returncode == 2
    error = json.loads(result.stdout)["error"]
    assert error["name"] == "fare" and error["problem"].startswith("금액이 너무 큽니다")
    assert "limit" not in result.stdout + result.stderr


def test_a_number_with_commas_of_thousands_of_digits_is_a_diagnostic(tmp_path):
    """`1,000,...` (commas, no 원) is E0103 however long: its value was read with int(),
    which raised past 4,300 digits (a traceback from `policyc check`)."""
    path = tmp_path / "long.policy"
    path.write_text('policy long "긴 수"\nconst x "x" = 1' + ",000" * 1500 + "\n", encoding="utf-8")
    result = _cli("check", str(path))
    assert result.returncode == 1, result.stderr
    assert "E0103" in result.stderr and "숫자에는 쉼표를 쓰지 않습니다" in result.stderr  # diagnostics go to stderr
    assert "Traceback" not in result.stderr and max(len(line) for line in result.stderr.splitlines()) < 400


def test_sums_of_computed_amounts_and_rounding_quotients_are_exact(tmp_path):
    """A let holding money * a rate is no whole won: adding to it must not round in the
    app's decimal context; floor(x, 8) needs a quotient wider than the result (review 5,
    bugs 1 and 2)."""
    from compiler.middle.evaluate import evaluate
    from compiler.tools.load import load

    (tmp_path / "wide.policy").write_text(
        'fact m "금액": money\nfact n "숫자": number\nconst RATE "비율" = 1234567.123456789\n'
        'let big "큰 값" = m * RATE\nlet back "되돌린 값" = big + m - big\n'
        'let f8 "내림" = floor(n * 99999999999999, 8)\n'
        'outcome same "같음" { reply "같음 {{ f8 }}" }\noutcome differ "다름" { reply "다름" }\n'
        'decision answer "답" (first) {\n  rule 같음: when back = m then same\n  otherwise differ\n}\n',
        encoding="utf-8")
    result, module = load(tmp_path / "wide.policy", "wide.policy")
    facts = {"m": 999_999_999_999_999, "n": Decimal("999999999999999.999999999")}
    with decimal.localcontext(decimal.Context(prec=3)):
        d = module.decide(facts)
    assert d.outcome == "same" == evaluate(result.policy, dict(d.facts))["outcome"]
    from fractions import Fraction

    exact, f8 = Fraction(facts["n"]) * 99999999999999, Fraction(d.derived["f8"])
    assert f8 % 8 == 0 and f8 <= exact < f8 + 8  # the largest multiple of 8 not above it


def test_a_signaling_nan_is_named_as_the_money_fact_it_was_given_for():
    """Decimal('sNaN') signals when compared: it was turned down as `facts`, not as the
    fact it was given for (review 5, item 7)."""
    import importlib

    module = importlib.import_module("generated.pet_ride_fare")
    base = {"pets": [], "departed_at": "2024-12-24T14:00:00+09:00", "asked_at": "2024-12-24T15:00:00+09:00",
            "paid_at": "2024-12-24T14:00:00+09:00"}
    for value in (Decimal("sNaN"), Decimal("NaN"), Decimal("-Infinity")):
        with pytest.raises(module.PolicyInputError) as refused:
            module.decide({**base, "paid_extra": value})
        assert refused.value.name == "paid_extra"


def test_a_list_items_date_outside_the_holiday_table_names_the_list(tmp_path):
    """It was named `facts` (review 5, item 7)."""
    from compiler.tools.load import load

    (tmp_path / "visits.policy").write_text(
        'record visit "방문" {\n  day "날짜": date\n}\nfact visits "방문들": list of visit (max 3)\n'
        'const HOL "공휴일" = holidays("KR", 2024, 2026)\noutcome a "가" { reply "가" }\noutcome b "나" { reply "나" }\n'
        'decision d (first) {\n  rule 휴일: when any(visits where day in HOL) then a\n  otherwise b\n}\n', encoding="utf-8")
    _, module = load(tmp_path / "visits.policy", "visits.policy")
    with pytest.raises(module.PolicyInputError) as refused:
        module.decide({"visits": [{"day": "2031-01-01"}]})
    assert refused.value.name == "visits"
    assert module.decide({"visits": [{"day": "2025-01-01"}]}).outcome == "a"
