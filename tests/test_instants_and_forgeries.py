"""The generated module with values that lie: datetimes in zones with daylight saving,
subclasses with methods of their own, objects that fake their class, decisions edited
after decide(), and huge unknown names. Each is decided as the plain value it stands for,
or refused with PolicyInputError; nothing is decided on what a value claims to be."""

from __future__ import annotations

import datetime as dt
import time
import zoneinfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import generated.driver_info as m

from .facts import driver

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
ZONES = [NEW_YORK, zoneinfo.ZoneInfo("Europe/London"), zoneinfo.ZoneInfo("Australia/Lord_Howe"),
         zoneinfo.ZoneInfo("Asia/Seoul"), zoneinfo.ZoneInfo("America/Santiago")]
PHONE = {"request": "driver_phone", "trip_status": "completed", "history_available": False, "reason": "other"}


def _answer(facts):
    try:
        d = m.decide(facts)
    except m.PolicyInputError as err:
        return ("refused", err.name)
    return (d.outcome, d.rule, d.derived["elapsed"])


def test_elapsed_across_a_dst_change_is_real_time():
    """72 h 30 m of real time across the end of daylight saving in New York: the wall
    clocks are 71 h 30 m apart, and the rule says "within 3 days" of real time."""
    ride = dt.datetime(2024, 11, 1, 12, 0, tzinfo=NEW_YORK)      # EDT, UTC-4
    asked = dt.datetime(2024, 11, 4, 11, 30, tzinfo=NEW_YORK)    # EST, UTC-5
    d = m.decide({**PHONE, "ride_at": ride, "asked_at": asked})
    assert d.derived["elapsed"] == dt.timedelta(hours=72, minutes=30)
    assert d.outcome != "disclose_driver_phone"
    assert _answer({**PHONE, "ride_at": ride, "asked_at": asked}) == _answer(
        {**PHONE, "ride_at": ride.isoformat(), "asked_at": asked.isoformat()})


def test_a_fold_1_instant_is_the_later_of_the_two():
    """01:40 EDT (fold=0) comes before 01:30 EST (fold=1) on 2024-11-03: 50 minutes later,
    not "asked before the ride"."""
    ride = dt.datetime(2024, 11, 3, 1, 40, tzinfo=NEW_YORK, fold=0)
    asked = dt.datetime(2024, 11, 3, 1, 30, tzinfo=NEW_YORK, fold=1)
    d = m.decide({**PHONE, "ride_at": ride, "asked_at": asked})
    assert d.derived["elapsed"] == dt.timedelta(minutes=50)


@settings(max_examples=400, deadline=None)
@given(st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2040, 1, 1)),
       st.integers(min_value=0, max_value=20 * 86400), st.sampled_from(ZONES), st.sampled_from(ZONES),
       st.booleans(), st.booleans())
def test_an_aware_datetime_decides_as_its_text(naive, seconds, zone_a, zone_b, fold_a, fold_b):
    ride = naive.replace(tzinfo=zone_a, fold=int(fold_a))
    asked = (naive + dt.timedelta(seconds=seconds)).replace(tzinfo=zone_b, fold=int(fold_b))
    as_objects = _answer({**PHONE, "ride_at": ride, "asked_at": asked})
    as_text = _answer({**PHONE, "ride_at": ride.isoformat(), "asked_at": asked.isoformat()})
    assert as_objects == as_text


class LyingDatetime(dt.datetime):
    """A datetime that says it is always later, and that no time passes."""

    def __ge__(self, other):
        return True

    def __le__(self, other):
        return True

    def __sub__(self, other):
        return dt.timedelta(0)

    def __rsub__(self, other):
        return dt.timedelta(0)

    @property
    def year(self):
        return 2099


class LyingDuration(dt.timedelta):
    def __le__(self, other):
        return True


def test_datetime_subclasses_are_read_as_plain_datetimes():
    utc = dt.timezone.utc
    ride, asked = LyingDatetime(2024, 1, 10, tzinfo=utc), dt.datetime(2024, 1, 1, tzinfo=utc)
    with pytest.raises(m.PolicyInputError, match="문의 시각은 탑승 시각보다 빠를 수 없습니다"):
        m.decide({**PHONE, "ride_at": ride, "asked_at": asked})
    d = m.decide({**PHONE, "ride_at": LyingDatetime(2024, 1, 1, tzinfo=utc), "asked_at": LyingDatetime(2024, 1, 9, tzinfo=utc)})
    assert d.derived["elapsed"] == dt.timedelta(days=8) and d.outcome != "disclose_driver_phone"
    assert all(type(v) is dt.datetime for k, v in d.facts.items() if k.endswith("_at"))
    from compiler.runtime.support import check_duration

    assert type(check_duration("x", LyingDuration(days=5))) is dt.timedelta


class Impostor:
    """Claims to be the string "driver_phone" by its class, its hash and its equality."""

    __class__ = str

    def __hash__(self):
        return hash("driver_phone")

    def __eq__(self, other):
        return True


class ImpostorStr(str):
    def __eq__(self, other):
        return True

    __hash__ = str.__hash__


@pytest.mark.parametrize("value", [Impostor(), ImpostorStr("not_a_code")], ids=["fake-class", "str-subclass"])
def test_values_that_fake_their_class_are_refused(value):
    with pytest.raises(m.PolicyInputError) as err:
        m.decide(driver(request=value))
    assert err.value.name == "request"
    with pytest.raises(m.PolicyInputError):
        m.decide(driver(ride_at=ImpostorStr("2024-03-01T10:00:00+09:00"), asked_at=ImpostorStr("x")))


def test_render_shows_only_what_decide_decided():
    d = m.decide(driver(request="account_number"))
    assert d.outcome == "refer_to_driver" and not d.discloses
    forged = d._replace(outcome="disclose_driver_phone", discloses=frozenset({"driver_phone"}))
    with pytest.raises(m.PolicyInputError) as err:
        m.render(forged, {"driver_phone": "01012345678"})
    assert err.value.name == "decision"
    with pytest.raises(m.PolicyInputError):  # facts swapped under a decision made for others
        m.render(m.decide(driver(history_available=False))._replace(facts=d.facts), {"driver_phone": "01012345678"})

    class Subclass(m.Decision):
        pass

    with pytest.raises(m.PolicyInputError):
        m.render(Subclass(*d), {})
    assert "계좌번호는" in m.render(d, {})  # the genuine one still renders


def test_a_huge_unknown_name_is_cut_short_and_quick():
    name = "x" * 50_000_000
    started = time.perf_counter()
    with pytest.raises(m.PolicyInputError) as err:
        m.decide({**driver(), name: 1})
    spent = time.perf_counter() - started
    assert len(str(err.value)) < 200 and len(err.value.name) < 100
    assert spent < 2.0, spent  # a bound on a pathology (4 s before), not a benchmark
