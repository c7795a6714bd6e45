"""One source of truth: what the generated project asks for and locks matches what the tests run, and
the providers offered by the prompt are the generated code's."""

import json
import re
import tomllib

import pytest
from conftest import TEMPLATE
from packaging.requirements import Requirement
from packaging.version import Version


def pinned() -> dict[str, Version]:
    pins = {}
    for line in (TEMPLATE / "requirements-dev.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            requirement = Requirement(line)
            pins[requirement.name.lower()] = Version(next(iter(requirement.specifier)).version)
    return pins


def test_generated_minimums_admit_the_versions_the_tests_run(baked):
    meta = tomllib.loads((baked("both").project_path / "pyproject.toml").read_text())["project"]
    requirements = [
        *meta["dependencies"],
        *(r for extra in meta["optional-dependencies"].values() for r in extra),
    ]
    pins = pinned()
    for line in requirements:
        requirement = Requirement(line)
        name = requirement.name.lower()
        assert name in pins, f"{name} is not pinned in requirements-dev.txt"
        assert requirement.specifier.contains(pins[name]), f"{line} does not admit the tested {pins[name]}"


@pytest.mark.parametrize("lock", sorted((TEMPLATE / "templates" / "locks").glob("*/*.txt")), ids=str)
def test_the_locks_pin_what_the_tests_run(lock):
    """A pin moved in requirements-dev.txt without `make lock` fails here."""
    locked = dict(re.findall(r"^([a-z0-9][a-z0-9._-]*)==([^\s;\\]+)", lock.read_text(), re.MULTILINE))
    differ = {
        name: (str(v), locked[name])
        for name, v in pinned().items()
        if name in locked and locked[name] != str(v)
    }
    assert not differ, (
        f"{lock.relative_to(TEMPLATE)}: requirements-dev.txt vs the lock {differ}: run make lock"
    )
    assert {"dash", "flask", "gunicorn"} <= set(locked)


def test_the_prompt_offers_the_providers_of_the_code():
    prompt = json.loads((TEMPLATE / "cookiecutter.json").read_text())["__prompts__"]["oidc_providers"]
    offered = re.search(r"comma-separated: ([\w, ]+) \(", prompt)[1].split(", ")
    code = (TEMPLATE / "{{cookiecutter.project_slug}}" / "auth" / "providers.py").read_text()
    presets = re.findall(r'^    "(\w+)": Preset\(', code, re.MULTILINE)
    assert offered == presets
