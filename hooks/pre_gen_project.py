"""Refuse answers that would give a broken project, with one line that says why."""

import keyword
import sys

SLUG = {{ cookiecutter.project_slug | tojson }}
AUTH = {{ cookiecutter.auth | tojson }}
# Read by hooks/answers.py, as every file that uses the answer reads it.
PROVIDERS = {{ cookiecutter.oidc_providers | provider_names | tojson }}
PROVIDER_ERROR = {{ cookiecutter.oidc_providers | provider_error | tojson }}

# Modules the generated app imports or is made of: a project of that name would shadow them.
TAKEN = {"app", "auth", "layout", "pages", "assets", "tests", "docs", "instance",
         "dash", "flask", "plotly", "werkzeug", "authlib", "dotenv", "gunicorn", "pytest"}


def problem() -> str | None:
    if not SLUG.isidentifier() or keyword.iskeyword(SLUG):
        return f"project_slug {SLUG!r} is not a valid Python identifier (letters, digits, _)"
    if SLUG in TAKEN or SLUG in sys.stdlib_module_names:
        return f"project_slug {SLUG!r} would shadow the module of that name: choose another"
    if AUTH not in ("basic", "oidc", "both"):
        return f"auth must be basic, oidc or both, not {AUTH!r}"
    if PROVIDER_ERROR:
        return PROVIDER_ERROR
    if AUTH != "basic" and not PROVIDERS:
        return "auth=oidc or both needs at least one provider in oidc_providers"
    return None


if __name__ == "__main__":
    reason = problem()
    if reason:
        print(f"ERROR: {reason}", file=sys.stderr)
        sys.exit(1)
