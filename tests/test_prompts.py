"""The questions as a person answers them at a terminal: cookiecutter reads each answer from a pty."""

import re

import pexpect
from conftest import PYTHON, TEMPLATE

# The answer prompt ends its line with "(default): "; the choice of auth asks "Choose from [1/2/3]".
ANSWER = r"\): "


def answer_all(tmp_path, providers: str) -> tuple[str, int]:
    """Take every default, choose "Both" for auth, and type `providers`; what the terminal showed."""
    child = pexpect.spawn(
        PYTHON,
        ["-m", "cookiecutter", "--output-dir", str(tmp_path / "out"), str(TEMPLATE)],
        cwd=str(tmp_path),
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TERM": "dumb", "NO_COLOR": "1"},
        encoding="utf-8",
        timeout=60,
        dimensions=(50, 200),
    )
    for _ in range(4):  # name, folder, description, author
        child.expect(ANSWER)
        child.sendline("")
    child.expect("Choose from")
    child.expect(ANSWER)
    child.sendline("3")
    child.expect("Single sign-on providers")
    child.expect(ANSWER)
    child.sendline(providers)
    child.expect(pexpect.EOF)
    child.close()
    return child.before, child.exitstatus


def test_provider_names_are_read_as_people_type_them(tmp_path):
    screen, status = answer_all(tmp_path, "Google, OKTA,entra id")
    assert status == 0, screen
    project = tmp_path / "out" / "my_dash_app"
    assert "OIDC_PROVIDERS=google,okta,microsoft" in (project / ".env").read_text()
    assert {guide.stem for guide in (project / "docs" / "providers").glob("*.md")} == {
        "google",
        "okta",
        "microsoft",
    }
    assert "Password:" in screen


def test_a_typo_gets_one_line_with_a_suggestion_and_no_traceback(tmp_path):
    screen, status = answer_all(tmp_path, "Google, Oktaa")
    assert status != 0
    errors = [line for line in screen.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1, screen
    assert re.search(r"unknown oidc_providers Oktaa \(did you mean okta\?\): choose from google, ", errors[0])
    assert "Traceback" not in screen
    assert not (tmp_path / "out" / "my_dash_app").exists()
