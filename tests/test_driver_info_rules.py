"""The driver-info policy against spec §3 (decision `reply`) and §4 (`consult_type`),
rule by rule and boundary by boundary, on the committed generated module."""

from __future__ import annotations

import datetime as dt

import pytest

from .facts import RIDE, driver, iso

H = dt.timedelta(hours=1)
S = dt.timedelta(seconds=1)
US = dt.timedelta(microseconds=1)

# (case id, facts, expected outcome, expected rule)
RULES = [
    ("1 name", driver(request="driver_name"), "refer_to_driver", "이름_계좌번호"),
    ("1 account", driver(request="account_number", trip_status="cancelled_after_dispatch"), "refer_to_driver", "이름_계좌번호"),
    ("2 phone, history", driver(), "guide_history_call", "연락처_이용기록_전화"),
    ("2 phone in progress", driver(trip_status="in_progress"), "guide_history_call", "연락처_이용기록_전화"),
    ("3 phone, no history", driver(history_available=False), "disclose_driver_phone", "연락처_직접_안내"),
    ("4 safe call, lost item", driver(4 * 24 * H, reason="lost_item"), "guide_safe_call", "연락처_안심연결"),
    ("4 safe call, accident", driver(10 * 24 * H, reason="accident"), "guide_safe_call", "연락처_안심연결"),
    ("4 safe call, fare", driver(14 * 24 * H, reason="fare_unpaid"), "guide_safe_call", "연락처_안심연결"),
    ("5 OB after 14 days", driver(15 * 24 * H, reason="lost_item"), "ob_transfer", "연락처_OB_이관"),
    ("5 OB on repeat", driver(5 * 24 * H, reason="accident", repeat_request=True), "ob_transfer", "연락처_OB_이관"),
    ("5 OB cancelled trip", driver(trip_status="cancelled_after_dispatch", reason="lost_item"), "ob_transfer", "연락처_OB_이관"),
    ("5 OB stopped trip", driver(trip_status="stopped_by_driver_report", reason="fare_unpaid"), "ob_transfer", "연락처_OB_이관"),
    ("5 OB before dispatch", driver(trip_status="cancelled_before_dispatch", reason="accident"), "ob_transfer", "연락처_OB_이관"),
    ("6 plate in history", driver(request="vehicle_plate"), "guide_history_plate", "차량번호_이용기록"),
    ("7 plate, no history", driver(request="vehicle_plate", history_available=False), "disclose_vehicle_plate", "차량번호_안내"),
    ("8 plate OB, custom reservation", driver(8 * 24 * H, request="vehicle_plate", reason="custom_reservation"), "ob_transfer", "차량번호_OB_이관"),
    ("8 plate OB, cancelled", driver(request="vehicle_plate", trip_status="cancelled_after_dispatch", reason="lost_item"), "ob_transfer", "차량번호_OB_이관"),
    ("9 repeat, name", driver(request="driver_name", repeat_request=True), "refuse_repeat", "지속_요구"),
    ("9 repeat, phone late", driver(20 * 24 * H, reason="other", repeat_request=True), "refuse_repeat", "지속_요구"),
    ("10 phone late, other", driver(4 * 24 * H), "refuse", "otherwise"),
    ("10 phone cancelled, other", driver(trip_status="cancelled_before_dispatch"), "refuse", "otherwise"),
    ("10 plate late, other", driver(8 * 24 * H, request="vehicle_plate"), "refuse", "otherwise"),
    ("10 custom reservation is no phone exception", driver(4 * 24 * H, reason="custom_reservation"), "refuse", "otherwise"),
]


@pytest.mark.parametrize("facts, outcome, rule", [c[1:] for c in RULES], ids=[c[0] for c in RULES])
def test_reply_rules(driver_info, facts, outcome, rule):
    d = driver_info.decide(facts)
    assert (d.outcome, d.rule) == (outcome, rule)
    assert d.source.startswith("policy/driver_info.policy:")


def test_every_rule_is_exercised(driver_policy):
    fired = {c[3] for c in RULES}
    assert fired == {r.name for r in driver_policy.main.rules}


BOUNDARIES = [
    # exactly 3 days is inside, a second (or a microsecond) later is outside
    ("72h", driver(72 * H, history_available=False), "disclose_driver_phone"),
    ("72h+1us", driver(72 * H + US, history_available=False), "refuse"),
    ("72h+1s", driver(72 * H + S, history_available=False), "refuse"),
    ("72h+1s lost item", driver(72 * H + S, reason="lost_item"), "guide_safe_call"),
    ("72h history", driver(72 * H), "guide_history_call"),
    # 7 days for the plate
    ("168h", driver(168 * H, request="vehicle_plate", history_available=False), "disclose_vehicle_plate"),
    ("168h+1s", driver(168 * H + S, request="vehicle_plate", history_available=False), "refuse"),
    ("168h+1us lost item", driver(168 * H + US, request="vehicle_plate", reason="lost_item"), "ob_transfer"),
    # 14 days for the safe call
    ("336h", driver(336 * H, reason="accident"), "guide_safe_call"),
    ("336h+1s", driver(336 * H + S, reason="accident"), "ob_transfer"),
    ("336h+1us", driver(336 * H + US, reason="accident"), "ob_transfer"),
    ("0s", driver(dt.timedelta(0), history_available=False), "disclose_driver_phone"),
]


@pytest.mark.parametrize("facts, outcome", [c[1:] for c in BOUNDARIES], ids=[c[0] for c in BOUNDARIES])
def test_boundaries(driver_info, facts, outcome):
    assert driver_info.decide(facts).outcome == outcome


def test_elapsed_across_offsets(driver_info):
    """72 h measured between instants written in different offsets."""
    facts = driver(history_available=False, ride_at="2024-03-01T10:00:00+09:00", asked_at="2024-03-04T01:00:00Z")
    assert driver_info.decide(facts).outcome == "disclose_driver_phone"
    facts["asked_at"] = "2024-03-04T01:00:01+00:00"
    assert driver_info.decide(facts).outcome == "refuse"


SINCE = [
    "2023-07-03T14:00:00+09:00",
    "2023-07-03T05:00:00Z",
    "2023-07-03T05:00:00+00:00",
    "2023-07-03T06:00:00+01:00",
    "2023-07-02T22:00:00-07:00",
    "2023-07-03T19:30:00+14:30",
]


@pytest.mark.parametrize("ride_at", SINCE)
def test_plate_history_starts_at_the_same_instant_in_any_offset(driver_info, ride_at):
    asked = dt.datetime.fromisoformat(ride_at) + dt.timedelta(days=1)
    at = driver(request="vehicle_plate", ride_at=ride_at, asked_at=iso(asked))
    assert driver_info.decide(at).outcome == "guide_history_plate"
    before = dt.datetime.fromisoformat(ride_at) - US
    early = driver(request="vehicle_plate", ride_at=iso(before), asked_at=iso(asked))
    assert driver_info.decide(early).outcome == "disclose_vehicle_plate"


def test_datetime_objects_are_accepted(driver_info):
    facts = driver(ride_at=RIDE, asked_at=(RIDE + 72 * H).astimezone(dt.timezone.utc), history_available=False)
    assert driver_info.decide(facts).outcome == "disclose_driver_phone"


CONSULT = [
    ("unknown", ("펫_승객", "서비스가입/설치/내정보", "이용기록/영수증")),
    ("lost_item", ("펫_승객", "분실물", "펫")),
    ("accident", ("펫_승객", "사고", "펫")),
    ("fare_unpaid", ("펫_승객", "요금/결제", "펫")),
    ("custom_reservation", ("펫_승객", "맞춤예약", "펫")),
    ("other", ("펫_승객", "기타", "펫")),
]


@pytest.mark.parametrize("reason, expected", CONSULT)
def test_consult_type(driver_info, reason, expected):
    for request in ("driver_phone", "account_number"):
        assert driver_info.decide(driver(request=request, reason=reason)).consult_type == expected


def test_decision_shape(driver_info):
    d = driver_info.decide(driver(history_available=False))
    assert d.discloses == frozenset({"driver_phone"}) and d.actions == frozenset()
    ob = driver_info.decide(driver(trip_status="cancelled_after_dispatch", reason="lost_item"))
    assert ob.actions == frozenset({"ob_transfer"}) and ob.discloses == frozenset()
    plate = driver_info.decide(driver(request="vehicle_plate", history_available=False))
    assert plate.discloses == frozenset({"vehicle_plate"})
    assert d.facts["repeat_request"] is False  # the default is filled in
    assert d.facts["ride_at"] == RIDE
    with pytest.raises(AttributeError):
        d.outcome = "refuse"  # immutable
    with pytest.raises(TypeError):
        d.facts["request"] = "x"
    assert isinstance(d.consult_type, tuple)
    assert d.source == f"policy/driver_info.policy:{int(d.source.rsplit(':', 1)[1])}"
    assert driver_info.OUTCOMES == ("guide_history_call", "disclose_driver_phone", "guide_safe_call", "ob_transfer",
                                    "guide_history_plate", "disclose_vehicle_plate", "refer_to_driver", "refuse",
                                    "refuse_repeat")


def test_source_line_points_at_the_rule(driver_info):
    from .conftest import ROOT

    lines = (ROOT / "policy/driver_info.policy").read_text(encoding="utf-8").splitlines()
    for facts, _, rule in [c[1:] for c in RULES]:
        d = driver_info.decide(facts)
        line = int(d.source.rsplit(":", 1)[1])
        text = lines[line - 1]
        assert (f"rule {rule} " in text) or (rule == "otherwise" and text.strip().startswith("otherwise"))

