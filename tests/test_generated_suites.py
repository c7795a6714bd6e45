"""Each baked project, installed from its own lock into a fresh environment, passes its own test suite
there (browser tests included) right after generation; tests/test_lock.py of that suite checks the
lock against the project's declared dependencies."""

import pytest
from conftest import BAKES, TEMPLATE, install_lock, run

# The browser tests of the default project take the README's screenshots, so they stay current.
SCREENSHOTS = TEMPLATE / "docs" / "screenshots"
# "basic" runs every test. "both" runs its browser tests here: the rest of its suite runs in
# test_quickstart.py, installed by the README's pip command. The others rerun what differs for them (so
# that `make test` stays under 20 minutes): "oidc" has no password sign-in, "oidc-enterprise" another
# name and other providers.
SIGN_IN = ["tests/test_lock.py", "tests/test_settings.py", "tests/test_oidc.py"]
ONLY = {
    "both": ["-m", "browser"],
    "oidc": [
        *SIGN_IN,
        "tests/test_pages.py",
        "tests/test_routes.py",
        "tests/test_prefix.py",
        "tests/test_browser.py",
    ],
    "oidc-enterprise": SIGN_IN,
}


@pytest.mark.parametrize("name", BAKES)
def test_baked_project_installs_from_its_lock_and_passes_its_own_tests(baked, name):
    project = baked(name).project_path
    python = install_lock(project)
    env = {"SCREENSHOT_DIR": str(SCREENSHOTS)} if name == "basic" else {}
    select = ONLY.get(name, [])
    result = run(
        [str(python), "-m", "pytest", "-q", "-p", "no:randomly", *select], project, timeout=900, env=env
    )
    summary = result.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "skipped" not in summary and "failed" not in summary, summary
