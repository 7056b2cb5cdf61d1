"""Secrets as a type: integration keys and webhook URLs are masked everywhere but the wire.

`Secret` has no str/repr/JSON form other than the mask, so a key cannot reach a log line,
an API response or a template by accident. `Vault` encrypts them at rest with Fernet, under
one key or, while the secret key is being rotated, several (`rbtk.secret_keys`).
"""

import hashlib
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
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


class UndecryptableSecret(RuntimeError):
    """A stored secret was encrypted with a key this rbtk is not configured with."""

    def __init__(self) -> None:
        super().__init__(
            "a stored secret cannot be decrypted: RBTK_SECRET_KEY is not the key it was "
            "encrypted with"
        )


class Vault:
    """Fernet encryption of secrets at rest, with a small cache: the hot path decrypts the
    same few connector keys for every outbox row.

    Several keys support rotating the secret key: a secret is decrypted with whichever
    key it was encrypted with, and always encrypted with the first (cryptography's
    MultiFernet); `rotate` re-encrypts a stored secret with the first key."""

    def __init__(self, *keys: str | bytes) -> None:
        if not keys:
            raise ValueError("a vault needs at least one key")
        self._first = Fernet(keys[0])
        self._fernet = MultiFernet([self._first, *(Fernet(key) for key in keys[1:])])
        self._cache: dict[bytes, Secret] = {}

    def encrypt(self, secret: Secret) -> bytes:
        return self._fernet.encrypt(secret.reveal().encode())

    def decrypt(self, token: bytes) -> Secret:
        cached = self._cache.get(token)
        if cached is None:
            try:
                cached = Secret(self._fernet.decrypt(token).decode())
            except InvalidToken:
                raise UndecryptableSecret() from None
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[token] = cached
        return cached

    def can_decrypt(self, token: bytes) -> bool:
        try:
            self.decrypt(token)
        except UndecryptableSecret:
            return False
        return True

    def is_current(self, token: bytes) -> bool:
        """Whether the secret is encrypted with the first key (nothing left to rotate)."""
        try:
            self._first.decrypt(token)
        except InvalidToken:
            return False
        return True

    def rotate(self, token: bytes) -> bytes:
        """The same secret encrypted with the first key."""
        try:
            return self._fernet.rotate(token)
        except InvalidToken:
            raise UndecryptableSecret() from None


_MAKE_ONE = (
    "make one with: python -c 'from cryptography.fernet import Fernet; "
    "print(Fernet.generate_key().decode())'"
)


class BadSecretKey(ValueError):
    """RBTK_SECRET_KEY is not one or more Fernet keys; the message says how to make one."""


def load_or_create_keys(setting: SecretStr | None, data_dir: Path) -> list[str]:
    """The keys of RBTK_SECRET_KEY when set (`NEW` or, while rotating, `NEW,OLD`: the first
    encrypts, any decrypts); else one key generated once into the data directory."""
    configured = setting.get_secret_value() if setting else None
    if configured and configured.strip(" ,"):
        keys = [part.strip() for part in configured.split(",") if part.strip()]
        for number, key in enumerate(keys, start=1):
            try:
                Fernet(key)
            except ValueError:
                if len(keys) == 1:
                    raise BadSecretKey(
                        "RBTK_SECRET_KEY must be a Fernet key (32 url-safe base64-encoded "
                        f"bytes); {_MAKE_ONE}"
                    ) from None
                raise BadSecretKey(
                    "RBTK_SECRET_KEY must be Fernet keys separated by commas, the one to "
                    f"encrypt with first: key {number} of {len(keys)} is not one (32 url-safe "
                    f"base64-encoded bytes); {_MAKE_ONE}"
                ) from None
        return keys
    path = data_dir / "secret.key"
    if path.exists():
        return [path.read_text().strip()]
    data_dir.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return [key]
