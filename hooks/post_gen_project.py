"""Finish the generated project: drop what was not chosen, write .env, create the first user.

Safe to run again (cruft/copier updates do): an existing .env or users file is never touched.
"""

import importlib
import shutil
import sys
import types
from pathlib import Path

AUTH = {{ cookiecutter.auth | tojson }}
PROVIDERS = {{ cookiecutter.oidc_providers | provider_names | tojson }}  # read by hooks/answers.py
SLUG = {{ cookiecutter.project_slug | tojson }}

PROJECT = Path.cwd()
BASIC = AUTH in ("basic", "both")
OIDC = AUTH in ("oidc", "both")


def project_module(name: str):
    """A module of the project's auth package that needs only the standard library (it and
    what it imports from the package), loaded without the package's ``__init__``: the
    project's dependencies are not installed yet."""
    if "auth" not in sys.modules:
        package = types.ModuleType("auth")
        package.__path__ = [str(PROJECT / "auth")]  # its modules are found here, __init__ never runs
        sys.modules["auth"] = package
    return importlib.import_module(f"auth.{name}")


def remove(*relative_paths: str) -> None:
    for relative in relative_paths:
        path = PROJECT / relative
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def remove_unchosen_files() -> None:
    if not OIDC:
        remove("docs/providers", "sign_in.py", "tests/oidc_fake_provider.py", "tests/test_oidc.py")
        remove("tests/sso_helpers.py", "tests/test_sso_tokens.py")
        remove("tests/test_sso_logout.py", "tests/test_sso_groups.py")
        remove("pages/profile.py", "tests/test_sso_session_tokens.py")
    else:
        guides = (PROJECT / "docs" / "providers").glob("*.md")
        remove(*(str(guide.relative_to(PROJECT)) for guide in guides if guide.stem not in PROVIDERS))
    if not any((PROJECT / "docs").rglob("*")):
        remove("docs")


def write_env() -> bool:
    return project_module("keys").create_env_file(PROJECT / ".env", PROJECT / ".env.example")


def create_first_admin() -> str | None:
    """A user "admin" (in group admin, see groups.toml) with a random password, once."""
    users_file = PROJECT / "users.json"
    if not BASIC or users_file.exists():
        return None
    passwords = project_module("passwords")
    password = passwords.new_password()
    passwords.UsersFile(users_file).add("admin", password)
    return password


def next_steps(env_written: bool, admin_password: str | None) -> str:
    lines = ["", f"Created {SLUG}/" + (" with a new SECRET_KEY in .env" if env_written else ""), ""]
    if admin_password:
        lines += [
            "Sign in as:  admin",
            f"Password:    {admin_password}",
            "(shown once; change it with `flask users add admin`)",
            "",
        ]
    lines += [
        "Next steps:",
        f"  cd {SLUG}",
        "  python -m venv .venv && . .venv/bin/activate",
        "  pip install -r requirements-dev.txt",
    ]
    if OIDC:
        lines.append("  edit .env: your provider's client id, secret and issuer (see docs/providers/)")
    lines += ["  python app.py      # then open http://127.0.0.1:8050", ""]
    return "\n".join(lines)


def main() -> None:
    remove_unchosen_files()
    env_written = write_env()
    admin_password = create_first_admin()
    print(next_steps(env_written, admin_password))


if __name__ == "__main__":
    main()
