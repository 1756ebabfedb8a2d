"""Spec §7: every invalid input raises PolicyInputError (a ValueError) naming the
fact, and never yields a decision; a reply that lacks a context value does the same."""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict

import pytest

from .facts import RIDE, driver

BAD_FACTS = [
    # (id, facts, the fact the error must name)
    ("missing required", {k: v for k, v in driver().items() if k != "trip_status"}, "trip_status"),
    ("missing all", {}, "request"),
    ("unknown name", {**driver(), "histroy_available": True}, "histroy_available"),
    ("typo of an optional fact", {**driver(), "repeat_requst": True}, "repeat_requst"),
    ("non-string key", {**driver(), 3: True}, "3"),
    ("bool as string", driver(history_available="yes"), "history_available"),
    ("bool as int", driver(history_available=1), "history_available"),
    ("bool as None", driver(history_available=None), "history_available"),
    ("optional bool wrong", driver(repeat_request="false"), "repeat_request"),
    ("timestamp as bool", driver(ride_at=True), "ride_at"),
    ("timestamp as number", driver(ride_at=1700000000), "ride_at"),
    ("naive timestamp string", driver(ride_at="2024-03-01T10:00:00"), "ride_at"),
    ("naive datetime", driver(ride_at=dt.datetime(2024, 3, 1, 10)), "ride_at"),
    ("date only", driver(ride_at="2024-03-01"), "ride_at"),
    ("unparsable", driver(asked_at="yesterday"), "asked_at"),
    ("impossible date", driver(asked_at="2024-02-30T10:00:00+09:00"), "asked_at"),
    ("date object", driver(ride_at=dt.date(2024, 3, 1)), "ride_at"),
    ("unknown enum value", driver(request="driver_email"), "request"),
    ("enum case", driver(trip_status="COMPLETED"), "trip_status"),
    ("enum as number", driver(reason=1), "reason"),
    ("enum as None", driver(reason=None), "reason"),
    ("asked before ride", driver(asked_at=(RIDE - dt.timedelta(seconds=1)).isoformat()), "asked_at"),
]


@pytest.mark.parametrize("facts, name", [c[1:] for c in BAD_FACTS], ids=[c[0] for c in BAD_FACTS])
def test_bad_facts(driver_info, facts, name):
    with pytest.raises(driver_info.PolicyInputError) as info:
        driver_info.decide(facts)
    assert isinstance(info.value, ValueError)
    assert name in info.value.name and str(info.value).startswith(info.value.name)


@pytest.mark.parametrize("facts", [None, "request=driver_phone", 42, [("request", "driver_phone")], object()])
def test_facts_must_be_a_mapping(driver_info, facts):
    with pytest.raises(driver_info.PolicyInputError) as info:
        driver_info.decide(facts)
    assert info.value.name == "facts"


def test_any_mapping_is_accepted(driver_info):
    assert driver_info.decide(OrderedDict(driver())).outcome == "guide_history_call"


def test_typo_suggests_the_fact(driver_info):
    with pytest.raises(driver_info.PolicyInputError, match="history_available"):
        driver_info.decide({**driver(), "histroy_available": True})


def test_reply_needs_its_context(driver_info):
    d = driver_info.decide(driver(history_available=False))
    with pytest.raises(driver_info.PolicyInputError) as info:
        driver_info.render(d)
    assert info.value.name == "driver_phone"
    plate = driver_info.decide(driver(request="vehicle_plate", history_available=False))
    with pytest.raises(driver_info.PolicyInputError) as info:
        driver_info.render(plate, {"driver_phone": "010-1234-5678"})
    assert info.value.name == "vehicle_plate"


@pytest.mark.parametrize("context, name", [
    ({"driver_phone": "010-1234-567a"}, "driver_phone"),
    ({"driver_phone": ""}, "driver_phone"),
    ({"driver_phone": None}, "driver_phone"),
    ({"driver_phone": "+1 415 555 0100"}, "driver_phone"),
    ({"driver_phone": "010-1234-5678", "driver_phon": "x"}, "driver_phon"),
    ({"driver_phone": "010-1234-5678", "vehicle_plate": "   "}, "vehicle_plate"),
    ({"driver_phone": "010-1234-5678", "vehicle_plate": "12가\n3456"}, "vehicle_plate"),
])
def test_bad_context(driver_info, context, name):
    d = driver_info.decide(driver(history_available=False))
    with pytest.raises(driver_info.PolicyInputError) as info:
        driver_info.render(d, context)
    assert info.value.name == name


def test_render_needs_a_decision(driver_info):
    with pytest.raises(driver_info.PolicyInputError):
        driver_info.render({"outcome": "disclose_driver_phone"}, {"driver_phone": "01012345678"})
    with pytest.raises(driver_info.PolicyInputError):
        driver_info.render(driver_info.decide(driver()), "driver_phone=010")


def test_facts_schema_matches_validation(driver_info):
    import jsonschema

    schema = driver_info.FACTS_SCHEMA
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid(driver())
    assert set(schema["required"]) == {"request", "trip_status", "ride_at", "asked_at", "history_available", "reason"}
    beyond_json_schema = {"asked before ride", "impossible date"}  # cross-fact and calendar checks
    for case, facts, _ in BAD_FACTS:
        json_like = all(isinstance(k, str) for k in facts) and all(
            isinstance(v, (str, bool, int, type(None))) for v in facts.values())
        if json_like and case not in beyond_json_schema:
            assert not validator.is_valid(facts), case
