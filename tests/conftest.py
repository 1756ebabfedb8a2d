"""Shared fixtures. `pytest --update-goldens` rewrites expected files for review."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from compiler.pipeline import compile_policy  # noqa: E402


def pytest_addoption(parser):
    parser.addoption("--update-goldens", action="store_true", help="rewrite golden files instead of comparing")


@pytest.fixture
def update_goldens(request) -> bool:
    return request.config.getoption("--update-goldens")


def check_golden(path: Path, actual: str, update: bool) -> None:
    if update or not path.exists():
        path.write_text(actual, encoding="utf-8")
        if not update:
            pytest.fail(f"golden file {path.name} was missing and has been written; review and commit it")
        return
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{path.name} differs (run pytest --update-goldens to accept)"


@pytest.fixture(scope="session")
def driver_policy():
    """The driver-info policy's IR, compiled from policy/ as `policyc build` does."""
    result = compile_at_root("policy/driver_info.policy")
    assert result.ok, result.diagnostics
    return result.policy


def spark_ready() -> bool:
    """Whether the Spark tests can run here (pyspark and Java; .ci/run installs both)."""
    import shutil

    try:
        import pyspark  # noqa: F401
    except ImportError:
        return False
    return shutil.which("java") is not None


needs_spark = pytest.mark.skipif(not spark_ready(), reason="pyspark or Java is not installed (.ci/run installs them)")


def compile_at_root(rel: str, **options):
    """Compile a file given relative to the repository root, shown by that path (as the CLI does)."""
    return compile_policy(ROOT / rel, rel, **options)


@pytest.fixture(scope="session")
def driver_info():
    """The committed generated module, imported the way an app imports it."""
    return importlib.import_module("generated.driver_info")


def load_module(name: str, source: str, tmp_path: Path):
    """Import generated source text as a fresh module."""
    path = tmp_path / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"_policyc_test_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
