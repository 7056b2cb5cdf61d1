"""Secrets as a type (ARCHITECTURE.md principle 6): masked everywhere, encrypted at rest."""

import json
import logging
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from rbtk.secrets import Secret, Vault, load_or_create_key, mask
from rbtk.settings import Settings

KEY = "R0b0t1cksIntegrationKeyXYZ90a1b2"
MASKED = "••••••••…a1b2"


def test_repr_and_str_show_only_the_mask() -> None:
    secret = Secret(KEY)

    assert repr(secret) == f"Secret({MASKED!r})"
    assert str(secret) == f"Secret({MASKED!r})"
    assert f"{secret}" == f"Secret({MASKED!r})"
    assert repr([secret]) == f"[Secret({MASKED!r})]"


def test_masked_property_keeps_only_the_last_four_characters() -> None:
    assert Secret(KEY).masked == MASKED


def test_short_values_are_masked_entirely() -> None:
    assert mask("abcd1234") == "••••••••"
    assert mask("") == "••••••••"


def test_a_secret_cannot_be_serialised_to_json_by_accident() -> None:
    with pytest.raises(TypeError):
        json.dumps({"key": Secret(KEY)})


def test_a_logged_secret_shows_only_the_mask(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        logging.getLogger("rbtk.test").info("rotating to %s", Secret(KEY))

    assert caplog.messages == [f"rotating to Secret({MASKED!r})"]


def test_reveal_gives_the_clear_value_for_the_outbound_request() -> None:
    assert Secret(KEY).reveal() == KEY


def test_fingerprint_is_stable_and_differs_between_keys() -> None:
    assert Secret(KEY).fingerprint == Secret(KEY).fingerprint
    assert Secret(KEY).fingerprint != Secret("Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4").fingerprint
    assert len(Secret(KEY).fingerprint) == 32
    assert KEY not in Secret(KEY).fingerprint


def test_secrets_compare_by_value() -> None:
    assert Secret(KEY) == Secret(KEY)
    assert Secret(KEY) != Secret("Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4")
    assert Secret(KEY) != KEY


def test_the_vault_round_trips_a_secret_without_storing_it_in_clear() -> None:
    vault = Vault(Fernet.generate_key())

    token = vault.encrypt(Secret(KEY))

    assert KEY.encode() not in token
    assert vault.decrypt(token) == Secret(KEY)


def test_a_vault_with_another_key_says_the_secret_key_changed() -> None:
    token = Vault(Fernet.generate_key()).encrypt(Secret(KEY))

    with pytest.raises(RuntimeError) as raised:
        Vault(Fernet.generate_key()).decrypt(token)

    assert str(raised.value) == (
        "a stored secret cannot be decrypted: RBTK_SECRET_KEY is not the key it was encrypted with"
    )


def test_a_key_is_generated_once_into_the_data_directory_readable_only_by_its_owner(
    tmp_path: Path,
) -> None:
    first = load_or_create_key(None, tmp_path / "data")
    second = load_or_create_key(None, tmp_path / "data")

    assert first == second
    Fernet(first)  # a usable key
    path = tmp_path / "data" / "secret.key"
    assert path.read_text() == first + "\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_configured_key_is_used_and_nothing_is_written(tmp_path: Path) -> None:
    configured = Fernet.generate_key().decode()

    assert load_or_create_key(SecretStr(configured), tmp_path) == configured
    assert list(tmp_path.iterdir()) == []


def test_a_configured_key_that_is_not_a_fernet_key_is_refused_with_how_to_make_one(
    tmp_path: Path,
) -> None:
    with pytest.raises(ValueError) as raised:
        load_or_create_key(SecretStr("not-a-key"), tmp_path)

    assert str(raised.value).startswith(
        "RBTK_SECRET_KEY must be a Fernet key (32 url-safe base64-encoded bytes); "
        "make one with: python -c"
    )


def test_settings_never_show_the_secret_key(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()

    settings = Settings(data_dir=tmp_path, secret_key=key)

    assert key not in repr(settings) and key not in str(settings.model_dump())
