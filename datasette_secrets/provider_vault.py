"""The ``vault_transit`` key provider: HashiCorp Vault's or OpenBao's Transit
secrets engine, over its HTTP API with ``httpx2`` (Datasette's own HTTP client).

    key_provider:
      vault_transit:
        url: http://127.0.0.1:8200
        key: datasette-secrets        # a Transit key, created with derived=true
        token: {$env: VAULT_TOKEN}    # or {$file: ...}
        mount: transit                # optional

Four calls: ``keys/KEY`` (read, before wrapping: the key must exist and be
derived), ``encrypt``, ``decrypt`` and ``rewrap``. Transit's ``rewrap`` takes
no associated data, so the wrapped key is bound to its context with a derived
key's ``context`` (which encrypt, decrypt and rewrap all take): a wrapped key
moved to another key id, or to another application, does not decrypt. A key
that is not derived ignores the context, which is why ``wrap`` refuses one.
"""

import base64
import re

import httpx2

from .providers import KeyProviderError, check_settings, context_text

TIMEOUT = 5.0  # seconds for one call: a Transit call over a network takes milliseconds
SETTINGS = ("url", "key", "token", "mount")
VERSION = re.compile(r"^vault:v(\d+):")


class VaultTransit:
    """Wraps data keys with a Vault/OpenBao Transit key (see the module docstring)."""

    name = "vault_transit"

    def __init__(self, options):
        options = check_settings(self.name, options, SETTINGS, ("url", "key", "token"))
        for setting in SETTINGS:
            if setting in options and not isinstance(options[setting], str):
                raise ValueError(f"'{setting}' must be text")
        self.url = options["url"].strip().rstrip("/")
        if not self.url.startswith(("http://", "https://")):
            raise ValueError("'url' must start with http:// or https://")
        self.key = options["key"].strip()
        self.mount = (options.get("mount") or "transit").strip().strip("/")
        self._token = options["token"].strip()  # never in a message, a page or a repr

    def __repr__(self):
        return f"<VaultTransit {self.url} {self.mount}/{self.key}>"

    def describe(self):
        return {"provider": self.name, "key": self.key, "where": f"{self.url} (mount {self.mount})"}

    def version(self, wrapped):
        found = VERSION.match(_text(wrapped))
        return found.group(1) if found else None

    async def wrap(self, plaintext, context):
        await self._check_key()
        data = await self._call("POST", "encrypt", {"plaintext": _b64(plaintext), "context": _b64(context_text(context).encode())})
        return data["ciphertext"]

    async def unwrap(self, wrapped, context):
        data = await self._call("POST", "decrypt", {"ciphertext": _text(wrapped), "context": _b64(context_text(context).encode())})
        try:
            return base64.b64decode(data["plaintext"])
        except (KeyError, TypeError, ValueError):
            raise KeyProviderError(f"{self._where()}: the decrypt answer holds no plaintext", denied=True) from None

    async def rewrap(self, wrapped, context):
        data = await self._call("POST", "rewrap", {"ciphertext": _text(wrapped), "context": _b64(context_text(context).encode())})
        return data["ciphertext"]

    async def _check_key(self):
        """Refuse a key that does not exist or is not derived (it would ignore the context)."""
        data = await self._call("GET", "keys", None)
        if not data.get("derived"):
            raise KeyProviderError(
                f"{self._where()}: the Transit key was not created with derived=true, so it would "
                "not bind a wrapped key to its key id; create a new key with derived=true "
                f"(POST /v1/{self.mount}/keys/NAME with {{\"derived\": true}})",
                denied=True,
            )

    def _where(self):
        return f"vault_transit key {self.key!r} (mount {self.mount}) at {self.url}"

    async def _call(self, method, operation, body):
        url = f"{self.url}/v1/{self.mount}/{operation}/{self.key}"
        try:
            async with httpx2.AsyncClient(timeout=TIMEOUT) as client:
                response = await client.request(method, url, json=body, headers={"X-Vault-Token": self._token})
        except httpx2.TimeoutException:
            raise KeyProviderError(f"{self._where()}: no answer within {TIMEOUT:g} s") from None
        except httpx2.HTTPError as e:
            raise KeyProviderError(f"{self._where()}: unreachable ({type(e).__name__})") from None
        if response.status_code == 200:
            try:
                return response.json()["data"]
            except (ValueError, KeyError, TypeError):
                raise KeyProviderError(f"{self._where()}: not a Transit answer (HTTP 200 without data)") from None
        raise KeyProviderError(self._refusal(operation, response), denied=response.status_code < 500)

    def _refusal(self, operation, response):
        status = response.status_code
        if status == 403:
            return (
                f"{self._where()}: permission denied (HTTP 403): the token is invalid, expired or "
                f"revoked, or its policy does not allow {self.mount}/{operation}/{self.key}"
            )
        if status == 404:
            return f"{self._where()}: not found (HTTP 404): no such Transit key or mount"
        try:
            errors = "; ".join(str(error) for error in response.json().get("errors") or [])
        except (ValueError, AttributeError):
            errors = ""
        errors = errors.replace(self._token, "•••")[:300] if errors else f"HTTP {status}"
        if status == 503:
            errors += " (sealed, or standing by)"
        return f"{self._where()}: {operation} refused: {errors}"


def _b64(data):
    return base64.b64encode(data).decode("ascii")


def _text(wrapped):
    if isinstance(wrapped, (bytes, bytearray, memoryview)):
        return bytes(wrapped).decode("ascii", "replace")
    return str(wrapped)
