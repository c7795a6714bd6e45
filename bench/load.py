"""Gunicorn servers on loopback and wrk runs against them."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from urllib.parse import urlencode

CALLBACK_PATH = "/_dash-update-component"
THREADS = 2  # wrk's
TURNS_LINE = "cookies taking turns: %d of %d sent"  # printed by lua_taking_turns's script


def callback_body(outputs: list[tuple[str, str]], inputs: list[tuple[str, str, object]]) -> str:
    """The JSON the Dash renderer POSTs to run the callback of these outputs."""
    if len(outputs) == 1:
        key, described = "{}.{}".format(*outputs[0]), {"id": outputs[0][0], "property": outputs[0][1]}
    else:
        key = ".." + "...".join(f"{i}.{p}" for i, p in outputs) + ".."
        described = [{"id": i, "property": p} for i, p in outputs]
    return json.dumps(
        {
            "output": key,
            "outputs": described,
            "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
            "changedPropIds": [f"{i}.{p}" for i, p, _ in inputs],
            "state": [],
        }
    )


# The trivial echo of pages/bench.py (the same in every variant), and the generated
# dashboard's chart (a real callback: builds a Plotly figure); with what each answers.
CALLBACKS = {
    "echo": (callback_body([("bench-out", "children")], [("bench-in", "value", "ping")]), b'"ping"'),
    "chart": (
        callback_body(
            [("chart", "figure"), ("summary", "children")],
            [("metric", "value", "visits"), ("window", "value", 7)],
        ),
        b"Daily visits",
    ),
}


def lua_script(body: str) -> str:
    """wrk script: POST this callback; Cookie or Authorization come from -H."""
    return f'wrk.method = "POST"\nwrk.body = [[{body}]]\nwrk.headers["Content-Type"] = "application/json"\n'


def lua_taking_turns(body: str, cookies: list[str]) -> str:
    """wrk script: POST this callback, each request with the next of these cookies (many users).

    Thread ``t`` of ``THREADS`` sends cookies t, t + THREADS, ... so that together they go
    through every cookie in turn; at the end it prints how many distinct cookies were sent
    (``TURNS_LINE``), for the bench to check.
    """
    if len(cookies) % THREADS:
        raise ValueError(f"{len(cookies)} cookies do not split evenly between {THREADS} wrk threads")
    listed = ",\n".join(f"  [[{cookie}]]" for cookie in cookies)
    return (
        f"local cookies = {{\n{listed}\n}}\nlocal threads = {{}}\n"
        "function setup(thread)\n"
        '  thread:set("id", #threads)\n'
        "  table.insert(threads, thread)\n"
        "end\n"
        "sent = 0\n"
        "request = function()\n"
        f"  local cookie = cookies[(id + sent * {THREADS}) % #cookies + 1]\n"
        "  sent = sent + 1\n"
        '  local headers = {["Content-Type"] = "application/json", Cookie = cookie}\n'
        f'  return wrk.format("POST", nil, headers, [[{body}]])\n'
        "end\n"
        "function done()\n"
        "  local used = 0\n"
        "  for _, thread in ipairs(threads) do\n"
        f'    used = used + math.min(thread:get("sent"), #cookies / {THREADS})\n'
        "  end\n"
        f'  io.write(string.format("{TURNS_LINE}\\n", used, #cookies))\n'
        "end\n"
    )


WORKERS = 2
GUNICORN = ["-k", "sync", "--log-level", "warning"]
WRK = [f"-t{THREADS}", "--timeout", "10s", "--latency"]
CONNECTIONS = 16


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``gunicorn app:server`` (or ``app``) in ``directory``, in its own process group; ``wrapper``:
    a command it runs under (valgrind, say), with ``env`` added to the environment."""

    def __init__(
        self,
        name: str,
        directory: Path,
        bin_dir: Path,
        log_dir: Path,
        workers: int = WORKERS,
        wrapper: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        app: str = "app:server",
    ):
        self.name, self.directory, self.app = name, directory, app
        self.gunicorn = bin_dir / "gunicorn"
        self.log = log_dir / f"{name}.log"
        self.workers, self.wrapper, self.env = workers, wrapper, env or {}
        self.port = 0
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.port = free_port()
        command = [*self.wrapper, str(self.gunicorn), "-w", str(self.workers), *GUNICORN]
        command += ["-b", f"127.0.0.1:{self.port}", "--chdir", str(self.directory), self.app]
        env = {**os.environ, **self.env}
        with self.log.open("w") as log:
            self.proc = subprocess.Popen(command, stdout=log, stderr=log, env=env, start_new_session=True)

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.log}")
            try:
                request(self.port, "GET", "/_favicon.ico")
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer within {timeout} s; see {self.log}")

    def wait_idle(self, timeout: float = 10, step: float = 0.2) -> None:
        """Until the server is idle: requests wrk left queued when it stopped (a slow callback's)
        would otherwise take CPU from the next run, another variant's maybe."""
        deadline = time.monotonic() + timeout
        before = self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(step)
            now = self.cpu_seconds()
            if now - before < 0.05 * step:  # under 5% of a core
                return
            before = now

    def cpu_seconds(self) -> float:
        """User + system CPU so far of the arbiter and its workers (its process group)."""
        ticks = sum(int(f[11]) + int(f[12]) for _, f in processes() if int(f[2]) == self.proc.pid)
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def processes() -> Iterator[tuple[int, list[str]]]:
    """Each running process: its pid, and the fields of /proc/<pid>/stat after the command name
    (state, parent, process group, ...; utime and stime at 11 and 12)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            yield int(stat.parent.name), stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile


def request(port: int, method: str, path: str, body: str | None = None, headers: dict | None = None):
    """One request, no redirects followed: (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def sign_in(port: int, username: str, password: str) -> str:
    """POST /login as a script would (no Origin header); returns the Cookie header value."""
    form = urlencode({"username": username, "password": password, "next": "/"})
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    status, answer, _ = request(port, "POST", "/login", form, headers)
    cookies = answer.get_all("Set-Cookie") or []  # the session, and the device cookie of ours
    if status != 302 or not cookies:
        raise RuntimeError(f"sign-in failed: HTTP {status}")
    return "; ".join(cookie.split(";", 1)[0] for cookie in cookies)


@dataclass
class Result:
    rps: float
    p50: float  # ms
    p99: float  # ms
    errors: int
    requests: int
    cpu_us: float = 0.0  # server CPU per request (all workers), microseconds
    cookies_sent: int = 0  # distinct cookies a taking-turns script sent (0 for other scripts)


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(value: str, unit: str) -> float:
    return float(value) * UNITS[unit]


def parse_wrk(text: str) -> Result:
    percentiles = {
        int(p): _ms(v, u) for p, v, u in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M)
    }
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    if rps is None or 50 not in percentiles or 99 not in percentiles:
        raise RuntimeError(f"cannot read wrk output:\n{text}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors += int(non_2xx.group(1)) if non_2xx else 0
    requests = int(re.search(r"(\d+) requests in", text).group(1))
    turns = re.search(TURNS_LINE.replace("%d", r"(\d+)"), text)
    sent = int(turns.group(1)) if turns else 0
    return Result(float(rps.group(1)), percentiles[50], percentiles[99], errors, requests, cookies_sent=sent)


def wrk(
    server: Server, path: str, seconds: float, headers: dict, lua: Path | None, connections: int = CONNECTIONS
) -> Result:
    """Load ``path`` for ``seconds``; the result includes the server's CPU time per request."""
    command = ["wrk", *WRK, f"-c{connections}", f"-d{seconds:g}s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    if lua is not None:
        command += ["-s", str(lua)]
    command.append(f"http://127.0.0.1:{server.port}{path}")
    cpu = server.cpu_seconds()
    done = subprocess.run(command, capture_output=True, text=True)
    cpu = server.cpu_seconds() - cpu
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stdout}{done.stderr}")
    result = parse_wrk(done.stdout)
    result.cpu_us = cpu / max(result.requests, 1) * 1e6
    return result


def summarize(rounds: list[list[tuple[Result, Result]]]) -> dict:
    """A row's figures from its rounds, each a list of (this row's slice, the bare slice run
    just before it). A round's figure is the median over its slices (a burst of other work on
    the machine spoils a slice or two, not the round); the row's, the median over rounds."""

    def per_round(figure: Callable[[Result, Result], float]) -> list[float]:
        return [median(figure(mine, base) for mine, base in pairs) for pairs in rounds]

    ratios = per_round(lambda mine, base: mine.rps / base.rps)
    return {
        "rps": median(per_round(lambda mine, _: mine.rps)),
        "ratio": median(ratios),
        "ratios": ratios,
        "p50": median(per_round(lambda mine, _: mine.p50)),
        "p99": median(per_round(lambda mine, _: mine.p99)),
        "p99_ratio": median(per_round(lambda mine, base: mine.p99 / base.p99)),
        "cpu_us": median(per_round(lambda mine, _: mine.cpu_us)),
        "cpu_ratio": median(per_round(lambda mine, base: base.cpu_us / mine.cpu_us)),
        "errors": sum(mine.errors for pairs in rounds for mine, _ in pairs),
    }
