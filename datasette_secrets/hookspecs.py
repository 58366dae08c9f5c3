"""The hook specs (``register_secrets``, ``register_secrets_key_providers``), and
the marker for this plugin's hooks.

Both come from pluggy, not Datasette: this module is imported before anything
from Datasette (see ``datasette_secrets/__init__.py``).
"""

from pluggy import HookimplMarker, HookspecMarker

hookspec = HookspecMarker("datasette")
# The same marker as ``datasette.hookimpl``, made without importing Datasette.
hookimpl = HookimplMarker("datasette")


@hookspec
def register_secrets(datasette):
    """Return the secrets this plugin needs, as a list of ``Secret`` objects.

    An implementation may leave out the ``datasette`` argument. It may return
    the list itself, a function returning the list, or an async function
    returning the list.
    """


@hookspec
def register_secrets_key_providers(datasette):
    """Return key providers the ``key_provider`` setting may name, as a list
    of factories: each has a ``name`` and is called with that provider's
    settings (a dict) to make the provider, raising ValueError for bad ones.

    Called synchronously, at startup. See ``datasette_secrets.providers`` for
    what a provider is; this plugin registers ``vault_transit`` and
    ``aws_kms`` through this hook too.
    """
