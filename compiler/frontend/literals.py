"""Reading literal tokens: strings, numbers, durations, timestamps.

Each reader returns (value, problem): `problem` is None, or a Korean message with a
help line when the token is well-formed for the lexer but not a valid value.
"""

from __future__ import annotations

import datetime as dt
import re
import textwrap
from decimal import Decimal

_UNITS = {"일": "days", "d": "days", "시간": "hours", "h": "hours", "분": "minutes", "m": "minutes",
          "초": "seconds", "s": "seconds", "ms": "milliseconds", "us": "microseconds"}
_DURATION_PART = re.compile(r"(\d+)(일|시간|분|초|ms|us|d|h|m|s)")
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}

Problem = tuple[str, str] | None


def read_string(raw: str, line: int) -> tuple[str, int, Problem]:
    """(text, file line of the text's first line, problem).

    A triple-quoted string is raw text: a newline right after the opening quotes is
    dropped, so is a last line of only spaces, and the common indentation is removed,
    so templates can be indented with the policy. A "..." string knows \\" \\\\ \\n \\t.
    """
    if raw.startswith('"""'):
        body = raw[3:-3]
        first = line
        if body.startswith("\n"):
            body, first = body[1:], line + 1
        elif body.startswith("\r\n"):
            body, first = body[2:], line + 1
        lines = body.split("\n")
        if lines and not lines[-1].strip():
            lines.pop()
        return textwrap.dedent("\n".join(lines)), first, None
    out, i, body = [], 0, raw[1:-1]
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt not in _ESCAPES:
                return body, line, (f"알 수 없는 이스케이프 `\\{nxt}`",
                                    '문자열 안에서는 \\" \\\\ \\n \\t 만 씁니다')
            out.append(_ESCAPES[nxt])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out), line, None


MAX_DIGITS = 30  # of a duration's amount: more than any policy states
# numbers as runtime/support.py takes them: under 10**15, at most 9 places after the point
NUMBER_INTEGER_DIGITS, NUMBER_PLACES = 15, 9


def _shown(raw: str) -> str:
    """A literal as a message quotes it: a long one cut short."""
    return raw if len(raw) <= 40 else raw[:37] + "…"


def read_number(raw: str) -> tuple[int | Decimal, Problem]:
    whole, _, places = raw.partition(".")
    if len(whole.lstrip("0")) > NUMBER_INTEGER_DIGITS or len(places) > NUMBER_PLACES:
        return 0, (f"숫자가 너무 깁니다: `{_shown(raw)}` (정수 {NUMBER_INTEGER_DIGITS}자리, 소수점 아래 "
                   f"{NUMBER_PLACES}자리까지 쓸 수 있습니다)", "숫자가 맞는지 확인하세요")
    return (int(raw) if raw.isdigit() else Decimal(raw)), None


def read_duration(raw: str) -> tuple[dt.timedelta, Problem]:
    total = dt.timedelta()
    for amount, unit in _DURATION_PART.findall(raw):
        try:
            if len(amount) > MAX_DIGITS:  # before int(): Python will not read 4,300 digits and more
                raise OverflowError
            total += dt.timedelta(**{_UNITS[unit]: int(amount)})
        except OverflowError:
            shown = raw if len(raw) <= 40 else raw[:37] + "…"
            return dt.timedelta(), (f"기간이 너무 깁니다: `{shown}`", "999999999일보다 짧은 기간을 쓰세요")
    return total, None


def read_timestamp(raw: str) -> tuple[dt.datetime, Problem]:
    if not re.search(r"(Z|[+-]\d{2}:\d{2})$", raw):
        return dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc), (
            f"시각에 UTC 기준 차이가 없습니다: `{raw}`",
            f"한국 시각이면 `{raw}+09:00` 처럼 끝에 차이를 붙이세요")
    try:
        return dt.datetime.fromisoformat(raw), None
    except ValueError:
        return dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc), (
            f"없는 날짜나 시각입니다: `{raw}`", "월은 01~12, 일은 그 달의 날짜, 시는 00~23, 분은 00~59 입니다")


def read_money(raw: str) -> tuple[int, Problem]:
    """20,000원 -> 20000 (whole won; commas only in groups of three)."""
    digits = raw[:-1].replace(",", "")
    if len(digits.lstrip("0")) > NUMBER_INTEGER_DIGITS:
        return 0, (f"금액이 너무 큽니다: `{_shown(raw)}` (정수 {NUMBER_INTEGER_DIGITS}자리까지)", "금액이 맞는지 확인하세요")
    return int(digits), None


def read_percent(raw: str) -> tuple[Decimal, Problem]:
    """30% -> Decimal('0.3'): a percentage is the number it stands for."""
    value, problem = read_number(raw[:-1])
    if problem:
        return Decimal(0), problem
    sign, digits, exponent = Decimal(value).as_tuple()
    return Decimal((sign, digits, exponent - 2)), None  # exact, whatever the decimal context


def grouped_number_problem(raw: str) -> tuple[int, Problem]:
    plain = raw.replace(",", "")
    value, _ = read_number(plain)  # 0 past 15 digits (int() stops at 4,300): the comma is the problem shown
    return value, (f"숫자에는 쉼표를 쓰지 않습니다: `{_shown(raw)}`",
                   f"`{_shown(plain)}` 으로 쓰세요. 금액이면 `{_shown(raw + '원')}` 입니다 "
                   "(`min(5, 100)` 처럼 값을 나누는 쉼표라면 뒤에 한 칸 띄우세요)")


def read_date(raw: str) -> tuple[dt.date, Problem]:
    try:
        return dt.date.fromisoformat(raw), None
    except ValueError:
        return dt.date(1970, 1, 1), (f"없는 날짜입니다: `{raw}`", "월은 01~12, 일은 그 달의 날짜입니다")


def read_time(raw: str) -> tuple[dt.time, Problem]:
    try:
        return dt.time.fromisoformat(raw), None
    except ValueError:
        return dt.time(0), (f"없는 시각입니다: `{raw}`", "시는 00~23, 분과 초는 00~59 입니다 (자정은 00:00)")
