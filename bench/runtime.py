"""Run-time speed of the generated driver-info module, compared in the same run with a
hand-written if/elif over pre-parsed facts and with zen-engine (GoRules) evaluating the
same decision table (bench/driver_info.jdm.json).

    python bench/runtime.py [--n 20000] [--repeat 5]

Measures decide() with full validation (facts as an app sends them: ISO strings),
zen-engine every way its binding can be called (dict or JSON facts, a loaded or a
precompiled decision, one by one or in a batch; the fastest is kept),
render(), the import time of generated/driver_info.py in fresh interpreters, and the
time of a full build of the policy (parse, checks, analysis, code generation). Prints the
best of --repeat for each, and ends with one line from this run:
RATIOS decide/handwritten=X decide/zen=Y render_us=Z import_ms=W build_s=V
(decide/zen below 1 means decide() is faster: 0.1 is ten times faster).
Targets: decide <= 10x hand-written and >= 5x faster than zen; render <= 20 us;
import <= 30 ms; build <= 0.5 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
import zen_fastest  # noqa: E402

ACTIVE = ("in_progress", "completed")
CONTACT = ("lost_item", "accident", "fare_unpaid")
PLATE = ("lost_item", "accident", "fare_unpaid", "custom_reservation")
SINCE = dt.datetime(2023, 7, 3, 14, tzinfo=dt.timezone(dt.timedelta(hours=9)))
D3, D7, D14 = dt.timedelta(days=3), dt.timedelta(days=7), dt.timedelta(days=14)


def handwritten(f: dict) -> str:
    """The spec's §3 as a person would write it, over facts already parsed."""
    request, status, reason, history = f["request"], f["trip_status"], f["reason"], f["history_available"]
    repeat = f.get("repeat_request", False)
    elapsed = f["asked_at"] - f["ride_at"]
    if request in ("driver_name", "account_number") and not repeat:
        return "refer_to_driver"
    if request == "driver_phone" and status in ACTIVE and elapsed <= D3:
        return "guide_history_call" if history else "disclose_driver_phone"
    if request == "driver_phone" and status in ACTIVE and elapsed <= D14 and reason in CONTACT and not repeat:
        return "guide_safe_call"
    if request == "driver_phone" and reason in CONTACT:
        return "ob_transfer"
    if request == "vehicle_plate" and status in ACTIVE and elapsed <= D7:
        return "guide_history_plate" if history and f["ride_at"] >= SINCE else "disclose_vehicle_plate"
    if request == "vehicle_plate" and reason in PLATE:
        return "ob_transfer"
    if repeat:
        return "refuse_repeat"
    return "refuse"


def make_facts(n: int, seed: int = 1) -> list[dict]:
    rng = random.Random(seed)
    kst = dt.timezone(dt.timedelta(hours=9))
    out = []
    for _ in range(n):
        ride = dt.datetime(2023, 6, 20, tzinfo=kst) + dt.timedelta(minutes=rng.randrange(60 * 24 * 60))
        asked = ride + dt.timedelta(hours=rng.choice([1, 71, 72, 73, 160, 168, 169, 300, 336, 337, 500]))
        out.append({"request": rng.choice(["driver_phone", "vehicle_plate", "driver_name", "account_number"]),
                    "trip_status": rng.choice(["in_progress", "completed", "cancelled_before_dispatch",
                                               "cancelled_after_dispatch", "stopped_by_passenger_report",
                                               "stopped_by_driver_report"]),
                    "ride_at": ride.isoformat(), "asked_at": asked.isoformat(),
                    "history_available": rng.random() < 0.5,
                    "reason": rng.choice(["lost_item", "accident", "fare_unpaid", "custom_reservation", "other",
                                          "unknown"]),
                    "repeat_request": rng.random() < 0.3})
    return out


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20000, help="decisions per timing")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    import zen

    import generated.driver_info as m

    facts = make_facts(args.n)
    parsed = [{**f, "ride_at": dt.datetime.fromisoformat(f["ride_at"]),
               "asked_at": dt.datetime.fromisoformat(f["asked_at"])} for f in facts]
    zen_facts = [{**{k: f[k] for k in ("request", "trip_status", "history_available", "reason", "repeat_request")},
                  "elapsed_hours": (p["asked_at"] - p["ride_at"]).total_seconds() / 3600,
                  "ride_before_2023_07_03_14h": p["ride_at"] < SINCE} for f, p in zip(facts, parsed)]
    # the three agree before anything is timed
    content = (ROOT / "bench/driver_info.jdm.json").read_text(encoding="utf-8")
    engine = zen.ZenEngine({"loader": lambda key: content})
    for f, p, z in zip(facts[:2000], parsed, zen_facts):
        ours = m.decide(f).outcome
        assert ours == handwritten(p) == engine.evaluate("driver_info", z)["result"]["outcome"], f

    n = args.n
    t_decide = best(lambda: [m.decide(f) for f in facts], args.repeat) / n
    t_hand = best(lambda: [handwritten(p) for p in parsed], args.repeat) / n
    t_zen, zen_way, zen_times = zen_fastest.fastest(content, zen_facts[:min(n, 5000)], args.repeat)
    d = m.decide(facts[0] | {"request": "vehicle_plate", "trip_status": "completed", "history_available": False,
                             "asked_at": facts[0]["ride_at"]})
    context = {"vehicle_plate": "12가3457", "driver_phone": "010-1234-5678"}
    m.render(d, context)  # first use loads jinja2 and the template
    t_render = best(lambda: [m.render(d, context) for _ in range(n)], args.repeat) / n

    code = "import time; t = time.perf_counter(); import generated.driver_info; print(time.perf_counter() - t)"
    imports = [float(subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                                    check=True).stdout) for _ in range(args.repeat)]
    t_import = min(imports)

    from compiler.backend.python import generate
    from compiler.pipeline import compile_policy

    def build():
        result = compile_policy(ROOT / "policy/driver_info.policy", "policy/driver_info.policy")
        generate(result.policy)
    build()  # grammar and imports loaded once, as in a long-lived build
    t_build = best(build, args.repeat)
    cold = best(lambda: subprocess.run([sys.executable, "-m", "compiler.cli", "build", "--check"], cwd=ROOT,
                                       capture_output=True, check=True), 2)

    print(f"decide()            {t_decide * 1e6:8.2f} us   (full validation, ISO strings in)")
    print(f"hand-written if/elif{t_hand * 1e6:8.2f} us   (pre-parsed facts)")
    print(f"zen-engine          {t_zen * 1e6:8.2f} us   (its fastest call: {zen_way})")
    for way, t in zen_times.items():
        print(f"    {way:44s}{t * 1e6:8.2f} us")
    print(f"render()            {t_render * 1e6:8.2f} us")
    print(f"import              {t_import * 1e3:8.2f} ms   (fresh interpreter, jinja2 and hangulpy loaded lazily)")
    print(f"build               {t_build:8.3f} s    (in-process; `policyc build --check` as a new process: {cold:.2f} s)")
    print(f"RATIOS decide/handwritten={t_decide / t_hand:.2f} decide/zen={t_decide / t_zen:.3f} "
          f"render_us={t_render * 1e6:.2f} import_ms={t_import * 1e3:.2f} build_s={t_build:.3f}")


if __name__ == "__main__":
    main()
