"""policyc runtime support: what generated modules run on.

Each generated module carries the part of this file its policy uses, copied statement by
statement (backend/runtime_code.py picks them, with the comments just above each), so it
needs only the standard library, jinja2 and hangulpy. The compiler imports this file too
(templates are checked with the same filters) and it is tested on its own. Keep it free of
compiler imports, and keep each top-level statement self-explaining: it may travel alone.
jinja2 and hangulpy are imported on first use: an app that only calls decide() never pays
for them.
"""

import datetime as _dt
import json as _json
import math as _math
import re as _re
from bisect import bisect_left as _bisect_left
from bisect import bisect_right as _bisect_right
from collections.abc import Mapping as _Mapping
from decimal import Context as _Context
from decimal import Decimal as _Decimal
from decimal import Inexact as _Inexact
from decimal import InvalidOperation as _InvalidOperation



class PolicyInputError(ValueError):
    """Invalid facts or reply context. `.name` is the fact or value at fault."""

    def __init__(self, name, problem):
        self.name = name
        self.problem = problem
        super().__init__(f"{name}: {problem}")


class Label:
    """An enum value inside a reply template: prints as its Korean label and
    compares (and hashes) as its code, so `{% if status in OPEN_STATES %}` works against a set constant."""

    __slots__ = ("code", "label")

    def __init__(self, code, label):
        self.code = code
        self.label = label

    def __str__(self):
        return self.label

    def __eq__(self, other):
        if isinstance(other, Label):
            return self.code == other.code
        return self.code == other

    def __hash__(self):
        return hash(self.code)

    def __repr__(self):
        return f"Label({self.code!r}, {self.label!r})"


# ── facts ──

MISSING = object()  # a required fact the app did not give


def _absent(name):
    return PolicyInputError(name, "필요한 사실이 없습니다")


def _describe(value):
    if type(value) is str and len(value) > 60:  # a huge text is not copied whole into repr()
        value = value[:60]
        return repr(value)[:57] + "..."
    try:
        text = repr(value)
    except Exception:  # a value that cannot even show itself
        return f"<{type(value).__name__} 값>"
    return text if len(text) <= 60 else text[:57] + "..."


def check_bool(name, value):
    if value is True or value is False:
        return value
    if value is MISSING:
        raise _absent(name)
    raise PolicyInputError(name, f"참/거짓(true/false)이어야 합니다: {_describe(value)}")


def check_enum(name, value, allowed):
    if type(value) is str and value in allowed:
        return value
    if value is MISSING:
        raise _absent(name)
    if issubclass(type(value), str):
        raise PolicyInputError(name, f"알 수 없는 값 {_describe(value)} (가능한 값: {', '.join(allowed)})")
    raise PolicyInputError(name, f"문자열 값이어야 합니다 (가능한 값: {', '.join(allowed)}): {_describe(value)}")


# The one timestamp text every engine reads alike (the SQL back end uses this pattern):
# YYYY-MM-DD, T or a space, HH:MM, optionally :SS and .f (1 to 6 digits), then Z or
# +HH:MM / -HH:MM, ASCII digits only. Python's fromisoformat reads more (week dates,
# 20230703T1400, a comma, any separator, 7+ fraction digits, +0900); those are turned
# down so that `policyc batch` and decide() never disagree about a row.
ISO_TEXT = _re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})", _re.ASCII)
# the same shapes with every digit written 0: one C call (bytes.translate) and a set
# lookup tell whether a string has one of them, where the regex costs three times as much
_ZEROS = bytes.maketrans(b"123456789", b"000000000")
_ISO_SHAPES = frozenset(f"0000-00-00{sep}00:00{sec}{tz}".encode()
                        for sep in "T " for sec in ("", ":00", *(":00." + "0" * k for k in range(1, 7)))
                        for tz in ("Z", "+00:00", "-00:00"))


_fromiso = _dt.datetime.fromisoformat


def iso_shaped(v):
    """Whether a string has the shape of ISO_TEXT (offset minutes under 60: Python reads
    +09:60 as +10:00, the SQL engines do not agree): C calls, no regex. The generated
    decide() inlines this test."""
    return (v.isascii() and v.encode().translate(_ZEROS) in _ISO_SHAPES
            and (v[-1] == "Z" or v[-2] < "6"))


def check_timestamp(name, value):
    if type(value) is str:
        if iso_shaped(value):  # then fromisoformat reads it, with its offset, or it is no date
            try:
                return _fromiso(value)
            except ValueError:
                raise PolicyInputError(name, f"없는 날짜나 시각입니다: {_describe(value)}") from None
        if not ISO_TEXT.fullmatch(value):
            if _re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?", value):
                raise PolicyInputError(name, f"UTC 기준 차이가 없는 시각입니다 (예: {value}+09:00): {_describe(value)}")
            raise PolicyInputError(name, f"ISO 8601 시각이 아닙니다 (예: 2023-07-03T14:00:00+09:00): {_describe(value)}")
        raise PolicyInputError(name, f"없는 날짜나 시각입니다: {_describe(value)}")
    if isinstance(value, _dt.datetime):
        return _instant(name, value)
    if value is MISSING:
        raise _absent(name)
    raise PolicyInputError(name, f"시각은 UTC 기준 차이가 있는 ISO 8601 문자열이나 datetime 이어야 합니다: {_describe(value)}")


_FIELDS = tuple(getattr(_dt.datetime, a).__get__ for a in ("year", "month", "day", "hour", "minute", "second",
                                                            "microsecond"))
_ZERO = _dt.timedelta(0)


def _instant(name, value):
    """A datetime as the instant it is, in a plain datetime with a fixed UTC offset.

    Python subtracts and compares two datetimes that share a tzinfo by their wall-clock
    times: across a DST change in ZoneInfo("America/New_York") that is an hour off, and a
    `fold=1` time compares as its twin. The offset is asked of the tzinfo once (honouring
    `fold`) and fixed; the fields are read with datetime's own getters, so a subclass
    cannot change what they say, nor bring its own `__sub__` or `__ge__`."""
    if type(value) is _dt.datetime and type(value.tzinfo) is _dt.timezone:
        return value  # already a fixed offset (what fromisoformat gives)
    try:
        offset = _dt.datetime.utcoffset(value)
    except Exception:  # a tzinfo that cannot say its offset
        offset = None
    if offset is None:
        raise PolicyInputError(name, f"UTC 기준 차이가 없는 시각입니다 (예: 2023-07-03T14:00:00+09:00): {_describe(value)}")
    offset = _dt.timedelta.__add__(_ZERO, offset)  # an exact timedelta, whatever came back
    zone = _dt.timezone(offset) if offset else _dt.timezone.utc
    return _dt.datetime(*[get(value) for get in _FIELDS], tzinfo=zone)


# A number is an exact decimal: under 10**15 in size, at most 9 digits after the point
# (money in won, weights, rates), so sums stay exact in Python's decimal arithmetic and in
# the SQL back end's DECIMAL(38, 9). A float is the decimal it prints as (0.3 is 0.3).
NUMBER_LIMIT = 10 ** 15
NUMBER_PLACES = 9


def check_number(name, value):
    kind = type(value)
    if kind is int:
        number = value
    elif kind is _Decimal and value.is_finite():
        number = value
    elif kind is float and _math.isfinite(value):
        number = _Decimal(repr(value))
    elif value is MISSING:
        raise _absent(name)
    else:
        raise PolicyInputError(name, f"유한한 숫자여야 합니다: {_describe(value)}")
    if not -NUMBER_LIMIT < number < NUMBER_LIMIT:  # Decimal comparisons are exact, whatever the context
        raise PolicyInputError(name, f"숫자가 너무 큽니다 (10의 15제곱 미만): {_describe(value)}")
    if kind is not int and _places(number) > NUMBER_PLACES:
        raise PolicyInputError(name, f"소수점 아래는 {NUMBER_PLACES}자리까지 씁니다: {_describe(value)}")
    return number if kind is int else _canonical(number)


def _canonical(number):
    """The same Decimal with at most 9 places written (0E-300000000 is 0, and 1.50 stays
    1.50): so printing it never writes a million zeros."""
    sign, digits, exponent = number.as_tuple()
    if not any(digits):
        return _Decimal(0)
    if exponent < -NUMBER_PLACES:  # the places past 9 are zeros (checked): drop them
        cut = -NUMBER_PLACES - exponent
        return _Decimal((sign, digits[:-cut], -NUMBER_PLACES))
    return number


def check_money(name, value):
    """Money is whole won: an int, or a Decimal/float with no fraction (3000.0)."""
    kind = type(value)
    if kind is int:
        number = value
    elif kind is _Decimal and not value.is_finite():  # NaN, sNaN (which signals when compared), infinity
        raise PolicyInputError(name, f"금액은 원 단위 정수여야 합니다: {_describe(value)}")
    elif kind in (_Decimal, float) and value == value and value not in (float("inf"), float("-inf")):
        number = _Decimal(repr(value)) if kind is float else value
        if not number.is_finite() or number != number.to_integral_value():
            raise PolicyInputError(name, f"금액은 원 단위 정수여야 합니다: {_describe(value)}")
        if not -NUMBER_LIMIT < number < NUMBER_LIMIT:
            raise PolicyInputError(name, f"금액이 너무 큽니다 (10의 15제곱 원 미만): {_describe(value)}")
        return int(number)
    elif value is MISSING:
        raise _absent(name)
    else:
        raise PolicyInputError(name, f"금액은 원 단위 정수여야 합니다 (예: 3000): {_describe(value)}")
    if not -NUMBER_LIMIT < number < NUMBER_LIMIT:
        raise PolicyInputError(name, f"금액이 너무 큽니다 (10의 15제곱 원 미만): {_describe(value)}")
    return number


_DATE_TEXT = _re.compile(r"\d{4}-\d{2}-\d{2}", _re.ASCII)
_TIME_TEXT = _re.compile(r"\d{2}:\d{2}(:\d{2})?", _re.ASCII)


def check_date(name, value):
    """A date: a `datetime.date` (not a datetime) or YYYY-MM-DD text."""
    if type(value) is _dt.date:
        return value
    if type(value) is str and _DATE_TEXT.fullmatch(value):
        try:
            return _dt.date.fromisoformat(value)
        except ValueError:
            raise PolicyInputError(name, f"없는 날짜입니다: {_describe(value)}") from None
    if value is MISSING:
        raise _absent(name)
    raise PolicyInputError(name, f"날짜는 2024-12-25 처럼 씁니다: {_describe(value)}")


def check_time(name, value):
    """A time of day: a `datetime.time` without a zone, or HH:MM / HH:MM:SS text."""
    if type(value) is _dt.time and value.tzinfo is None:
        return value
    if type(value) is str and _TIME_TEXT.fullmatch(value):
        try:
            return _dt.time.fromisoformat(value)
        except ValueError:
            raise PolicyInputError(name, f"없는 시각입니다: {_describe(value)}") from None
    if value is MISSING:
        raise _absent(name)
    raise PolicyInputError(name, f"하루 중 시각은 22:00 처럼 씁니다: {_describe(value)}")


def check_list(name, value, limit, check_item):
    """A list fact: a list or tuple of at most `limit` items, each checked by `check_item`
    (which names the item `name[i]` when it turns it down)."""
    if type(value) not in (list, tuple):
        if value is MISSING:
            raise _absent(name)
        raise PolicyInputError(name, f"목록(list)이어야 합니다: {_describe(value)}")
    if len(value) > limit:
        raise PolicyInputError(name, f"항목이 {limit}개까지입니다: {len(value)}개")
    return tuple(check_item(f"{name}[{i}]", item) for i, item in enumerate(value))


# the calendar of an instant in the policy's zone (a fixed UTC offset)
def local_time(name, when, zone):
    try:
        return when.astimezone(zone)
    except (OverflowError, ValueError):
        raise PolicyInputError(name, "그 시간대의 날짜로 바꿀 수 없는 시각입니다") from None


_WEEKDAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_LABELS = ("월", "화", "수", "목", "금", "토", "일")


def in_window(at, start, end):
    """Whether a time of day lies in [start, end), across midnight when end <= start."""
    return start <= at < end if start < end else (at >= start or at < end)


def is_holiday(name, day, table):
    """`day in HOLIDAYS`, for a table (dates, first year, last year) read at build time: a
    date outside its years cannot be told, so it is turned down rather than guessed."""
    dates, first, last = table
    if not first <= day.year <= last:
        raise PolicyInputError(name, f"공휴일 표는 {first}년부터 {last}년까지입니다: {day.isoformat()}")
    return day in dates


def floor_to(value, unit):
    """`floor(x, 100원)`: the largest multiple of `unit` not above x, exactly. The quotient
    may need more digits than the result (x / 8 has three more places): it is taken in a
    wider context, still trapping anything inexact."""
    return NUMBERS.multiply(_WIDE.divide(value, unit).to_integral_value(rounding="ROUND_FLOOR"), unit)


def ceil_to(value, unit):
    return NUMBERS.multiply(_WIDE.divide(value, unit).to_integral_value(rounding="ROUND_CEILING"), unit)


def round_to(value, unit):
    """`round(x, 10원)`: to the nearest multiple of `unit`, halves away from zero (반올림)."""
    return NUMBERS.multiply(_WIDE.divide(value, unit).to_integral_value(rounding="ROUND_HALF_UP"), unit)


def exact_sum(values, zero=0):
    total = zero
    for v in values:
        total = total + v if type(total) is _dt.timedelta else NUMBERS.add(total, v)
    return total


def _places(number):
    """Digits after the point a Decimal needs (1.50 needs 1), read from its digits alone:
    normalize() would round them in the caller's decimal context first."""
    _, digits, exponent = number.as_tuple()
    if not any(digits):
        return 0
    zeros = 0
    while zeros < len(digits) - 1 and digits[-1 - zeros] == 0:
        zeros += 1
    return max(0, -(exponent + zeros))


# Sums and differences of numbers: exact, and the same whatever decimal context the app
# has set. The compiler proves every value a policy computes stays under 10**29 with at
# most 9 places (38 digits, what SQL's DECIMAL(38, 9) holds); a result that still needed
# rounding would raise Inexact, never come out rounded.
NUMBERS = _Context(prec=40, Emax=99, Emin=-99, traps=[_Inexact, _InvalidOperation])
_WIDE = _Context(prec=80, Emax=199, Emin=-199, traps=[_Inexact, _InvalidOperation])  # quotients inside rounding


def number_text(value):
    """A number as replies and reports print it: 1000 for 1E+3, 0.0000001 for 1E-7,
    1.50 as given, 0 for -0."""
    if type(value) is _Decimal:
        text = format(value, "f")
        return text[1:] if text.startswith("-") and not value else text
    return str(value)


_DURATION = _re.compile(r"([0-9]{1,15}(일|시간|분|초|ms|us|d|h|m|s))+")  # ASCII digits: `٣d` is no duration
_UNITS = {"일": 86_400_000_000, "d": 86_400_000_000, "시간": 3_600_000_000, "h": 3_600_000_000,
          "분": 60_000_000, "m": 60_000_000, "초": 1_000_000, "s": 1_000_000, "ms": 1000, "us": 1}


# durations are shorter than this many µs (about 10,000 years), so the SQL back end holds
# every one, and any instant plus one, in a BIGINT
DURATION_LIMIT = 320_000_000_000_000_000
_DURATION_MAX = _dt.timedelta(microseconds=DURATION_LIMIT)


def check_duration(name, value):
    if type(value) is _dt.timedelta:
        duration = value
    elif isinstance(value, _dt.timedelta):  # a subclass: its own days and microseconds, no methods of its own
        duration = _dt.timedelta.__add__(_ZERO, value)
    elif value is MISSING:
        raise _absent(name)
    elif isinstance(value, str) and _DURATION.fullmatch(value):
        micro = sum(int(n) * _UNITS[u] for n, u in _re.findall(r"([0-9]+)(일|시간|분|초|ms|us|d|h|m|s)", value))
        if micro >= DURATION_LIMIT:
            raise PolicyInputError(name, f"기간이 너무 깁니다 (1만 년 미만): {_describe(value)}")
        return _dt.timedelta(microseconds=micro)
    else:
        raise PolicyInputError(name, f"기간은 timedelta 나 '3d', '72h', '1m30s', '3일' 같은 문자열이어야 합니다: {_describe(value)}")
    if abs(duration) >= _DURATION_MAX:
        raise PolicyInputError(name, f"기간이 너무 깁니다 (1만 년 미만): {_describe(value)}")
    return duration


_LONGEST_NAME = 100  # a longer unknown name is shown cut short and gets no suggestion


def unknown_name(name, known, noun):
    import difflib

    short = type(name) is str and len(name) <= _LONGEST_NAME
    plain = short and name.isprintable() and name.strip() == name and name != ""
    key = name if plain else _describe(name)  # an empty, invisible or huge name is shown quoted, cut short
    # difflib is quadratic: a 50 MB key would take seconds, and no policy name is that long
    close = difflib.get_close_matches(name, known, n=1) if short else []
    hint = f" (혹시 {close[0]}?)" if close else ""
    return PolicyInputError(key, f"알 수 없는 {noun} 이름입니다{hint}")


def read_mapping(what, value, known, noun):
    """`value` as a dict whose keys are all in `known` (a frozenset), or PolicyInputError
    naming the culprit."""
    if type(value) is dict:
        given = value
    elif isinstance(value, _Mapping):
        try:
            given = dict(value)
        except Exception:
            raise PolicyInputError(what, f"{noun} 매핑을 읽을 수 없습니다") from None
    else:
        last = noun[-1]  # 필드는, 사실은: the topic particle after the noun's last syllable
        topic = "는" if "가" <= last <= "힣" and (ord(last) - 0xAC00) % 28 == 0 else "은"
        raise PolicyInputError(what, f"{noun}{topic} 이름: 값 의 매핑(dict)이어야 합니다: {_describe(value)}")
    if not known.issuperset(given):
        for key in given:
            if key not in known:
                raise unknown_name(key, sorted(known), noun)
    return given


# ── reply context ──

_PHONE_RAW = _re.compile(r"\+?[0-9][0-9 \-().]{6,22}")
_PHONE_FORMS = (
    (_re.compile(r"(01[016789])(\d{3,4})(\d{4})"), "{}-{}-{}"),
    (_re.compile(r"(050\d)(\d{4})(\d{4})"), "{}-{}-{}"),
    (_re.compile(r"(070)(\d{4})(\d{4})"), "{}-{}-{}"),
    (_re.compile(r"(02)(\d{3,4})(\d{4})"), "{}-{}-{}"),
    (_re.compile(r"(0[3-6][1-5])(\d{3,4})(\d{4})"), "{}-{}-{}"),
    (_re.compile(r"(1[5-8]\d\d)(\d{4})"), "{}-{}"),
)


def format_phone(name, value):
    """A Korean phone number in its usual spelling (010-1234-5678, 0504-1234-5678).

    The raw text is checked strictly first, so `010-1234-567a` is an error rather
    than some other number."""
    text = _plain_str(value)
    if text is None or not _PHONE_RAW.fullmatch(text.strip()):
        raise PolicyInputError(name, f"전화번호가 아닙니다: {_describe(value)}")
    digits = _re.sub(r"[ \-().]", "", text.strip())
    if digits.startswith("+82"):
        digits = "0" + digits[3:].lstrip("0")
    elif digits.startswith("+"):
        raise PolicyInputError(name, f"한국 전화번호가 아닙니다: {_describe(value)}")
    for pattern, form in _PHONE_FORMS:
        match = pattern.fullmatch(digits)
        if match:
            return form.format(*match.groups())
    raise PolicyInputError(name, f"한국 전화번호가 아닙니다: {_describe(value)}")


def _plain_str(value):
    """A str subclass as the plain str it holds (its own strip() or __str__ never runs);
    None for anything that is not a str."""
    if type(value) is str:
        return value
    if isinstance(value, str):
        return str.__add__("", value)
    return None


def check_text(name, value):
    text = _plain_str(value)
    if text is not None:
        text = text.strip()
        if text and text.isprintable():
            return text
    raise PolicyInputError(name, f"비어 있지 않은 한 줄 문자열이어야 합니다: {_describe(value)}")


# ── template filters ──

def _without_trailing_parens(text):
    """`서울(본사)` -> `서울`: parenthesised parts at the end dropped, in one pass from the
    right (linear, however many), keeping at least one character."""
    end = len(text)
    while end > 0 and text[end - 1] == ")":
        start = text.rfind("(", 0, end - 1)
        if start <= 0 or ")" in text[start + 1:end - 1]:
            break
        end = start
    return text[:end] or text
_PHONE_LIKE = _re.compile(r"[0-9]+(-[0-9]+)+")
_TRAILING_ZERO = _re.compile(r"-?[0-9,]*\.[0-9]*0")


def josa(value, particle):
    """`value` followed by the particle that agrees with its last sound.

    `particle` is written "받침 있을 때/없을 때": 은/는, 이/가, 을/를, 과/와, 으로/로, 이라고/라고, 이나/나.
    Uses hangulpy, with three fixes: a trailing parenthesis is skipped (서울(본사)은),
    a phone-like number is read digit by digit (…5678은), and 과/와 is accepted."""
    text = number_text(value)
    if not text:
        raise PolicyInputError("josa", "빈 값 뒤에는 조사를 붙일 수 없습니다")
    word = _without_trailing_parens(text)
    if _PHONE_LIKE.fullmatch(word):
        word = word[-1]
    elif _TRAILING_ZERO.fullmatch(word):  # 2.50 is read 이 점 오 영: the last sound is 영
        word = "영"
    pick = "와/과" if particle == "과/와" else particle
    from hangulpy.josa import josa_pick

    try:
        return text + josa_pick(word, pick)
    except Exception:  # an unknown particle or a word hangulpy cannot read
        raise PolicyInputError("josa", f"조사를 고를 수 없습니다: {_describe(text)} {particle}") from None


# the days and hours filters divide (8시간 is 0.333… days): in their own context, so an
# app's decimal settings never change a reply
_SHOWN = _Context(prec=28)


def whole_days(value):
    """A duration as a number of days: 14 for 14일, 3.5 for 84시간."""
    if not isinstance(value, _dt.timedelta):
        raise PolicyInputError("days", f"기간이 아닙니다: {_describe(value)}")
    days = _SHOWN.divide(value // _dt.timedelta(microseconds=1), 86_400_000_000)
    return int(days) if days == days.to_integral_value() else _SHOWN.normalize(days)


def whole_hours(value):
    """A duration as a number of hours: 72 for 3일."""
    if not isinstance(value, _dt.timedelta):
        raise PolicyInputError("hours", f"기간이 아닙니다: {_describe(value)}")
    hours = _SHOWN.divide(value // _dt.timedelta(microseconds=1), 3_600_000_000)
    return int(hours) if hours == hours.to_integral_value() else _SHOWN.normalize(hours)


def won(value):
    """An amount of money as replies write it: 3,000원, -1,400원, 1,234.5원."""
    return comma(value) + "원"


def comma(value):
    """A number with thousands separators: 1,234,567 (and 1,234.5)."""
    if type(value) is bool or not isinstance(value, (int, _Decimal)):
        raise PolicyInputError("comma", f"숫자가 아닙니다: {_describe(value)}")
    text = number_text(value)
    sign = "-" if text.startswith("-") else ""
    whole, point, places = text.lstrip("-").partition(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return sign + ",".join([whole, *groups]) + point + places


def korean_date(value):
    """A date as replies write it: 12월 25일(금). A timestamp shows its own date (in the
    offset it was given in); use `date_of(t)` in the policy for the policy's zone."""
    if isinstance(value, _dt.datetime):
        value = value.date()
    if not isinstance(value, _dt.date):
        raise PolicyInputError("date", f"날짜가 아닙니다: {_describe(value)}")
    return f"{value.month}월 {value.day}일({_WEEKDAY_LABELS[value.weekday()]})"


FILTERS = {"josa": josa, "days": whole_days, "hours": whole_hours, "won": won, "comma": comma, "date": korean_date}


def make_environment(loader, filters):
    """The one Jinja2 environment replies render in: sandboxed, StrictUndefined, no
    globals (a reply sees only what the policy hands it), only `filters`, block tags
    trimmed so `{% if %}` lines leave no blank line behind. The sandbox allows what the
    template language documents and nothing more, whatever the compiler let through:
    `.label` and `.code` of an enum value, no other attribute, no call, no arithmetic."""
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class ReplySandbox(ImmutableSandboxedEnvironment):
        intercepted_binops = frozenset(("+", "-", "*", "/", "//", "%", "**"))
        intercepted_unops = frozenset(("+", "-"))

        def is_safe_attribute(self, obj, attr, value):
            return type(obj) is Label and attr in ("label", "code")

        def is_safe_callable(self, obj):
            return False

        def call_binop(self, context, operator, left, right):
            return _no_arithmetic()

        def call_unop(self, context, operator, arg):
            return _no_arithmetic()

    env = ReplySandbox(
        loader=loader,
        finalize=number_text,  # 1000, not 1E+3
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,
    )
    env.globals.clear()
    env.filters.clear()
    # marked as needing the render context, so Jinja never runs them while compiling a
    # template (it folds calls on constants otherwise: `{{ "..." | josa(...) }}` ran at build)
    env.filters.update({name: jinja2.pass_context(lambda context, *args, _f=f: _f(*args))
                        for name, f in filters.items()})
    return env


def _no_arithmetic(*args):
    from jinja2.exceptions import SecurityError

    raise SecurityError("답변 문구에서는 계산할 수 없습니다")


class Templates:
    """A policy's reply templates and snippets by name, compiled by the installed jinja2
    on first use (so the module does not depend on the jinja2 that built it)."""

    def __init__(self, sources, filters):
        self._sources = sources
        self._filters = filters
        self._cache = {}
        self._env = None

    def get(self, name):
        found = self._cache.get(name)
        if found is None:
            if self._env is None:
                import jinja2

                templates = self

                class _Loader(jinja2.BaseLoader):
                    def load(self, environment, name, globals=None):
                        return templates.get(name)

                self._env = make_environment(_Loader(), self._filters)
            found = self._cache[name] = self._env.from_string(self._sources[name])
        return found


def finish_reply(text):
    """Trailing spaces off every line, no run of blank lines, no blank start or end."""
    lines = [line.rstrip() for line in text.strip().split("\n")]
    out = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out)


def _cuts(kept, boxes, d):
    """The thresholds the entries `kept` test ordered dimension d at, in order."""
    return sorted({t for e in kept if d in boxes[e] for lo, _, hi, _ in boxes[e][d] for t in (lo, hi) if t is not None})


def bits_of(positions, n):
    """The int of n bits with bit k flipped for each k in `positions` (set, for distinct
    ones), built in one pass."""
    out = bytearray((n + 7) >> 3)
    for k in positions:
        out[k >> 3] ^= 1 << (k & 7)
    return int.from_bytes(out, "little")


def bits_by_key(tested, keys, n):
    """Per key, the int of n bits with bit k set where tested[k] (the keys entry k allows,
    None for all of them) holds the key."""
    free, at = [], {key: [] for key in keys}
    for k, allowed in enumerate(tested):
        if allowed is None:
            free.append(k)
        else:
            for key in allowed:
                at[key].append(k)
    every = bits_of(free, n)
    return {key: every | bits_of(at[key], n) for key in keys}


def piece_of(thresholds, v):
    """The piece of an ordered dimension v falls in: bisect_left + bisect_right, with one
    bisection (a threshold is the odd piece after the even piece below it)."""
    k = _bisect_right(thresholds, v)
    return 2 * k - 1 if k and thresholds[k - 1] == v else 2 * k


def _pieces_of(thresholds, intervals):
    """The (first, last) pieces each interval (lo, lo_in, hi, hi_in) covers; None is no bound."""
    out = []
    top = 2 * len(thresholds)
    for lo, lo_in, hi, hi_in in intervals:
        first = 0 if lo is None else 2 * _bisect_left(thresholds, lo) + (1 if lo_in else 2)
        last = top if hi is None else 2 * _bisect_left(thresholds, hi) + (1 if hi_in else 0)
        if first <= last:
            out.append((first, last))
    return out


def kept_entries(members, boxes, exact, split):
    """The entries of a bucket that can be first: up to the first exact one that tests
    nothing but the split dimension (it always matches, so no later one is ever first)."""
    kept = []
    for e in members:
        kept.append(e)
        if exact[e] and all(d == split for d in boxes[e]):
            break
    return kept


ANCHORED = 4  # entries of an anchored bucket one value of a dimension may reach, at most


def anchoring(kept, boxes, exact, dims, split):
    """A bucket's entries each filed under one dimension it tests, the one where it allows
    the smallest share of the keys or pieces. An entry that tests none is always a
    candidate, but for the last when it is exact (the bucket's otherwise: its bit, `base`,
    holds when no other does).

    (base, always, {dim: positions}, need, size): positions count from the last entry of
    `kept` (the first entry is the highest, as in the bits of a bucket of kind 1); need[k]
    is what entry k tests besides its dimension and the split; size, the slots the tables
    hold. None when one value of a dimension would reach more than ANCHORED entries, or
    more than ANCHORED are always candidates: checking them would cost more than the bits
    of kind 1."""
    n = len(kept)
    shares, cuts = {}, {}
    always, filed, need = [], {}, [()] * n
    base = 1 if n and exact[kept[-1]] and all(d == split for d in boxes[kept[-1]]) else 0
    for k, e in enumerate(reversed(kept)):
        box = boxes[e]
        tested = [d for d in sorted(box) if d != split]
        if not tested:
            if k or not base:
                always.append(k)
            continue
        best, best_share = -1, 2.0
        for d in tested:
            key = (d, box[d])
            share = shares.get(key)
            if share is None:
                keys = dims[d]
                if keys is not None:
                    share = len(box[d]) / len(keys)
                else:
                    if d not in cuts:
                        cuts[d] = _cuts(kept, boxes, d)
                    th = cuts[d]
                    share = sum(b - a + 1 for a, b in _pieces_of(th, box[d])) / (2 * len(th) + 1)
                shares[key] = share
            if share < best_share:
                best, best_share = d, share
        filed.setdefault(best, []).append(k)
        need[k] = tuple((d, box[d]) for d in tested if d != best)
    if len(always) > ANCHORED:
        return None
    size = 0
    for d, ks in filed.items():
        keys = dims[d]
        if keys is not None:
            at = dict.fromkeys(keys, 0)
            for k in ks:
                for key in boxes[kept[n - 1 - k]][d]:
                    at[key] += 1
            worst = max(at.values())
            size += len(keys) + sum(at.values())
        else:
            th = _cuts([kept[n - 1 - k] for k in ks], boxes, d)
            counts = [0] * (2 * len(th) + 2)
            for k in ks:
                for first, last in _pieces_of(th, boxes[kept[n - 1 - k]][d]):
                    counts[first] += 1
                    counts[last + 1] -= 1
                    size += last - first + 1
            running, most = 0, 0
            for c in counts:
                running += c
                most = max(most, running)
            worst = most
            size += len(counts)
        if worst > ANCHORED:
            return None
    return base, always, filed, need, size


def admitted(found, need, values):
    """The bits of the candidates `found` whose other tests (need[k]) hold for `values`."""
    bits = 0
    for k in found:
        for d, allowed in need[k]:
            v = values[d]
            if type(allowed) is frozenset:
                if v in allowed:
                    continue
                break
            for lo, lo_in, hi, hi_in in allowed:  # a loop, not any(): no generator to make
                if (lo is None or lo < v or (lo_in and lo == v)) and (hi is None or v < hi or (hi_in and hi == v)):
                    break
            else:
                break
        else:
            bits |= 1 << k
    return bits


class RuleTable:
    """The rules of a long decision table that can match some facts, found without trying
    them one by one: the index a generated decide() and the analysis look rules up in.

    `dims` names each dimension's kind: a tuple of its keys (enum codes, True/False) or
    None for an ordered one (numbers). `entries` are the table's boxes in rule order, each
    ((dim, allowed), ...) for the dimensions it tests: a frozenset of keys, or a tuple of
    intervals (lo, lo_in, hi, hi_in) with None for no bound; `exact[e]` says that the box
    is the whole of what its rule tests. `split` is a keyed dimension to bucket on first,
    or -1. In each bucket, the entries after one that tests nothing more are dropped (they
    cannot be first); a bucket whose entries are exact and test one dimension more is a
    table of the first entry per piece (kind 0); in a table made `anchored` (a generated
    decide()'s), a bucket whose entries each allow few keys or pieces of one dimension
    files each entry under that dimension and checks the rest of its box only when the
    value reaches it (kind 2, see `anchoring`: no int as wide as the bucket per piece, so
    tens of thousands of rules stay small); any other (kind 1) keeps, per dimension
    and key or piece, the set of its entries that allow it, as the bits of an int. An
    ordered dimension's thresholds cut it into pieces: value v is in piece
    bisect_left(thresholds, v) + bisect_right(thresholds, v) (even: between two thresholds,
    odd: on one).

    candidates(values) -> (bits, at): entry at[k] can match when bit k is set, and every
    entry that matches is among them, the earlier the higher its bit: the first is
    at[bits.bit_length() - 1]."""

    def __init__(self, dims, split, entries, exact, anchored=False):
        self.dims = dims
        self.split = split
        self.anchored = anchored
        boxes = [dict(e) for e in entries]
        if split < 0:
            self.buckets = None
            self.one = self._bucket(range(len(boxes)), boxes, exact)
        else:
            self.buckets = {key: self._bucket([e for e, box in enumerate(boxes)
                                               if split not in box or key in box[split]], boxes, exact)
                            for key in dims[split]}

    @classmethod
    def load(cls, dims, split, cuts, text):
        """The table from its packed form (what a generated module holds: a JSON text is read
        at import a hundred times faster than Python compiles the same boxes as literals).
        One JSON list per entry: [exact, part, ...]; a part of a keyed dimension d is
        [d, mask], bit i of the mask for key dims[d][i]; of an ordered one, [d, lo, lo_in, hi,
        hi_in, ...] per interval, lo and hi indexes in cuts[d] (-1: no bound)."""
        entries, exact, sets = [], [], {}
        for row in _json.loads(text):
            box = []
            for part in row[1:]:
                d = part[0]
                keys = dims[d]
                if keys is not None:
                    allowed = sets.get((d, part[1]))
                    if allowed is None:
                        allowed = sets[d, part[1]] = frozenset(k for i, k in enumerate(keys) if part[1] >> i & 1)
                    box.append((d, allowed))
                    continue
                c = cuts[d]
                box.append((d, tuple((c[part[i]] if part[i] >= 0 else None, part[i + 1] == 1,
                                      c[part[i + 2]] if part[i + 2] >= 0 else None, part[i + 3] == 1)
                                     for i in range(1, len(part), 4))))
            entries.append(tuple(box))
            exact.append(row[0] == 1)
        return cls(dims, split, entries, exact, anchored=True)

    @staticmethod
    def best_split(dims, boxes):
        """The keyed dimension whose buckets hold the fewest boxes in all (a box that does
        not test it falls in every bucket), when that is under twice the boxes; else -1."""
        best, best_cost = -1, 2 * len(boxes)
        for d, keys in enumerate(dims):
            if keys is not None:
                cost = sum(len(b[d]) if d in b else len(keys) for b in boxes)
                if cost < best_cost:
                    best, best_cost = d, cost
        return best

    def _bucket(self, members, boxes, exact):
        kept = kept_entries(members, boxes, exact, self.split)
        tested = sorted({d for e in kept for d in boxes[e] if d != self.split})
        if len(tested) <= 1 and all(exact[e] for e in kept):
            return (0, self._firsts(tested[0], kept, boxes) if tested else None, tuple(kept), 1 if kept else 0)
        if self.anchored:
            made = self._anchored(kept, boxes, exact)
            if made is not None:
                return made
        kept = tuple(reversed(kept))  # the first entry is the highest bit: int.bit_length finds it at once
        tables = [None] * len(self.dims)  # per dimension: keyed {key: bits}, ordered (thresholds, bits per piece)
        full = (1 << len(kept)) - 1
        for d, keys in enumerate(self.dims):
            if d == self.split:
                continue
            if d not in tested:  # allows everything
                tables[d] = dict.fromkeys(keys, full) if keys is not None else ((), (full,))
                continue
            # the entries that do not test d allow all of it; bits gathered as positions and
            # made into ints at once (OR-ing 1 << k one by one copies ints as wide as the bucket)
            n = len(kept)
            if keys is not None:
                tables[d] = bits_by_key([boxes[e].get(d) for e in kept], keys, n)
                continue
            free = bits_of([k for k, e in enumerate(kept) if d not in boxes[e]], n)
            thresholds = _cuts(kept, boxes, d)
            toggles = [[] for _ in range(2 * len(thresholds) + 2)]
            for k, e in enumerate(kept):
                if d in boxes[e]:
                    for first, last in _pieces_of(thresholds, boxes[e][d]):
                        toggles[first].append(k)
                        toggles[last + 1].append(k)
            flips = [bits_of(t, n) if t else 0 for t in toggles]
            bits, current = [], free
            for flip in flips[:-1]:
                if flip:  # a piece no entry starts or ends at shares its neighbour's int: half the memory
                    current ^= flip
                bits.append(current)
            tables[d] = (tuple(thresholds), tuple(bits))
        return (1, tuple(tables), kept, full)

    def _anchored(self, kept, boxes, exact):
        """A bucket of kind 2, or None (see `anchoring`): (2, at, always, need, base, then
        per dimension but the split: a keyed one's {key: positions}, an ordered one's
        thresholds, positions per piece and the function that finds the piece)."""
        found = anchoring(kept, boxes, exact, self.dims, self.split)
        if found is None:
            return None
        base, always, filed, need, _ = found
        last = len(kept) - 1
        out = [2, tuple(reversed(kept)), tuple(always), tuple(need), base]
        for d, keys in enumerate(self.dims):
            if d == self.split:
                continue
            mine = [(k, boxes[kept[last - k]][d]) for k in filed.get(d, ())]
            if keys is not None:
                at = {key: [] for key in keys}
                for k, allowed in mine:
                    for key in allowed:
                        at[key].append(k)
                out.append({key: tuple(ks) for key, ks in at.items()})
                continue
            thresholds = tuple(_cuts([kept[last - k] for k in filed.get(d, ())], boxes, d))
            lists = [[] for _ in range(2 * len(thresholds) + 1)]
            for k, allowed in mine:
                for first, end in _pieces_of(thresholds, allowed):
                    for piece in range(first, end + 1):
                        lists[piece].append(k)
            hits = [tuple(ks) for ks in lists]
            # where every interval starts on a threshold or ends before it (or the other way
            # round), one bisection finds the piece: a threshold's piece is like its neighbour's
            n = len(thresholds)
            if all(hits[2 * i + 1] == hits[2 * i + 2] for i in range(n)):
                out += [thresholds, tuple(hits[0::2]), _bisect_right]
            elif all(hits[2 * i + 1] == hits[2 * i] for i in range(n)):
                out += [thresholds, tuple(hits[0::2]), _bisect_left]
            else:
                out += [thresholds, tuple(hits), piece_of]
        return tuple(out)

    def _firsts(self, d, kept, boxes):
        """(d, thresholds or None, the first entry per key or piece, -1 for none)."""
        keys = self.dims[d]
        if keys is not None:
            first = {}
            for e in kept:
                for key in boxes[e].get(d, keys):
                    first.setdefault(key, e)
            return d, None, {key: first.get(key, -1) for key in keys}
        thresholds = _cuts(kept, boxes, d)
        first = [-1] * (2 * len(thresholds) + 1)
        after = list(range(1, len(first) + 1))  # the next piece not yet given an entry
        for e in kept:
            spans = _pieces_of(thresholds, boxes[e][d]) if d in boxes[e] else [(0, len(first) - 1)]
            for lo, hi in spans:
                k = lo
                while k <= hi:
                    if first[k] < 0:
                        first[k] = e
                    nxt = after[k]
                    after[k] = max(nxt, hi + 1)
                    k = nxt
        return d, tuple(thresholds), tuple(first)

    def candidates(self, values):
        bucket = self.one if self.buckets is None else self.buckets[values[self.split]]
        if bucket[0] == 2:
            found, i = bucket[2], 5
            for d, keys in enumerate(self.dims):
                if d == self.split:
                    continue
                if keys is not None:
                    found += bucket[i][values[d]]
                    i += 1
                else:
                    found += bucket[i + 1][bucket[i + 2](bucket[i], values[d])]
                    i += 3
            return admitted(found, bucket[3], values) | bucket[4], bucket[1]
        kind, tables, at, bits = bucket
        if kind == 0:
            if tables is None:
                return bits, at
            d, thresholds, first = tables
            v = values[d]
            e = first[v] if thresholds is None else first[piece_of(thresholds, v)]
            return (1, (e,)) if e >= 0 else (0, ())
        for d, table in enumerate(tables):
            if table is None:
                continue
            v = values[d]
            if type(table) is dict:
                bits &= table[v]
            else:
                thresholds, table = table
                bits &= table[piece_of(thresholds, v)]
        return bits, at


# ── end of policyc runtime support ─────────────────────────────────────
