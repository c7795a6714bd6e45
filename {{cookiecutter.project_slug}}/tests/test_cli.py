"""flask users add|remove|list and flask keys rotate."""

import pytest

from auth.keys import key_problem
from auth.passwords import UsersFile


@pytest.fixture
def cli(app):
    return app.server.test_cli_runner()


def test_add_list_remove(cli, settings):
    result = cli.invoke(args=["users", "add", "Carol", "--password-stdin"], input="carol-password-99\n")
    assert result.exit_code == 0, result.output
    assert "carol" in UsersFile(settings.users_file).read()
    listed = cli.invoke(args=["users", "list"]).output
    assert "carol" in listed and "admin\tadmin" in listed
    assert cli.invoke(args=["users", "remove", "carol"]).exit_code == 0
    assert "carol" not in UsersFile(settings.users_file).read()


def test_add_prompts_without_echo(cli, settings):
    result = cli.invoke(args=["users", "add", "dave"], input="dave-password-99\ndave-password-99\n")
    assert result.exit_code == 0
    assert "dave-password-99" not in result.output


def test_bad_input_gets_a_message_not_a_trace(cli):
    short = cli.invoke(args=["users", "add", "erin", "--password-stdin"], input="short\n")
    assert short.exit_code == 1 and "at least 15 characters" in short.output
    bad_name = cli.invoke(args=["users", "add", "a b", "--password-stdin"], input="long-enough-pass\n")
    assert bad_name.exit_code == 1 and "username" in bad_name.output
    missing = cli.invoke(args=["users", "remove", "nobody"])
    assert missing.exit_code == 1 and "no user named" in missing.output


def test_users_file_is_private(cli, settings):
    cli.invoke(args=["users", "add", "frank", "--password-stdin"], input="frank-password-99\n")
    assert settings.users_file.stat().st_mode & 0o077 == 0


def test_rotate_moves_the_key_to_fallbacks(tmp_path):
    from auth.keys import rotate_key

    env = tmp_path / ".env"
    old = "o" * 40 + "Abc123"
    env.write_text(f"SECRET_KEY={old}\nFLASK_APP=app:server\n")
    rotate_key(env)
    lines = dict(line.split("=", 1) for line in env.read_text().splitlines())
    assert lines["SECRET_KEY"] != old and key_problem(lines["SECRET_KEY"]) is None
    assert lines["SECRET_KEY_FALLBACKS"] == old
    assert lines["FLASK_APP"] == "app:server"
    assert env.stat().st_mode & 0o077 == 0
