"""Format the generated project's code with ruff, in place in the template.

Bakes the project with every option, runs `ruff check --fix` and `ruff format` on
it, and copies each changed file back unless its template holds Jinja (those are
reported, to be fixed by hand).
"""

import subprocess
import sys
import tempfile
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parent.parent
SOURCE = TEMPLATE / "{{cookiecutter.project_slug}}"
EVERYTHING = {"auth": "both", "oidc_providers": "google,microsoft,okta,auth0,keycloak,generic"}


def main() -> int:
    with tempfile.TemporaryDirectory() as out:
        project = Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=out, extra_context=EVERYTHING))
        before = {path: path.read_text() for path in project.rglob("*.py")}
        ruff = [sys.executable, "-m", "ruff"]
        subprocess.run([*ruff, "check", "--fix", "--quiet", "--no-cache", "."], cwd=project, check=False)
        subprocess.run([*ruff, "format", "--quiet", "--no-cache", "."], cwd=project, check=True)
        for baked in sorted(project.rglob("*.py")):
            relative = baked.relative_to(project)
            source = SOURCE / relative
            if not source.exists() or before.get(baked) == baked.read_text():
                continue
            if "{{" in source.read_text() or "{%" in source.read_text():
                print(f"has Jinja, fix by hand: {relative}")
            else:
                source.write_text(baked.read_text())
                print(f"formatted {relative}")
        return subprocess.run([*ruff, "check", "--no-cache", "."], cwd=project, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
