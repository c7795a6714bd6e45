"""Real servers for the template's tests: a baked app under gunicorn, and Redis, on loopback."""

from __future__ import annotations

import os
import secrets
import shutil
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

    def __init__(self, project: Path, env: dict[str, str], workers: int = 2, port: int | None = None):
        self.project = project
        self.env = env
        self.workers = workers
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


class RedisServer:
    """A throwaway redis-server on loopback (Debian's package), no persistence."""

    def __init__(self):
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is missing (Debian: apt-get install redis-server)")
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
