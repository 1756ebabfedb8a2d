"""A seeded generator of realistic support tickets for the driver-info policy: the facts
an app would send (ISO strings with offsets, as text columns), a ticket_id, and a share
of broken rows (unknown values, naive or garbled timestamps, missing facts, asked before
boarding) so that invalid input is exercised too.

    python scripts/tickets.py --rows 1000000 --output tickets.parquet [--seed 1] [--invalid 0.02] [--recorded] [--typed]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from pathlib import Path

REQUESTS = ["driver_phone", "vehicle_plate", "driver_name", "account_number"]
STATUSES = ["in_progress", "completed", "cancelled_before_dispatch", "cancelled_after_dispatch",
            "stopped_by_passenger_report", "stopped_by_driver_report"]
REASONS = ["lost_item", "accident", "fare_unpaid", "custom_reservation", "other", "unknown"]
OFFSETS = [dt.timezone(dt.timedelta(hours=9))] * 6 + [dt.timezone.utc, dt.timezone(dt.timedelta(hours=-7))]
SINCE = dt.datetime(2023, 7, 3, 5, tzinfo=dt.timezone.utc)
STEPS = [dt.timedelta(hours=h) for h in (72, 168, 336)]
TINY = [dt.timedelta(0), dt.timedelta(microseconds=1), -dt.timedelta(microseconds=1), dt.timedelta(seconds=1),
        -dt.timedelta(seconds=1)]
COLUMNS = ["ticket_id", "request", "trip_status", "ride_at", "asked_at", "history_available", "reason",
           "repeat_request"]


def ticket(i: int, rng: random.Random, invalid: float) -> dict:
    if rng.random() < 0.2:  # near the 2023-07-03 14:00 KST boundary
        ride = SINCE + rng.choice(TINY) + dt.timedelta(hours=rng.choice([0, 0, 1, -1, 24]))
    else:
        ride = dt.datetime(2023, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=rng.randrange(3 * 365 * 86400))
    if rng.random() < 0.4:  # at or next to the 3, 7 and 14 day boundaries
        asked = ride + rng.choice(STEPS) + rng.choice(TINY)
    else:
        asked = ride + dt.timedelta(seconds=rng.randrange(30 * 86400))
    row = {
        "ticket_id": i,
        "request": rng.choice(REQUESTS),
        "trip_status": rng.choice(STATUSES),
        "ride_at": ride.astimezone(rng.choice(OFFSETS)).isoformat(),
        "asked_at": asked.astimezone(rng.choice(OFFSETS)).isoformat(),
        "history_available": rng.choice(["true", "false"]),
        "reason": rng.choice(REASONS),
        "repeat_request": rng.choice(["true", "false", "false", None]),
    }
    if rng.random() < invalid:
        field = rng.choice(["request", "trip_status", "ride_at", "asked_at", "history_available", "reason"])
        row[field] = rng.choice([None, "", "yes", "DRIVER_PHONE", "2024-03-01T10:00:00", "2024-02-30T10:00:00+09:00",
                                 "yesterday", "1"])
        if rng.random() < 0.2:
            row["asked_at"] = (ride - dt.timedelta(seconds=1)).isoformat()
    return row


def rows(n: int, seed: int = 1, invalid: float = 0.02):
    rng = random.Random(seed)
    for i in range(n):
        yield ticket(i, rng, invalid)


def facts_of(row: dict) -> dict:
    """A ticket row as the facts an app would pass to decide(): text booleans as booleans,
    absent values left out, the ticket's own columns dropped."""
    return {k: (v == "true" if k in ("history_available", "repeat_request") and v in ("true", "false") else v)
            for k, v in row.items() if k in COLUMNS[1:] and v is not None}


OUTCOMES = ["guide_history_call", "disclose_driver_phone", "guide_safe_call", "ob_transfer", "guide_history_plate",
            "disclose_vehicle_plate", "refer_to_driver", "refuse", "refuse_repeat"]


def recorded(rows_, seed: int = 1, mistakes: float = 0.03):
    """Tickets with the outcome an agent recorded: the policy's, except for a share of mistakes."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import generated.driver_info as m

    rng = random.Random(seed + 1)
    for row in rows_:
        try:
            outcome = m.decide(facts_of(row)).outcome
        except m.PolicyInputError:
            outcome = rng.choice(OUTCOMES)
        if rng.random() < mistakes:
            outcome = rng.choice(OUTCOMES)
        yield {**row, "recorded_outcome": outcome}


def typed(row: dict) -> dict:
    """The same ticket as a warehouse table holds it: instants as timestamps, flags as
    booleans. A value that is not one (garbled, naive, "yes") is a NULL there."""
    out = dict(row)
    for k in ("ride_at", "asked_at"):
        try:
            value = dt.datetime.fromisoformat(row[k]) if row[k] else None
        except ValueError:
            value = None
        out[k] = value if value is not None and value.tzinfo is not None else None
    for k in ("history_available", "repeat_request"):
        out[k] = {"true": True, "false": False}.get(row[k])
    return out


def write_parquet(n: int, path: Path, seed: int = 1, invalid: float = 0.02, chunk: int = 500_000,
                  with_recorded: bool = False, typed_columns: bool = False) -> None:
    """`typed_columns`: ride_at/asked_at as timestamp[us, UTC] and the flags as booleans
    (a warehouse table) instead of the text an app sends."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = COLUMNS + (["recorded_outcome"] if with_recorded else [])
    kinds = {"ticket_id": pa.int64()}
    if typed_columns:
        kinds.update({"ride_at": pa.timestamp("us", tz="UTC"), "asked_at": pa.timestamp("us", tz="UTC"),
                      "history_available": pa.bool_(), "repeat_request": pa.bool_()})
    schema = pa.schema([(c, kinds.get(c, pa.string())) for c in columns])
    source = rows(n, seed, invalid)
    if with_recorded:
        source = recorded(source, seed)
    if typed_columns:
        source = map(typed, source)
    with pq.ParquetWriter(path, schema) as writer:
        batch: dict[str, list] = {c: [] for c in columns}
        for row in source:
            for c in columns:
                batch[c].append(row[c])
            if len(batch["ticket_id"]) >= chunk:
                writer.write_table(pa.table(batch, schema=schema))
                batch = {c: [] for c in columns}
        if batch["ticket_id"]:
            writer.write_table(pa.table(batch, schema=schema))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--invalid", type=float, default=0.02, help="share of broken rows")
    parser.add_argument("--recorded", action="store_true",
                        help="add recorded_outcome: the policy's outcome with 3%% agent mistakes (for policyc audit)")
    parser.add_argument("--typed", action="store_true",
                        help="timestamps and flags as typed columns (as a warehouse holds them), not text")
    args = parser.parse_args()
    write_parquet(args.rows, args.output, args.seed, args.invalid, with_recorded=args.recorded,
                  typed_columns=args.typed)


if __name__ == "__main__":
    main()
