"""``datasette secrets ...`` commands."""

import click

from .crypto import generate_key


def register(cli):
    @cli.group()
    def secrets():
        "Commands for datasette-secrets"

    @secrets.command(name="generate-encryption-key")
    def generate_encryption_key():
        """Print a new random encryption key.

        Put it in an environment variable and point the plugin's
        encryption_key setting at it:

            export DATASETTE_SECRETS_ENCRYPTION_KEY="$(datasette secrets generate-encryption-key)"
        """
        click.echo(generate_key())
