"""Long decision tables (issue 15): the generated decide() looks rules up in an index
(backend/table.py) and the analysis asks its questions box by box (analysis/table.py).
Both must give exactly what the rule-by-rule forms give: the reference evaluator for
decide(), the decision-diagram analysis for the findings."""

from __future__ import annotations

import random
import sys
import types
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from compiler.analysis import checks, findings
from compiler.analysis import table as analysis_table
from compiler.analysis.space import partition_for
from compiler.backend import python as backend
from compiler.middle.evaluate import evaluate
from compiler.pipeline import compile_policy

from .conftest import ROOT
from .policygen import random_policy

sys.path.insert(0, str(ROOT / "bench"))
import shapes  # noqa: E402


def _policy(tmp_path, text, name="p"):
    path = tmp_path / f"{name}.policy"
    path.write_text(text, encoding="utf-8")
    result = compile_policy(path, f"{name}.policy", analysis=False)
    assert result.policy is not None, result.diagnostics
    return result.policy


def _module(policy):
    module = types.ModuleType(f"scale_{policy.name}")
    exec(compile(backend.generate(policy), f"<{policy.name}>", "exec"), module.__dict__)
    return module


def _on_thresholds(shape, seed):
    """1,500 facts of the shape for its 600-rule table, half their numbers moved onto the
    table's thresholds, where `<` and `<=` part."""
    rng = random.Random(shape)
    facts = shapes.facts(shape, 1500, seed=seed)
    for f in facts:
        for k, v in f.items():
            if isinstance(v, int) and not isinstance(v, bool) and rng.random() < 0.5:
                f[k] = rng.choice([v // 10 * 10, 600 - rng.randrange(600), rng.randrange(1000)])
    return facts


@pytest.mark.parametrize("shape", ["tiers", "grid", "enums", "mixed"])
def test_an_indexed_table_decides_as_the_evaluator(tmp_path, shape):
    policy = _policy(tmp_path, shapes.policy_text(shape, 600), shape)
    source = backend.generate(policy)
    assert "_TABLE_d" in source and "RuleTable" in source  # the index, not a chain
    module = _module(policy)
    facts = _on_thresholds(shape, seed=11)
    rules = set()
    for f in facts:
        got, want = module.decide(f), evaluate(policy, f)
        assert (got.rule, got.outcome) == (want["rule"], want["outcome"]), f
        rules.add(got.rule)
    assert len(rules) > 20  # many rules reached, so agreement means something


def _random_box(rng, dims, cuts):
    """A box over `dims`: a narrow band or point on one dimension (so the bucket can be
    anchored), sometimes a half-line, a `!=` or a set of keys on others."""
    box = {}
    for d in rng.sample(range(len(dims)), rng.randint(0, 3)):
        keys = dims[d]
        if keys is not None:
            box[d] = frozenset(rng.sample(keys, rng.randint(1, 2)))
            continue
        a = rng.choice(cuts)
        kind = rng.random()
        if kind < 0.5:
            b = a + rng.choice([1, 2, 5])
            box[d] = ((a, rng.random() < 0.7, b, rng.random() < 0.3),)
        elif kind < 0.6:
            box[d] = ((a, True, a, True),)
        elif kind < 0.8:
            box[d] = ((a, rng.random() < 0.5, None, False),) if rng.random() < 0.5 else ((None, False, a, rng.random() < 0.5),)
        else:
            box[d] = ((None, False, a, False), (a, False, None, False))
    return tuple(sorted(box.items()))


def _holds(box, values):
    for d, allowed in box:
        v = values[d]
        if isinstance(allowed, frozenset):
            if v not in allowed:
                return False
        elif not any((lo is None or lo < v or (lo_in and lo == v)) and (hi is None or v < hi or (hi_in and hi == v))
                     for lo, lo_in, hi, hi_in in allowed):
            return False
    return True


def _listed(table, values):
    """The entries `candidates` gives, first first."""
    bits, at = table.candidates(values)
    return [at[k] for k in reversed(range(bits.bit_length())) if bits >> k & 1]


def test_an_anchored_table_gives_exactly_the_entries_a_scan_finds():
    """A generated decide()'s table files each entry of a bucket under one dimension it
    tests narrowly (kind 2) and checks the rest of its box only when a value reaches it.
    On random tables (bands, points, half-lines, `!=`, sets of keys, entries that test
    nothing, some with residual tests) and values on and between the thresholds, its
    candidates are the entries whose boxes hold, in order, up to the first exact one: what
    scanning the entries and the table of kind 1 give."""
    from compiler.runtime import support

    rng = random.Random(5)
    dims = (("a", "b", "c"), None, None, (False, True), None)
    cuts = list(range(0, 200, 3))
    finds = set()
    for trial in range(60):
        entries = [_random_box(rng, dims, cuts) for _ in range(rng.randint(10, 80))]
        exact = [rng.random() < 0.8 for _ in entries]
        split = rng.choice([-1, 0])
        anchored = support.RuleTable(dims, split, entries, exact, anchored=True)
        plain = support.RuleTable(dims, split, entries, exact)
        buckets = [anchored.one] if split < 0 else list(anchored.buckets.values())
        finds |= {type(x) for b in buckets if b[0] == 2 for x in b[4:]} | {x for b in buckets if b[0] == 2 for x in b[4:]
                                                                           if callable(x)}
        for _ in range(150):
            values = (rng.choice(dims[0]), rng.choice([rng.choice(cuts), rng.randint(-5, 205), rng.choice(cuts) + 0.5]),
                      rng.choice(cuts), rng.choice(dims[3]), rng.uniform(-5, 205))
            scan = []
            for e, box in enumerate(entries):
                if split >= 0 and not _holds([x for x in box if x[0] == split], values):
                    continue
                if _holds(box, values):
                    scan.append(e)
                if exact[e] and all(d == split for d, _ in box):
                    break  # an exact entry that tests nothing more: no later one is ever reached
            first_exact = next((k for k, e in enumerate(scan) if exact[e]), len(scan))
            got = _listed(anchored, values)
            assert got[:first_exact + 1] == scan[:first_exact + 1], (trial, values)
            kind = (plain.one if split < 0 else plain.buckets[values[0]])[0]
            keep = first_exact + 1 if kind == 1 else 1  # kind 0 gives the first entry alone
            assert _listed(plain, values)[:keep] == scan[:keep]
    # every way of finding a piece was tried: one bisection either side, and both sides
    assert {support._bisect_right, support._bisect_left, support.piece_of} <= finds


def test_a_table_that_files_its_entries_under_one_dimension_each_is_anchored(tmp_path):
    """The mixed shape (each rule a band of its own on one number) is indexed by anchored
    buckets, so a table of tens of thousands of rules holds a few slots per rule, not an
    int as wide as the bucket per piece; the tiered and grid shapes keep theirs."""
    for shape, kind in (("mixed", 2), ("tiers", 0), ("grid", 1)):
        module = _module(_policy(tmp_path, shapes.policy_text(shape, 600), shape))
        table = module._TABLE_d
        kinds = {b[0] for b in ([table.one] if table.buckets is None else table.buckets.values())}
        assert kind in kinds, (shape, kinds)


def test_a_hundred_thousand_banded_rules_fit_the_index_budget(monkeypatch):
    """Rules that each hold a band of their own on one of six numbers, under thirty kinds
    (the mixed shape at 100,000 rules): counted as bits per piece and rule, the index
    passes its budget and decide() would walk an if/elif chain; anchored, it holds a few
    slots per rule and is an index."""
    from compiler.backend import table

    rng = random.Random(2)
    dims = (tuple(f"k{i}" for i in range(30)),) + (None,) * 6
    boxes, n = [], 100_000
    for i in range(n):
        j, low = i % 6, (i // 6) * 10
        box = {0: frozenset((f"k{rng.randrange(30)}",)), 1 + j: ((low, True, low + 10, False),)}
        if rng.random() < 0.5:
            other = 1 + rng.choice([b for b in range(6) if b != j])
            box[other] = ((rng.randrange(2 * n), False, None, False),)
        boxes.append(box)
    exact = [True] * n
    split = table.RuleTable.best_split(dims, boxes)
    assert split == 0
    assert table._bits(dims, split, boxes, exact) < table._BUDGET / 2  # a third of it
    monkeypatch.setattr(table, "anchoring", lambda *args: None)  # every bucket of kind 1
    assert table._bits(dims, split, boxes, exact) > table._BUDGET


@pytest.mark.parametrize("residual", [False, True])
def test_a_lookup_table_on_one_enum_alone_is_indexed(tmp_path, residual):
    """Seventy rules, one per code of an enum (with a test of a derived number, the index
    cannot hold, on every rule or none): the index has no fact but the enum it buckets on.
    Its module builds (it raised IndexError, and before that IndentationError) and decides
    as the evaluator."""
    codes = 70
    lines = ['policy lookup "조회"', 'fact k "k": enum {'] + [f'  v{j} "값{j}"' for j in range(codes)] + ['}',
                                                             'fact n "n": number', 'let twice "두 배" = n * 2', '',
                                                             'decision d "d" (first) {']
    for i in range(codes):
        lines.append(f"  rule r{i}: when k = v{i % (codes // 2)}" + (f" and twice > {i}" if residual else "") + f" then {i}")
    lines += ["  otherwise 1000", "}"]
    policy = _policy(tmp_path, "\n".join(lines) + "\n", "lookup")
    assert "_TABLE_d" in backend.generate(policy)
    module = _module(policy)
    for j in range(codes):
        for n in (0, 20, 40):
            f = {"k": f"v{j}", "n": n}
            assert module.decide(f).d == evaluate(policy, f)["d"], f


def test_an_index_over_thousands_of_facts_compiles(tmp_path):
    """3,000 flags, a rule per flag: the lookup over them is written in sums of a few terms
    (one sum of 3,000 went past the recursion limit of CPython's compiler: the module did
    not import)."""
    n = 3000
    lines = ['policy many "많음"'] + [f'fact b{i} "b{i}": bool' for i in range(n)] + ['', 'decision d "d" (first) {']
    lines += [f"  rule r{i}: when b{i} then {i}" for i in range(n)] + ["  otherwise 100000", "}"]
    policy = _policy(tmp_path, "\n".join(lines) + "\n", "many")
    module = _module(policy)  # compiled at the default recursion limit
    for on in (0, 1234, n - 1, None):
        f = {f"b{i}": i == on for i in range(n)}
        assert module.decide(f).d == evaluate(policy, f)["d"] == (on if on is not None else 100000)


def test_an_index_keeps_residual_tests_and_rules_that_never_match(tmp_path):
    """Tests the index cannot hold (a derived value, two facts compared) are tried on the
    rules it leaves, in order; a rule whose tests contradict has no box and never fires;
    a decision of values reads its constants."""
    lines = ['policy mix "섞임"', 'fact n "n": number', 'fact m "m": number', 'fact k "k": enum {', '  a "가"', '  b "나"', '}',
             'let s "합" = n + m', '', 'decision level "단계" (first) {']
    for i in range(100):
        cond = [f"n > {i}"]
        if i % 3 == 0:
            cond.append(f"s < {i * 2}")
        if i % 5 == 0:
            cond.append("n > m")
        if i % 7 == 0:
            cond.append(f"k != a and n < {i}")  # contradicts n > i: never matches
        if i % 11 == 0:
            cond.append("(k = b or m >= 50)")
        lines.append(f'  rule r{i}: when {" and ".join(cond)} then {i}')
    lines += ["  otherwise 1000", "}"]
    policy = _policy(tmp_path, "\n".join(lines) + "\n", "mix")
    source = backend.generate(policy)
    assert "_TABLE_level" in source and "_WHEN_level" in source
    module = _module(policy)
    rng = random.Random(3)
    for _ in range(3000):
        f = {"n": rng.choice([rng.randint(-5, 110), Decimal(rng.randint(0, 100)) + Decimal("0.5")]), "m": rng.randint(-5, 110),
             "k": rng.choice("ab")}
        got, want = module.decide(f), evaluate(policy, f)
        assert (got.level, got.trace) == (want["level"], tuple(want["rules"].items())), f


def _both(policy):
    saved = analysis_table.FAST
    try:
        analysis_table.FAST = 10 ** 9
        by_diagram = checks._Analysis(policy, False, partition_for(policy)).run()
        analysis_table.FAST = 1
        analysis = checks._Analysis(policy, False, partition_for(policy))
        by_boxes = analysis.run()
    finally:
        analysis_table.FAST = saved
    return by_diagram, by_boxes, analysis


def test_box_analysis_finds_what_the_diagram_analysis_finds_on_random_policies(tmp_path):
    """Every random policy of the z3 cross-check (enums, bools, numbers, durations,
    instants, `or`s, `not`s, with and without `otherwise`, `first` and `unique`,
    invariants), analysed both ways: the same findings, each with an example when the
    diagram's has one."""
    compared = 0
    for seed in range(120):
        path = tmp_path / f"r{seed}.policy"
        path.write_text(random_policy(seed), encoding="utf-8")
        result = compile_policy(path, path.name, analysis=False)
        if result.policy is None or partition_for(result.policy) is None:
            continue
        by_diagram, by_boxes, analysis = _both(result.policy)
        assert analysis.tables  # the box analysis ran
        assert findings.keys(by_boxes) == findings.keys(by_diagram), seed
        shown = findings.keys([d for d in by_diagram if d.example is not None])
        assert shown <= findings.keys([d for d in by_boxes if d.example is not None]), seed
        compared += 1
    assert compared > 80


@pytest.mark.parametrize("shape", ["tiers", "grid", "enums", "mixed", "overlapping"])
def test_box_analysis_of_each_shape_agrees_with_the_diagram(tmp_path, shape):
    size = 150 if shape == "enums" else 300  # the diagram analysis of random enums explodes past that
    policy = _policy(tmp_path, shapes.policy_text(shape, size), shape)
    by_diagram, by_boxes, _ = _both(policy)
    assert findings.keys(by_boxes) == findings.keys(by_diagram)
    shown = findings.keys([d for d in by_diagram if d.example is not None])
    assert shown <= findings.keys([d for d in by_boxes if d.example is not None])
    if shape == "overlapping":  # random rules: many are covered by earlier ones
        assert sum(d.code == "E0601" for d in by_boxes) > 10
    if shape == "mixed":  # half-lines some earlier rules already imply
        assert any(d.code == "W0604" for d in by_boxes)


def test_an_index_over_money_durations_dates_and_instants_decides_as_the_evaluator(tmp_path):
    """The generated module holds each ordered fact's thresholds as values of its type
    (won, durations, dates, instants, fractional numbers) beside the packed boxes."""
    lines = ['policy kinds "종류"', 'fact fare "요금": money', 'fact wait "대기": duration', 'fact day "날짜": date',
             'fact at "시각": timestamp', 'fact x "x": number', '', 'decision d "d" (first) {']
    for i in range(90):
        lines.append(f"  rule r{i}: when fare >= {i * 1000}원 and wait < {i % 13 + 1}시간 and day != 2024-01-{i % 28 + 1:02d}"
                     f" and at < 2024-01-01T{i % 24:02d}:30+09:00 and x <= {i}.5 then {i}")
    lines += ["  otherwise 1000", "}"]
    policy = _policy(tmp_path, "\n".join(lines) + "\n", "kinds")
    assert "_TABLE_d" in backend.generate(policy)
    module = _module(policy)
    rng, seen = random.Random(5), set()
    for _ in range(2000):
        f = {"fare": rng.randrange(0, 95) * 1000 + rng.choice([0, 0, 1, -1]) * rng.randrange(2),
             "wait": f"{rng.randrange(0, 15)}h{rng.choice([0, 0, 30])}m", "day": f"2024-01-{rng.randrange(1, 29):02d}",
             "at": f"2024-01-01T{rng.randrange(0, 24):02d}:{rng.choice([0, 30, 31]):02d}:00+09:00",
             "x": Decimal(rng.randrange(0, 95)) + rng.choice([Decimal(0), Decimal("0.5"), Decimal("0.25")])}
        got = module.decide(f)
        assert got.d == evaluate(policy, dict(got.facts))["d"], f  # the facts as decide() read them
        seen.add(got.d)
    assert len(seen) > 20


def _duckdb_rows(policy, facts, outputs):
    """The `outputs` columns of the DuckDB query for each facts row (None for a row it refuses)."""
    import duckdb
    import pyarrow as pa

    from compiler.backend.sql import to_sql

    columns = sorted({k for f in facts for k in f})
    con = duckdb.connect()
    con.register("t", pa.table({c: [None if f.get(c) is None else str(f[c]).lower() if isinstance(f[c], bool)
                                    else str(f[c]) for f in facts] for c in columns}))
    query = f"SELECT policy_error, {', '.join(outputs)} FROM ({to_sql(policy, 't', columns)})"
    return [None if row[0] is not None else row[1:] for row in con.execute(query).fetchall()]


@pytest.fixture(params=["index", "narrow", "tree"])
def sql_form(request, monkeypatch):
    """The forms of a long table's SQL: the module's index looked up in DuckDB
    (backend/sql_index.py); the same with buckets past 64 entries narrowed by bucketing on
    more facts and their bits read 64 at a time (what a table of thousands gets); and
    the tree of CASEs (sql_tree.py: Spark's, and DuckDB's where the index cannot be used)."""
    from compiler.backend import sql, sql_index

    if request.param == "narrow":
        monkeypatch.setattr(sql_index, "_WIDE", 64)
        monkeypatch.setattr(sql_index, "_SEGMENT", 64)
        monkeypatch.setattr(sql, "_SHORT_LEAF", -1)  # the index however short the tree's leaves
    if request.param == "tree":
        monkeypatch.setattr(sql_index, "lookup", lambda *args: None)
    return request.param


def _sql(policy):
    from compiler.backend.sql import to_sql

    return to_sql(policy, "t", [f.name for f in policy.facts])


@pytest.mark.parametrize("shape", ["tiers", "grid", "enums", "mixed"])
def test_the_sql_of_a_long_table_fires_the_module_rules(tmp_path, shape, sql_form):
    """The SQL of a long table looks its rules up (an index, or a tree that halves the
    facts at each test) rather than trying 600 WHENs in turn, and fires on every row the
    rule decide() fires."""
    from compiler.backend import sql_tree, table

    policy = _policy(tmp_path, shapes.policy_text(shape, 600), shape)
    query = _sql(policy)
    if sql_form != "tree":
        assert query.count("WHEN") < 200 and '"__x0_' in query  # the rules are data, not 600 conditions
        if sql_form == "narrow" and shape == "grid":
            assert '"__x0_g1"' in query or '"__x0_g0"' in query  # bucketed on ranges of a number
        if sql_form == "narrow" and shape == "enums":
            assert '"__x0_c1"' in query  # bits read a segment at a time
    else:
        node = sql_tree.tree(table.plan(policy, policy.main))
        if shape != "enums":  # many enums: only the index's buckets are split off; the rest stay chains
            depth = lambda n: 0 if isinstance(n, sql_tree.Leaf) else 1 + max(depth(n.left), depth(n.right))  # noqa: E731
            assert depth(node) >= 5
    facts = _on_thresholds(shape, seed=13)
    module = _module(policy)
    want = [module.decide(f).rule for f in facts]
    assert [row[0] for row in _duckdb_rows(policy, facts, ["rule"])] == want
    assert len(set(want)) > 20


def test_the_sql_index_tries_residuals_in_order_over_buckets_of_each_kind(tmp_path):
    """The index in SQL: buckets on an enum, one of one ordered fact (a list of first
    rules per piece), others of several facts (bit strings of candidates, a bool among
    them), and rules whose tests go beyond their boxes (a derived value, two facts
    compared): such a candidate is tried, and when it fails the next one is taken."""
    lines = ['policy idx "색인"', 'fact k "k": enum {', '  a "가"', '  b "나"', '  c "다"', '}', 'fact n "n": number',
             'fact m "m": number', 'fact flag "깃발": bool', 'let s "합" = n + m', '', 'decision level "단계" (first) {']
    for i in range(90):
        if i < 30:  # bucket a: one fact, exact
            cond = ["k = a", f"n > {60 - 2 * i}"]
        elif i < 60:
            cond = ["k = b", f"n >= {(i - 30) * 3}", f"n < {(i - 30) * 3 + 6}", f"m < {100 - i}"]  # bands half new
            if i % 8 == 0:
                cond.append(f"s > {i + 20}")
            if i % 13 == 0:
                cond.append("n > m")
        else:
            cond = ["k = c", "flag" if i % 2 else "not flag", f"n <= {i}"]
        lines.append(f'  rule r{i}: when {" and ".join(cond)} then {i}')
    lines += ["  otherwise 1000", "}"]
    policy = _policy(tmp_path, "\n".join(lines) + "\n", "idx")
    query = _sql(policy)
    assert '"__x0_first"' in query and '"__x0_kept"' in query and "set_bit" in query  # both kinds, and retries
    module = _module(policy)
    rng = random.Random(5)
    facts = [{"k": rng.choice("abc"), "n": rng.choice([rng.randint(-5, 105), Decimal(rng.randint(0, 100)) + Decimal("0.5")]),
              "m": rng.randint(-5, 105), "flag": rng.random() < 0.5} for _ in range(3000)]
    want = [module.decide(f).level for f in facts]
    assert [int(row[0]) for row in _duckdb_rows(policy, facts, ["level"])] == want
    assert len(set(want)) > 40


def test_the_sql_of_long_tables_over_money_durations_dates_instants_and_times_fires_the_module_values(
        tmp_path, sql_form):
    """Each threshold of the index or test of the tree is written in the fact's SQL terms
    (won, microseconds, days, instants with their offsets, times of day, exact decimals),
    and a threshold falls on the side its rules put it: `>=` and `<` above, `>` and `<=` below. One staircase per
    kind, its rules `>` and `>=` in turn, and facts on the thresholds."""
    kinds = {"fare": ("money", lambda k: f"{k * 1000}원"), "wait": ("duration", lambda k: f"{k * 10}분"),
             "day": ("date", lambda k: str(date(2024, 1, 1) + timedelta(days=k))),
             "at": ("timestamp", lambda k: (datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=9)))
                                            + timedelta(minutes=30 * k)).isoformat(timespec="minutes")),
             "x": ("number", lambda k: f"{k / 2}"), "t": ("time", lambda k: f"{k * 15 // 60:02d}:{k * 15 % 60:02d}")}
    lines = ['policy kinds "종류"'] + [f'fact {name} "{name}": {kind}' for name, (kind, _) in kinds.items()]
    for name, (_, written) in kinds.items():
        lines += ["", f'decision by_{name} "{name} 단계" (first) {{']
        lines += [f"  rule {name}{i}: when {name} {'>' if i % 2 else '>='} {written(90 - i)} then {i}" for i in range(90)]
        lines += ["  otherwise 1000", "}"]
    policy = _policy(tmp_path, "\n".join(lines) + "\n", "kinds")
    rng = random.Random(7)
    facts = []
    for _ in range(3000):
        k = [rng.randrange(-2, 94) for _ in kinds]
        facts.append({"fare": k[0] * 1000 + rng.choice([0, 0, 1, -1]), "wait": f"{max(k[1], 0) * 10}m{rng.choice(['', '', '1s'])}",
                      "day": str(date(2024, 1, 1) + timedelta(days=k[2])),
                      "at": (datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=9))) + timedelta(minutes=30 * k[3])
                             + timedelta(seconds=rng.choice([0, 0, 1, -1]))).isoformat(),
                      "x": Decimal(k[4]) / 2 + rng.choice([Decimal(0), Decimal(0), Decimal("0.25")]),
                      "t": f"{max(k[5], 0) * 15 // 60 % 24:02d}:{max(k[5], 0) * 15 % 60:02d}"})
    module = _module(policy)
    names = [f"by_{name}" for name in kinds]
    want = [tuple(getattr(module.decide(f), n) for n in names) for f in facts]
    assert [tuple(int(v) for v in row) for row in _duckdb_rows(policy, facts, names)] == want
    for n, column in zip(names, zip(*want)):
        assert len(set(column)) > 40, n  # most steps of every staircase reached


@pytest.mark.parametrize("child_fails", [False, True])
def test_a_large_build_generates_its_module_beside_the_analysis(tmp_path, monkeypatch, child_fails):
    """From FORK_RULES rules `build` generates the module in a forked process while the
    analysis runs; the text is the one generate() gives, and a child that fails leaves
    the work to the build itself. A policy with errors leaves no process behind."""
    import os

    from compiler import build

    monkeypatch.setattr(build, "FORK_RULES", 100)
    (tmp_path / "policy").mkdir()
    (tmp_path / "policy" / "tiers.policy").write_text(shapes.policy_text("tiers", 300), encoding="utf-8")
    parent, real, calls = os.getpid(), build.generate, []

    def generate(policy):
        calls.append(os.getpid())
        if child_fails and os.getpid() != parent:
            raise RuntimeError("the child fails")
        return real(policy)

    monkeypatch.setattr(build, "generate", generate)
    plan = build.plan(tmp_path)
    text = plan.outputs[tmp_path / "generated" / "tiers.py"]
    assert text == real(plan.results["policy/tiers.policy"].policy)
    assert calls == ([parent] if child_fails else [])  # the child's own calls are not seen here

    (tmp_path / "policy" / "tiers.policy").unlink()
    (tmp_path / "policy" / "overlapping.policy").write_text(shapes.policy_text("overlapping", 300), encoding="utf-8")
    started = []
    monkeypatch.setattr(build._Generating, "__init__", lambda self, policy, init=build._Generating.__init__:
                        (init(self, policy), started.append(self.pid)) and None)
    assert not build.plan(tmp_path).ok
    assert started and started[0] > 0
    with pytest.raises(ChildProcessError):  # reaped: no child is left
        os.waitpid(started[0], os.WNOHANG)


def test_the_sql_index_computes_no_residual_on_a_row_it_turns_down(tmp_path, sql_form):
    """A residual that overflows on a value decide() refuses (a typed DECIMAL past the
    limit for numbers) is never computed for that row: the row gets its policy_error and
    the other rows their rules, where one such row used to stop the whole query."""
    import duckdb
    import pyarrow as pa

    from compiler.backend.sql import to_sql

    lines = ['policy big "큰 수"', 'fact k "k": enum { a "a"  b "b" }', 'fact n0 "n0": number', 'fact n1 "n1": number',
             '', 'decision d "d" (first) {']
    for i in range(70):
        extra = " and n0 * 10000000000000 > n1" if i % 10 == 3 else ""
        lines.append(f"  rule r{i}: when k = {'ab'[i % 2]} and n1 >= {i} and n1 < {i + 1}{extra} then {i}")
    lines += ["  otherwise 1000", "}"]
    policy = _policy(tmp_path, "\n".join(lines) + "\n", "big")
    rows = [("b", Decimal(10) ** 20, Decimal(3)), ("b", Decimal(1), Decimal(3)), ("b", Decimal(0), Decimal(3)),
            ("a", Decimal(2), Decimal(12))]
    con = duckdb.connect()
    con.register("t", pa.table({"k": [r[0] for r in rows], "n0": pa.array([r[1] for r in rows], pa.decimal128(38, 9)),
                                "n1": pa.array([r[2] for r in rows], pa.decimal128(38, 9))}))
    types = {"k": "VARCHAR", "n0": "DECIMAL(38,9)", "n1": "DECIMAL(38,9)"}
    got = con.execute(f"SELECT policy_error, d FROM ({to_sql(policy, 't', ['k', 'n0', 'n1'], types=types)})").fetchall()
    module = _module(policy)
    assert got[0][0] is not None and "n0" in got[0][0]
    with pytest.raises(module.PolicyInputError):
        module.decide(dict(zip("k n0 n1".split(), rows[0])))
    assert [int(d) for _, d in got[1:]] == [module.decide(dict(zip(("k", "n0", "n1"), r))).d for r in rows[1:]]


def test_a_derived_value_is_not_computed_from_a_number_the_row_turns_down(tmp_path):
    """`let s = n0 * 10000000000000` over a typed DECIMAL of 10^20 (past the numbers' limit):
    the row is refused for n0, as decide() refuses it, instead of DuckDB's overflow stopping
    the whole query."""
    import duckdb
    import pyarrow as pa

    from compiler.backend.sql import to_sql

    text = ('policy lets "파생"\nfact n0 "n0": number\nfact n1 "n1": number\nlet s "s" = n0 * 10000000000000\n\n'
            'decision d "d" (first) {\n  rule big: when s > n1 then 1\n  otherwise 0\n}\n')
    policy = _policy(tmp_path, text, "lets")
    con = duckdb.connect()
    con.register("t", pa.table({"n0": pa.array([Decimal(10) ** 20, Decimal(1)], pa.decimal128(38, 9)),
                                "n1": pa.array([Decimal(3), Decimal(3)], pa.decimal128(38, 9))}))
    query = to_sql(policy, "t", ["n0", "n1"], types={"n0": "DECIMAL(38,9)", "n1": "DECIMAL(38,9)"})
    (refused, _), (error, d) = con.execute(f"SELECT policy_error, d FROM ({query})").fetchall()
    assert refused is not None and refused.startswith("n0") and error is None and int(d) == 1
