"""Secrets registered for the Playwright suite: a stand-in for real plugins.

``PLAYWRIGHT_EXTRA_SECRETS=N`` in the server's environment registers N more,
``EXTRA_000`` and on, for tests of a long list.
"""

import asyncio
import os

from datasette import hookimpl
from markupsafe import Markup

from datasette_secrets import Secret


async def check_alpha(datasette, value):
    """Passes for values starting alpha-, fails otherwise."""
    if value.startswith("alpha-"):
        return True, "Alpha accepted the key"
    return False, "Alpha rejected the key: it must start with alpha-"


async def check_gamma(datasette, value):
    """Never answers in time: the 10-second limit stops it."""
    await asyncio.sleep(60)
    return True, "too late"


@hookimpl
def register_secrets():
    return [
        Secret(
            "ALPHA_API_KEY",
            Markup("Lets the <strong>Alpha</strong> enrichment call its API."),
            obtain_url="https://alpha.example.com/account/keys",
            obtain_label="Get an Alpha key",
            check=check_alpha,
        ),
        Secret(
            "BETA_TOKEN",
            "A token for the Beta map tiles.",
            obtain_url="https://beta.example.com/tokens",
            obtain_label="Create a Beta token",
        ),
        Secret("GAMMA_WEBHOOK_SECRET", "Signs the Gamma webhooks.", check=check_gamma),
        Secret(
            "ENV_SECRET",
            "Comes from an environment variable in these tests, so read-only.",
        ),
    ] + [
        Secret(f"EXTRA_{i:03d}", f"Extra secret number {i}.")
        for i in range(int(os.environ.get("PLAYWRIGHT_EXTRA_SECRETS", "0")))
    ]
