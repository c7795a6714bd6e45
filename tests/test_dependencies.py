"""One source of truth: what the generated project asks for matches what the tests run, and the
provider list in cookiecutter.json matches the generated code's."""

import json
import re
import tomllib

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


def test_the_prompt_offers_the_providers_of_the_code():
    prompt = json.loads((TEMPLATE / "cookiecutter.json").read_text())["__prompts__"]["oidc_providers"]
    offered = re.search(r"comma-separated: ([\w, ]+) \(", prompt)[1].split(", ")
    code = (TEMPLATE / "{{cookiecutter.project_slug}}" / "auth" / "providers.py").read_text()
    presets = re.findall(r'^    "(\w+)": Preset\(', code, re.MULTILINE)
    assert offered == presets
