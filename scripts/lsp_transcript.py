"""A transcript of an editor session with `policyc lsp`, over stdio, as raw JSON-RPC:
open a policy, type a typo, receive the diagnostic with its fix, apply the fix, see the
diagnostics clear. Prints each message sent (>>) and received (<<).

    python scripts/lsp_transcript.py [policy/driver_info.policy]
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class Client:
    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "compiler.cli", "lsp"], cwd=ROOT, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE)
        self.next_id = 0

    def send(self, method: str, params, request: bool = False):
        message = {"jsonrpc": "2.0", "method": method, "params": params}
        if request:
            self.next_id += 1
            message["id"] = self.next_id
        body = json.dumps(message, ensure_ascii=False).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()
        print(">>", json.dumps(message, ensure_ascii=False)[:400])
        return message.get("id")

    def receive(self) -> dict:
        length = 0
        while True:
            line = self.proc.stdout.readline().decode()
            if line in ("\r\n", "\n", ""):
                break
            if line.lower().startswith("content-length:"):
                length = int(line.split(":")[1])
        message = json.loads(self.proc.stdout.read(length))
        print("<<", json.dumps(message, ensure_ascii=False)[:600])
        return message

    def until(self, test) -> dict:
        while True:
            message = self.receive()
            if test(message):
                return message


def main() -> None:
    path = (ROOT / (sys.argv[1] if len(sys.argv) > 1 else "policy/driver_info.policy")).resolve()
    uri = path.as_uri()
    text = path.read_text(encoding="utf-8")
    c = Client()
    rid = c.send("initialize", {"processId": None, "rootUri": path.parent.as_uri(), "capabilities": {}}, True)
    c.until(lambda m: m.get("id") == rid)
    c.send("initialized", {})
    c.send("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "policy", "version": 1, "text": text}})
    c.until(lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri)
    typo = text.replace("then guide_safe_call", "then guide_safe_cal", 1)
    c.send("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": typo}]})
    found = c.until(lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri
                    and m["params"]["diagnostics"])
    diagnostic = found["params"]["diagnostics"][0]
    rid = c.send("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": diagnostic["range"],
                                             "context": {"diagnostics": [diagnostic]}}, True)
    actions = c.until(lambda m: m.get("id") == rid)["result"]
    edit = actions[0]["edit"]["changes"][uri][0]
    lines = typo.split("\n")
    line = lines[edit["range"]["start"]["line"]]
    lines[edit["range"]["start"]["line"]] = (line[: edit["range"]["start"]["character"]] + edit["newText"]
                                             + line[edit["range"]["end"]["character"]:])
    c.send("textDocument/didChange", {"textDocument": {"uri": uri, "version": 3},
                                      "contentChanges": [{"text": "\n".join(lines)}]})
    c.until(lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri
            and not m["params"]["diagnostics"])
    rid = c.send("shutdown", None, True)
    c.until(lambda m: m.get("id") == rid)
    c.send("exit", None)
    c.proc.wait(timeout=10)


if __name__ == "__main__":
    main()
