"""Every supported combination bakes into a clean, lint-free project with what was asked for."""

import re
import stat
import tomllib

import pytest
from conftest import BAKES, PYTHON, run

PLACEHOLDER = re.compile(r"\{\{\s*cookiecutter|cookiecutter\.[a-z_]")
JINJA_TAG = re.compile(r"\{%-?\s*(if|for|raw|set|endif|endfor)\b")
FLASK_TEMPLATES = "auth/templates"  # Jinja of Flask's own, copied without rendering


@pytest.mark.parametrize("name", BAKES)
def test_context_holds_the_answers(baked, name):
    result = baked(name)
    for key, value in BAKES[name].items():
        assert result.context[key] == value


@pytest.mark.parametrize("name", BAKES)
def test_no_template_syntax_is_left(baked, name):
    project = baked(name).project_path
    for path in project.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            text = path.read_text(errors="replace")
            assert not PLACEHOLDER.search(text), path
            if FLASK_TEMPLATES not in path.as_posix():
                assert not JINJA_TAG.search(text), path


def test_dash_index_placeholders_and_jinja_of_flask_templates_survive(baked):
    login = baked("basic").project_path / "auth" / "templates" / "auth" / "login.html"
    assert "{% extends" in login.read_text()


@pytest.mark.parametrize("name", BAKES)
def test_ruff_passes(baked, name):
    project = baked(name).project_path
    run([PYTHON, "-m", "ruff", "check", "--no-cache", "."], project)
    run([PYTHON, "-m", "ruff", "format", "--check", "--no-cache", "."], project)


@pytest.mark.parametrize("name", BAKES)
def test_env_file_is_private_and_holds_a_strong_key(baked, name):
    project = baked(name).project_path
    env = project / ".env"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    values = dict(
        line.split("=", 1)
        for line in env.read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    assert len(values["SECRET_KEY"]) >= 43  # 256 bits in URL-safe base64
    assert values["FLASK_APP"] == "app:server"
    assert ".env" in (project / ".gitignore").read_text().split()
    example = (project / ".env.example").read_text()
    assert "SECRET_KEY=\n" in example, ".env.example carries no secret"


def provider_settings(text: str) -> set[str]:
    return set(re.findall(r"^OIDC_([A-Z0-9]+)_CLIENT_ID=", text, re.MULTILINE))


@pytest.mark.parametrize("name", BAKES)
def test_env_holds_exactly_the_chosen_providers(baked, name):
    project = baked(name).project_path
    context = BAKES[name]
    chosen = set()
    if context["auth"] != "basic":
        chosen = {p.strip().upper() for p in context["oidc_providers"].split(",")}
    for file in (".env", ".env.example"):
        assert provider_settings((project / file).read_text()) == chosen
    guides = {p.stem.upper() for p in (project / "docs" / "providers").glob("*.md")} if chosen else set()
    assert guides == chosen


@pytest.mark.parametrize("name", BAKES)
def test_dependencies_follow_the_choice(baked, name):
    project = baked(name).project_path
    meta = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    names = {re.split(r"[<>=\[]", dep)[0].lower() for dep in meta["dependencies"]}
    assert {"dash", "flask", "python-dotenv", "gunicorn"} <= names
    assert ("authlib" in names) == (BAKES[name]["auth"] != "basic")


def test_project_name_and_slug(baked):
    result = baked("oidc-enterprise")
    assert result.project_path.name == "sales_insights_2027"
    assert 'APP_NAME = "Sales Insights 2027"' in (result.project_path / "app.py").read_text()


def test_default_name_appears_nowhere_in_a_project_with_another_name(baked):
    project = baked("oidc-enterprise").project_path
    for path in project.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            text = path.read_text(errors="replace")
            assert "My Dash App" not in text and "my_dash_app" not in text, path
