"""The app refuses to start with settings that would make it unsafe, saying how to fix them."""

import os
import subprocess
import sys

import pytest
from conftest import PROJECT, make_settings

from auth import ConfigurationError, Settings


@pytest.mark.parametrize(
    "key", [None, "", "short-key", "change-me", "secret", "dev", "please-change-this-key-before-going-live"]
)
def test_weak_or_missing_secret_key_is_refused(key):
    env = {} if key is None else {"SECRET_KEY": key}
    with pytest.raises(ConfigurationError) as error:
        Settings.from_env(env)
    assert "SECRET_KEY" in str(error.value)
    assert "python -m auth.keys" in str(error.value)


def test_good_key_is_accepted():
    settings = Settings.from_env({"SECRET_KEY": "k" * 20 + "Q7x9Zp2Lm4Vb8Nc1Rt6Y"})
    assert settings.methods == ("basic",)


def test_files_are_looked_at_once_a_second_unless_told_otherwise():
    key = {"SECRET_KEY": "k" * 20 + "Q7x9Zp2Lm4Vb8Nc1Rt6Y"}
    assert Settings.from_env(key).file_check_seconds == 1
    assert Settings.from_env({**key, "FILE_CHECK_SECONDS": "0"}).file_check_seconds == 0


@pytest.mark.parametrize(
    "name, value", [("AUTH_METHODS", "ldap"), ("SESSION_IDLE_TIMEOUT", "soon"), ("FILE_CHECK_SECONDS", "-1")]
)
def test_bad_settings_are_named(name, value):
    with pytest.raises(ConfigurationError, match=name):
        Settings.from_env({"SECRET_KEY": "x" * 40 + "Abc123", name: value})


def test_app_without_key_exits_with_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env["SECRET_KEY"] = ""
    result = subprocess.run(
        [sys.executable, "-c", "import app"],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 4
    lines = result.stderr.strip().splitlines()
    assert lines == ["Cannot start: SECRET_KEY is not set: " + lines[0].split(": ", 2)[2]]
    assert "Traceback" not in result.stderr


def test_a_store_that_cannot_be_opened_stops_the_start_with_its_reason(files):
    from app import create_app

    (files / "instance").write_text("a file where the instance folder should be")
    with pytest.raises(ConfigurationError, match=r"auth-store\.sqlite3 cannot be opened"):
        create_app(make_settings(files))


def test_malformed_groups_file_stops_the_start(files):
    from app import create_app

    (files / "groups.toml").write_text("admin = admin\n")
    with pytest.raises(ConfigurationError, match=r"groups\.toml"):
        create_app(make_settings(files))


class RecordingEnv(dict):
    """An environment that notes every setting the app asks for."""

    def __init__(self, *args):
        super().__init__(*args)
        self.asked: set[str] = set()

    def get(self, key, default=None):
        self.asked.add(key)
        return super().get(key, default)


def test_env_example_lists_every_setting():
    from auth.providers import PRESETS

    example = (PROJECT / ".env.example").read_text()
    listed = {
        line.split("=", 1)[0] for line in example.splitlines() if "=" in line and not line.startswith("#")
    }
    single_sign_on = "OIDC_PROVIDERS" in listed
    chosen = [name for name in PRESETS if f"OIDC_{name.upper()}_CLIENT_ID" in listed]
    env = RecordingEnv({"SECRET_KEY": "x" * 40 + "Abc123", "OIDC_PROVIDERS": ",".join(chosen)})
    Settings.from_env(env)
    asked = {key for key in env.asked if single_sign_on or not key.startswith("OIDC_")}
    assert asked - listed == set()
