"""The lock files match pyproject.toml: every dependency it declares is pinned, at a version it allows,
with hashes, and the app runs in production the versions its tests ran with.

When this fails after an edit of pyproject.toml, compile the locks again (README: "The lock").
"""

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

PROJECT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def pins(lock_file: str) -> dict[str, Version]:
    """name -> pinned version; each entry of a hash-checked lock names the hashes of its files."""
    text = (PROJECT / lock_file).read_text()
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])  # after the two header lines
    found = {}
    for entry in entries:
        match = PIN.match(entry)
        assert match, f"{lock_file}: not an exact pin: {entry[:80]!r}"
        assert "--hash=sha256:" in entry, f"{lock_file}: {match[1]} has no hash"
        found[canonicalize_name(match[1])] = Version(match[2])
    return found


PROJECT_TABLE = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
EXTRAS = PROJECT_TABLE["optional-dependencies"]


def declared(*extras: str) -> list[Requirement]:
    lines = [*PROJECT_TABLE["dependencies"], *(line for extra in extras for line in EXTRAS[extra])]
    return [Requirement(line) for line in lines]


@pytest.mark.parametrize(
    "lock_file, extras",
    [("requirements.txt", ["redis", "sessions"]), ("requirements-dev.txt", list(EXTRAS))],
)
def test_lock_pins_every_declared_dependency_at_an_allowed_version(lock_file, extras):
    locked = pins(lock_file)
    for requirement in declared(*extras):
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement} is declared but not in {lock_file}"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"{lock_file} pins {name}=={locked[name]}, outside {requirement}"
        )


# Held back in the tests' environment by a test tool alone: dash[testing] allows selenium up to 4.2.0,
# which needs urllib3 1.26; the app runs the newer urllib3 of requirements.txt.
HELD_BACK_BY_TEST_TOOLS = {"urllib3"}


def test_the_app_runs_the_versions_its_tests_run():
    deployed, tested = pins("requirements.txt"), pins("requirements-dev.txt")
    differ = {
        name: (str(version), str(tested.get(name)))
        for name, version in deployed.items()
        if tested.get(name) != version and name not in HELD_BACK_BY_TEST_TOOLS
    }
    assert not differ, f"requirements.txt vs requirements-dev.txt: {differ}"
