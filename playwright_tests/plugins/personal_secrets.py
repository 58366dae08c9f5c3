"""A personal secret and a page that reads it as a plugin would, for test_personal.py.

Registered only when ``PLAYWRIGHT_PERSONAL=1`` is in the server's environment
(``start_datasette(personal=True)``), so the other tests' lists are unchanged.
``/-/test-own-value`` answers with the value ``get_secret`` gives the signed-in
actor: a test plugin's page, to show each actor gets their own.
"""

import os

from datasette import Response, hookimpl

from datasette_secrets import Secret, get_secret

ENABLED = os.environ.get("PLAYWRIGHT_PERSONAL") == "1"


async def check_shape(datasette, value):
    return value.startswith("sk-"), "Starts with sk-" if value.startswith("sk-") else "Does not start with sk-"


@hookimpl
def register_secrets():
    if not ENABLED:
        return []
    return [
        Secret(
            "AI_PERSONAL_KEY", "Your own key for the AI plugin, billed to you",
            obtain_url="https://example.com/keys", obtain_label="Get a key", personal=True, check=check_shape,
        )
    ]


async def own_value(datasette, request):
    actor_id = request.actor["id"] if request.actor else None
    value = await get_secret(datasette, "AI_PERSONAL_KEY", actor_id)
    return Response.text(value or "(none)")


@hookimpl
def register_routes():
    return [(r"^/-/test-own-value$", own_value)] if ENABLED else []
