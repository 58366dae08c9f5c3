"""The ``register_secrets`` hook spec, and the marker for this plugin's hooks.

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
