"""Baking projects once per run, and running what they contain."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

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
