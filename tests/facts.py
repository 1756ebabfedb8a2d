"""Helpers to make facts: the driver-info base case, and random valid facts for any
policy, biased to every boundary the policy names (at, and one microsecond and one
second either side of each threshold, in several UTC offsets)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from compiler.middle import ir

KST = dt.timezone(dt.timedelta(hours=9))
OFFSETS = [dt.timezone.utc, KST, dt.timezone(dt.timedelta(hours=-7)),
           dt.timezone(dt.timedelta(hours=5, minutes=30)), dt.timezone(dt.timedelta(hours=14)),
           dt.timezone(dt.timedelta(hours=-12))]
RIDE = dt.datetime(2024, 3, 1, 10, 0, tzinfo=KST)


def iso(t: dt.datetime) -> str:
    return t.isoformat()


def driver(elapsed: dt.timedelta = dt.timedelta(hours=1), **over):
    """Valid driver-info facts: a completed ride, asked `elapsed` after boarding."""
    base = {
        "request": "driver_phone",
        "trip_status": "completed",
        "ride_at": iso(RIDE),
        "asked_at": iso(RIDE + elapsed),
        "history_available": True,
        "reason": "other",
    }
    base.update(over)
    return base


def _thresholds(policy: ir.Policy):
    durations = [c.value for c in policy.consts if c.type.kind == "duration"]
    instants = [c.value for c in policy.consts if c.type.kind == "timestamp"]
    return durations, instants


def random_facts(policy: ir.Policy, rng: random.Random) -> dict:
    """Typed facts (datetime, timedelta, ...) that pass type validation."""
    durations, instants = _thresholds(policy)
    tiny = [dt.timedelta(0), dt.timedelta(microseconds=1), -dt.timedelta(microseconds=1),
            dt.timedelta(seconds=1), -dt.timedelta(seconds=1)]
    anchor = rng.choice(instants + [RIDE, RIDE + dt.timedelta(days=rng.randint(-900, 900))])
    anchor = anchor + rng.choice(tiny + [dt.timedelta(seconds=rng.randint(-10**7, 10**7))])
    numbers = [c.value for c in policy.consts if c.type.kind == "number"]
    money = [c.value for c in policy.consts if c.type.kind == "money"]
    state = {"first_ts": True}
    return _fields(policy, policy.facts, rng, anchor, durations, numbers, money, tiny, state)


def _fields(policy, decls, rng, anchor, durations, numbers, money, tiny, state) -> dict:
    facts = {}
    for f in decls:
        if (f.has_default or f.optional) and rng.random() < 0.3:
            continue
        kind = f.type.kind
        if kind == "enum":
            facts[f.name] = rng.choice(f.codes)
        elif kind == "bool":
            facts[f.name] = rng.random() < 0.5
        elif kind == "number":
            near = [Decimal(n) + d for n in numbers for d in (Decimal(0), Decimal("0.1"), Decimal("-0.1"))]
            facts[f.name] = rng.choice([0, 1, rng.randint(-10**6, 10**6), Decimal("0.5"), 2.5, *near])
        elif kind == "money":
            facts[f.name] = rng.choice([0, 1000, 1400, rng.randint(-10**4, 10**5), *money,
                                        *(m + 1 for m in money), *(m - 1 for m in money)])
        elif kind == "date":
            facts[f.name] = (anchor + dt.timedelta(days=rng.randint(-400, 400))).date()
        elif kind == "time":
            facts[f.name] = dt.time(rng.randint(0, 23), rng.choice([0, 59]), rng.choice([0, 59]))
        elif kind == "text":
            facts[f.name] = rng.choice(["초코", "보리", "Max"])
        elif kind == "list":
            record = policy.records_by_name[f.type.item]
            facts[f.name] = [_fields(policy, record.fields, rng, anchor, durations, numbers, money, tiny, state)
                             for _ in range(rng.randint(0, min(f.max_items, 4)))]
        elif kind == "duration":
            base = rng.choice(durations + [dt.timedelta(hours=rng.randint(0, 2000))])
            facts[f.name] = max(dt.timedelta(0), base + rng.choice(tiny))
        elif kind == "timestamp":
            if state["first_ts"]:
                value, state["first_ts"] = anchor, False
            else:
                step = rng.choice(durations + [dt.timedelta(0), dt.timedelta(seconds=rng.randint(0, 3 * 10**6))])
                value = anchor + step + rng.choice(tiny)
            facts[f.name] = value.astimezone(rng.choice(OFFSETS))
    return facts
