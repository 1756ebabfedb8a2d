"""`policyc test`: YAML cases beside a policy, run on the compiled policy, with rule
and boundary coverage.

    run_file(path) -> TestRun (cases, failures, coverage, diagnostics)

A case gives facts and what must come out (outcome, rule, discloses, actions, value
decisions by name, phrases the reply must or must not contain, or the fact decide()
must reject). Coverage counts the rules that fired and, for every numeric comparison
in the policy (`waited <= 3일`), whether cases saw it both true and false.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..analysis.regions import Regions
from ..diagnostics import Diagnostic
from ..frontend.yaml_source import load_yaml, node_at, node_span
from ..korean import quoted
from ..middle import ir
from ..middle.evaluate import Env
from ..middle.names import suggest
from ..middle.values import typed_text
from ..source import SourceFile
from ..pipeline import MAX_YAML_BYTES, inside, read_source
from .doc import words_of
from .explain import render_reply
from .load import jsonable, load


@dataclass
class Failure:
    case: str
    line: int  # of the case in the YAML file
    problems: list[str]
    fired: str  # "rule (policy:LINE)"


@dataclass
class Boundary:
    text: str  # "탑승 후 경과 시간 <= 3일 (policy:104)"
    seen: set[bool] = field(default_factory=set)


@dataclass
class TestRun:
    file: str
    policy: str = ""
    cases: int = 0
    failures: list[Failure] = field(default_factory=list)
    rules: dict[str, list[tuple[str, int, bool]]] = field(default_factory=dict)  # decision -> (rule, line, fired)
    boundaries: list[Boundary] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict = field(default_factory=dict)
    ran: list[tuple[str, int, Failure | None]] = field(default_factory=list)  # every case: name, line, its failure
    policy_failed: bool = False
    compiled: Any = None  # (policy IR, its module, {comparison: (Boundary, list or None)}) once the cases ran  # the diagnostics are the policy's own: it does not compile

    @property
    def coverage(self) -> float:
        total = sum(len(r) for r in self.rules.values()) + 2 * len(self.boundaries)
        hit = sum(f for r in self.rules.values() for _, _, f in r) + sum(len(b.seen) for b in self.boundaries)
        return 100.0 * hit / total if total else 100.0


def _numeric_comparisons(policy: ir.Policy) -> dict:
    """Every comparison of an ordered value (number, money, duration, instant, date, time of
    day) in the rules and in the derived values, and every time-of-day window: each with
    where it is written and, inside an aggregate's `where`, the list whose items it reads
    -> {comparison: (where, list fact or None)}."""
    regions = Regions(policy)
    seen: dict = {}

    def gather(e: ir.Expr, where: str, within: str | None) -> None:
        if isinstance(e, ir.Aggregate):
            gather(e.where, where, e.list)
            return
        if isinstance(e, ir.Cmp) and e.left.type.numeric and (within or regions.numeric(e)):
            seen.setdefault(e, (where, within))
        elif isinstance(e, ir.In) and e.set.type.kind == "window":
            seen.setdefault(e, (where, within))
        for x in ir.children(e):
            gather(x, where, within)

    for d in policy.decisions:
        for rule in d.rules:
            if rule.cond is not None:
                gather(rule.cond, f"{policy.source_of(rule)} {rule.name}", None)
    for d in policy.derived:
        gather(d.expr, f"{policy.source_path}:{d.span.line} {d.name}", None)
    return seen


def _show_cmp(policy: ir.Policy, e: ir.Cmp | ir.In) -> str:
    if isinstance(e, ir.In):
        return f"{_show_cmp_side(policy, e.item)} in {_show_cmp_side(policy, e.set)}"
    return f"{_show_cmp_side(policy, e.left)} {e.op} {_show_cmp_side(policy, e.right)}"


def _show_cmp_side(policy: ir.Policy, x: ir.Expr) -> str:
    if isinstance(x, (ir.FactRef, ir.DerivedRef, ir.ConstRef)):
        return x.name
    if isinstance(x, ir.Item):
        return x.name
    if isinstance(x, ir.Value):
        return typed_text(x.value, x.type)
    return words_of(policy).label_of(x)


def run_file(path: Path, shown: str, overlay=None) -> TestRun:
    """`overlay`: unsaved texts by resolved path (the language server's), for the tests file
    and the policy and replies it reads."""
    run = TestRun(shown)
    text = (overlay or {}).get(path.resolve())
    if text is not None:
        source, diags = SourceFile(shown, text), []
    else:
        source, diags = read_source(path, shown, limit=MAX_YAML_BYTES)
    if source is None:
        run.diagnostics = diags
        return run
    run.sources[shown] = source
    root, data, diags = load_yaml(source, "tests.schema.json", "E0700", "E0701",
                                  "최상위에는 policy 와 cases 를 두고, 각 case 에 name, facts, expect 를 적습니다",
                                  "테스트 ")
    if diags:
        run.diagnostics = diags
        return run
    named = data.get("policy", path.name.replace(".tests.yaml", ".policy"))
    policy_path = inside(path.parent, named)
    if policy_path is None:
        at = node_span(shown, node_at(root, ["policy"]) or root)
        run.diagnostics = [Diagnostic("E0701", at, "테스트가 가리키는 정책은 테스트 파일과 같은 폴더(또는 그 아래)에 있어야 합니다",
                                      "정책 파일의 상대 경로를 쓰세요 (예: policy: driver_info.policy)")]
        return run
    shown_policy = (Path(shown).parent / policy_path.name).as_posix()
    result, module = load(policy_path, shown_policy, overlay)
    run.policy = shown_policy
    run.sources.update(result.sources)
    if module is None:
        run.diagnostics = [d for d in result.diagnostics if d.severity == "error"]
        run.policy_failed = True
        return run
    policy = result.policy
    comparisons = _numeric_comparisons(policy)
    boundaries = {cmp: (Boundary(f"{_show_cmp(policy, cmp)} ({where})"), within)
                  for cmp, (where, within) in comparisons.items()}
    fired: dict[str, set[str]] = {d.name: set() for d in policy.decisions}
    cases_node = node_at(root, ["cases"])
    shared = data.get("defaults", {})
    for i, case in enumerate(data["cases"]):
        run.cases += 1
        node = cases_node.value[i] if isinstance(cases_node, yaml.SequenceNode) else cases_node
        line = node.start_mark.line + 1
        case = {**case, "facts": {**shared.get("facts", {}), **case["facts"]},
                "context": {**shared.get("context", {}), **case.get("context", {})}}
        expect = case["expect"]
        stray = next((k for k in case["facts"] if k not in policy.facts_by_name), None)
        if stray is not None:
            names = list(policy.facts_by_name)
            in_case = stray in data["cases"][i]["facts"]
            facts_node = node_at(node, ["facts"]) if in_case else node_at(root, ["defaults", "facts"])
            key_node = next((k for k, _ in getattr(facts_node, "value", []) if getattr(k, "value", None) == stray),
                            facts_node or node)
            run.diagnostics.append(Diagnostic(
                "E0702", node_span(shown, key_node),
                f"사례 {quoted(case['name'], '이/가')} 정책에 없는 사실을 줍니다: `{stray}`",
                suggest(stray, names) or f"정책의 사실: {', '.join(names)}",
                data=(("case", case["name"]), ("key", stray))))
            continue
        unknown = _unknown_expectation(policy, expect)
        if unknown:
            key, value, help_ = unknown
            expect_node = node_at(node, ["expect"])
            key_node = next((v if value is not None else k for k, v in getattr(expect_node, "value", [])
                             if getattr(k, "value", None) == key), expect_node)
            what = f"`{key}: {value}`" if value is not None else f"`{key}`"
            run.diagnostics.append(Diagnostic("E0702", node_span(shown, key_node),
                                              f"사례 {quoted(case['name'], '이/가')} 정책에 없는 것을 기대합니다: {what}", help_,
                                              data=(("case", case["name"]), ("key", key))))
            continue
        problems = _run_case(policy, module, case, expect, fired, boundaries)
        failure = None
        if problems is not None:
            problems, where = problems
            if problems:
                failure = Failure(case["name"], line, problems, where)
                run.failures.append(failure)
        run.ran.append((case["name"], line, failure))
    for d in policy.decisions:
        run.rules[d.name] = [(r.name, r.decl_span.line, r.name in fired[d.name]) for r in d.rules]
    run.boundaries = [boundary for boundary, _ in boundaries.values()]
    run.compiled = (policy, module, boundaries)
    return run


_EXPECT_KEYS = ("outcome", "rule", "discloses", "actions", "reply_contains", "reply_excludes", "error")


def _unknown_expectation(policy: ir.Policy, expect: dict) -> tuple[str, str | None, str] | None:
    """(key, value or None, help) for the first thing `expect` names that the policy lacks."""
    values = {d.name for d in policy.decisions if d.yields_value}
    for key in expect:
        if key not in _EXPECT_KEYS and key not in values:
            return key, None, suggest(key, list(_EXPECT_KEYS) + sorted(values)) or (
                f"{', '.join(_EXPECT_KEYS + tuple(sorted(values)))} 중에서 쓰세요")
    if policy.main is None:  # no outcome: no reply, no rule of an outcome decision, nothing disclosed
        for key in ("outcome", "rule", "reply_contains", "reply_excludes", "discloses", "actions"):
            if key in expect:
                return key, None, "이 정책에는 결과(outcome)를 내는 결정이 없습니다. 값 결정은 그 이름으로 기대하세요"
    known = {"outcome": list(policy.outcomes_by_name),
             "rule": [r.name for r in policy.main.rules] if policy.main else [],
             "discloses": [c.name for c in policy.contexts if c.personal],
             "actions": list(policy.actions_by_name),
             "error": [f.name for f in policy.facts] + ["facts"]}
    for key, names in known.items():
        given = expect.get(key)
        for value in (given if isinstance(given, list) else [given] if given is not None else []):
            if key == "error" and any(value in n or n in value for n in names):
                continue  # `error` names the fact decide() rejects: part of a name is enough
            if value not in names:
                return key, value, suggest(str(value), names) or f"정책의 {key}: {', '.join(names) or '없음'}"
    return None


def _run_case(policy, module, case, expect, fired, boundaries):
    problems: list[str] = []
    try:
        decision = module.decide(case["facts"])
    except module.PolicyInputError as err:
        if "error" in expect:
            if expect["error"] not in err.name:
                problems.append(f"거절한 사실 — 기대: {expect['error']}, 실제: {err.name} ({err.problem})")
        else:
            problems.append(f"decide() 가 사실을 거절했습니다: {err}")
        return problems, "(결정 없음)"
    if "error" in expect:
        problems.append(f"사실 {quoted(expect['error'], '을/를')} 거절해야 하는데 결정했습니다: {decision.outcome if policy.main else ''}")
    for name, rule in decision.trace:
        fired[name].add(rule)
    env = Env(policy, dict(decision.facts))
    for cmp, (boundary, within) in boundaries.items():
        for item in (env.facts[within] if within else (None,)):
            if item is not None:
                env.items.append(item)
            try:
                boundary.seen.add(bool(env.eval(cmp)))
            except TypeError:  # a side that is not there here (guarded by `is given`): neither side seen
                pass
            finally:
                if item is not None:
                    env.items.pop()
    where = f"{decision.rule} ({decision.source})" if policy.main else ""

    def check(label, want, got):
        if want != got:
            problems.append(f"{label} — 기대: {want}, 실제: {got}")

    if "outcome" in expect:
        check("결과", expect["outcome"], decision.outcome)
    if "rule" in expect:
        check("규칙", expect["rule"], decision.rule)
    if "discloses" in expect:
        check("공개", sorted(expect["discloses"]), sorted(decision.discloses))
    if "actions" in expect:
        check("조치", sorted(expect["actions"]), sorted(decision.actions))
    for name in expect:
        if name in {d.name for d in policy.decisions if d.yields_value}:
            check(name, jsonable(expect[name]), jsonable(getattr(decision, name)))
    if "reply_contains" in expect or "reply_excludes" in expect:
        try:
            reply, missing = render_reply(policy, module, decision, case.get("context", {}))
        except module.PolicyInputError as err:
            problems.append(f"답변을 만들 수 없습니다: {err}")
            return problems, where
        if reply is None:
            problems.append(f"답변에 필요한 값이 context 에 없습니다: {', '.join(missing)}")
            return problems, where
        for phrase in expect.get("reply_contains", []):
            if phrase not in reply:
                problems.append(f"답변에 {quoted(phrase, '이/가')} 없습니다. 실제 답변: {reply!r}")
        for phrase in expect.get("reply_excludes", []):
            if phrase in reply:
                problems.append(f"답변에 {quoted(phrase, '이/가')} 있으면 안 됩니다. 실제 답변: {reply!r}")
    return problems, where


def report_text(run: TestRun) -> str:
    lines = [f"{run.file}: 정책 {run.policy}, 사례 {run.cases}개"]
    for f in run.failures:
        lines.append(f"  실패 {f.case}  ({run.file}:{f.line}; 정한 규칙: {f.fired})")
        lines += [f"    - {p}" for p in f.problems]
    missed_rules = [(d, name, line) for d, rules in run.rules.items() for name, line, hit in rules if not hit]
    missed_sides = [(b.text, side) for b in run.boundaries for side in (True, False) if side not in b.seen]
    lines.append(f"  통과 {run.cases - len(run.failures)}/{run.cases}, 범위 {run.coverage:.1f}% "
                 f"(규칙 {sum(h for r in run.rules.values() for _, _, h in r)}/{sum(len(r) for r in run.rules.values())}, "
                 f"경계의 양쪽 {sum(len(b.seen) for b in run.boundaries)}/{2 * len(run.boundaries)})")
    for d, name, line in missed_rules:
        lines.append(f"  어느 사례도 거치지 않은 규칙: {d}.{name} ({run.policy}:{line})")
    for text, side in missed_sides:
        lines.append(f"  어느 사례도 {'참' if side else '거짓'}으로 만들지 않은 경계: {text}")
    return "\n".join(lines) + "\n"


def report_json(run: TestRun) -> dict[str, Any]:
    return {
        "file": run.file, "policy": run.policy, "cases": run.cases,
        "failures": [{"case": f.case, "line": f.line, "problems": f.problems, "fired": f.fired} for f in run.failures],
        "coverage": round(run.coverage, 2),
        "rules": {d: [{"rule": n, "line": line, "covered": h} for n, line, h in r] for d, r in run.rules.items()},
        "boundaries": [{"comparison": b.text, "true_seen": True in b.seen, "false_seen": False in b.seen}
                       for b in run.boundaries],
    }


def junit_xml(runs: list[TestRun]) -> str:
    """JUnit XML for CI: a testsuite per tests file, a testcase per YAML case (with its
    file and line), a failure with what differed and the rule that decided."""
    from xml.etree import ElementTree as ET

    suites = ET.Element("testsuites", name="policyc test", tests=str(sum(len(r.ran) for r in runs)),
                        failures=str(sum(len(r.failures) for r in runs)), errors="0")
    for run in runs:
        suite = ET.SubElement(suites, "testsuite", name=run.file, tests=str(len(run.ran)),
                              failures=str(len(run.failures)), errors="0", skipped="0")
        for name, line, failure in run.ran:
            case = ET.SubElement(suite, "testcase", name=name, classname=run.policy or run.file,
                                 file=run.file, line=str(line))
            if failure is not None:
                node = ET.SubElement(case, "failure", message="; ".join(failure.problems), type="policyc")
                node.text = "\n".join(failure.problems) + f"\n결정한 규칙: {failure.fired}"
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def suggest_cases(run: TestRun) -> list[dict]:
    """`policyc test --suggest`: a case for each rule no case reaches and each side of a
    comparison no case makes true or false. The facts are the analysis' example for that
    region, checked by the module; the expectation is what the policy decides now (the
    author reviews it before pasting: a suggestion pins today's behaviour, right or not)."""
    if run.compiled is None:
        return []
    policy, module, boundaries = run.compiled
    regions = Regions(policy)
    out: list[dict] = []

    def case(name: str, region) -> dict | None:
        if not region:
            return None
        try:
            facts, _ = region.example()
            decision = module.decide(facts)
        except (ValueError, module.PolicyInputError):
            return None  # no example the module takes: nothing to propose
        expect: dict = {}
        if policy.main is not None:
            expect = {"outcome": decision.outcome, "rule": decision.rule}
        return {"name": name, "facts": facts, "expect": expect}

    for d in policy.decisions:
        fired = {name for name, _, hit in run.rules.get(d.name, []) if hit}
        for rule, region in zip(d.rules, regions.rule_regions(d)):
            if rule.name not in fired:
                found = case(f"규칙 {quoted(rule.name, '을/를')} 거치는 사례" + (f" ({rule.label})" if rule.label else ""),
                             region)
                if found is not None:
                    out.append(found)
    for cmp, (boundary, within) in boundaries.items():
        if within is not None:
            continue  # a comparison of list items: the example would need a chosen item
        for side in (True, False):
            if side not in boundary.seen:
                found = case(f"{boundary.text} 이(가) {'참' if side else '거짓'}인 사례",
                             regions.condition(cmp if side else ir.Not(cmp)))
                if found is not None and bool(Env(policy, dict(module.decide(found["facts"]).facts)).eval(cmp)) == side:
                    out.append(found)
    return out


def suggestions_yaml(cases: list[dict]) -> str:
    """The proposed cases as the tests YAML writes them, ready to paste under `cases:`."""
    from .load import jsonable

    return yaml.safe_dump([jsonable(c) for c in cases], allow_unicode=True, sort_keys=False, width=110)


def _coverage_lines(run: TestRun) -> tuple[str, dict[int, int], dict[int, list[bool]]]:
    """(policy file, {rule line: cases that reached it (0/1)}, {comparison line: sides seen})."""
    policy, _, boundaries = run.compiled
    lines = {line: int(hit) for rules in run.rules.values() for _, line, hit in rules}
    branches: dict[int, list[bool]] = {}
    for cmp, (boundary, _) in boundaries.items():
        line = cmp.span.line or 0
        branches.setdefault(line, []).extend([True in boundary.seen, False in boundary.seen])
    return policy.source_path, lines, branches


def lcov(runs: list[TestRun]) -> str:
    """Rule coverage as line coverage (a rule's line, hit or not) and boundary coverage as
    branch coverage (each comparison's true and false side), in LCOV's tracefile format."""
    out = []
    for run in runs:
        if run.compiled is None:
            continue
        path, lines, branches = _coverage_lines(run)
        out += ["TN:policyc", f"SF:{path}"]
        out += [f"DA:{line},{hit}" for line, hit in sorted(lines.items())]
        taken = 0
        for line, sides in sorted(branches.items()):
            for i, seen in enumerate(sides):
                out.append(f"BRDA:{line},0,{i},{1 if seen else '-'}")
                taken += seen
        out += [f"LF:{len(lines)}", f"LH:{sum(1 for h in lines.values() if h)}",
                f"BRF:{sum(len(s) for s in branches.values())}", f"BRH:{taken}", "end_of_record"]
    return "\n".join(out) + "\n"


def cobertura(runs: list[TestRun]) -> str:
    """The same coverage as Cobertura XML (what GitLab and many CI dashboards read)."""
    from xml.etree import ElementTree as ET

    files = [(run, *_coverage_lines(run)) for run in runs if run.compiled is not None]
    all_lines = sum(len(x[2]) for x in files) or 1
    hit_lines = sum(sum(1 for h in x[2].values() if h) for x in files)
    all_branches = sum(len(s) for x in files for s in x[3].values()) or 1
    hit_branches = sum(sum(s) for x in files for s in x[3].values())
    root = ET.Element("coverage", {"line-rate": f"{hit_lines / all_lines:.4f}",
                                   "branch-rate": f"{hit_branches / all_branches:.4f}",
                                   "lines-covered": str(hit_lines), "lines-valid": str(all_lines),
                                   "branches-covered": str(hit_branches), "branches-valid": str(all_branches),
                                   "complexity": "0", "version": "policyc", "timestamp": "0"})
    ET.SubElement(ET.SubElement(root, "sources"), "source").text = "."
    package = ET.SubElement(ET.SubElement(root, "packages"), "package", name="policies", complexity="0",
                            **{"line-rate": f"{hit_lines / all_lines:.4f}", "branch-rate": f"{hit_branches / all_branches:.4f}"})
    classes = ET.SubElement(package, "classes")
    for run, path, lines, branches in files:
        n_lines, n_hit = len(lines) or 1, sum(1 for h in lines.values() if h)
        n_br, n_br_hit = sum(len(s) for s in branches.values()) or 1, sum(sum(s) for s in branches.values())
        cls = ET.SubElement(classes, "class", name=run.policy or path, filename=path, complexity="0",
                            **{"line-rate": f"{n_hit / n_lines:.4f}", "branch-rate": f"{n_br_hit / n_br:.4f}"})
        ET.SubElement(cls, "methods")
        xml_lines = ET.SubElement(cls, "lines")
        for line in sorted(set(lines) | set(branches)):
            attrs = {"number": str(line), "hits": str(lines.get(line, 1 if any(branches.get(line, [])) else 0))}
            if line in branches:
                sides = branches[line]
                attrs.update({"branch": "true",
                              "condition-coverage": f"{100 * sum(sides) // len(sides)}% ({sum(sides)}/{len(sides)})"})
            ET.SubElement(xml_lines, "line", attrs)
    ET.indent(root)
    return '<?xml version="1.0" ?>\n' + ET.tostring(root, encoding="unicode") + "\n"
