"""README's first command, as a new user lives it: generate the default project, run it, sign in."""

import re
import subprocess

import requests
from conftest import BAKES, PYTHON, TEMPLATE, run
from servers import free_port, stop, wait_until_up


def test_default_project_runs_and_the_printed_password_signs_in(tmp_path):
    baked = run(
        [PYTHON, "-m", "cookiecutter", "--no-input", "--output-dir", str(tmp_path), str(TEMPLATE)], tmp_path
    )
    password = next(line.split()[-1] for line in baked.stdout.splitlines() if line.startswith("Password:"))
    project = tmp_path / "my_dash_app"
    port = free_port()
    log = tmp_path / "app.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [PYTHON, "app.py"],
            cwd=project,
            env={"PORT": str(port), "PATH": "/usr/bin:/bin"},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(f"{base}/healthz", server, log)
        browser = requests.Session()
        assert "My Dash App" in browser.get(f"{base}/").text
        answer = browser.post(
            f"{base}/login",
            data={"username": "admin", "password": password, "next": "/admin"},
            allow_redirects=False,
        )
        assert answer.status_code == 302 and answer.headers["Location"] == "/admin"
        assert browser.get(f"{base}/admin", headers={"Accept": "text/html"}).status_code == 200
    finally:
        stop(server)
    assert "Traceback" not in log.read_text()


def test_generated_readme_install_and_test_commands_work(tmp_path):
    """`python -m venv .venv`, `pip install -r requirements-dev.txt`, `python -m pytest -m "not browser"`:
    as written, with pip alone (no uv); the app itself is not installed, it runs from its folder.
    The project with every provider: these are its tests but for the browser's (test_generated_suites.py)."""
    context = [f"{key}={value}" for key, value in BAKES["both"].items()]
    run(
        [PYTHON, "-m", "cookiecutter", "--no-input", "--output-dir", str(tmp_path), str(TEMPLATE), *context],
        tmp_path,
    )
    project = tmp_path / "my_dash_app"
    run([PYTHON, "-m", "venv", ".venv"], project)
    venv_python = str(project / ".venv" / "bin" / "python")
    readme = (project / "README.md").read_text()
    assert (
        "\npip install -r requirements-dev.txt " in readme and '\npython -m pytest -m "not browser"' in readme
    )
    installed = run([venv_python, "-m", "pip", "install", "-r", "requirements-dev.txt"], project, timeout=900)
    said = installed.stdout + installed.stderr
    # Wheels only: nothing is built, so no setuptools warning about the project's packages either.
    assert not re.search(r"^\s*(Building|Preparing) ", said, re.MULTILINE), said[-3000:]
    listed = run([venv_python, "-m", "pip", "list", "--format=freeze"], project).stdout
    assert "my_dash_app" not in listed.lower().replace("-", "_")
    result = run([venv_python, "-m", "pytest", "-q", "-m", "not browser"], project, timeout=900)
    summary = result.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "failed" not in summary and "skipped" not in summary, summary
