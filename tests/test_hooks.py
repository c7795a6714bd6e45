"""The hooks: bad answers stop generation cleanly; .env and the first user are made once."""

import json

import pytest
from conftest import PYTHON, TEMPLATE, bake, run


def cookiecutter(output_dir, *answers, check=False, extra=()):
    command = [
        PYTHON,
        "-m",
        "cookiecutter",
        "--no-input",
        "--output-dir",
        str(output_dir),
        *extra,
        str(TEMPLATE),
        *answers,
    ]
    return run(command, cwd=output_dir, check=check)


@pytest.mark.parametrize(
    "answers, reason",
    [
        (["project_slug=my-app"], "not a valid Python identifier"),
        (["project_slug=class"], "not a valid Python identifier"),
        (["project_slug=auth"], "would shadow"),
        (["project_slug=json"], "would shadow"),
        (["auth=oidc", "oidc_providers=google,facebook"], "unknown oidc_providers facebook: choose from"),
        (["auth=oidc", "oidc_providers=Gogle, okta"], "unknown oidc_providers Gogle (did you mean google?)"),
        (["auth=oidc", "oidc_providers=entra-id,azur"], "azur (did you mean microsoft?)"),
        (["auth=both", "oidc_providers= "], "needs at least one provider"),
    ],
)
def test_bad_answers_stop_with_one_line_and_leave_nothing(tmp_path, answers, reason):
    result = cookiecutter(tmp_path, *answers)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1 and reason in errors[0], result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "answer, chosen",
    [
        ("Google, Okta", "google,okta"),
        ("AZURE,aad, Entra ID", "microsoft"),
        ("keycloak , Generic,keycloak", "keycloak,generic"),
    ],
)
def test_provider_names_in_any_case_spacing_or_alias(tmp_path, answer, chosen):
    cookiecutter(tmp_path, "auth=oidc", f"oidc_providers={answer}", check=True)
    project = tmp_path / "my_dash_app"
    for file in (".env", ".env.example"):
        assert f"OIDC_PROVIDERS={chosen}\n" in (project / file).read_text()
    assert {guide.stem for guide in (project / "docs" / "providers").glob("*.md")} == set(chosen.split(","))


def test_answer_outside_a_choice_is_refused_by_cookiecutter(tmp_path):
    result = cookiecutter(tmp_path, "auth=ldap")
    assert result.returncode != 0
    assert "ldap provided for choice variable auth" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_each_bake_gets_its_own_key(cookies):
    keys = set()
    for _ in range(2):
        env = (bake(cookies).project_path / ".env").read_text()
        keys.add(next(line for line in env.splitlines() if line.startswith("SECRET_KEY=")))
    assert len(keys) == 2


def test_hook_prints_the_admin_password_once_and_it_works(tmp_path):
    result = cookiecutter(tmp_path, check=True)
    lines = [line for line in result.stdout.splitlines() if line.startswith("Password:")]
    assert len(lines) == 1
    password = lines[0].split()[-1]
    project = tmp_path / "my_dash_app"
    users = json.loads((project / "users.json").read_text())
    assert list(users) == ["admin"]
    assert password not in (project / "users.json").read_text()
    assert password not in (project / ".env").read_text()
    check = run(
        [
            PYTHON,
            "-c",
            "import sys; from auth.passwords import UsersFile, verify_password as v;"
            "print(v(sys.argv[1], UsersFile('users.json').read()['admin']))",
            password,
        ],
        cwd=project,
    )
    assert check.stdout.strip() == "True"
    secret = (project / ".env").read_text().split("SECRET_KEY=")[1].split()[0]
    assert secret not in result.stdout + result.stderr, "the key is never printed"


def test_running_again_keeps_env_and_users(tmp_path):
    cookiecutter(tmp_path, check=True)
    project = tmp_path / "my_dash_app"
    before = {name: (project / name).read_text() for name in (".env", "users.json")}
    again = cookiecutter(tmp_path, check=True, extra=["--overwrite-if-exists"])
    assert "Password:" not in again.stdout
    assert {name: (project / name).read_text() for name in before} == before


def test_oidc_only_project_has_no_password_users(baked):
    project = baked("oidc").project_path
    assert not (project / "users.json").exists()
    assert "AUTH_METHODS=oidc" in (project / ".env").read_text()
