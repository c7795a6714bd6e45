"""What auth costs a Dash app, against bare Dash and dash-auth, in one run.

    python3 bench/run.py [--rounds 3] [--duration 7] [--no-extras] [--py-spy] [--instructions]

Sets up what it needs (wrk, or valgrind for --instructions; a venv at .bench/venv with
requirements-dev.txt and dash-auth), then runs bench/suite.py in that venv. See bench/README.md.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".bench" / "venv"
PYTHON = VENV / "bin" / "python"
# Only here, for comparison: never a dependency of the template or of a generated project.
EXTRA = ["dash-auth==2.3.0"]


def ensure_tool(command: str, package: str, what: str) -> None:
    """``command`` on the PATH, installed with apt-get when run as root on Debian/Ubuntu."""
    if shutil.which(command):
        return
    if shutil.which("apt-get") and os.geteuid() == 0:
        print(f"bench: installing {package} with apt-get", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq", package], env=env, check=False)
    if not shutil.which(command):
        sys.exit(f"bench: needs {what}. Install it: `sudo apt-get install {package}` (Debian/Ubuntu).")


def ensure_venv() -> None:
    """Create or update the venv when requirements-dev.txt or EXTRA change."""
    requirements = ROOT / "requirements-dev.txt"
    wanted = hashlib.sha256(requirements.read_bytes() + " ".join(EXTRA).encode()).hexdigest()
    stamp = VENV / ".bench-requirements"
    if stamp.is_file() and stamp.read_text() == wanted:
        return
    print(f"bench: installing {requirements.name} and {', '.join(EXTRA)} into .bench/venv", flush=True)
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(VENV)],
        [str(PYTHON), "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
        [str(PYTHON), "-m", "pip", "install", "--quiet", "-r", str(requirements), *EXTRA],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"bench: `{' '.join(step)}` failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    stamp.write_text(wanted)


if __name__ == "__main__":
    if "--instructions" in sys.argv:
        ensure_tool("valgrind", "valgrind", "valgrind, whose callgrind counts instructions")
    else:
        ensure_tool("wrk", "wrk", "wrk, the HTTP load tool")
    ensure_venv()
    suite = Path(__file__).resolve().parent / "suite.py"
    os.execv(PYTHON, [str(PYTHON), str(suite), *sys.argv[1:]])
