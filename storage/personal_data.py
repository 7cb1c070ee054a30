"""Personal data at rest: AES-GCM with the town's data key, and a keyed hash to find an ID number.

Names, phone numbers and ID numbers of people under observation are sensitive personal
information (PIPL). They are stored only encrypted; the blind index (HMAC of the normalised ID
number) lets the bot find a person again without decrypting anyone. Two subkeys are derived from
the one key in VILLAGEBOT_DATA_KEY, so the index cannot be used to decrypt and the other way round.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

DATA_KEY_ENV = "VILLAGEBOT_DATA_KEY"
_PREFIX = "v1:"


class DataKeyError(Exception):
    """No usable data key; the message says how to make one."""


def new_key() -> str:
    """32 random bytes, URL-safe base64: what goes into VILLAGEBOT_DATA_KEY."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


HOW_TO_MAKE_A_KEY = (
    f"set {DATA_KEY_ENV} to 32 random bytes in URL-safe base64 (44 characters); make one with "
    "`villagebot keygen` and keep it safe: without it the stored names cannot be read"
)


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"villagebot " + purpose).derive(master)


class DataKey:
    def __init__(self, encoded: str) -> None:
        try:
            master = base64.urlsafe_b64decode(encoded.strip().encode())
        except (binascii.Error, ValueError):
            master = b""
        if len(master) != 32:
            raise DataKeyError(f"{DATA_KEY_ENV} is not 32 bytes of URL-safe base64; {HOW_TO_MAKE_A_KEY}")
        self._cipher = AESGCM(_derive(master, b"encryption"))
        self._index_key = _derive(master, b"blind index")
        # Stored with the data: a start on another key is refused, and a running bot notices a rotation.
        # A subkey of its own, so the fingerprint tells nothing about the other two.
        self.fingerprint = hmac.new(_derive(master, b"fingerprint"), b"villagebot", hashlib.sha256).hexdigest()[:32]

    @classmethod
    def from_environment(cls, variable: str = DATA_KEY_ENV) -> DataKey | None:
        value = os.environ.get(variable)
        return cls(value) if value else None

    def encrypt(self, plaintext: str, field: str) -> str:
        """Ciphertext bound to its field name, so a name cannot be swapped into the ID column."""
        nonce = secrets.token_bytes(12)
        sealed = self._cipher.encrypt(nonce, plaintext.encode("utf-8"), field.encode())
        return _PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def decrypt(self, ciphertext: str, field: str) -> str:
        if not ciphertext.startswith(_PREFIX):
            raise DataKeyError("this value was not encrypted by villagebot")
        raw = base64.urlsafe_b64decode(ciphertext[len(_PREFIX) :].encode())
        try:
            return self._cipher.decrypt(raw[:12], raw[12:], field.encode()).decode("utf-8")
        except InvalidTag:
            raise DataKeyError(
                f"cannot decrypt with this {DATA_KEY_ENV}: is it the key the data was stored with?"
            ) from None

    def can_read(self, ciphertext: str, field: str) -> bool:
        try:
            self.decrypt(ciphertext, field)
        except DataKeyError:
            return False
        return True

    def blind_index(self, value: str) -> str:
        return hmac.new(self._index_key, value.strip().upper().encode(), hashlib.sha256).hexdigest()


def wrong_key(stored: str) -> DataKeyError:
    return DataKeyError(
        f"{DATA_KEY_ENV} is not the key the personal data in this database is stored with (that key's "
        f"fingerprint is {stored}). Start with that key; to change keys, run `villagebot rotate-key` with "
        "the old key in VILLAGEBOT_DATA_KEY_OLD and the new one in VILLAGEBOT_DATA_KEY."
    )
