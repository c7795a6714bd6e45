"""The oidc_providers answer read the way people type it: "Google, Okta", "entra id", "AAD".

A Jinja extension (cookiecutter.json `_extensions`): every file and hook that uses the answer reads
it through the same filters, since a hook cannot change an answer.

    {{ cookiecutter.oidc_providers | provider_names }}  -> ["google", "okta"]  (unknown names as typed)
    {{ cookiecutter.oidc_providers | provider_error }}  -> "" or the one line that says what is wrong

The providers are those of the project's auth/providers.py (PRESETS), the one list of them.
"""

import difflib
import importlib.util
import logging
import re
import sys
from pathlib import Path

from cookiecutter.exceptions import FailedHookException
from jinja2.ext import Extension

PROJECT_TEMPLATE = Path(__file__).resolve().parent.parent / "{{cookiecutter.project_slug}}"
PROVIDERS_MODULE = PROJECT_TEMPLATE / "auth" / "providers.py"

# Other names people use, written as `_key` leaves them (lower case, no spaces, hyphens or underscores).
ALIASES = {
    "azure": "microsoft",
    "azuread": "microsoft",
    "aad": "microsoft",
    "entra": "microsoft",
    "entraid": "microsoft",
    "microsoftentraid": "microsoft",
}


def _presets() -> list[str]:
    spec = importlib.util.spec_from_file_location("_template_providers", PROVIDERS_MODULE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    writes_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # no __pycache__ to bake
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = writes_bytecode
    return list(module.PRESETS)


PRESETS = _presets()


def _key(name: str) -> str:
    return re.sub(r"[\s_-]+", "", name.lower())


def _canonical(name: str) -> str | None:
    key = _key(name)
    return key if key in PRESETS else ALIASES.get(key)


def _typed(answer: str) -> list[str]:
    return [name.strip() for name in answer.split(",") if name.strip()]


def provider_names(answer: str) -> list[str]:
    """Each provider once, by its PRESETS name, in the order given; an unknown one as typed."""
    names = [_canonical(name) or name for name in _typed(answer)]
    return list(dict.fromkeys(names))


def _suggestion(name: str) -> str:
    close = difflib.get_close_matches(_key(name), [*PRESETS, *ALIASES], n=1, cutoff=0.6)
    return f" (did you mean {_canonical(close[0])}?)" if close else ""


def provider_error(answer: str) -> str:
    unknown = [name for name in _typed(answer) if not _canonical(name)]
    if not unknown:
        return ""
    named = ", ".join(name + _suggestion(name) for name in unknown)
    return f"unknown oidc_providers {named}: choose from {', '.join(PRESETS)}"


class _HookAlreadyExplained(logging.Filter):
    """Cookiecutter logs a failed hook with its own traceback; our hooks print the one line that
    says why (pre_gen_project.py), so the traceback would only bury it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], FailedHookException))


class ProviderAnswers(Extension):
    def __init__(self, environment):
        super().__init__(environment)
        environment.filters["provider_names"] = provider_names
        environment.filters["provider_error"] = provider_error
        hooks_log = logging.getLogger("cookiecutter.hooks")
        if not any(isinstance(f, _HookAlreadyExplained) for f in hooks_log.filters):
            hooks_log.addFilter(_HookAlreadyExplained())
