"""Refresh the lock files every bake ships (`make lock`; `make lock UPGRADE=1` to take new releases).

A bake must not need the network, so the template carries the locks ready-made, one pair per
dependency set: `basic` (no single sign-on, so no Authlib) and `oidc` (also what `both` installs).
For each, this bakes a project, runs in it the `uv pip compile` commands its README gives (pins
already in the lock are kept unless --upgrade), held to the exact versions of requirements-dev.txt
so that what a bake ships is what the template's tests run, and copies the two files back into
templates/locks/<set>/, where the generated requirements*.txt include them from.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parent.parent
LOCKS = TEMPLATE / "templates" / "locks"
SETS = {"basic": {"auth": "basic"}, "oidc": {"auth": "oidc", "oidc_providers": "generic"}}

# The same resolution everywhere: every platform, the oldest Python the project supports, hashes.
COMPILE = ["pip", "compile", "pyproject.toml", "--universal", "--python-version", "3.11"]
COMPILE += ["--generate-hashes", "--no-annotate"]
LOCK_FILES = {
    # file: what it holds
    "requirements.txt": ["--extra", "redis", "--extra", "sessions"],
    "requirements-dev.txt": ["--all-extras"],
}


def uv() -> str:
    beside = Path(sys.executable).parent / "uv"
    found = str(beside) if beside.is_file() else shutil.which("uv")
    if not found:
        sys.exit("uv not found: pip install -r requirements-dev.txt")
    return found


def template_pins(folder: Path) -> Path:
    """requirements-dev.txt as uv constraints (a constraint names no extras)."""
    lines = (TEMPLATE / "requirements-dev.txt").read_text().splitlines()
    pins = [re.sub(r"\[.*?\]", "", line) for line in lines if line and not line.startswith("#")]
    path = folder / "template-pins.txt"
    path.write_text("\n".join(pins) + "\n")
    return path


def lock(name: str, answers: dict, out: Path, pins: Path, upgrade: bool) -> None:
    baked = cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(out / name), extra_context=answers)
    project = Path(baked)
    for file, options in LOCK_FILES.items():
        command = [*COMPILE, *options, "-o", file]
        # The header shows the command a project runs itself, without the template's pins.
        env = {**os.environ, "UV_CUSTOM_COMPILE_COMMAND": " ".join(["uv", *command])}
        extra = ["-c", str(pins), *(["--upgrade"] if upgrade else []), "--quiet"]
        subprocess.run([uv(), *command, *extra], cwd=project, env=env, check=True)
        shutil.copyfile(project / file, LOCKS / name / file)
        print(f"locked templates/locks/{name}/{file}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upgrade", action="store_true", help="newest versions the constraints allow")
    upgrade = parser.parse_args().upgrade
    for name in SETS:  # the first run: a bake includes its lock files, so they must exist
        for file in LOCK_FILES:
            (LOCKS / name).mkdir(parents=True, exist_ok=True)
            (LOCKS / name / file).touch()
    with tempfile.TemporaryDirectory() as folder:
        pins = template_pins(Path(folder))
        for name, answers in SETS.items():
            lock(name, answers, Path(folder), pins, upgrade)


if __name__ == "__main__":
    main()
