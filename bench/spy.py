"""Optional (run.py --py-spy): sample the gunicorn workers with py-spy while wrk loads them.

py-spy records the stacks of running threads; a function's samples per request,
over those of the whole request in Flask, give its share of the request under
the real server. Needs ptrace (root, or CAP_SYS_PTRACE in a container).
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import load

RATE = 500  # samples per second

# Label -> function names that must appear in this order in a stack (py-spy's names).
FRAMES = {
    "whole request in Flask (wsgi_app)": ("Flask.wsgi_app",),
    "Dash runs the callback (_dispatch)": ("FlaskDashServer.serve_callback.<locals>._dispatch",),
    "session cookie decode (open_session)": ("SignedCookieSessions.open_session",),
    "  open: signature check (loads)": ("open_session", "Serializer.loads"),
    "session save (save_session)": ("SecureCookieSessionInterface.save_session",),
    "RequestGuard.check": ("RequestGuard.check",),
    "  cookie: Sessions.user_of": ("RequestGuard.check", "Sessions.user_of"),
    "  Basic: _user_from_header": ("RequestGuard.check", "_user_from_header"),
    "    Basic: Passwords.check (HMAC, remembered)": ("_user_from_header", "Passwords.check"),
    "    Basic: Throttle.attempt (counters)": ("_user_from_header", "Throttle.attempt"),
    "  token: Accounts.token_owner": ("RequestGuard.check", "Accounts.token_owner"),
    "  SQLiteBackend (revoked / counters)": ("RequestGuard.check", "SQLiteBackend."),
    "  WatchedFile.get (users.json, groups.toml)": ("RequestGuard.check", "WatchedFile.get"),
    "  request.get_json (Dash reuses the result)": ("RequestGuard.check", "Request.get_json"),
    "  same_origin": ("RequestGuard.check", "same_origin"),
    "security headers (ResponseHeaders.add)": ("ResponseHeaders.add",),
}


def _matches(functions: list[str], wanted: tuple[str, ...]) -> bool:
    position = 0
    for name in wanted:
        position = next((i for i in range(position, len(functions)) if name in functions[i]), -1) + 1
        if position == 0:
            return False
    return True


def count(raw: Path) -> Counter:
    """Inclusive samples per label from py-spy's raw (collapsed) output."""
    counts: Counter = Counter()
    for line in raw.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        functions = [frame.split(" (", 1)[0] for frame in stack.split(";")]
        for label, wanted in FRAMES.items():
            if _matches(functions, wanted):
                counts[label] += int(samples)
    return counts


def record(server: load.Server, bin_dir: Path, out: Path, seconds: int, headers: dict, lua: Path) -> Counter:
    """Samples per request, by label, while wrk loads ``server``."""
    spy = bin_dir / "py-spy"
    if not spy.exists():
        subprocess.run([bin_dir / "pip", "install", "--quiet", "py-spy"], check=True, capture_output=True)
    command = [spy, "record", "--pid", str(server.proc.pid), "--subprocesses", "--nonblocking"]
    command += ["-r", str(RATE), "-d", str(seconds + 1), "-f", "raw", "-o", str(out)]
    sampler = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    result = load.wrk(server, load.CALLBACK_PATH, seconds, headers, lua)
    if sampler.wait() != 0 or not out.exists():
        sys.exit(f"bench: py-spy failed (it needs ptrace): {sampler.stderr.read()[-500:]}")
    counts = count(out)
    return Counter({label: n / result.requests for label, n in counts.items()})


def report(samples: dict[str, Counter]) -> None:
    """A column per variant (microseconds of wall time per request); bare first."""
    names = list(samples)
    whole = "whole request in Flask (wsgi_app)"
    print(f"\npy-spy under gunicorn + wrk, echo callback: wall us per request ({RATE} samples/s)")
    print(f"  {'':48}" + "".join(f"{name:>13}" for name in names))
    for label in FRAMES:
        cells = "".join(f"{samples[name][label] / RATE * 1e6:13.0f}" for name in names)
        print(f"  {label:48}{cells}")
    bare = samples[names[0]][whole]
    for name in names[1:]:
        extra = samples[name][whole] - bare
        print(f"  {name}: {extra / RATE * 1e6:.0f} us more than {names[0]} in Flask per request")
