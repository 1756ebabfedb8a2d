"""The playground's HTTP side: a token in every URL, Host and Origin checked on every
request, no CORS, writes only inside `policy/`, nothing of a request's facts or context
written to any log."""

from __future__ import annotations

import re
import secrets
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from .. import jsontext
from ..build import write_atomic
from ..diagnostics import to_json_obj
from ..frontend.parser import keyword_words
from ..service.core import analyse, tests_path
from ..tools.diff import sample_context
from ..tools.explain import explain_json, show_value, trace
from ..tools.load import jsonable, module_of, read_json

STATIC = Path(__file__).parent / "static"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,100}")
_FILES = {"index.html": "text/html; charset=utf-8", "app.js": "text/javascript; charset=utf-8",
          "style.css": "text/css; charset=utf-8", "editor.bundle.js": "text/javascript; charset=utf-8"}
MAX_BODY = 8 * 2**20


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _json(data: Any, status: int = 200) -> Response:
    return Response(jsontext.dumps(data), status, media_type="application/json; charset=utf-8",
                    headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


class Playground:
    """The policies under `root/policy/`, and what the page asks of them."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.folder = self.root / "policy"

    # ── files: only policy/<name>.policy and the YAML files beside it ──
    def policy_path(self, name: str) -> Path:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise Refused(400, "정책 이름은 글자, 숫자, _ 만 씁니다")
        path = self.folder / f"{name}.policy"
        if not path.is_file() or path.resolve().parent != self.folder.resolve():
            raise Refused(404, f"policy/ 에 {name}.policy 가 없습니다")
        return path

    def contained(self, path: Path, folder: Path | None = None) -> Path:
        """`path` when it stays inside `folder` (policy/ by default) once links are followed
        and is a regular file or not there yet; Refused otherwise. A cloned repository can
        hold a link `policy/x.tests.yaml -> ~/.bashrc`: nothing is read or written through it."""
        folder = (folder or self.folder).resolve()
        try:
            target = path.resolve()
        except (OSError, RuntimeError):
            raise Refused(409, f"{path.name}: 읽을 수 없는 경로입니다") from None
        if target.parent != folder or (target.exists() and not target.is_file()):
            raise Refused(409, f"{path.name}: 정책 폴더 밖을 가리키거나 보통 파일이 아니어서 읽거나 쓰지 않습니다")
        return target

    def read(self, path: Path) -> str | None:
        target = self.contained(path)
        if not target.is_file():
            return None
        if target.stat().st_size > MAX_BODY:
            raise Refused(413, f"{path.name}: 너무 큽니다")
        try:
            return target.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise Refused(409, f"{path.name}: UTF-8 이 아닙니다") from None

    def write(self, path: Path, text: str, folder: Path | None = None) -> None:
        try:
            write_atomic(self.contained(path, folder), text)
        except OSError as err:
            raise Refused(409, f"{path.name}: 쓸 수 없습니다 ({err.strerror or err})") from None

    def reply_files(self, path: Path, policy_text: str) -> list[str]:
        names = re.findall(r'^\s*replies\s+"([^"\n]+)"', policy_text, re.M)
        out = []
        for n in names:
            if not n.endswith((".yaml", ".yml")) or n.endswith(".tests.yaml") or n.startswith("."):
                continue  # a replies file is YAML: never a policy, a tests file or a hidden file
            target = (self.folder / n).resolve()
            if target.parent == self.folder.resolve() and target.name == n:  # beside the policy, nothing else
                out.append(n)
        return out

    def overlay(self, name: str, body: dict) -> tuple[Path, dict[Path, str]]:
        path = self.policy_path(name)
        texts = {path.resolve(): _text(body.get("policy"), "policy")}
        replies = body.get("replies") or {}
        if not isinstance(replies, dict):
            raise Refused(400, "replies 는 파일 이름: 내용 의 객체입니다")
        allowed = set(self.reply_files(path, texts[path.resolve()]))
        for file, text in replies.items():
            if file not in allowed:
                raise Refused(400, f"정책이 부르지 않는 답변 파일입니다: {file}")
            texts[(self.folder / file).resolve()] = _text(text, file)
        return path, texts

    # ── answers ──
    def policies(self) -> list[dict]:
        return [{"name": p.stem} for p in sorted(self.folder.glob("*.policy"))]

    def files(self, name: str) -> dict:
        path = self.policy_path(name)
        text = self.read(path) or ""
        replies = {f: t for f in self.reply_files(path, text) if (t := self.read(self.folder / f)) is not None}
        return {"name": name, "policy": text, "replies": replies, "tests": self.read(tests_path(path))}

    def check(self, name: str, body: dict) -> dict:
        path, overlay = self.overlay(name, body)
        analysis = analyse(path, _shown(name), overlay)
        result = analysis.result
        out = {"ok": result.ok, "diagnostics": [_diag_json(d, name) for d in result.diagnostics]}
        if result.ok:
            module = module_of(result)
            policy = result.policy
            out["schema"] = module.FACTS_SCHEMA
            out["contexts"] = [{"name": c.name, "label": c.label, "kind": c.kind, "personal": c.personal}
                               for c in policy.contexts]
            out["sample_context"] = jsonable(sample_context(policy))
        return out

    def decide(self, name: str, body: dict) -> dict:
        path, overlay = self.overlay(name, body)
        analysis = analyse(path, _shown(name), overlay)
        if not analysis.result.ok:
            return {"ok": False, "diagnostics": [_diag_json(d, name) for d in analysis.result.diagnostics]}
        return _decided(analysis.result, body)

    def save(self, name: str, body: dict) -> dict:
        """The policy (and its replies) written atomically; generated/ rebuilt only from a
        policy that checks clean. A policy with errors is saved all the same: the page says so."""
        path, overlay = self.overlay(name, body)
        for target, text in overlay.items():
            self.write(target, text)
        analysis = analyse(path, _shown(name))
        built = False
        if analysis.result.ok and (self.root / "generated").is_dir():
            from ..backend.python import generate

            self.write(self.root / "generated" / f"{name}.py", generate(analysis.result.policy), self.root / "generated")
            built = True
        return {"saved": True, "ok": analysis.result.ok, "built": built,
                "diagnostics": [_diag_json(d, name) for d in analysis.result.diagnostics]}

    def add_case(self, name: str, body: dict) -> dict:
        """The current facts and what the policy decides now, appended as a case to the
        tests YAML (its text and comments kept as they are)."""
        import yaml

        path, overlay = self.overlay(name, body)
        unsaved = [p.name for p, text in overlay.items() if self.read(p) != text]
        if unsaved:  # `policyc test` reads the files: a case decided on unsaved text would fail there
            raise Refused(409, f"저장하지 않은 변경이 있습니다 ({', '.join(unsaved)}): 먼저 저장을 누르세요. "
                               "사례는 저장된 정책으로 확인합니다")
        decided = self.decide(name, body)
        if not decided.get("ok") or decided.get("error"):
            raise Refused(400, "결정하지 못한 사실은 사례로 저장하지 않습니다")
        case_name = body.get("case_name")
        if not isinstance(case_name, str) or not case_name.strip() or "\n" in case_name:
            raise Refused(400, "사례 이름을 한 줄로 주세요")
        expect = {"outcome": decided["decision"]["decision"].get("outcome"),
                  "rule": decided["decision"]["decision"].get("rule")}
        case = {"name": case_name.strip(), "facts": body.get("facts") or {}, "expect": expect}
        tests = tests_path(self.policy_path(name))
        text = self.read(tests)
        text = text if text is not None else f"policy: {name}.policy\ncases:\n"
        block = yaml.safe_dump([jsonable(case)], allow_unicode=True, sort_keys=False, width=110)
        block = "".join("  " + line if line.strip() else line for line in block.splitlines(keepends=True))
        new = text.rstrip("\n") + "\n\n" + block
        try:  # appended at the end: right only when `cases:` is the file's last key
            before, after = yaml.safe_load(text) or {}, yaml.safe_load(new) or {}
            fits = (isinstance(after, dict) and isinstance(after.get("cases"), list)
                    and len(after["cases"]) == len((before or {}).get("cases") or []) + 1
                    and after["cases"][-1] == jsonable(case) and {k: v for k, v in after.items() if k != "cases"}
                    == {k: v for k, v in before.items() if k != "cases"})
        except yaml.YAMLError:
            fits = False
        if not fits:
            raise Refused(409, "사례 파일의 끝에 사례를 더할 수 없습니다 (`cases:` 가 마지막 항목이 아닙니다): "
                               "아래 사례를 직접 붙여 넣으세요\n" + block)
        self.write(tests, new)
        from ..tools.testing import run_file

        run = run_file(tests, f"policy/{tests.name}")
        return {"cases": run.cases, "coverage": run.coverage, "failures": len(run.failures),
                "failed": [f.case for f in run.failures],
                "diagnostics": [_diag_json(d, name) for d in run.diagnostics]}

    def head(self, name: str, body: dict) -> dict:
        """The same facts decided by the version of the policy committed at HEAD."""
        path = self.policy_path(name)
        rel = path.relative_to(self.root).as_posix()
        text = _git_show(self.root, rel)
        if text is None:
            return {"ok": False, "message": "HEAD 에 이 정책이 없습니다 (git 저장소가 아니거나 아직 커밋하지 않았습니다)"}
        with tempfile.TemporaryDirectory(prefix="policyc-head-") as tmp:
            folder = Path(tmp)
            (folder / path.name).write_text(text, encoding="utf-8")
            for f in self.reply_files(path, text):
                committed = _git_show(self.root, (path.parent / f).relative_to(self.root).as_posix())
                if committed is not None:
                    (folder / f).write_text(committed, encoding="utf-8")
            analysis = analyse(folder / path.name, _shown(name))
            if not analysis.result.ok:
                return {"ok": False, "message": "HEAD 의 정책이 검사를 통과하지 못합니다"}
            return _decided(analysis.result, body)


def _plain(handler, data):
    return handler(data)


def _shown(name: str) -> str:
    """A policy's path as `policyc build` shows it (generated/ files name their source by it)."""
    return f"policy/{name}.policy"


def _git_show(root: Path, rel: str) -> str | None:
    try:
        # `./`: the path from the served folder, which may be a subfolder of the repository
        done = subprocess.run(["git", "show", f"HEAD:./{rel}"], cwd=root, capture_output=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.decode("utf-8", "replace") if done.returncode == 0 else None


def _decided(result, body: dict) -> dict:
    module = module_of(result)
    facts = body.get("facts")
    context = body.get("context") or {}
    if not isinstance(facts, dict) or not isinstance(context, dict):
        raise Refused(400, "facts 와 context 는 객체입니다")
    context = {**jsonable(sample_context(result.policy)), **{k: v for k, v in context.items() if v not in ("", None)}}
    try:
        decision = module.decide(facts)
    except module.PolicyInputError as err:
        return {"ok": True, "error": {"name": err.name, "problem": err.problem}}
    policy = result.policy
    label = policy.outcome(decision.outcome).label if policy.main is not None else None
    labels = {d.name: d.label for d in policy.decisions}
    shown = {d.name: [{k: show_value(policy, k, v) for k, v in r.values.items()} for r in d.rules]
             for d in trace(result, decision)}  # 2일 12시간, not 2d12h
    try:
        return {"ok": True, "decision": explain_json(result, module, decision, context), "outcome_label": label,
                "decision_labels": labels, "values_shown": shown}
    except module.PolicyInputError as err:  # a reply value the page filled in badly
        return {"ok": True, "decision": explain_json(result, module, decision, {}),
                "reply_error": {"name": err.name, "problem": err.problem}}


def _text(value, what: str) -> str:
    if not isinstance(value, str):
        raise Refused(400, f"{what}: 문자열이어야 합니다")
    if len(value.encode("utf-8")) > MAX_BODY:
        raise Refused(413, f"{what}: 너무 큽니다")
    return value


def _diag_json(d, name: str) -> dict:
    obj = to_json_obj(d)
    obj["file"] = Path(d.span.file).name
    obj["severity_ko"] = "오류" if d.severity == "error" else "경고"
    return obj


def create_app(root: Path, token: str, hosts: set[str]) -> Starlette:
    """`hosts`: the Host values the server answers to (127.0.0.1:<port>, localhost:<port>);
    an Origin, when the browser sends one, must be http:// one of them."""
    play = Playground(root)
    origins = {f"http://{h}" for h in hosts}

    def guard(request: Request) -> None:
        if request.headers.get("host") not in hosts:
            raise Refused(403, "이 주소로는 열 수 없습니다 (Host)")
        origin = request.headers.get("origin")
        if origin is not None and origin not in origins:
            raise Refused(403, "다른 사이트에서 온 요청은 받지 않습니다 (Origin)")
        if not secrets.compare_digest(request.path_params.get("token", "").encode("utf-8", "replace"), token.encode()):
            raise Refused(404, "주소가 맞지 않습니다")

    async def body_of(request: Request) -> dict:
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_BODY:
            raise Refused(413, "요청이 너무 큽니다")
        chunks, size = [], 0
        async for chunk in request.stream():  # a chunked body is counted as it comes, never held past the limit
            size += len(chunk)
            if size > MAX_BODY:
                raise Refused(413, "요청이 너무 큽니다")
            chunks.append(chunk)
        raw = b"".join(chunks)
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            raise Refused(415, "JSON 으로 보내세요")  # a form post from another page cannot be JSON without CORS
        try:
            data = read_json(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise Refused(400, "UTF-8 JSON 으로 보내세요") from None
        except ValueError as err:
            raise Refused(400, str(err)) from None
        if not isinstance(data, dict):
            raise Refused(400, "JSON 객체로 보내세요")
        return data

    def endpoint(handler, with_body: bool):
        async def run(request: Request) -> Response:
            try:
                guard(request)
                data = await body_of(request) if with_body else request
                # in a worker thread: a slow policy never stalls the page's other requests
                return _json(await run_in_threadpool(locked if with_body else _plain, handler, data))
            except Refused as err:
                return _json({"error": err.message}, err.status)
        return run

    async def page(request: Request) -> Response:
        try:
            guard(request)
        except Refused as err:
            return _json({"error": err.message}, err.status)
        file = request.path_params.get("file", "index.html")
        if file not in _FILES:
            return _json({"error": "없는 파일입니다"}, 404)
        return FileResponse(STATIC / file, media_type=_FILES[file],
                            headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
                                     "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                                                                "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"})

    lock = threading.Lock()

    def locked(handler, data):
        with lock:  # one compile at a time: the SMT solver (z3) is not thread-safe
            return handler(data)

    def named(data: dict) -> str:
        return data.get("name")

    routes = [
        Route("/{token}/", page),
        Route("/{token}/static/{file}", page),
        Route("/{token}/api/policies", endpoint(lambda r: {"policies": play.policies(),
                                                              "keywords": sorted(keyword_words())}, False)),
        Route("/{token}/api/files/{name}", endpoint(lambda r: play.files(r.path_params["name"]), False)),
        Route("/{token}/api/check", endpoint(lambda d: play.check(named(d), d), True), methods=["POST"]),
        Route("/{token}/api/decide", endpoint(lambda d: play.decide(named(d), d), True), methods=["POST"]),
        Route("/{token}/api/save", endpoint(lambda d: play.save(named(d), d), True), methods=["POST"]),
        Route("/{token}/api/cases", endpoint(lambda d: play.add_case(named(d), d), True), methods=["POST"]),
        Route("/{token}/api/head", endpoint(lambda d: play.head(named(d), d), True), methods=["POST"]),
    ]
    return Starlette(routes=routes)


def main(root: Path, port: int = 0, open_browser: bool = False, out=print) -> int:
    """Serve on 127.0.0.1 (never another interface) until interrupted."""
    import socket
    import webbrowser

    import uvicorn

    if not (root / "policy").is_dir():
        out(f"policyc: policy/ 폴더가 없습니다: {root}")
        return 2
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    port = sock.getsockname()[1]
    token = secrets.token_urlsafe(24)
    app = create_app(root, token, {f"127.0.0.1:{port}", f"localhost:{port}"})
    url = f"http://127.0.0.1:{port}/{token}/"
    out(f"policyc serve: {url}  (이 컴퓨터에서만 열립니다; 끝내려면 Ctrl+C)", flush=True)
    if open_browser:
        webbrowser.open(url)
    # no access log: a URL carries the token, and nothing a request holds is written anywhere
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])
    return 0
