"""A long decision table as the Python module's index, looked up inside DuckDB.

    lookup(q, decision, plan, tag) -> Lookup | None

A CASE tree of 10,000 rules (backend/sql_tree.py) is a query of most of a megabyte that
DuckDB takes seconds to parse, bind and optimize before it reads a row, and a table whose
rules test many enums does not shrink into a tree at all. Here the query stays small: the
index decide() looks rules up in (`RuleTable`, runtime/support.py, over the same plan) is
written as a few constant lists, each one string literal the engine reads once while
planning, and every row takes the same few steps through them:

1. its bucket: the row's key of the enum the module buckets on, and where that leaves a
   bucket of more than _WIDE entries, its key or range of more facts (an ordered one cut
   at up to _RANGES of its thresholds: a grid's column), the fact that most narrows the
   widest bucket first, while the buckets hold at most _GROWTH times the entries;
2. per ordered fact, its piece among the bucket's thresholds: a binary search unrolled
   into one projection per step (piece 2i off the thresholds, 2i + 1 on threshold i);
3. a bucket of one tested fact and exact boxes: the first entry of its piece, read from
   a list; any other bucket: per fact, the bit string of the entries that allow the
   row's key or piece, ANDed, and the first set bit is the first candidate. DuckDB finds
   a set bit one bit at a time, so the bits are read _SEGMENT at a time, a segment only
   for the rows the earlier ones left, and the entry that holds on all of the bucket
   (its otherwise) is no bit but the bucket's default;
4. a candidate whose rule tests more than its box (a residual) is tried on that rest;
   when it fails, its bit is cleared and the next one taken: as many rounds as the bucket
   has such entries, so the last round's candidate is the rule that fires.

No join: rows keep their order, and a row with invalid facts meets only NULLs. `None` when
the index cannot be exact or small this way: more than _RETRIES entries with a residual
in one bucket (or any, in a bucket of more than one segment), or bit strings past _BUDGET
bytes; sql.py then writes the tree of CASEs.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from ..middle import ir
from ..runtime.support import RuleTable, _pieces_of
from .sql_exprs import number_text
from .table import Plan

_RETRIES = 8  # entries with a residual one bucket may hold
_WIDE = 1024  # entries of a bucket past which more facts are bucketed on
_RANGES = 64  # ranges an ordered fact the rows are bucketed on is cut into, at most
_BUCKETS = 4096  # buckets at most
_SEGMENT = 1024  # bits of candidates looked at at once (a bucket's bit strings are cut into such)
_GROWTH = 4  # the buckets may hold this many times the table's entries in all
_SHRINK = 0.7  # a fact is bucketed on only when the widest bucket shrinks to this share
_BUDGET = 8 << 20  # bytes of candidate bit strings at most (a third more as base64 text)
_TYPES = {"number": "DECIMAL(38, 9)", "money": "DECIMAL(38, 0)"}  # the others are whole BIGINTs


@dataclass(frozen=True)
class Lookup:
    steps: tuple[str, ...]  # projections over the decided rows, in order: `expr AS col, ...`
    rule: str  # the index of the rule that fires (NULL: none), once the steps have run
    wide: bool  # some bucket still holds more than _WIDE entries: sql.py weighs the tree


def lookup(q, d: ir.Decision, plan: Plan, tag: str) -> Lookup | None:
    facts = [q.p.facts_by_name[name] for name in plan.facts]
    groups = [_Group(plan.split, None)] if plan.split >= 0 else []
    before = None  # the lookup with one group fewer
    while True:
        buckets = _buckets(plan, groups)
        rounds = max((sum(not plan.exact[e] for e in b[2]) for b in buckets if b[0] == 1), default=0)
        if rounds > _RETRIES:
            return None
        found = _Writer(q, plan, facts, groups, buckets, rounds, tag).write()
        if found is None or not found.wide:
            return found if found is not None else before
        more = _narrower(plan, groups)
        if more is None:
            return found
        groups, before = more, found


@dataclass(frozen=True)
class _Group:
    """A fact the rows are bucketed on: each key of a keyed one, or for an ordered one each
    range from one of `bounds` up to the next (the first from below the lowest)."""
    dim: int
    bounds: tuple | None

    def size(self, plan: Plan) -> int:
        return len(plan.dims[self.dim]) if self.bounds is None else len(self.bounds) + 1

    def members(self, plan: Plan) -> list[int]:
        """Per group, the entries that can match a row in it (as the bits of an int)."""
        d, out = self.dim, [0] * self.size(plan)
        keys = plan.dims[d]
        index = {k: i for i, k in enumerate(keys)} if keys is not None else None
        free = 0
        for e, box in enumerate(plan.entries):
            allowed = dict(box).get(d)
            if allowed is None:
                free |= 1 << e
            elif index is not None:
                for key in allowed:
                    out[index[key]] |= 1 << e
            else:
                for first, last in _pieces_of(self.bounds, allowed):
                    for g in range((first + 1) // 2, (last + 1) // 2 + 1):
                        out[g] |= 1 << e
        return [m | free for m in out]


def _masks(plan: Plan, groups: list[_Group]) -> list[int]:
    """The entries of each bucket (the bits of an int), the first group's slowest."""
    masks = [(1 << len(plan.entries)) - 1]
    for g in groups:
        parts = g.members(plan)
        masks = [m & x for m in masks for x in parts]
    return masks


def _buckets(plan: Plan, groups: list[_Group]) -> list[tuple]:
    """The index's buckets, one per combination of the groups (the first group's slowest),
    as `RuleTable` makes them, its entries numbered as in the plan: within a bucket a keyed
    group's fact is settled, so its tests leave the boxes."""
    masks = _masks(plan, groups)
    settled = {g.dim for g in groups if g.bounds is None}
    out = []
    for m in masks:
        members = [e for e, bit in enumerate(reversed(bin(m)[2:])) if bit == "1"]
        boxes = [tuple(x for x in plan.entries[e] if x[0] not in settled) for e in members]
        kind, tables, kept, full = RuleTable(plan.dims, -1, boxes, [plan.exact[e] for e in members]).one
        if kind == 0 and tables is not None:
            dim, cut, first = tables
            first = {k: members[e] if e >= 0 else -1 for k, e in first.items()} if cut is None \
                else tuple(members[e] if e >= 0 else -1 for e in first)
            tables = (dim, cut, first)
        out.append((kind, tables, tuple(members[e] for e in kept), full))
    return out


def _narrower(plan: Plan, groups: list[_Group]) -> list[_Group] | None:
    """The groups with one more fact, the one that most shrinks the widest bucket (an
    ordered fact cut into up to _RANGES ranges at its thresholds), or None when none
    shrinks it enough or the buckets would be too many."""
    masks = _masks(plan, groups)
    widest = max(m.bit_count() for m in masks)
    best = None
    for d, keys in enumerate(plan.dims):
        if any(g.dim == d for g in groups):
            continue
        if keys is None:
            cuts = sorted({t for box in plan.entries for k, allowed in box if k == d
                           for lo, _, hi, _ in allowed for t in (lo, hi) if t is not None})
            if not cuts:
                continue
            step = max(1, -(-len(cuts) // _RANGES))
            g = _Group(d, tuple(cuts[step - 1::step]))
        else:
            g = _Group(d, None)
        if len(masks) * g.size(plan) > _BUCKETS:
            continue
        parts = g.members(plan)
        sizes = [(m & x).bit_count() for m in masks for x in parts]
        wide = max(sizes)
        if wide <= _SHRINK * widest and sum(sizes) <= _GROWTH * len(plan.entries) and (best is None or wide < best[0]):
            best = (wide, g)
    return None if best is None else groups + [best[1]]


class _Writer:
    def __init__(self, q, plan: Plan, facts, groups, buckets, rounds: int, tag: str) -> None:
        self.q, self.p, self.facts = q, plan, facts
        self.groups, self.buckets, self.rounds, self.tag = groups, buckets, rounds, tag
        self.ordered = [k for k, keys in enumerate(plan.dims) if keys is None]
        self.settled = {g.dim for g in groups if g.bounds is None}  # a keyed fact a bucket has one key of
        self.lists: dict[str, str] = {}

    def col(self, name: str) -> str:
        return self.q.d.ident(f"__x{self.tag}_{name}")

    def value(self, k: int) -> str:
        f = self.facts[k]
        return self.q.expr(ir.FactRef(f.name, type=f.type))

    def key(self, k: int) -> str:
        """The row's key index in a keyed fact."""
        if self.facts[k].type.kind == "bool":
            return f"CAST({self.value(k)} AS INTEGER)"
        return f"enum_code({self.value(k)})"

    def ints(self, name: str, xs) -> None:
        self.lists[name] = _list([str(x) for x in xs], "INTEGER")

    def thresholds(self, name: str, k: int, values) -> None:
        # exact: literals have at most nine places (E0103) and money is whole won
        self.lists[name] = _list([number_text(v) for v in values], _TYPES.get(self.facts[k].type.kind, "BIGINT"))

    def write(self) -> Lookup | None:
        p = self.p
        kinds, kept, kept_at, firsts, firsts_at, dim0 = [], [], [], [], [], []
        cuts = {k: [] for k in self.ordered}
        cuts_at = {k: [] for k in self.ordered}
        tested = [k for k in range(len(p.dims)) if k not in self.settled]
        masks = {k: [] for k in tested}
        masks_at = {k: [] for k in tested}
        masks_step = {k: [] for k in tested}  # 1, or 0 where one mask serves every key or piece
        size, widest, segments, defaults = 0, 0, [], []  # segments: of _SEGMENT bits, per bucket
        for kind, tables, entries, _ in self.buckets:
            kinds.append(kind)
            kept_at.append(len(kept))
            firsts_at.append(len(firsts))
            here = {k: () for k in self.ordered}
            for k in tested:
                masks_at[k].append(len(masks[k]))
            if kind == 0:
                if tables is None:
                    dim0.append(-1)
                    firsts.append(entries[0] if entries else -1)
                else:
                    dim, cut, first = tables
                    dim0.append(dim)
                    if cut is None:
                        firsts += [first[key] for key in p.dims[dim]]
                    else:
                        here[dim] = cut
                        firsts += list(first)
                for k in tested:
                    masks_step[k].append(0)
                segments.append(0)
                defaults.append(-1)
            else:
                dim0.append(-1)
                order = list(reversed(entries))  # RuleTable keeps the first entry as the top bit
                # an entry that holds on all of the bucket (the otherwise, last) is its default,
                # not a bit: a row that no other entry takes need not scan to the end
                drop = 0
                if order and p.exact[order[-1]] and all(d in self.settled for d, _ in p.entries[order[-1]]):
                    drop = 1
                    defaults.append(order.pop())
                else:
                    defaults.append(-1)
                kept += order
                width = max(8, -(-len(order) // 8) * 8)
                widest = max(widest, width)
                segments.append(-(-width // _SEGMENT))
                for k in tested:
                    table = tables[k]
                    if p.dims[k] is not None:
                        bits = [table[key] for key in p.dims[k]]
                    else:
                        here[k], bits = table
                    if len(set(bits)) == 1:
                        bits = bits[:1]
                    masks_step[k].append(1 if len(bits) > 1 else 0)
                    for b in bits:
                        whole = ((b >> drop) << (width - len(order))).to_bytes(width // 8, "big")
                        masks[k] += [base64.b64encode(whole[at:at + _SEGMENT // 8]).decode()
                                     for at in range(0, len(whole), _SEGMENT // 8)]
                    size += len(bits) * width // 8
            for k in self.ordered:
                cuts_at[k].append(len(cuts[k]))
                cuts[k] += here[k]
        if size > _BUDGET or self.rounds and max(segments) > 1:  # retries: within one segment
            return None
        # without residuals an entry is wanted only for its rule: the lists hold rules
        named = (lambda e: e) if self.rounds else (lambda e: p.rule_of[e] if e >= 0 else -1)
        self.ints("kind", kinds)
        if self.rounds:
            self.ints("rule", p.rule_of)
        if 0 in kinds:
            self.ints("first", [named(e) for e in firsts])
            self.ints("first_at", firsts_at)
            self.ints("dim0", dim0)
        for j, g in enumerate(self.groups):
            if g.bounds is not None:
                self.thresholds(f"g{j}", g.dim, g.bounds)
        for k in self.ordered:
            self.thresholds(f"t{k}", k, cuts[k])
            self.ints(f"t{k}_at", cuts_at[k])
            self.ints(f"t{k}_n", [b - a for a, b in zip(cuts_at[k], cuts_at[k][1:] + [len(cuts[k])])])
        masked = tested if 1 in kinds else []
        if masked:
            self.ints("kept", [named(e) for e in kept])
            self.ints("kept_at", kept_at)
            self.ints("segments", segments)
            self.ints("default", [named(e) for e in defaults])
            for k in masked:
                text = self.q.d.text(",".join(masks[k]))
                self.lists[f"m{k}"] = f"list_transform(string_split({text}, ','), lambda x: CAST(from_base64(x) AS BIT))"
                self.ints(f"m{k}_at", masks_at[k])
                self.ints(f"m{k}_step", masks_step[k])
        rule = self.steps(masked, max(segments))
        return Lookup(tuple(self.out), rule, widest > _WIDE)

    def search(self, searches) -> dict[str, str]:
        """Binary searches side by side, one projection per step: for each (name, list,
        offset, (most, count), value, strict), how many of the list's `count` items from
        `offset` (at most `most` in any bucket) are below the value (strict) or at most it.
        The column of each answer."""
        col, last = self.col, {}
        for name, _, _, _, _, _ in searches:
            last[name] = "0"
        longest = max((n[0] for _, _, _, n, _, _ in searches), default=0)
        for j, step in enumerate(reversed([1 << j for j in range(longest.bit_length())])):
            moves = []
            for name, items, offset, count, value, strict in searches:
                i = last[name]
                last[name] = col(f"{name}_{j}")
                moves.append(f"{i} + CASE WHEN {i} + {step} <= {count[1]} AND {items}[{offset} + {i} + {step}] "
                             f"{'<' if strict else '<='} {value} THEN {step} ELSE 0 END AS {last[name]}")
            self.out.append(", ".join(moves))
        return last

    def steps(self, masked, segments: int) -> str:
        p, col = self.p, self.col
        at = lambda name, i: f"{col(name)}[{i} + 1]"  # noqa: E731  a list's element i (0-based)
        self.out = [", ".join(f"{value} AS {col(name)}" for name, value in self.lists.items())]
        # the bucket: the row's group of each fact bucketed on, the first group's slowest
        ranges = self.search([(f"g{j}", col(f"g{j}"), 0, (len(g.bounds), str(len(g.bounds))), self.value(g.dim), False)
                              for j, g in enumerate(self.groups) if g.bounds is not None])
        bucket = "0"
        for j, g in enumerate(self.groups):
            index = self.key(g.dim) if g.bounds is None else ranges[f"g{j}"]
            bucket = index if bucket == "0" else f"({bucket}) * {g.size(p)} + {index}"
        b, kind = col("b"), col("k")
        # a row whose facts are turned down has no bucket: every later step is NULL for it, so no
        # residual is computed on values decide() turns down (an overflow would stop the query)
        self.out.append(f"CASE WHEN __ok THEN {bucket} END AS {b}")
        first = [f"{at('kind', b)} AS {kind}"]
        for k in self.ordered:
            first += [f"{at(f't{k}_at', b)} AS {col(f'o{k}')}", f"{at(f't{k}_n', b)} AS {col(f'n{k}')}"]
        self.out.append(", ".join(first))
        # the row's piece of each ordered fact among its bucket's thresholds
        longest = self.longest()
        found = self.search([(f"i{k}", col(f"t{k}"), col(f"o{k}"), (longest, col(f"n{k}")), self.value(k), True)
                             for k in self.ordered])
        if self.ordered:
            self.out.append(", ".join(
                f"2 * {found[f'i{k}']} + CASE WHEN {found[f'i{k}']} < {col(f'n{k}')} AND "
                f"{col(f't{k}')}[{col(f'o{k}')} + {found[f'i{k}']} + 1] = {self.value(k)} THEN 1 ELSE 0 END AS {col(f'p{k}')}"
                for k in self.ordered))
        piece = {k: col(f"p{k}") if p.dims[k] is None else self.key(k) for k in range(len(p.dims))}
        chosen = []
        if "first" in self.lists:  # buckets of one fact: the first entry of the row's key or piece
            which = " ".join(f"WHEN {k} THEN {piece[k]}" for k in range(len(p.dims)) if k not in self.settled)
            slot = f"CASE {at('dim0', b)} {which} ELSE 0 END" if which else "0"
            chosen.append(f"CASE WHEN {kind} = 0 THEN {col('first')}[{at('first_at', b)} + {slot} + 1] END")
        if masked:  # the others: the entries every fact allows, the first that holds
            # where each fact's bit strings for the row's key or piece start, and its bucket's start
            self.out.append(", ".join([f"{at(f'm{k}_at', b)} + {piece[k]} * {at(f'm{k}_step', b)} * {at('segments', b)} "
                                       f"AS {col(f'w{k}')}" for k in masked]
                                      + [f"{at('kept_at', b)} AS {col('ka')}", f"{at('segments', b)} AS {col('ns')}"]))

            def candidates(s):  # the bits of segment s
                return " & ".join(f"{col(f'm{k}')}[{col(f'w{k}')} + {s + 1}]" for k in masked)

            def first(c, s):  # the entry of the first set bit of segment s, NULL for none
                return (f"{col('kept')}[{col('ka')} + {s * _SEGMENT} + CASE WHEN bit_count({c}) > 0 "
                        f"THEN strpos(CAST({c} AS VARCHAR), '1') END]")  # twice as fast as bit_position

            if self.rounds:  # one segment: its first candidate, retried while a residual fails
                self.out.append(f"CASE WHEN {kind} = 1 THEN {candidates(0)} END AS {col('c0')}")
                residual = self._residual()
                for j in range(self.rounds):
                    c, pos = col(f"c{j}"), f"strpos(CAST({col(f'c{j}')} AS VARCHAR), '1')"
                    self.out.append(f"{first(c, 0)} AS {col(f'e{j}')}")
                    self.out.append(f"CASE WHEN {col(f'e{j}')} IS NULL OR {residual(col(f'e{j}'))} THEN {c} "
                                    f"ELSE set_bit({c}, CAST({pos} - 1 AS INTEGER), 0) END AS {col(f'c{j + 1}')}")
                chosen.append(f"CASE WHEN {kind} = 1 THEN COALESCE({first(col(f'c{self.rounds}'), 0)}, "
                              f"{at('default', b)}) END")
            else:  # segment by segment, until one has a candidate
                found = "NULL"
                for s in range(segments):
                    self.out.append(f"CASE WHEN {kind} = 1 AND {found} IS NULL AND {s} < {col('ns')} "
                                    f"THEN {candidates(s)} END AS {col(f'c{s}')}")
                    self.out.append(f"COALESCE({found}, {first(col(f'c{s}'), s)}) AS {col(f'f{s}')}")
                    found = col(f"f{s}")
                chosen.append(f"CASE WHEN {kind} = 1 THEN COALESCE({found}, {at('default', b)}) END")
        entry = chosen[0] if len(chosen) == 1 else f"COALESCE({', '.join(chosen)})"
        self.out.append(f"NULLIF({entry}, -1) AS {col('e')}")
        return f"{col('rule')}[{col('e')} + 1]" if self.rounds else col("e")

    def longest(self) -> int:
        """The most thresholds an ordered fact has in one bucket."""
        n = 0
        for kind, tables, _, _ in self.buckets:
            if kind == 0 and tables is not None and tables[1] is not None:
                n = max(n, len(tables[1]))
            elif kind == 1:
                n = max([n] + [len(tables[k][0]) for k in self.ordered if tables[k] is not None])
        return n

    def _residual(self):
        """entry column -> SQL that holds when that entry's rule holds beyond its box."""
        whens = [(e, r) for e, r in enumerate(self.p.residual) if r is not None]
        if not whens:
            return lambda entry: "TRUE"
        cases = " ".join(f"WHEN {e} THEN COALESCE({self.q.expr(r)}, FALSE)" for e, r in whens)
        return lambda entry: f"CASE {entry} {cases} ELSE TRUE END"


def _list(texts: list[str], typ: str) -> str:
    """A constant list from one string literal: the engine reads it once while planning (a
    list literal of 10,000 items would be 10,000 expressions to parse and bind)."""
    if not texts:
        return f"CAST([] AS {typ}[])"
    return f"CAST(string_split('{','.join(texts)}', ',') AS {typ}[])"
