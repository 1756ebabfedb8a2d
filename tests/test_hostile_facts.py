"""Hostile facts: whatever an app passes, only PolicyInputError escapes decide() and
render(), and invalid input never gets a decision (hypothesis)."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import generated.driver_info as m

from .facts import driver

FACT_NAMES = list(m.FACTS_SCHEMA["properties"])


class Exploding:
    """An object whose every dunder raises."""

    def __eq__(self, other):
        raise RuntimeError("eq")

    def __hash__(self):
        raise RuntimeError("hash")

    def __repr__(self):
        raise RuntimeError("repr")

    def __str__(self):
        raise RuntimeError("str")


class BadZone(dt.tzinfo):
    def utcoffset(self, when):
        raise RuntimeError("no offset")


class WeirdStr(str):
    def __eq__(self, other):
        raise RuntimeError("eq")

    __hash__ = str.__hash__


class ExplodingMapping(dict):
    def __iter__(self):
        raise RuntimeError("iter")

    def keys(self):
        raise RuntimeError("keys")


junk = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=10**30, max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([math.nan, math.inf, -math.inf]),
    st.decimals(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.text(alphabet=st.characters(min_codepoint=0x202A, max_codepoint=0x202E), max_size=5),
    st.sampled_from(["driver_phone\u200b", "ｄｒｉｖｅｒ＿ｐｈｏｎｅ", "DRIVER_PHONE", "completed ", "", "\x00",
                     "2024-03-01T10:00:00", "2024-03-01", "2024-13-01T10:00+09:00", "2024-03-01T25:00+09:00",
                     "2024-03-01T10:00:00+24:00", "yesterday", "9999-12-31T23:59:59+14:00", "0001-01-01T00:00-12:00",
                     "2024-03-01T10:00:00Z\n", " 2024-03-01T10:00:00Z"]),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.just(dt.datetime(2024, 3, 1, 10)), st.just(dt.date(2024, 3, 1)), st.just(dt.timedelta(days=1)),
    # built, not `just`: hypothesis hashes `just` values, and these refuse to be hashed
    st.builds(lambda: dt.datetime(2024, 3, 1, 10, tzinfo=BadZone())), st.builds(Exploding),
    st.builds(lambda: WeirdStr("driver_phone")), st.just(Decimal("1e999999")), st.just(b"driver_phone"),
    st.builds(object),
)


@st.composite
def hostile_facts(draw):
    facts = dict(driver())
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        action = draw(st.sampled_from(["replace", "drop", "extra", "rename"]))
        name = draw(st.sampled_from(FACT_NAMES))
        if action == "replace":
            facts[name] = draw(junk)
        elif action == "drop" and name in facts and name != "repeat_request":
            del facts[name]
        elif action == "extra":
            facts[draw(st.one_of(st.text(max_size=10), st.integers(), st.none()))] = draw(junk)
        else:
            facts[name + draw(st.sampled_from(["_", "s", "\u200b", " "]))] = facts.pop(name, None)
    return facts


def _valid(facts) -> bool:
    """The facts as the spec accepts them (independent of the module's own checks)."""
    schema = m.FACTS_SCHEMA["properties"]
    if set(facts) - set(schema) or set(m.FACTS_SCHEMA["required"]) - set(facts):
        return False
    for name, value in facts.items():
        kind = schema[name]
        if kind["type"] == "boolean" and value is not True and value is not False:
            return False
        if "enum" in kind and not (type(value) is str and value in kind["enum"]):
            return False
        if kind.get("format") == "date-time":
            if not isinstance(value, str):
                return False
            try:
                when = dt.datetime.fromisoformat(value)
            except ValueError:
                return False
            if when.tzinfo is None:
                return False
    ride, asked = dt.datetime.fromisoformat(facts["ride_at"]), dt.datetime.fromisoformat(facts["asked_at"])
    return asked >= ride


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_facts())
def test_only_policy_input_error_escapes_decide(facts):
    try:
        decision = m.decide(facts)
    except m.PolicyInputError as err:
        assert isinstance(err, ValueError) and err.name
        return
    assert _valid(facts), f"a decision on invalid input: {facts!r} -> {decision.outcome}"


@settings(max_examples=300, deadline=None)
@given(st.one_of(junk, st.lists(junk, max_size=3), st.builds(lambda: ExplodingMapping(a=1)), st.tuples(st.text(), junk)))
def test_non_mappings_are_refused(value):
    try:
        m.decide(value)
    except m.PolicyInputError:
        return
    raise AssertionError(f"decided on {value!r}")


@settings(max_examples=600, deadline=None)
@given(st.dictionaries(st.one_of(st.sampled_from(["driver_phone", "vehicle_plate", "driver_phon"]), st.text(max_size=8)),
                       junk, max_size=3))
def test_only_policy_input_error_escapes_render(context):
    for facts in (driver(history_available=False), driver(request="vehicle_plate", history_available=False)):
        decision = m.decide(facts)
        try:
            text = m.render(decision, context)
        except m.PolicyInputError:
            continue
        assert text and "None" not in text and "{{" not in text
