"""Instructions per request inside one gunicorn worker, counted by callgrind.

The load table's wall time moves by a tenth from one minute to the next on a shared machine;
an instruction count, with Python's hash seed fixed, moves by well under one percent between
runs, so a change of a few thousand instructions per request shows. It leaves out what the
kernel does (the same system calls for every variant, but for ours's stat of groups.toml: see
bench/README.md) and how warm the CPU's caches are.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import load

WARM_UP = 50  # requests before counting: first-request set-up done, caches filled
COUNTED = 200
TOTAL = re.compile(r"^(?:summary|totals): (\d+)", re.M)


class CountedServer(load.Server):
    """One sync worker under callgrind, counting only between ``per_request``'s calls."""

    def __init__(
        self,
        name: str,
        directory: Path,
        bin_dir: Path,
        log_dir: Path,
        app: str = "app:server",
        env: dict | None = None,
    ):
        self.dumps = log_dir / f"{name}.callgrind"
        self.dumps.mkdir(parents=True, exist_ok=True)
        for old in self.dumps.iterdir():
            old.unlink()
        wrapper = (
            "valgrind",
            "--tool=callgrind",
            "--trace-children=yes",  # gunicorn's worker is a fork, then Python runs on in it
            f"--callgrind-out-file={self.dumps}/%p",
        )
        env = {"PYTHONHASHSEED": "0", **(env or {})}
        super().__init__(name, directory, bin_dir, log_dir, 1, wrapper, env, app)

    def wait_ready(self, timeout: float = 600) -> None:  # an app starts ~50 times slower under valgrind
        super().wait_ready(timeout)

    def per_request(self, send: Callable[[], object]) -> float:
        """Instructions the worker spends per ``send()`` (one request), after WARM_UP of them."""
        for _ in range(WARM_UP):
            send()
        worker = str(self._worker())
        subprocess.run(["callgrind_control", "-z", worker], capture_output=True, check=True)
        for _ in range(COUNTED):
            send()
        before = set(self.dumps.glob(f"{worker}.*"))
        subprocess.run(["callgrind_control", "-d", worker], capture_output=True, check=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for dump in set(self.dumps.glob(f"{worker}.*")) - before:
                found = TOTAL.search(dump.read_text())
                if found:  # written to the end
                    return int(found[1]) / COUNTED
            time.sleep(0.2)
        raise RuntimeError(f"{self.name}: callgrind wrote no dump for worker {worker}")

    def _worker(self) -> int:
        """The arbiter's child (valgrind runs each process under its own pid)."""
        for pid, fields in load.processes():
            if int(fields[1]) == self.proc.pid:
                return pid
        raise RuntimeError(f"{self.name}: no worker running")
