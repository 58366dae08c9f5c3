"""A stand-in for real plugins: registers a few example secrets for the demo."""

from datasette import Response, hookimpl
from markupsafe import Markup

from datasette_secrets import Secret, get_secret, get_secrets


@hookimpl
def register_secrets():
    return [
        Secret(
            "OPENAI_API_KEY",
            Markup("An OpenAI API key, for plugins that call <strong>OpenAI</strong> models."),
            obtain_url="https://platform.openai.com/api-keys",
            obtain_label="Get an OpenAI key",
        ),
        Secret(
            "GEOCODIO_API_KEY",
            "Used by geocoding enrichments.",
            obtain_url="https://dash.geocod.io/apikey",
            obtain_label="Get a Geocodio key",
        ),
        Secret("MAPBOX_TOKEN", "A Mapbox access token for map tiles."),
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
