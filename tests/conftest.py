"""Baking projects once per run, and running what they contain."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from browser import new_chrome

TEMPLATE = Path(__file__).resolve().parent.parent
# pytest-cookies renders the answers itself, before cookiecutter puts the template on the import path
# for its Jinja extension (hooks/answers.py): put it there for the whole run.
sys.path.append(str(TEMPLATE))

# The combinations that matter, hand-picked (each is baked once per run and shared).
BAKES = {
    "basic": {"auth": "basic"},
    "oidc": {"auth": "oidc", "oidc_providers": "generic"},
    "both": {"auth": "both", "oidc_providers": "google, microsoft, okta, auth0, keycloak, generic"},
    "oidc-enterprise": {
        "auth": "oidc",
        "oidc_providers": "microsoft,okta,keycloak",
        "project_name": "Sales Insights 2027",
    },
}


def bake(cookies, **context):
    """Bake with these answers; fail with cookiecutter's own words if it did not work."""
    result = cookies.bake(extra_context=context)
    if result.exception is not None:
        raise AssertionError(f"bake failed: {result.exception}") from result.exception
    assert result.exit_code == 0
    return result


@pytest.fixture(scope="session")
def baked(cookies_session):
    """baked("basic") -> the Result of that combination, baked once per test run."""
    results = {}

    def get(name):
        if name not in results:
            results[name] = bake(cookies_session, **BAKES[name])
        return results[name]

    return get


@pytest.fixture
def chrome():
    """A fresh headless Chromium per test, so that no session (the app's or the provider's) leaks."""
    driver = new_chrome()
    yield driver
    driver.quit()


def run(command, cwd, timeout=600, env=None, check=True):
    """Run a command; on failure, show what it printed."""
    result = subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, command))} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout[-6000:]}\n--- stderr\n{result.stderr[-6000:]}"
        )
    return result


PYTHON = sys.executable


def uv() -> str:
    """The uv beside this Python (a venv's bin/) or on PATH."""
    beside = Path(PYTHON).parent / "uv"
    found = str(beside) if beside.is_file() else shutil.which("uv")
    if not found:
        pytest.fail("`uv` not found: pip install -r requirements-dev.txt")
    return found


def install_lock(project: Path, lock: str = "requirements-dev.txt") -> Path:
    """A fresh virtualenv beside the project holding exactly what `lock` pins (hashes checked), and
    nothing of the project itself; its python. uv's one download cache serves every bake."""
    venv = project.parent / f"{project.name}-{Path(lock).stem}-venv"
    run([uv(), "venv", "--quiet", "--python", PYTHON, str(venv)], project)
    python = venv / "bin" / "python"
    run(
        [uv(), "pip", "sync", "--quiet", "--require-hashes", "--python", str(python), lock],
        project,
        timeout=900,
    )
    return python
