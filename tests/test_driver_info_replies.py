"""Every outcome's rendered reply (golden files in tests/cases/replies/), with
particles that follow the value's last sound, and no seed placeholders left."""

from __future__ import annotations

import datetime as dt

import pytest

from .conftest import ROOT, check_golden
from .facts import driver

D = dt.timedelta(days=1)
CONTEXT = {"driver_phone": "01012345678", "vehicle_plate": "12가3456"}

# one representative case per outcome (and per wording the ob_transfer reply has)
CASES = {
    "guide_history_call": driver(),
    "disclose_driver_phone": driver(history_available=False),
    "guide_safe_call": driver(5 * D, reason="lost_item"),
    "ob_transfer_active": driver(20 * D, reason="lost_item"),
    "ob_transfer_cancelled": driver(trip_status="cancelled_after_dispatch", reason="accident"),
    "ob_transfer_stopped": driver(trip_status="stopped_by_passenger_report", reason="fare_unpaid"),
    "ob_transfer_plate_cancelled": driver(request="vehicle_plate", trip_status="cancelled_before_dispatch",
                                          reason="custom_reservation"),
    "guide_history_plate": driver(request="vehicle_plate"),
    "disclose_vehicle_plate": driver(request="vehicle_plate", history_available=False),
    "refer_to_driver_name": driver(request="driver_name"),
    "refer_to_driver_account": driver(request="account_number"),
    "refuse": driver(4 * D),
    "refuse_plate": driver(8 * D, request="vehicle_plate"),
    "refuse_repeat": driver(request="account_number", repeat_request=True),
}
PLACEHOLDERS = ("OOOO", "OOO", "000-0000-0000", "OO가OOOO", "None", "{{", "}}", "{%", "%}", "  ")


@pytest.mark.parametrize("case", sorted(CASES))
def test_reply_golden(driver_info, case, update_goldens):
    d = driver_info.decide(CASES[case])
    text = driver_info.render(d, CONTEXT)
    for bad in PLACEHOLDERS:
        assert bad not in text, f"{bad!r} left in the reply"
    assert text == text.strip() and "\n\n\n" not in text
    check_golden(ROOT / "tests/cases/replies" / f"{case}.txt", text + "\n", update_goldens)


def test_every_outcome_has_a_reply_case(driver_info):
    outcomes = {driver_info.decide(f).outcome for f in CASES.values()}
    assert outcomes == set(driver_info.OUTCOMES)


@pytest.mark.parametrize("plate, expected", [
    ("12가3456", "12가3456으로 확인됩니다"),
    ("12가3457", "12가3457로 확인됩니다"),
    ("12가3450", "12가3450으로 확인됩니다"),
    ("123나4561", "123나4561로 확인됩니다"),
    ("서울12가3458", "서울12가3458로 확인됩니다"),
])
def test_plate_particle(driver_info, plate, expected):
    d = driver_info.decide(driver(request="vehicle_plate", history_available=False))
    assert expected in driver_info.render(d, {"vehicle_plate": plate})


@pytest.mark.parametrize("request_, expected", [("driver_name", "기사님의 이름은 "), ("account_number", "기사님의 계좌번호는 ")])
def test_name_and_account_particles(driver_info, request_, expected):
    assert expected in driver_info.render(driver_info.decide(driver(request=request_)))


@pytest.mark.parametrize("spelling", ["01012345678", "010-1234-5678", "010 1234 5678", "+82 10-1234-5678", "+821012345678"])
def test_phone_is_shown_in_one_spelling(driver_info, spelling):
    d = driver_info.decide(driver(history_available=False))
    assert "기사님 연락처는 010-1234-5678입니다." in driver_info.render(d, {"driver_phone": spelling})


def test_days_come_from_the_constants(driver_info):
    text = driver_info.render(driver_info.decide(driver(5 * D, reason="accident")))
    assert "14일이 지나지 않았다면" in text and "1551-5009로 적용되며" in text and "2회까지" in text


def test_refuse_names_what_was_asked(driver_info):
    assert "기사님의 차량번호 정보는" in driver_info.render(driver_info.decide(driver(8 * D, request="vehicle_plate")))
    assert "기사님의 연락처 정보는" in driver_info.render(driver_info.decide(driver(4 * D)))


def test_reply_needs_only_what_it_shows(driver_info):
    """Replies that show no personal value need no context at all."""
    for facts in CASES.values():
        d = driver_info.decide(facts)
        if not d.discloses:
            assert driver_info.render(d)
