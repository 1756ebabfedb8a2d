"""IR values as numbers and as text: what the back ends, the analysis and the tools share.

    to_number(value) -> Fraction       instants and durations in microseconds, exactly
    from_micros(kind, n, offset)       the inverse (numbers as int or Decimal)
    fraction_text(q)                   0.3, 2.125: a rational as a decimal
    duration_text(td)                  3d12h, 90s, 1d500000us (the policy language's spelling)
    korean_duration(micros)            3일 12시간 (what authors read)
    instant_text(when)                 2023-07-03 14:00 (+09:00)
    offset_micros(value)               a constant instant's UTC offset in microseconds
    value_text(value)                  예, 3일, 2023-07-03 14:00 (+09:00), 0.3: one value as authors read it
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ..runtime.support import comma, korean_date, number_text

# every number a policy computes stays under this size (resolve.py proves it, E0308), so
# with at most 9 places it has at most 38 digits: exact in DECIMAL(38, 9) and in
# runtime.support.NUMBERS
EXACT_LIMIT = 10 ** 29
NUMBER_STEP = Fraction(1, 10 ** 9)  # numbers have at most 9 places

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
US = dt.timedelta(microseconds=1)
DAY, HOUR, MINUTE, SECOND = 86_400_000_000, 3_600_000_000, 60_000_000, 1_000_000


def to_number(value: Any) -> Fraction:
    """Any numeric IR value as an exact rational (instants and durations in microseconds)."""
    if isinstance(value, dt.datetime):
        return Fraction((value - EPOCH) // US)
    if isinstance(value, dt.timedelta):
        return Fraction(value // US)
    if isinstance(value, bool):
        raise TypeError(value)
    if isinstance(value, (int, Decimal, float)):
        return Fraction(value)
    raise TypeError(value)


def from_micros(kind: str, value: Fraction, offset: dt.tzinfo = dt.timezone.utc) -> Any:
    """A value of `kind` from its number: an instant (shown in `offset`), a duration, or
    a number (int when whole, else an exact Decimal, rounded to 9 places if it must be)."""
    if kind == "timestamp":
        return (EPOCH + round(value) * US).astimezone(offset)
    if kind == "duration":
        return round(value) * US
    if value.denominator == 1:
        return int(value)
    return Decimal(fraction_text(round(value / NUMBER_STEP) * NUMBER_STEP))  # exact on the 10**-9 grid


def fraction_text(value: Fraction) -> str:
    """A rational as a decimal: exact when it has a finite decimal form (0.3, 2.125),
    else to 9 places after the point."""
    places = next((k for k in range(40) if (value * 10 ** k).denominator == 1), None)
    if places is None:
        return f"{float(value):.9f}".rstrip("0")
    whole = value.numerator * 10 ** places // value.denominator
    sign, digits = ("-" if whole < 0 else ""), str(abs(whole)).rjust(places + 1, "0")
    return sign + (digits if not places else f"{digits[:-places]}.{digits[-places:]}")


def offset_micros(value: Any) -> int:
    """The UTC offset of a constant instant, in microseconds (0 for anything else)."""
    return value.utcoffset() // US if isinstance(value, dt.datetime) else 0


def duration_text(value: dt.timedelta) -> str:
    """A duration in the policy language's own spelling: 3d12h, 90s, 1d500000us."""
    micro = value // US
    if micro == 0:
        return "0s"
    out = []
    for unit, name in ((DAY, "d"), (HOUR, "h"), (MINUTE, "m"), (SECOND, "s"), (1, "us")):
        amount, micro = divmod(micro, unit)
        if amount:
            out.append(f"{amount}{name}")
    return "".join(out)


def korean_duration(micro: Fraction | int) -> str:
    """A duration in microseconds as authors read it: 3일 12시간, 1초 1마이크로초."""
    micro = int(micro)
    if micro == 0:
        return "0초"
    sign = "-" if micro < 0 else ""
    micro = abs(micro)
    out = []
    for unit, name in ((DAY, "일"), (HOUR, "시간"), (MINUTE, "분"), (SECOND, "초"), (1, "마이크로초")):
        amount, micro = divmod(micro, unit)
        if amount:
            out.append(f"{amount}{name}")
    return sign + " ".join(out)


def instant_text(when: dt.datetime) -> str:
    """2023-07-03 14:00 (+09:00); seconds and fractions only when there are any."""
    text = when.strftime("%Y-%m-%d %H:%M")
    if when.second or when.microsecond:
        text = when.isoformat(sep=" ")[:26]
    zone = when.strftime("%z")
    return f"{text} ({zone[:3]}:{zone[3:]})"


def typed_text(value: Any, typ: Any) -> str:
    """A value of a known type (an `ir.Type`) as authors read it: 2,000원, 22:00~04:00,
    2024년 12월 25일(수)."""
    kind = typ.kind
    if kind == "money":
        return comma(value) + "원"
    if kind == "date":
        return f"{value.year}년 " + korean_date(value)
    if kind == "time":
        return _clock(value)
    if kind == "window":
        return f"{_clock(value[0])}~{_clock(value[1])}"
    if kind == "holidays":
        return f"{value.country} 공휴일 표 ({value.first_year}~{value.last_year}년, {len(value.dates)}일)"
    return value_text(value)


def _clock(value: dt.time) -> str:
    return value.strftime("%H:%M") + (value.strftime(":%S") if value.second else "")


def value_text(value: Any) -> str:
    """One fact or constant value as authors read it (an enum value is its code here)."""
    if isinstance(value, bool):
        return "예" if value else "아니오"
    if isinstance(value, dt.timedelta):
        return korean_duration(value // US)
    if isinstance(value, dt.datetime):
        return instant_text(value)
    return number_text(value) if isinstance(value, Decimal) else str(value)
