"""Secrets as a type: integration keys and webhook URLs are masked everywhere but the wire.

`Secret` has no str/repr/JSON form other than the mask, so a key cannot reach a log line,
an API response or a template by accident. `Vault` encrypts them at rest with Fernet.
"""

import hashlib
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr

MASK = "••••••••"


class Secret:
    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The clear value: only for building the outbound request."""
        return self._value

    @property
    def masked(self) -> str:
        return mask(self._value)

    @property
    def fingerprint(self) -> str:
        """A stable, non-reversible id for rate budgets and equality checks."""
        return hashlib.sha256(self._value.encode()).hexdigest()[:32]

    def __repr__(self) -> str:
        return f"Secret({self.masked!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def mask(value: str) -> str:
    return f"{MASK}…{value[-4:]}" if len(value) > 8 else MASK


class Vault:
    """Fernet encryption of secrets at rest, with a small cache: the hot path decrypts the
    same few connector keys for every outbox row."""

    def __init__(self, key: str | bytes) -> None:
        self._fernet = Fernet(key)
        self._cache: dict[bytes, Secret] = {}

    def encrypt(self, secret: Secret) -> bytes:
        return self._fernet.encrypt(secret.reveal().encode())

    def decrypt(self, token: bytes) -> Secret:
        cached = self._cache.get(token)
        if cached is None:
            try:
                cached = Secret(self._fernet.decrypt(token).decode())
            except InvalidToken:
                raise RuntimeError(
                    "a stored secret cannot be decrypted: RBTK_SECRET_KEY is not the key "
                    "it was encrypted with"
                ) from None
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[token] = cached
        return cached


def load_or_create_key(setting: SecretStr | None, data_dir: Path) -> str:
    """RBTK_SECRET_KEY when set; else a key generated once into the data directory."""
    configured = setting.get_secret_value() if setting else None
    if configured:
        try:
            Fernet(configured)
        except ValueError:
            raise ValueError(
                "RBTK_SECRET_KEY must be a Fernet key (32 url-safe base64-encoded bytes); "
                "make one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'"
            ) from None
        return configured
    path = data_dir / "secret.key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key
