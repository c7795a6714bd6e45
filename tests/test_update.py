"""A project made with cruft takes a later template change with `cruft update`, keeping its secrets.

The generator writes .env (a new SECRET_KEY) and users.json (a new admin password) on every run,
cruft's own runs included: the project's pyproject.toml lists both in [tool.cruft] skip, so an
update neither diffs them nor touches the project's copies.
"""

import json
import os
import shutil
import tomllib

from conftest import PYTHON, TEMPLATE, run

SLUG_DIR = "{{cookiecutter.project_slug}}"
IDENTITY = {
    "GIT_AUTHOR_NAME": "Template Tests",
    "GIT_AUTHOR_EMAIL": "tests@example.com",
    "GIT_COMMITTER_NAME": "Template Tests",
    "GIT_COMMITTER_EMAIL": "tests@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}
GIT = ["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"]


def git(cwd, *args):
    return run([*GIT, *args], cwd, env=IDENTITY)


def commit_all(repo, message):
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def copy_template(destination):
    """The template's files as git sees them (tracked or new, not ignored: no .venv, node_modules, build)."""
    listed = run([*GIT, "ls-files", "-z", "--cached", "--others", "--exclude-standard"], TEMPLATE).stdout
    for name in filter(None, listed.split("\0")):
        source = TEMPLATE / name
        if source.is_file():  # not deleted in the working tree
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)


def cruft(cwd, *args):
    return run([PYTHON, "-m", "cruft", *args], cwd, env=IDENTITY, timeout=300)


def test_cruft_update_applies_a_template_change_and_leaves_env_and_users_alone(tmp_path):
    template = tmp_path / "template"
    copy_template(template)
    git(template, "init", "-q")
    commit_all(template, "template")

    cruft(tmp_path, "create", str(template), "--no-input", "--default-config", "--output-dir", "out")
    project = tmp_path / "out" / "my_dash_app"
    skip = tomllib.loads((project / "pyproject.toml").read_text()).get("tool", {}).get("cruft", {})
    assert {".env", "users.json"} <= set(skip.get("skip", [])), "pyproject.toml needs [tool.cruft] skip"
    git(project, "init", "-q")
    commit_all(project, "new project")
    # The owner's own edit, in a file the template changes too (another hunk).
    groups = project / "groups.toml"
    groups.write_text(groups.read_text().replace("analysts = []", 'analysts = ["alice"]'))
    commit_all(project, "alice is an analyst")
    env, users = (project / ".env").read_bytes(), (project / "users.json").read_bytes()
    env_mode = (project / ".env").stat().st_mode

    # The template changes: a line of a file the project has, and a new rendered file.
    template_groups = template / SLUG_DIR / "groups.toml"
    first, rest = template_groups.read_text().split("\n", 1)
    template_groups.write_text("# Groups and their members: group = [member, ...]\n" + rest)
    added = template / SLUG_DIR / "UPGRADED.md"
    added.write_text("{{ cookiecutter.project_name }} follows its template.\n")
    commit_all(template, "template change")
    new_commit = git(template, "rev-parse", "HEAD").stdout.strip()

    result = cruft(project, "update", "--skip-apply-ask")
    assert "cannot apply" not in result.stdout + result.stderr

    assert not list(project.rglob("*.rej")), result.stdout + result.stderr
    text = groups.read_text()
    assert text.startswith("# Groups and their members: group = [member, ...]\n"), text
    assert first not in text
    assert 'analysts = ["alice"]' in text
    assert "<<<<<<<" not in text
    assert (project / "UPGRADED.md").read_text() == "My Dash App follows its template.\n"
    assert json.loads((project / ".cruft.json").read_text())["commit"] == new_commit
    assert (project / ".env").read_bytes() == env
    assert (project / ".env").stat().st_mode == env_mode
    assert (project / "users.json").read_bytes() == users
    changed = git(project, "status", "--porcelain").stdout.splitlines()
    assert sorted(line[3:] for line in changed) == [".cruft.json", "UPGRADED.md", "groups.toml"], changed
