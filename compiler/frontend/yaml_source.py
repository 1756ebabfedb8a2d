"""YAML files read with their positions: plain data for JSON Schema validation, and
every schema error placed at the YAML line it is about.

    load_yaml(source, schema_file, code_syntax, code_schema, help, what) -> (root node, data, [Diagnostic])
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from importlib import resources

import jsonschema
import yaml

from ..diagnostics import Diagnostic
from ..source import SourceFile, Span

_YAML_PROBLEMS = (
    ("cannot start any token", "탭 문자는 들여쓰기에 쓸 수 없습니다 (공백으로 들여 쓰세요)"),
    ("mapping values are not allowed", "여기에는 `키: 값` 이 올 수 없습니다 (문구 안의 `: ` 는 `|` 블록으로 감싸세요)"),
    ("could not find expected ':'", "`:` 가 빠졌습니다"),
    ("expected the node content", "값이 있어야 할 자리에 없습니다"),
    ("found unexpected end of stream", "따옴표나 괄호가 닫히지 않은 채 파일이 끝났습니다"),
    ("did not find expected key", "들여쓰기가 맞지 않거나 `키:` 가 있어야 할 자리입니다"),
    ("found undefined alias", "정의되지 않은 별칭(*)을 썼습니다"),
)


def schema(name: str) -> dict:
    return json.loads(resources.files("compiler").joinpath(f"schemas/{name}").read_text("utf-8"))


def node_span(path: str, node: yaml.Node) -> Span:
    s, e = node.start_mark, node.end_mark
    if e.line > s.line:  # a block: underline its first line only
        return Span(path, s.line + 1, s.column + 1, s.line + 1, s.column + 2)
    return Span(path, s.line + 1, s.column + 1, e.line + 1, max(e.column + 1, s.column + 2))


_MAX_NODES = 200_000  # values once aliases (`*name`) are expanded: a few levels of them can mean billions


_DECIMAL = re.compile(r"[-+]?[0-9][0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?|[-+]?\.[0-9][0-9_]*([eE][-+]?[0-9]+)?")


class _TooBig(Exception):
    pass


def to_data(node: yaml.Node, path: str, diags: list[Diagnostic], code: str, budget: list[int] | None = None):
    """Plain data from a composed node; duplicate keys are reported, not silently merged.
    Raises _TooBig past _MAX_NODES values (an alias bomb)."""
    budget = budget if budget is not None else [_MAX_NODES]
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooBig
    if isinstance(node, yaml.MappingNode):
        out, seen = {}, set()
        for k, v in node.value:
            key = k.value if isinstance(k, yaml.ScalarNode) else repr(k)
            if key in seen:
                diags.append(Diagnostic(code, node_span(path, k), f"같은 이름이 두 번 있습니다: `{key}`", "하나만 남기세요"))
            seen.add(key)
            out[key] = to_data(v, path, diags, code, budget)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [to_data(v, path, diags, code, budget) for v in node.value]
    if node.tag.endswith(":str"):
        return node.value
    if node.tag.endswith(":float") and _DECIMAL.fullmatch(node.value):
        return Decimal(node.value.replace("_", ""))  # 0.3 is the decimal 0.3, as in a policy
    try:  # numbers, booleans, null: kept as such for the schema
        return yaml.safe_load(yaml.serialize(node))
    except (yaml.YAMLError, ValueError, OverflowError):  # an unknown tag (!!python/object…): plain text
        return node.value


def node_at(root: yaml.Node, parts) -> yaml.Node:
    node = root
    for part in parts:
        if isinstance(node, yaml.MappingNode):
            hit = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None)
            if hit is None:
                break
            node = hit[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
    return node


def _problem(problem: str) -> str:
    for needle, korean in _YAML_PROBLEMS:
        if needle in problem:
            return korean
    return problem or "YAML 을 읽을 수 없습니다"


def _ko(err: jsonschema.ValidationError) -> str:
    if err.validator == "additionalProperties":
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        return f"알 수 없는 항목 {', '.join(map(str, extra))}"
    if err.validator == "required":
        missing = sorted(set(err.validator_value) - set(err.instance))
        return f"빠진 항목 {', '.join(missing)}"
    if err.validator == "type":
        want = {"object": "`이름: 값` 목록", "string": "문자열", "array": "목록", "boolean": "참거짓"}.get(
            err.validator_value, str(err.validator_value))
        got = {"int": "숫자", "float": "숫자", "bool": "참거짓", "NoneType": "빈 값", "list": "목록",
               "dict": "`이름: 값` 목록", "str": "문자열"}.get(type(err.instance).__name__, type(err.instance).__name__)
        hint = (" (YAML 은 yes, no, on, off 를 참거짓으로 읽습니다: 따옴표로 감싸 'no' 처럼 쓰세요)"
                if err.validator_value == "string" and isinstance(err.instance, bool) else "")
        return f"{want}이어야 하는데 {got}입니다{hint}"
    if err.validator == "minLength":
        return "빈 문구입니다"
    if err.validator == "minItems":
        return "비어 있습니다"
    if err.validator == "propertyNames":
        return "이름은 글자로 시작하고 글자, 숫자, _ 만 씁니다"
    return err.message


def load_yaml(source: SourceFile, schema_file: str, code_syntax: str, code_schema: str, help_schema: str,
              what: str = ""):
    """(root node, plain data, diagnostics): the file composed, duplicate keys reported, and
    the data checked against the schema; never raises for any text."""
    try:
        return _load_yaml(source, schema_file, code_syntax, code_schema, help_schema, what)
    except RecursionError:  # PyYAML and jsonschema recurse: lists nested thousands deep
        return None, None, [Diagnostic(code_syntax, Span(source.path, 1, 1, 1, 2),
                                       "YAML 이 너무 깊게 겹쳐 있습니다 ([ [ [ ... 나 들여쓰기가 수천 단계)",
                                       "답변과 테스트 YAML 은 두세 단계면 충분합니다. 파일이 맞는지 확인하세요")]
    except _TooBig:
        return None, None, [Diagnostic(code_syntax, Span(source.path, 1, 1, 1, 2),
                                       f"YAML 의 별칭(*이름)을 펼치면 값이 {_MAX_NODES:,}개를 넘습니다",
                                       "별칭이 별칭을 여러 번 겹쳐 부르지 않게 하세요 (사례의 공통 사실은 한 단계면 충분합니다)")]


def _load_yaml(source: SourceFile, schema_file: str, code_syntax: str, code_schema: str, help_schema: str,
               what: str = ""):
    path = source.path
    try:
        root = yaml.compose(source.text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        if err.context_mark is not None and "end of stream" in (err.problem or ""):
            mark = err.context_mark  # where the unclosed quote or bracket began
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return None, None, [Diagnostic(code_syntax, Span(path, line, col, line, col + 1),
                                       f"YAML 문법 오류: {_problem(err.problem or '')}",
                                       "들여쓰기와 `:` 뒤의 띄어쓰기를 확인하세요. 여러 줄 문구는 `키: |` 다음 줄부터 들여 씁니다")]
    except yaml.YAMLError as err:
        return None, None, [Diagnostic(code_syntax, Span(path, 1, 1, 1, 2), f"YAML 문법 오류: {err}")]
    if root is None:
        root = yaml.compose("{}")
    diags: list[Diagnostic] = []
    data = to_data(root, path, diags, code_schema)
    validator = jsonschema.Draft202012Validator(schema(schema_file))
    for err in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        node = node_at(root, list(err.absolute_path))
        if err.validator == "additionalProperties" and isinstance(node, yaml.MappingNode):
            allowed = err.schema.get("properties", {})
            node = next((k for k, _ in node.value
                         if not isinstance(k, yaml.ScalarNode) or k.value not in allowed), node)
        where = "/".join(map(str, err.absolute_path)) or "(파일 전체)"
        diags.append(Diagnostic(code_schema, node_span(path, node), f"{what}YAML 형식 오류 ({where}): {_ko(err)}", help_schema))
    return root, data, diags
