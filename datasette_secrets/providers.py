"""Key providers: where a site's data key is kept when it is not on the host.

A key provider wraps (encrypts) and unwraps (decrypts) the site's data key,
the key the values are encrypted with; it never sees a value. The plugin
stores the data key only in its wrapped form (``store_wrapped``), unwraps it
once per process (``envelope``) and then encrypts and decrypts values itself,
exactly as with a key in the configuration: no read or write of a value ever
calls the provider.

A provider is a small object:

- ``name``: the name it is configured under (``key_provider: {NAME: {...}}``);
- ``async wrap(plaintext: bytes, context: dict) -> bytes | str``;
- ``async unwrap(wrapped, context) -> bytes``: raises ``KeyProviderError``
  when the provider refuses, or when ``context`` is not the one it was
  wrapped with;
- ``async rewrap(wrapped, context) -> bytes | str`` (optional): the same
  plaintext wrapped under the provider's newest key version, without the
  plaintext leaving the provider (without it, rewrap-key unwraps and wraps);
- ``describe() -> dict``: ``{"provider": ..., "key": ..., "where": ...}``
  for pages and messages: never a credential;
- ``version(wrapped) -> str | None`` (optional): the provider key's version
  that wrapped ``wrapped``, when the provider tells.

``context`` binds the wrapped key to where it belongs: ``{"plugin":
"datasette-secrets", "key_id": ...}`` (``context_for``). A provider must make
unwrapping fail with any other context (Transit's derived-key context, KMS's
encryption context). Errors are ``KeyProviderError``, worded to name the
provider and its key and never a token or other credential.

Providers come from the ``register_secrets_key_providers`` hook (this plugin
registers its own two, ``vault_transit`` and ``aws_kms``, through it): a list
of factories, each with a ``name``, called with the provider's settings (a
dict, ``$env`` and ``$file`` resolved) and raising ValueError for bad ones.
Configuration stays synchronous: making a provider calls nothing.
"""

import json

PLUGIN = "datasette-secrets"


class KeyProviderError(Exception):
    """A key provider could not wrap, unwrap or rewrap a data key.

    ``denied`` is True when the provider answered and refused (access denied,
    token revoked, key disabled, wrong context), False when it could not be
    reached or did not answer in time. The message names the provider and its
    key, never a credential.
    """

    def __init__(self, message, denied=False):
        super().__init__(message)
        self.denied = denied


def context_for(key_id):
    """The context a data key is wrapped with: this plugin and the key's id."""
    return {"plugin": PLUGIN, "key_id": key_id}


def context_text(context):
    """``context`` as one canonical text (sorted keys), for providers that take bytes."""
    return json.dumps(context, sort_keys=True, separators=(",", ":"))


def describe(provider):
    """``provider.describe()``, with the name filled in, as text: "vault_transit (key
    datasette-secrets at http://127.0.0.1:8200)"."""
    facts = provider.describe()
    text = f"{facts.get('provider') or provider.name} (key {facts.get('key')}"
    if facts.get("where"):
        text += f" at {facts['where']}"
    return text + ")"


def check_settings(name, options, known, required):
    """Raise ValueError for settings of provider ``name`` that are not ``known``
    or missing from ``required``; returns ``options`` as a dict."""
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise ValueError(f"its settings must be a mapping of {', '.join(sorted(known))}")
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ValueError(
            f"unknown setting{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
            f"(it takes {', '.join(sorted(known))})"
        )
    for setting in required:
        value = options.get(setting)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ValueError(
                f"'{setting}' is not set (if it is read with $env, that variable is not set)"
            )
    return options


def registered(datasette):
    """{name: [factory, ...]} of every key provider the installed plugins register."""
    from datasette.plugins import pm

    found = {}
    for factories in pm.hook.register_secrets_key_providers(datasette=datasette):
        for factory in factories or []:
            found.setdefault(getattr(factory, "name", None), []).append(factory)
    return found


def configured(datasette, spec):
    """The provider object ``key_provider`` configures (``spec``, as read), or None.

    Raises ValueError with a message an admin can act on; calls no provider.
    """
    if spec is None:
        return None
    if not isinstance(spec, dict) or len(spec) != 1 or not isinstance(next(iter(spec)), str):
        raise ValueError(
            "'key_provider' must name one provider with its settings, for example "
            "key_provider: {vault_transit: {url: ..., key: ..., token: {$env: VAULT_TOKEN}}}"
        )
    ((name, options),) = spec.items()
    factories = registered(datasette)
    found = factories.get(name, [])
    if not found:
        known = ", ".join(sorted(n for n in factories if n)) or "none"
        raise ValueError(f"no key provider is called {name!r} (installed: {known})")
    if len(found) > 1:
        raise ValueError(f"{len(found)} installed plugins register a key provider called {name!r}")
    try:
        return found[0](options)
    except ValueError as e:
        raise ValueError(f"key_provider {name}: {e}") from None
