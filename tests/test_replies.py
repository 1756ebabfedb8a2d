"""What replies do with the new language: an `include` at the end of a line keeps the line
break, amounts and dates print as Korean replies write them, and value decisions show."""

from __future__ import annotations

from pathlib import Path

from compiler.tools.load import load

POLICY = '''fact paid "낸 돈": money
fact day "날짜": date
let back "돌려줄 돈" = max(paid - 1,000원, 0원)
outcome done "끝" {
  reply """
    {% include "first" %}
    {% include "second" %}
    {{ back | won }}을 {{ day | date }}에 돌려드립니다. 담당: {{ desk }}
  """
}
snippet first = """
  환불됩니다.
"""
snippet second = """
  다음부터는 미리 알려 주세요.
"""
decision desk "담당" (first) {
  rule 큰돈: when paid >= 1,000,000원 then "본사"
  otherwise "지점"
}
decision d "결정" (first) {
  otherwise done
}
'''


def _module(tmp_path: Path):
    path = tmp_path / "refunds.policy"
    path.write_text(POLICY, encoding="utf-8")
    result, module = load(path, "refunds.policy")
    assert module is not None, result.diagnostics
    return module


def test_two_includes_in_a_row_stay_two_lines(tmp_path: Path):
    module = _module(tmp_path)
    text = module.render(module.decide({"paid": 5000, "day": "2024-12-25"}))
    assert text.split("\n")[:2] == ["환불됩니다.", "다음부터는 미리 알려 주세요."]


def test_amounts_dates_and_value_decisions_print_as_replies_write_them(tmp_path: Path):
    module = _module(tmp_path)
    text = module.render(module.decide({"paid": 12_345_678, "day": "2024-12-25"}))
    assert text.split("\n")[2] == "12,344,678원을 12월 25일(수)에 돌려드립니다. 담당: 본사"
    small = module.render(module.decide({"paid": 500, "day": "2025-01-04"}))
    assert small.split("\n")[2] == "0원을 1월 4일(토)에 돌려드립니다. 담당: 지점"
