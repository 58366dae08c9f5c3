"""Runs the published datasette-secrets 0.3a0's own tests against this plugin.

``upstream/test_secrets.py`` is that file, fetched from the 0.3a0 sdist by
``fetch.py`` (scripts/test runs it first); ``upstream/`` is git-ignored, so
until the fetch has run there is nothing here to collect. The published tests
exercise the API (``get_secret``, ``get_config``, ``Secret``, the
``register_secrets`` hook, the CLI, the permission) and are patched in exactly
two ways, neither about that API:

1. CSRF tokens (fetch.py): the file reads one from the ``ds_csrftoken``
   cookie; Datasette 1.0a41 sets none (a middleware refuses cross-site unsafe
   requests instead), so each lookup becomes an empty token.
2. ``EXAMPLE_SECRET`` (the fixture below): 0.3a0 always registered it itself
   and the tests set and read it; this plugin registers no secret of its own,
   so a test plugin registers it here, with 0.3a0's description.

Three tests are deselected by name (``DESELECTED``, each with its reason):
each also asserts behaviour this plugin deliberately changed, which no
patch of those two kinds could reconcile. Their API assertions (a stored
value is returned, the environment variable wins) are in test_get_secret.py.
``PUBLISHED_RUN_ALL=1`` runs them too, to see where they diverge.
"""

import os
from pathlib import Path

import pytest
from datasette import hookimpl
from datasette.plugins import pm

from datasette_secrets import Secret

UPSTREAM = Path(__file__).parent / "upstream"

DESELECTED = {
    "test_set_secret": (
        "asserts 0.3a0's storage and page: the no-JS redirect goes to the row "
        "(/-/secrets#secret-NAME), rows store AES-GCM ciphertext under a key id "
        "instead of a Fernet token under 'default', and the list's HTML differs"
    ),
    "test_get_secret": (
        "asserts 'last used' is written to the version's row on each read (it is "
        "buffered, written at most once a second, to datasette_secrets_usage), "
        "0.3a0's page HTML, and None once the table is dropped (this plugin "
        "raises SecretStoreError)"
    ),
    "test_secret_index_page": "asserts 0.3a0's exact list-page HTML",
}


class ExampleSecretPlugin:
    __name__ = "ExampleSecretPlugin"

    @hookimpl
    def register_secrets(self):
        return [Secret("EXAMPLE_SECRET", "An example secret")]


@pytest.fixture(autouse=True)
def example_secret():
    """EXAMPLE_SECRET is registered for every published test, as 0.3a0 did itself."""
    pm.register(ExampleSecretPlugin(), name="published-example-secret")
    yield
    pm.unregister(name="published-example-secret")


def pytest_collection_modifyitems(config, items):
    """Deselects (never skips) the published tests named in DESELECTED, visibly."""
    if os.environ.get("PUBLISHED_RUN_ALL") == "1":
        return
    deselected = [
        item for item in items
        if UPSTREAM in item.path.parents and item.originalname in DESELECTED
    ]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item not in deselected]
