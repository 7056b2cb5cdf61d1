"""`rbtk tokens create|list|revoke`: on the local database, trusted by the running API."""

from pathlib import Path

import pytest
from sqlalchemy import select

from rbtk.context import Context
from rbtk.runtime.settings import Settings
from rbtk.store.tables import tokens
from tests.cli.conftest import Rbtk


@pytest.fixture
def local(service: str) -> Rbtk:
    """rbtk on the machine the service runs on, pointed at its database; no token yet."""
    return Rbtk(service, None)


@pytest.fixture
def database_env(settings: Settings) -> dict[str, str | None]:
    return {"RBTK_DATABASE_URL": settings.database_url, "RBTK_DATA_DIR": str(settings.data_dir)}


@pytest.fixture
def said(settings: Settings) -> str:
    """What every tokens command says on stderr: which database it used."""
    return f"database: {settings.database}\n"


def test_create_prints_a_token_once_that_the_api_then_accepts(
    local: Rbtk, database_env: dict[str, str | None], said: str
) -> None:
    created = local("tokens", "create", "--scope", "admin", "--name", "ops", env=database_env)
    token = created.stdout.strip()

    listed = local.with_token(token)("admin", "pd", "connectors", "list")

    assert (created.exit_code, created.stderr) == (0, said)
    assert created.stdout == f"{token}\n"
    assert token.startswith("rbtk_")
    assert (listed.exit_code, listed.stderr) == (0, "")


def test_an_events_token_may_send_events_but_not_administer(
    local: Rbtk, database_env: dict[str, str | None]
) -> None:
    token = local("tokens", "create", "--scope", "events", env=database_env).stdout.strip()

    result = local.with_token(token)("admin", "pd", "log")

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "error: the token may not do this (this token may only post events): "
        "create one with 'rbtk tokens create --scope admin'\n"
    )


def test_list_shows_id_scope_name_and_state_but_never_the_token(
    local: Rbtk, database_env: dict[str, str | None], said: str
) -> None:
    admin = local("tokens", "create", "--scope", "admin", "--name", "ops", env=database_env)
    events = local("tokens", "create", "--scope", "events", env=database_env)

    result = local("tokens", "list", env=database_env)

    assert (result.exit_code, result.stderr) == (0, said)
    assert result.stdout == "1\tadmin\tops\tactive\n2\tevents\tevents\tactive\n"
    assert admin.stdout.strip() not in result.stdout
    assert events.stdout.strip() not in result.stdout


def test_a_revoked_token_is_refused_by_the_api_from_then_on(
    local: Rbtk, database_env: dict[str, str | None], context: Context, said: str
) -> None:
    token = local("tokens", "create", "--scope", "admin", env=database_env).stdout.strip()

    revoked = local("tokens", "revoke", "1", env=database_env)
    listed = local("tokens", "list", env=database_env)
    refused = local.with_token(token)("admin", "pd", "connectors", "list")

    with context.engine.connect() as connection:
        revoked_at = connection.execute(select(tokens.c.revoked_at)).scalar_one()
    assert (revoked.exit_code, revoked.stdout, revoked.stderr) == (0, "revoked token 1\n", said)
    assert listed.stdout == f"1\tadmin\tadmin\trevoked {revoked_at:%Y-%m-%d %H:%M}\n"
    assert (refused.exit_code, refused.stdout) == (1, "")
    assert refused.stderr == (
        "error: rbtk refused the token (invalid or revoked token): set RBTK_TOKEN; "
        "create one with 'rbtk tokens create --scope admin'\n"
    )


def test_revoking_an_unknown_token_is_one_line_and_exit_1(
    local: Rbtk, database_env: dict[str, str | None], said: str
) -> None:
    result = local("tokens", "revoke", "7", env=database_env)

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == said + "error: no active token with id 7\n"


def test_revoking_twice_is_refused_the_second_time(
    local: Rbtk, database_env: dict[str, str | None], said: str
) -> None:
    local("tokens", "create", "--scope", "admin", env=database_env)

    first = local("tokens", "revoke", "1", env=database_env)
    second = local("tokens", "revoke", "1", env=database_env)

    assert (first.exit_code, second.exit_code) == (0, 1)
    assert second.stderr == said + "error: no active token with id 1\n"


def test_every_command_finds_the_same_database_wherever_it_is_run(
    local: Rbtk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not the current directory: a token made elsewhere must be one the server knows."""
    monkeypatch.delenv("RBTK_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    env: dict[str, str | None] = {"RBTK_DATABASE_URL": None, "RBTK_DATA_DIR": None}
    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir()
    there.mkdir()

    monkeypatch.chdir(here)
    local("tokens", "create", "--scope", "admin", "--name", "first", env=env)
    monkeypatch.chdir(there)
    listed = local("tokens", "list", env=env)

    assert listed.stdout == "1\tadmin\tfirst\tactive\n"
    assert listed.stderr == f"database: sqlite:///{tmp_path / 'share' / 'rbtk' / 'rbtk.db'}\n"
    assert list(here.iterdir()) == list(there.iterdir()) == []


@pytest.mark.parametrize("command", [("list",), ("revoke", "1")])
def test_on_a_data_dir_with_no_database_list_and_revoke_say_so_and_create_nothing(
    local: Rbtk, tmp_path: Path, command: tuple[str, ...]
) -> None:
    mistyped = tmp_path / "rbkt"
    env: dict[str, str | None] = {"RBTK_DATABASE_URL": None, "RBTK_DATA_DIR": str(mistyped)}

    result = local("tokens", *command, env=env)

    database = f"sqlite:///{mistyped / 'rbtk.db'}"
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"database: {database}\nerror: no rbtk database at {database}; is RBTK_DATA_DIR right?\n"
    )
    assert not mistyped.exists()
