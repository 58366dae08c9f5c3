"""A stand-in for real plugins: registers a few example secrets for the demo."""

from datasette import hookimpl

from datasette_secrets import Secret


@hookimpl
def register_secrets():
    return [
        Secret(
            "OPENAI_API_KEY",
            "An OpenAI API key, for plugins that call <strong>OpenAI</strong> models.",
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
