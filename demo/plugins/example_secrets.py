"""A stand-in for real plugins: registers a few example secrets for the demo."""

from datasette import Response, hookimpl
from markupsafe import Markup

from datasette_secrets import Secret, get_secret, get_secrets


async def check_openai_shape(datasette, value):
    """A check that works offline: it only looks at the key's shape.

    A real plugin would call the service, e.g. list models with the key, and
    return (True, "Works: N models") or (False, "Rejected: HTTP 401").
    """
    if value.startswith("sk-") and len(value) >= 20:
        return True, "Looks like an OpenAI key (this demo checks the shape only)"
    return False, "OpenAI keys start with sk- and are at least 20 characters long"


async def check_mapbox_shape(datasette, value):
    if value.startswith(("pk.", "sk.")):
        return True, "Looks like a Mapbox token"
    return False, "Mapbox tokens start with pk. or sk."


@hookimpl
def register_secrets():
    return [
        Secret(
            "OPENAI_API_KEY",
            Markup("An OpenAI API key, for plugins that call <strong>OpenAI</strong> models."),
            obtain_url="https://platform.openai.com/api-keys",
            obtain_label="Get an OpenAI key",
            check=check_openai_shape,
            # Each signed-in person may keep their own key (My secrets), billed to them.
            personal=True,
        ),
        Secret(
            "GEOCODIO_API_KEY",
            "Used by geocoding enrichments.",
            obtain_url="https://dash.geocod.io/apikey",
            obtain_label="Get a Geocodio key",
        ),
        Secret("MAPBOX_TOKEN", "A Mapbox access token for map tiles.", check=check_mapbox_shape),
        Secret("DEMO_FROM_ENVIRONMENT", "Set by the demo from an environment variable, so read-only here."),
    ]


async def use_secrets(datasette, request):
    """Reads every example secret as a plugin would, so 'Last used' fills in."""
    actor_id = request.actor["id"] if request.actor else None
    lines = []
    for secret in await get_secrets(datasette):
        value = await get_secret(datasette, secret.name, actor_id)
        lines.append(f"{secret.name}: {'has a value' if value else 'no value'}")
    return Response.text("\n".join(lines) + "\n")


@hookimpl
def register_routes():
    return [(r"^/-/example-use-secrets$", use_secrets)]
