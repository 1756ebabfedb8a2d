"""`policyc serve`: the API through an ASGI test client (what it answers, and what it
refuses: a wrong token, another site's Origin, another Host, paths out of policy/), and
the page in a real headless browser (Debian's Chromium driven by Playwright), served by
the real `policyc serve` process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

from starlette.testclient import TestClient  # noqa: E402

from compiler.serve.app import create_app  # noqa: E402

from .conftest import ROOT  # noqa: E402

TOKEN = "t0ken"
HOST = "127.0.0.1:5555"


def _repo(tmp_path: Path) -> Path:
    """A policy repository with both shipped policies, committed (for "HEAD와 비교")."""
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "policy", root / "policy")
    shutil.copytree(ROOT / "generated", root / "generated", ignore=shutil.ignore_patterns("__pycache__"))
    git = ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "policies"], cwd=root, check=True)
    return root


@pytest.fixture()
def client(tmp_path):
    root = _repo(tmp_path)
    app = create_app(root, TOKEN, {HOST})
    with TestClient(app, base_url=f"http://{HOST}") as c:
        c.root = root
        yield c


def _body(root: Path, name: str = "driver_info", **extra) -> dict:
    policy = (root / "policy" / f"{name}.policy").read_text(encoding="utf-8")
    replies = {f"{name}.replies.yaml": (root / "policy" / f"{name}.replies.yaml").read_text(encoding="utf-8")}
    return {"name": name, "policy": policy, "replies": replies, **extra}


PHONE_72H = {"request": "driver_phone", "trip_status": "completed", "ride_at": "2024-03-01T10:00:00+09:00",
             "asked_at": "2024-03-04T10:00:00+09:00", "history_available": False, "reason": "other"}


def test_the_api_checks_decides_and_explains_unsaved_text(client):
    body = _body(client.root)
    checked = client.post(f"/{TOKEN}/api/check", json=body).json()
    assert checked["ok"] and checked["diagnostics"] == []
    assert checked["schema"]["properties"]["request"]["x-labels"]["driver_phone"] == "연락처"
    decided = client.post(f"/{TOKEN}/api/decide", json=body | {"facts": PHONE_72H}).json()
    assert decided["decision"]["decision"]["outcome"] == "disclose_driver_phone"
    assert "010-1234-5678입니다" in decided["decision"]["reply"]  # sample values for personal data
    earlier = decided["decision"]["decisions"][0]["rules"][:-1]
    assert earlier and all(r["failed_condition"] for r in earlier)
    typo = body | {"policy": body["policy"].replace("then guide_safe_call", "then guide_safe_cal", 1)}
    broken = client.post(f"/{TOKEN}/api/check", json=typo).json()
    assert not broken["ok"] and [d["code"] for d in broken["diagnostics"]] == ["E0201"]
    refused = client.post(f"/{TOKEN}/api/decide", json=body | {"facts": PHONE_72H | {
        "asked_at": "2024-02-28T10:00:00+09:00"}}).json()
    assert refused["error"]["name"] == "asked_at, ride_at"


def test_the_api_refuses_what_is_not_its_own(client):
    ok = client.get(f"/{TOKEN}/api/policies")
    assert ok.status_code == 200 and [p["name"] for p in ok.json()["policies"]] == ["driver_info", "pet_ride_fare"]
    assert client.get("/wrong/api/policies").status_code == 404
    assert client.get(f"/{TOKEN}/api/policies", headers={"Origin": "http://evil.example"}).status_code == 403
    assert client.get(f"/{TOKEN}/api/policies", headers={"Host": "evil.example"}).status_code == 403
    assert client.get(f"/{TOKEN}/api/policies", headers={"Origin": f"http://{HOST}"}).status_code == 200
    assert "access-control-allow-origin" not in {k.lower() for k in ok.headers}
    body = _body(client.root)
    for name in ("../secret", "driver_info/../../x", "nope"):
        assert client.post(f"/{TOKEN}/api/check", json=body | {"name": name}).status_code in (400, 404)
    stray = body | {"replies": {"../../etc/passwd": "x"}}
    assert client.post(f"/{TOKEN}/api/save", json=stray).status_code == 400
    form = client.post(f"/{TOKEN}/api/save", content=json.dumps(body), headers={"Content-Type": "text/plain"})
    assert form.status_code == 415  # another page can post a form, never JSON without CORS
    assert client.get(f"/{TOKEN}/static/../app.py").status_code == 404


def test_save_writes_the_policy_and_builds_only_a_clean_one(client):
    body = _body(client.root)
    generated = client.root / "generated" / "driver_info.py"
    before = generated.read_text(encoding="utf-8")
    typo = body | {"policy": body["policy"].replace("then guide_safe_call", "then guide_safe_cal", 1)}
    saved = client.post(f"/{TOKEN}/api/save", json=typo).json()
    assert saved["saved"] and not saved["ok"] and not saved["built"]
    assert "guide_safe_cal\n" in (client.root / "policy/driver_info.policy").read_text(encoding="utf-8")
    assert generated.read_text(encoding="utf-8") == before  # never rebuilt from a broken policy
    changed = body | {"policy": body["policy"].replace('"연락처"', '"기사 연락처 요청"', 1)}
    saved = client.post(f"/{TOKEN}/api/save", json=changed).json()
    assert saved["ok"] and saved["built"] and "기사 연락처 요청" in generated.read_text(encoding="utf-8")
    check = subprocess.run([sys.executable, "-m", "compiler.cli", "build", "--check"], cwd=client.root,
                           capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert check.returncode == 0, check.stderr  # what the page built is what `policyc build` builds


def test_a_case_is_kept_with_the_comments_and_head_decides_the_committed_version(client):
    tests = client.root / "policy/driver_info.tests.yaml"
    before = tests.read_text(encoding="utf-8")
    body = _body(client.root)
    unsaved = body | {"policy": body["policy"].replace("= 3일", "= 2일", 1)}
    refused = client.post(f"/{TOKEN}/api/cases", json=unsaved | {"facts": PHONE_72H, "case_name": "x"})
    assert refused.status_code == 409 and "먼저 저장" in refused.json()["error"]  # `policyc test` reads the file
    assert tests.read_text(encoding="utf-8") == before
    kept = client.post(f"/{TOKEN}/api/cases", json=body | {"facts": PHONE_72H, "case_name": "72시간 전화번호 문의"}).json()
    assert kept["cases"] == before.count("  - name:") + 1 and kept["failures"] == 0
    after = tests.read_text(encoding="utf-8")
    assert after.startswith(before.rstrip("\n")) and "72시간 전화번호 문의" in after  # comments and cases kept
    done = subprocess.run([sys.executable, "-m", "compiler.cli", "test", str(tests)], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    (client.root / "policy/driver_info.policy").write_text(body["policy"].replace("= 3일", "= 2일", 1), encoding="utf-8")
    now = client.post(f"/{TOKEN}/api/decide", json=_body(client.root) | {"facts": PHONE_72H}).json()
    head = client.post(f"/{TOKEN}/api/head", json={"name": "driver_info", "facts": PHONE_72H}).json()
    assert now["decision"]["decision"]["outcome"] == "refuse"  # the file as changed on disk
    assert head["decision"]["decision"]["outcome"] == "disclose_driver_phone"  # the version committed


# ── the page, in Chromium ──

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """One real `policyc serve` process and one Chromium for the page's tests (a fresh tab each)."""
    pytest.importorskip("playwright")
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    root = _repo(tmp_path_factory.mktemp("served"))
    proc = subprocess.Popen([sys.executable, "-m", "compiler.cli", "serve", "--root", str(root)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        url = proc.stdout.readline().split()[2]
        assert url.startswith("http://127.0.0.1:")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            yield url, root, browser
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture()
def page(served):
    url, root, browser = served
    tab = browser.new_page(viewport={"width": 1400, "height": 900}, locale="ko-KR", bypass_csp=True)  # wait_for_function evaluates text
    errors: list[str] = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.goto(url)
    tab.wait_for_selector("#facts label[data-field='request']", timeout=30_000)
    tab.root = root
    yield tab
    tab.close()
    assert errors == []


def _fill(page, facts: dict) -> None:
    for name, value in facts.items():
        box = page.locator(f"#facts > label[data-field='{name}']")
        if isinstance(value, bool):
            box.locator("select").select_option("true" if value else "false")
        elif name.endswith("_at"):
            local, offset = value[:19], value[19:]
            box.locator("input[type='datetime-local']").fill(local)
            box.locator("input.offset").fill(offset)
        else:
            box.locator("select").select_option(value)


def _go_to_line(page, needle: str) -> int:
    """Put the cursor on the policy's line holding `needle` (as Ctrl+G would); its number."""
    text = (page.root / "policy/driver_info.policy").read_text(encoding="utf-8")
    row = text[: text.index(needle)].count("\n") + 1
    page.evaluate(f"PolicyEditor.goto(playground.views.policy, {row})")
    return row


def test_a_typo_shows_its_diagnostic_at_its_place(page):
    editor = page.locator("[data-file='policy'] .cm-content")
    row = _go_to_line(page, "then guide_safe_call")
    page.keyboard.press("End")
    page.keyboard.press("Backspace")  # guide_safe_call -> guide_safe_cal
    problem = page.locator("#problems li.error")
    problem.wait_for(timeout=20_000)
    assert problem.inner_text().startswith(f"driver_info.policy:{row}:") and "E0201" in problem.inner_text()
    assert page.locator("[data-file='policy'] .cm-lintRange-error").inner_text() == "guide_safe_cal"
    assert editor.is_visible()


def test_a_72_hour_phone_request_discloses_the_phone_with_its_reply(page):
    _fill(page, PHONE_72H)
    page.locator("#result [data-outcome='disclose_driver_phone']").wait_for(timeout=20_000)
    assert "010-1234-5678입니다" in page.locator("#result pre.reply").inner_text()
    page.locator("#result .rule a").first.click()  # the rule that fired, in the editor
    assert "연락처_직접_안내" in page.locator("[data-file='policy'] .cm-activeLine").inner_text()


def test_a_question_before_the_ride_is_shown_at_its_field(page):
    _fill(page, PHONE_72H | {"asked_at": "2024-02-28T10:00:00+09:00"})
    box = page.locator("#facts > label[data-field='asked_at']")
    page.wait_for_function("document.querySelector(\"#facts > label[data-field='asked_at']\").classList.contains('bad')",
                           timeout=20_000)
    assert "문의 시각은 탑승 시각보다 빠를 수 없습니다" in box.locator(".field-error").inner_text()


def test_a_case_saved_from_the_page_passes_policyc_test(page):
    tests = page.root / "policy/driver_info.tests.yaml"
    before = tests.read_text(encoding="utf-8").count("  - name:")
    _fill(page, PHONE_72H)
    page.locator("#result [data-outcome='disclose_driver_phone']").wait_for(timeout=20_000)
    page.locator("#case-name").fill("72시간 전화번호 문의")
    page.locator("#add-case").click()
    page.wait_for_function("document.querySelector('#case-status').textContent.includes('사례')", timeout=20_000)
    assert f"사례 {before + 1}개" in page.locator("#case-status").inner_text()
    done = subprocess.run([sys.executable, "-m", "compiler.cli", "test", str(tests)], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert done.returncode == 0 and f"사례 {before + 1}개" in done.stdout


def test_hangul_typed_through_an_input_method_stays_whole(page):
    """Composition as a Korean IME sends it (CDP Input.imeSetComposition, then the commit):
    the editor keeps every syllable, and the change is checked."""
    cdp = page.context.new_cdp_session(page)
    _go_to_line(page, 'policy driver_info "')
    page.keyboard.press("End")
    for partial in ("ㅎ", "하", "한"):
        cdp.send("Input.imeSetComposition", {"text": partial, "selectionStart": len(partial), "selectionEnd": len(partial)})
    cdp.send("Input.insertText", {"text": "한"})
    for partial in ("ㄱ", "그", "글"):
        cdp.send("Input.imeSetComposition", {"text": partial, "selectionStart": len(partial), "selectionEnd": len(partial)})
    cdp.send("Input.insertText", {"text": "글"})
    page.wait_for_timeout(300)
    assert page.locator("[data-file='policy'] .cm-line", has_text="요청\"한글").count() == 1
    page.locator("#problems li.error").wait_for(timeout=20_000)  # `"…요청"한글` is no policy: checked as typed


def test_head_comparison_says_what_changed(page):
    """Change the direct-contact window from 3 to 2 days without saving: a 60-hour request
    is now turned down, and the comparison with the committed version says so first."""
    _go_to_line(page, "const DIRECT_CONTACT_WINDOW")
    page.keyboard.press("End")
    for _ in range(2):
        page.keyboard.press("Backspace")  # "3일" -> ""
    page.keyboard.type("2일")
    _fill(page, PHONE_72H | {"asked_at": "2024-03-03T22:00:00+09:00"})
    page.locator("#result [data-outcome='refuse']").wait_for(timeout=20_000)
    page.locator("#head").click()
    verdict = page.locator("#compare [data-verdict]")
    verdict.wait_for(timeout=20_000)
    assert verdict.get_attribute("data-verdict") == "changed"
    assert "disclose_driver_phone" not in verdict.inner_text() and "→ 지금 제공 불가 안내" in verdict.inner_text()


def test_choosing_a_value_of_a_fact_with_a_default_marks_it_given(page):
    _fill(page, PHONE_72H | {"request": "driver_name"})
    page.locator("#result [data-outcome='refer_to_driver']").wait_for(timeout=20_000)
    box = page.locator("#facts > label[data-field='repeat_request']")
    assert not box.locator(".given").is_checked()
    box.locator("select").select_option("true")
    assert box.locator(".given").is_checked()
    page.locator("#result [data-outcome='refuse_repeat']").wait_for(timeout=20_000)


def test_links_out_of_the_policy_folder_are_neither_read_nor_written(client, tmp_path):
    """A cloned repository can hold `policy/x.tests.yaml -> ~/.bashrc`: saving a case, or the
    module, must not write through it, and the page must not show what it points at."""
    outside = tmp_path / "outside.txt"
    outside.write_text("secret\n", encoding="utf-8")
    tests = client.root / "policy/driver_info.tests.yaml"
    tests.unlink()
    tests.symlink_to(outside)
    body = _body(client.root)
    refused = client.post(f"/{TOKEN}/api/cases", json=body | {"facts": PHONE_72H, "case_name": "x"})
    assert refused.status_code == 409 and outside.read_text(encoding="utf-8") == "secret\n"
    files = client.get(f"/{TOKEN}/api/files/driver_info")
    assert files.status_code == 409 and "secret" not in files.text
    generated = client.root / "generated/driver_info.py"
    generated.unlink()
    generated.symlink_to(outside)
    saved = client.post(f"/{TOKEN}/api/save", json=body)
    assert saved.status_code == 409 and outside.read_text(encoding="utf-8") == "secret\n"


def test_what_an_attack_round_found_is_refused(client):
    """A policy text naming another policy (or itself) as its replies file cannot overwrite
    it; a case is not appended where `cases:` is not the file's last key (it would land in the
    wrong place); a non-ASCII token is a 404, not a server error; a body announced past the
    limit is refused before it is read."""
    body = _body(client.root)
    other = client.root / "policy/pet_ride_fare.policy"
    before = other.read_text(encoding="utf-8")
    for name in ("pet_ride_fare.policy", "driver_info.policy", ".hidden.yaml", "driver_info.tests.yaml"):
        hostile = body | {"policy": body["policy"] + f'\nreplies "{name}"\n', "replies": {name: "CLOBBER"}}
        assert client.post(f"/{TOKEN}/api/save", json=hostile).status_code == 400, name
    assert other.read_text(encoding="utf-8") == before and not (client.root / "policy/.hidden.yaml").exists()
    tests = client.root / "policy/driver_info.tests.yaml"
    reordered = tests.read_text(encoding="utf-8") + "\ndefaults:\n  context: {}\n"
    tests.write_text(reordered, encoding="utf-8")
    refused = client.post(f"/{TOKEN}/api/cases", json=body | {"facts": PHONE_72H, "case_name": "x"})
    assert refused.status_code == 409 and tests.read_text(encoding="utf-8") == reordered
    assert client.get("/%C3%A9/api/policies").status_code == 404
    big = client.post(f"/{TOKEN}/api/check", content=b"{}", headers={"Content-Type": "application/json",
                                                                     "Content-Length": str(9 * 2**20)})
    assert big.status_code == 413
