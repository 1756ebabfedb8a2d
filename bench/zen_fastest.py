"""zen-engine (GoRules) at its fastest, for the benchmarks that compare decide() with it:
every way its Python binding takes a decision and facts is timed on the same facts
(a dict or a JSON text; a decision loaded by key, got once, or made from precompiled
content; one call per decision or one batch), each checked to decide as the others, and
the fastest kept. Inputs are given as zen reads them (numbers already numbers).

    fastest(content, facts, repeat) -> (seconds per decision, the way, {way: seconds})
"""

from __future__ import annotations

import json
import time


def fastest(content: str, facts: list[dict], repeat: int = 3) -> tuple[float, str, dict[str, float]]:
    import zen

    engine = zen.ZenEngine({"loader": lambda key: content})
    loaded = engine.get_decision("table")
    compiled = engine.create_decision(zen.ZenDecisionContent(content))
    as_json = [json.dumps(f) for f in facts]
    ways = {
        "engine.evaluate(key, dict)": lambda: [engine.evaluate("table", f) for f in facts],
        "decision.evaluate(dict)": lambda: [loaded.evaluate(f) for f in facts],
        "decision.evaluate(json)": lambda: [loaded.evaluate(j) for j in as_json],
        "ZenDecisionContent decision.evaluate(dict)": lambda: [compiled.evaluate(f) for f in facts],
        "ZenDecisionContent decision.evaluate(json)": lambda: [compiled.evaluate(j) for j in as_json],
        "engine.evaluate_batch(dicts)": lambda: [r["data"] for r in engine.evaluate_batch(
            [{"key": "table", "context": f} for f in facts])],
        "engine.evaluate_batch(json)": lambda: [r["data"] for r in engine.evaluate_batch(
            [{"key": "table", "context": j} for j in as_json])],
    }
    first = None
    for way, run in ways.items():  # every way decides as the first, before anything is timed
        results = [r["result"] for r in run()]
        first = results if first is None else first
        assert results == first, way
    times = {}
    for way, run in ways.items():
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            run()
            best = min(best, time.perf_counter() - start)
        times[way] = best / len(facts)
    way = min(times, key=times.get)
    return times[way], way, times
