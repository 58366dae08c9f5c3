"""36 more secrets for the at-scale tests (test_at_scale.py): with the example
plugin's 4, a list of 40, more than one page.

Every test server loads this folder, so nothing is registered unless
``PLAYWRIGHT_SCALE=1`` is in the server's environment
(``start_datasette(scale=True)``).

Among them: a 72-character name, 1- and 2-character names, a 500-character
description and several obtain links. No name or description contains
"alpha": the filter test expects "key alpha" to find ALPHA_API_KEY alone.
"""

import os

from datasette import hookimpl

from datasette_secrets import Secret

LONG_NAME = "INTERNAL_ANALYTICS_WAREHOUSE_SERVICE_ACCOUNT_CREDENTIALS_FOR_NIGHTLY_ETL"
LONG_DESCRIPTION_NAME = "GEOCODER_SERVICE_ACCOUNT_JSON"
LONG_DESCRIPTION = (
    "The service account the geocoder signs its requests with: a JSON document "
    "with a private key, issued for each project. The "
    "geocoder reads it when the first lookup of a batch starts and keeps it in "
    "memory until the batch ends, so a new value takes effect with the next "
    "batch, not the one that is running. Rotate it every ninety days: create a "
    "second key in the console, store it here, check that the next batch "
    "succeeds, and only then revoke the old key, or lookups fail until a "
    "working key is stored."
)

assert len(LONG_NAME) == 72, len(LONG_NAME)
assert len(LONG_DESCRIPTION) == 500, len(LONG_DESCRIPTION)


def scale_secrets():
    """The 36 secrets, in no particular order (the list sorts them)."""
    return [
        Secret(
            "ANTHROPIC_API_KEY",
            "Lets the summariser call Claude.",
            obtain_url="https://console.anthropic.example/settings/keys",
            obtain_label="Create an Anthropic key",
        ),
        Secret("AIRTABLE_PAT", "A personal access token for the Airtable import."),
        Secret("ALGOLIA_ADMIN_KEY", "Rebuilds the search index."),
        Secret("AWS_ACCESS_KEY_ID", "The access key id of the backup user."),
        Secret("AWS_SECRET_ACCESS_KEY", "The secret half of the backup user's access key."),
        Secret("AZURE_OPENAI_KEY", "For the Azure-hosted embeddings."),
        Secret("BUTTONDOWN_API_KEY", "Sends the weekly newsletter."),
        Secret("CLOUDFLARE_API_TOKEN", "Purges cached pages after a publish."),
        Secret("COHERE_API_KEY", "Reranks search results."),
        Secret("DATADOG_API_KEY", "Ships metrics."),
        Secret("DB", "Short name, short description."),
        Secret("DISCORD_BOT_TOKEN", "Posts alerts to the team's channel."),
        Secret("FASTLY_PURGE_TOKEN", "Purges the CDN."),
        Secret(LONG_DESCRIPTION_NAME, LONG_DESCRIPTION),
        Secret(
            "GITHUB_TOKEN",
            "Reads issues for the changelog.",
            obtain_url="https://github.example/settings/tokens",
            obtain_label="Create a GitHub token",
        ),
        Secret(
            "GOOGLE_MAPS_API_KEY",
            "Draws the base maps and geocodes addresses typed into the search box.",
            obtain_url="https://console.maps.example/credentials",
            obtain_label="Get a Maps key",
        ),
        Secret("HUGGINGFACE_TOKEN", "Downloads models."),
        Secret(LONG_NAME, "Loads last night's figures into the warehouse."),
        Secret("LINEAR_API_KEY", "Files bugs."),
        Secret("MAILGUN_API_KEY", "Sends password reset mail."),
        Secret("MAPBOX_ACCESS_TOKEN", "Vector tiles."),
        Secret("MAXMIND_LICENSE_KEY", "Downloads the GeoLite database."),
        Secret("MISTRAL_API_KEY", "A second opinion for the summariser."),
        Secret("NOTION_INTEGRATION_SECRET", "Syncs the handbook."),
        Secret(
            "OPENAI_API_KEY",
            "Embeddings for semantic search.",
            obtain_url="https://platform.openai.example/api-keys",
            obtain_label="Create an OpenAI key",
        ),
        Secret("OPENCAGE_GEOCODER_KEY", "The fallback geocoder."),
        Secret("PAGERDUTY_ROUTING_KEY", "Pages whoever is on call."),
        Secret("POSTGRES_READONLY_PASSWORD", "Reads the production replica."),
        Secret("S3", "Two characters."),
        Secret("SENDGRID_API_KEY", "The old mail sender, kept for the migration."),
        Secret("SENTRY_DSN", "Reports errors."),
        Secret("SLACK_WEBHOOK_URL", "Posts the nightly report."),
        Secret(
            "STRIPE_SECRET_KEY",
            "Takes payments.",
            obtain_url="https://dashboard.stripe.example/apikeys",
            obtain_label="Get a Stripe key",
        ),
        Secret("TWILIO_AUTH_TOKEN", "Sends text messages."),
        Secret("X", "One character."),
        Secret("ZENDESK_API_TOKEN", "Opens support tickets."),
    ]


@hookimpl
def register_secrets():
    if os.environ.get("PLAYWRIGHT_SCALE") != "1":
        return []
    return scale_secrets()
