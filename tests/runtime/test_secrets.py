"""Secrets as a type: masked everywhere, encrypted at rest."""

import json
import logging
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from rbtk.runtime.secrets import Secret, UndecryptableSecret, Vault, load_or_create_keys, mask
from rbtk.runtime.settings import Settings

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

    with pytest.raises(UndecryptableSecret) as raised:
        Vault(Fernet.generate_key()).decrypt(token)

    assert str(raised.value) == (
        "a stored secret cannot be decrypted: RBTK_SECRET_KEY is not the key it was encrypted with"
    )


def test_a_vault_with_several_keys_decrypts_with_any_and_encrypts_with_the_first() -> None:
    new, old = Fernet.generate_key(), Fernet.generate_key()
    from_old = Vault(old).encrypt(Secret(KEY))

    vault = Vault(new, old)
    written = vault.encrypt(Secret(KEY))

    assert vault.decrypt(from_old) == Secret(KEY)
    assert Vault(new).decrypt(written) == Secret(KEY)
    assert (vault.is_current(written), vault.is_current(from_old)) == (True, False)


def test_rotating_a_stored_secret_re_encrypts_it_with_the_first_key() -> None:
    new, old = Fernet.generate_key(), Fernet.generate_key()
    from_old = Vault(old).encrypt(Secret(KEY))

    rotated = Vault(new, old).rotate(from_old)

    assert Vault(new).decrypt(rotated) == Secret(KEY)
    with pytest.raises(UndecryptableSecret):
        Vault(Fernet.generate_key()).rotate(from_old)


def test_a_key_is_generated_once_into_the_data_directory_readable_only_by_its_owner(
    tmp_path: Path,
) -> None:
    first = load_or_create_keys(None, tmp_path / "data")
    second = load_or_create_keys(None, tmp_path / "data")

    assert first == second
    [key] = first
    Fernet(key)  # a usable key
    path = tmp_path / "data" / "secret.key"
    assert path.read_text() == key + "\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_configured_key_is_used_and_nothing_is_written(tmp_path: Path) -> None:
    configured = Fernet.generate_key().decode()

    assert load_or_create_keys(SecretStr(configured), tmp_path) == [configured]
    assert list(tmp_path.iterdir()) == []


def test_several_configured_keys_are_read_in_order_the_first_to_encrypt_with(
    tmp_path: Path,
) -> None:
    new, old = Fernet.generate_key().decode(), Fernet.generate_key().decode()

    assert load_or_create_keys(SecretStr(f"{new}, {old}"), tmp_path) == [new, old]


def test_a_configured_key_that_is_not_a_fernet_key_is_refused_with_how_to_make_one(
    tmp_path: Path,
) -> None:
    with pytest.raises(ValueError) as raised:
        load_or_create_keys(SecretStr("not-a-key"), tmp_path)

    assert str(raised.value).startswith(
        "RBTK_SECRET_KEY must be a Fernet key (32 url-safe base64-encoded bytes); "
        "make one with: python -c"
    )


def test_a_bad_key_among_several_is_named_by_its_position(tmp_path: Path) -> None:
    good = Fernet.generate_key().decode()

    with pytest.raises(ValueError) as raised:
        load_or_create_keys(SecretStr(f"{good},not-a-key"), tmp_path)

    assert str(raised.value).startswith(
        "RBTK_SECRET_KEY must be Fernet keys separated by commas, the one to encrypt with "
        "first: key 2 of 2 is not one (32 url-safe base64-encoded bytes); make one with: "
        "python -c"
    )
    assert "not-a-key" not in str(raised.value)


def test_settings_never_show_the_secret_key(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()

    settings = Settings(data_dir=tmp_path, secret_key=key)

    assert key not in repr(settings) and key not in str(settings.model_dump())
