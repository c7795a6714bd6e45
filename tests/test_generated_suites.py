"""Each baked project passes its own test suite, browser tests included, right after generation."""

import pytest
from conftest import BAKES, PYTHON, run


@pytest.mark.parametrize("name", [name for name in BAKES if name != "oidc-enterprise"])
def test_baked_project_passes_its_own_tests(baked, name):
    project = baked(name).project_path
    result = run([PYTHON, "-m", "pytest", "-q", "-p", "no:randomly"], project, timeout=900)
    summary = result.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "skipped" not in summary and "failed" not in summary, summary
