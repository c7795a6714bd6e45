"""Each baked project passes its own test suite, browser tests included, right after generation."""

import pytest
from conftest import BAKES, PYTHON, TEMPLATE, run

# The browser tests of the default project take the README's screenshots, so they stay current.
SCREENSHOTS = TEMPLATE / "docs" / "screenshots"


@pytest.mark.parametrize("name", [name for name in BAKES if name != "oidc-enterprise"])
def test_baked_project_passes_its_own_tests(baked, name):
    project = baked(name).project_path
    env = {"SCREENSHOT_DIR": str(SCREENSHOTS)} if name == "basic" else {}
    result = run([PYTHON, "-m", "pytest", "-q", "-p", "no:randomly"], project, timeout=900, env=env)
    summary = result.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "skipped" not in summary and "failed" not in summary, summary
