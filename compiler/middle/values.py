"""IR values as numbers and as text: what the back ends, the analysis and the tools share.

    to_number(value) -> Fraction       instants and durations in microseconds, exactly
    from_micros(kind, n, offset)       the inverse, for timestamps and durations
    duration_text(td)                  3d12h, 90s, 1d500000us (the policy language's spelling)
    korean_duration(micros)            3일 12시간 (what authors read)
    instant_text(when)                 2023-07-03 14:00 (+09:00)
    offset_micros(value)               a constant instant's UTC offset in microseconds
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from typing import Any

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
    a number (int when whole)."""
    if kind == "timestamp":
        return (EPOCH + round(value) * US).astimezone(offset)
    if kind == "duration":
        return round(value) * US
    return int(value) if value.denominator == 1 else float(value)


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
