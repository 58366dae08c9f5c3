"""Reads and checks the plugin configuration.

    plugins:
      datasette-secrets:
        encryption_key:            # or encryption-key, the older spelling
          $env: DATASETTE_SECRETS_ENCRYPTION_KEY
        database: name_of_database # omit for Datasette's internal database
        reveal: true               # false: write-only mode, nobody can reveal
        reveal_seconds: 30         # how long a revealed value stays visible
"""

from dataclasses import dataclass

from .crypto import EncryptionKeyError, Keyring

PLUGIN = "datasette-secrets"
DEFAULT_REVEAL_SECONDS = 30


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    keyring: Keyring
    database: str | None  # None: Datasette's internal database
    reveal: bool
    reveal_seconds: int

    @property
    def has_key(self):
        return self.keyring.primary is not None


def own_database(config):
    """The configured database's name, or None for Datasette's internal database."""
    database = config.get("database") or None
    return None if database == "_internal" else database


def read_settings(datasette):
    """The plugin's settings; raises ConfigError with a message an admin can act on."""
    config = datasette.plugin_config(PLUGIN) or {}
    key_text = config.get("encryption_key", config.get("encryption-key"))
    try:
        keyring = Keyring.from_config([key_text] if key_text else [])
    except EncryptionKeyError as e:
        raise ConfigError(f"{PLUGIN}: {e}") from None

    database = own_database(config)
    if database is not None and not isinstance(database, str):
        raise ConfigError(f"{PLUGIN}: 'database' must be the name of a database")

    reveal = config.get("reveal", True)
    if not isinstance(reveal, bool):
        raise ConfigError(f"{PLUGIN}: 'reveal' must be true or false")

    reveal_seconds = config.get("reveal_seconds", DEFAULT_REVEAL_SECONDS)
    if isinstance(reveal_seconds, str) and reveal_seconds.isdigit():
        reveal_seconds = int(reveal_seconds)
    if not isinstance(reveal_seconds, int) or isinstance(reveal_seconds, bool) or reveal_seconds < 1:
        raise ConfigError(
            f"{PLUGIN}: 'reveal_seconds' must be a whole number of seconds, 1 or more"
        )
    return Settings(keyring, database, reveal, reveal_seconds)
