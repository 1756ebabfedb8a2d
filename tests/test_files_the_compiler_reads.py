"""Issue 10, items 11-12: a policy's reply file is read only when it lies in the policy's
folder, is a regular file and is not huge; what is refused is never opened or quoted."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from compiler.pipeline import MAX_YAML_BYTES, compile_policy

POLICY = 'policy base "b"\nreplies "r.yaml"\nfact k "k": bool\noutcome y "y" {}\ndecision d (first) { otherwise y }\n'
SECRET = "replies:\n  y: 비밀번호는 hunter2\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "p").mkdir()
    (tmp_path / "p/base.policy").write_text(POLICY, encoding="utf-8")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside/secret.yaml").write_text(SECRET, encoding="utf-8")
    return tmp_path


def _errors(folder: Path) -> list[str]:
    result = compile_policy(folder / "p/base.policy", "p/base.policy")
    assert not result.ok
    assert all("hunter2" not in d.message and "hunter2" not in (d.help or "") for d in result.diagnostics)
    return [d.message for d in result.diagnostics if d.code == "E0001"]


def test_a_link_that_leads_out_of_the_folder_is_not_followed(folder):
    os.symlink("../outside/secret.yaml", folder / "p/r.yaml")
    assert any("같은 폴더" in m for m in _errors(folder))


def test_a_fifo_is_not_read(folder):
    os.mkfifo(folder / "p/r.yaml")  # reading it would hang
    assert any("보통 파일이 아닙니다" in m for m in _errors(folder))


def test_a_huge_reply_file_is_refused_before_it_is_read(folder):
    with open(folder / "p/r.yaml", "wb") as f:
        f.truncate(MAX_YAML_BYTES + 1)  # sparse: nothing is really written
    assert any("너무 큽니다" in m for m in _errors(folder))


def test_a_link_inside_the_folder_is_fine(folder):
    (folder / "p/real.yaml").write_text("replies:\n  y: 안녕하세요\n", encoding="utf-8")
    os.symlink("real.yaml", folder / "p/r.yaml")
    assert compile_policy(folder / "p/base.policy", "p/base.policy").ok
