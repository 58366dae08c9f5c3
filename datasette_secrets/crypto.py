"""Keys, key ids and authenticated encryption of secret values.

Every value is encrypted with AES-256-GCM. The secret's name and version number
are the associated data, so a ciphertext copied into another secret's row, or
into a newer version's row of the same secret, fails authentication instead of
decrypting to a value that does not belong there. (Rows in the first format of
this plugin, 0x01, are bound to the name only; they still decrypt, and get the
version binding when re-encrypted: a new version, a restore, or a rotation.)

Every value written now (0x03) is padded with zeros to a multiple of
``PAD_BYTES`` (64) bytes before encryption, after a byte counting the zeros
(so its length is kept inside the ciphertext), and the format byte is part of
the associated data: a ciphertext's length tells only how many 64-byte blocks
its value takes, not its length. Rows of the unpadded version-bound format
(0x02) still decrypt, and are padded when re-encrypted.

The configured key is the Fernet key format (32 random bytes, url-safe
base64), so keys made for the published datasette-secrets keep working; the
AES key and the key id are both derived from it with HKDF, so the stored key
id reveals nothing about the key.

Rows written by datasette-secrets 0.2/0.3 hold plain Fernet tokens with the key
name ``default``; they still decrypt with the same configured key. Fernet does
not bind a token to a name, so those rows gain that protection only when they
are written again (a new version, or a restore).

This module never touches the database.
"""

import base64
import binascii
import json
import os
import secrets as _random

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

LEGACY_KEY_NAME = "default"
NAME_BOUND = b"\x01"  # associated data: the name (read, never written now)
VERSION_BOUND = b"\x02"  # associated data: the name and the version number (read, never written now)
PADDED = b"\x03"  # as VERSION_BOUND, the value padded and its length inside: written now
# The formats with the version binding: none of them is ever followed by an
# older format (what the planted-row check refuses).
CURRENT_FORMATS = (VERSION_BOUND, PADDED)
WRITTEN = PADDED  # the format encrypt writes, which a key rotation brings every row to
NONCE_BYTES = 12
TAG_BYTES = 16
PAD_BYTES = 64  # a padded value takes a whole number of these, at least one
GENERATE_COMMAND = "datasette secrets generate-encryption-key"


class EncryptionKeyError(ValueError):
    """The configured encryption key is not a valid key."""


class SecretDecryptionError(Exception):
    """A stored secret could not be decrypted.

    Raised when no configured key has the row's key id, or when the ciphertext
    fails authentication (tampered with, or moved from another secret's row).
    ``name`` and ``key_id`` say which secret and which key.
    """

    def __init__(self, name, key_id, reason):
        self.name = name
        self.key_id = key_id
        self.reason = reason
        super().__init__(
            f"Could not decrypt secret {name!r} (key id {key_id!r}): {reason}"
        )


class SecretTamperedError(SecretDecryptionError):
    """A stored secret's current version was changed outside the plugin in a way it can tell.

    Raised instead of returning the value when the newest live version is
    older than one this process already served (newer versions were removed
    from the database), or is in an old format although the secret has
    versions in the current one (a row planted from elsewhere). A subclass of
    SecretDecryptionError, so code that handles that handles this too.
    ``name``, ``version`` and ``key_id`` say which row; the message never
    holds a value.
    """

    def __init__(self, name, version, key_id, reason):
        super().__init__(name, key_id, reason)
        self.version = version
        self.args = (f"Refused secret {name!r}: {reason}",)


class SecretKeyUnavailableError(SecretDecryptionError):
    """A stored secret cannot be decrypted now: its data key is kept by a key
    provider (Vault/OpenBao Transit, AWS KMS, ...) and has not been unwrapped.

    Raised by ``get_secret`` at once, never after waiting on the provider,
    while the provider is unreachable or refuses (the plugin keeps retrying in
    the background, and the value reads again once it answers). A subclass of
    SecretDecryptionError, so code that handles that handles this too.
    ``reason`` says which provider and key and what went wrong, never a
    credential.
    """

    def __init__(self, name, key_id, reason):
        super().__init__(name, key_id, reason)
        self.args = (f"Secret {name!r} cannot be decrypted now: {reason}",)


def generate_key():
    """A new random key: 32 bytes, url-safe base64 (the Fernet key format)."""
    return base64.urlsafe_b64encode(_random.token_bytes(32)).decode("ascii")


def _derive(raw, info):
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=info
    ).derive(raw)


class Key:
    """One encryption key, parsed from its url-safe base64 text."""

    def __init__(self, text):
        if not isinstance(text, str) or not text.strip():
            raise EncryptionKeyError(
                f"The encryption key is empty. Make one with: {GENERATE_COMMAND}"
            )
        text = text.strip()
        try:
            raw = base64.urlsafe_b64decode(text.encode("ascii"))
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raw = b""
        if len(raw) != 32:
            raise EncryptionKeyError(
                "The encryption key is not valid: it must be 32 bytes encoded "
                f"as url-safe base64 (44 characters). Make one with: {GENERATE_COMMAND}"
            )
        self._fernet_text = text
        self._aead = AESGCM(_derive(raw, b"datasette-secrets value key v1"))
        self.id = _derive(raw, b"datasette-secrets key id v1")[:6].hex()

    def __repr__(self):
        return f"<Key {self.id}>"

    @property
    def text(self):
        """The key as configured (stripped): for refusing to hand it out as a secret."""
        return self._fernet_text

    def encrypt(self, name, version, value, owner=None):
        """``value`` encrypted for version ``version`` of the secret ``name``
        (of ``owner``'s own value of it, for a personal secret)."""
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = self._aead.encrypt(nonce, _padded(value.encode("utf-8")), PADDED + _aad(name, version, owner))
        return PADDED + nonce + ciphertext

    def decrypt(self, name, version, blob, owner=None):
        return self.opener(name, version, blob, owner)()

    def opener(self, name, version, blob, owner=None):
        """A function that decrypts ``blob`` (version ``version`` of ``name``) when called.

        The parsing is done once, so a cached ciphertext costs one AES-GCM
        decryption per read. The function raises SecretDecryptionError.
        """
        blob = _as_bytes(blob)
        if blob is None:
            return _failing(name, self.id, "the stored ciphertext is not a ciphertext (not bytes)")
        form = blob[:1]
        if form == PADDED:
            # The format byte is authenticated too: relabelled 0x02, a padded row fails.
            aad = PADDED + _aad(name, version, owner)
        elif form == VERSION_BOUND:
            aad = _aad(name, version, owner)
        elif form == NAME_BOUND and owner is None:
            aad = _aad(name)
        else:
            aad = None
        if aad is None or len(blob) < 1 + NONCE_BYTES + TAG_BYTES:
            return _failing(name, self.id, "unknown or truncated ciphertext")
        nonce, ciphertext = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
        decrypt, key_id = self._aead.decrypt, self.id

        def failed():
            return SecretDecryptionError(
                name,
                key_id,
                "the ciphertext failed authentication (tampered with, or "
                "copied from another secret or another version)",
            )

        if form != PADDED:

            def open_value():
                try:
                    return decrypt(nonce, ciphertext, aad).decode("utf-8")
                except InvalidTag:
                    raise failed() from None

            return open_value

        def open_padded():
            try:
                plain = decrypt(nonce, ciphertext, aad)
            except InvalidTag:
                raise failed() from None
            end = len(plain) - plain[0]  # the first byte counts the zeros after the value
            if end < 1:  # authentic, so written with this key, but not by this plugin
                raise SecretDecryptionError(name, key_id, "the padded value's length is out of range")
            return plain[1:end].decode("utf-8")

        return open_padded

    def decrypt_legacy(self, name, token):
        token = _as_bytes(token)
        try:
            if token is None:
                raise InvalidToken
            return Fernet(self._fernet_text).decrypt(token).decode("utf-8")
        except InvalidToken:
            raise SecretDecryptionError(
                name,
                LEGACY_KEY_NAME,
                "the legacy Fernet token did not decrypt with the configured "
                "key (wrong key, or the token was tampered with)",
            )


class Keyring:
    """The configured keys. The first encrypts; any of them may decrypt."""

    def __init__(self, keys):
        self.keys = list(keys)
        # Why there are no keys, under a key provider whose data key is not
        # unwrapped (yet): a message naming the provider and key; else None.
        self.unavailable = None

    def install(self, keys):
        """Make ``keys`` (current first) this keyring's keys, in place: every
        holder of this keyring (the cache, pending imports, the rules) sees them."""
        self.keys[:] = list(keys)
        self.unavailable = None

    @property
    def primary(self):
        return self.keys[0] if self.keys else None

    def encrypt(self, name, version, value, owner=None):
        """Encrypt ``value`` for version ``version`` of ``name`` (``owner``'s own
        value, for a personal secret): returns (key_id, blob)."""
        return self.primary.id, self.primary.encrypt(name, version, value, owner)

    def decrypt(self, name, version, key_id, blob, owner=None):
        return self.opener(name, version, key_id, blob, owner)()

    def opener(self, name, version, key_id, blob, owner=None):
        """A function that decrypts a stored row's ``blob`` each time it is called."""
        if key_id == LEGACY_KEY_NAME and owner is None:
            return lambda: self._decrypt_legacy(name, blob)
        for key in self.keys:
            if key.id == key_id:
                return key.opener(name, version, blob, owner)
        return _failing(name, key_id, "no configured encryption key has this key id")

    def _decrypt_legacy(self, name, blob):
        error = SecretDecryptionError(name, LEGACY_KEY_NAME, "no key configured")
        for key in self.keys:
            try:
                return key.decrypt_legacy(name, blob)
            except SecretDecryptionError as e:
                error = e
        raise error


def old_format(key_id, blob):
    """What older releases wrote, named for a message, or None for a current format.

    "a Fernet token" (0.2/0.3, key id ``default``, bound to nothing) or "bound
    to the name only" (0x01); anything else, unreadable blobs included, is None:
    the CURRENT_FORMATS (0x02 unpadded, 0x03 padded) are both bound to the
    version, and neither is out of place after the other.
    """
    if key_id == LEGACY_KEY_NAME:
        return "a Fernet token of datasette-secrets 0.2/0.3"
    if (_as_bytes(blob) or b"")[:1] == NAME_BOUND:
        return "the first format, bound to the name only"
    return None


def _padded(data):
    """``data`` followed by zeros to a whole number of PAD_BYTES blocks (at least
    one), after one byte counting those zeros: the value's length, kept inside.

    One byte rather than a length field, because opening it is then an index
    and a slice (get_secret's hot path): 0 to 64 zeros always fit.
    """
    zeros = max(1, -(-len(data) // PAD_BYTES)) * PAD_BYTES - len(data)
    return bytes((zeros,)) + data + bytes(zeros)


def _failing(name, key_id, reason):
    def fail():
        raise SecretDecryptionError(name, key_id, reason)

    return fail


def _aad(name, version=None, owner=None):
    """The associated data: the name, and for new rows the version number too;
    for an actor's own value of a personal secret, the actor's id as well (a
    row moved to another actor, or to the shared value, fails to decrypt)."""
    if owner is not None:
        return b"datasette-secrets personal v1:" + json.dumps([name, owner, version]).encode("utf-8")
    if version is None:
        return b"datasette-secrets:" + name.encode("utf-8")
    return b"datasette-secrets v2:" + name.encode("utf-8") + b"\x00" + str(version).encode("ascii")


def _as_bytes(blob):
    """A stored ciphertext as bytes; None when the column holds something else."""
    if isinstance(blob, str):
        return blob.encode("utf-8")
    if isinstance(blob, (bytes, bytearray, memoryview)):
        return bytes(blob)
    return None  # NULL, a number: not a ciphertext
