"""Reads and checks the plugin configuration.

    plugins:
      datasette-secrets:
        encryption_key:            # or encryption-key, the older spelling
          $env: DATASETTE_SECRETS_ENCRYPTION_KEY
                                   # or $file: /run/secrets/datasette-secrets-key
        previous_encryption_keys:  # optional: older keys that may still decrypt
        - $env: DATASETTE_SECRETS_OLD_KEY
        database: name_of_database # omit for Datasette's internal database
        reveal: true               # false: write-only mode, nobody can reveal
        reveal_seconds: 30         # how long a revealed value stays visible
        reveals_per_minute: 20     # per actor; more get a 429
        max_age_days: 90           # optional: older stored values are due for rotation
        key_provider:              # optional: the data key kept wrapped by a provider
          vault_transit: {url: ..., key: ..., token: {$env: VAULT_TOKEN}}
                                   # or aws_kms: {key_id: ..., region: ...} (providers.py)
        secrets:                   # optional: settings of single secrets
          OPENAI_API_KEY:
            permissions:           # grant-only: adds these actors for this secret
              manage-secrets: {id: [bob]}
              reveal-secrets: {id: bob}
            personal: true         # every signed-in actor may keep their own value
"""

from dataclasses import dataclass, field

from . import providers
from .crypto import GENERATE_COMMAND, EncryptionKeyError, Key, Keyring

PLUGIN = "datasette-secrets"
DEFAULT_REVEAL_SECONDS = 30
DEFAULT_REVEALS_PER_MINUTE = 20


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    keyring: Keyring
    database: str | None  # None: Datasette's internal database
    reveal: bool
    reveal_seconds: int
    reveals_per_minute: int = DEFAULT_REVEALS_PER_MINUTE
    max_age_days: int | None = None  # None: values are never due for rotation
    secrets: dict = field(default_factory=dict)  # {name: SecretSettings}, from ``secrets:``

    # The configured key provider (providers.py), or None: with one and no
    # encryption_key, the keyring is filled once the data key is unwrapped.
    key_provider: object = None
    held_keys: tuple = ()  # previous_encryption_keys under a provider, installed after the data keys

    @property
    def has_key(self):
        return self.keyring.primary is not None

    @property
    def missing_key(self):
        """Why there is no key to encrypt or decrypt with, worded for a message
        (no full stop), or None when there is one."""
        if self.keyring.primary is not None:
            return None
        if self.key_provider is not None:
            return f"The data key is not available: {self.keyring.unavailable or 'not unwrapped yet'}"
        return "No encryption key is configured"


@dataclass(frozen=True)
class SecretSettings:
    """One secret's settings under ``secrets:``: who else may manage or reveal
    it (``permissions``: {action: allow block}) and whether it is personal."""

    permissions: dict
    personal: bool = False


SECRET_KEYS = ("permissions", "personal")
SECRET_ACTIONS = ("manage-secrets", "reveal-secrets")


def _secrets(config):
    """{name: SecretSettings} from the ``secrets:`` block; a clear error for
    anything it cannot use (an unknown key or action, a bad name or block)."""
    from .registry import NAME_PATTERN

    block = config.get("secrets") or {}
    if not isinstance(block, dict):
        raise ConfigError(f"{PLUGIN}: 'secrets' must map secret names to their settings")
    found = {}
    for name, settings in block.items():
        where = f"{PLUGIN}: secrets.{name}"
        if not (isinstance(name, str) and NAME_PATTERN.fullmatch(name)):
            raise ConfigError(f"{PLUGIN}: 'secrets' has a key that is not a secret name: {name!r}")
        if not isinstance(settings, dict):
            raise ConfigError(f"{where} must be a block of settings ({', '.join(SECRET_KEYS)})")
        unknown = sorted(set(settings) - set(SECRET_KEYS))
        if unknown:
            raise ConfigError(f"{where} has an unknown key {unknown[0]!r}: the keys are {', '.join(SECRET_KEYS)}")
        permissions = settings.get("permissions") or {}
        if not isinstance(permissions, dict):
            raise ConfigError(f"{where}.permissions must map actions to allow blocks")
        for action, allow in permissions.items():
            if action not in SECRET_ACTIONS:
                raise ConfigError(
                    f"{where}.permissions names an unknown action {action!r}: "
                    f"the actions are {', '.join(SECRET_ACTIONS)}"
                )
            if not (isinstance(allow, (dict, bool)) or allow is None):
                raise ConfigError(f"{where}.permissions.{action} must be an allow block, such as {{id: alice}}")
        personal = settings.get("personal", False)
        if not isinstance(personal, bool):
            raise ConfigError(f"{where}.personal must be true or false")
        found[name] = SecretSettings({a: b for a, b in permissions.items() if b is not None}, personal)
    return found


def own_database(config):
    """The configured database's name, or None for Datasette's internal database."""
    database = config.get("database") or None
    return None if database == "_internal" else database


def read_settings(datasette):
    """The plugin's settings; raises ConfigError with a message an admin can act on."""
    config = plugin_config(datasette)
    try:
        key_provider = providers.configured(datasette, config.get("key_provider"))
    except ValueError as e:
        raise ConfigError(f"{PLUGIN}: {e}") from None
    keys = _keys(config, key_provider is not None)
    held = ()
    if key_provider is not None and not config.get("encryption_key", config.get("encryption-key")):
        held, keys = tuple(keys), []  # previous keys wait for the data key, which comes first (envelope.py)
    keyring = Keyring(keys)

    database = own_database(config)
    if database is not None and not isinstance(database, str):
        raise ConfigError(f"{PLUGIN}: 'database' must be the name of a database")

    reveal = config.get("reveal", True)
    if not isinstance(reveal, bool):
        raise ConfigError(f"{PLUGIN}: 'reveal' must be true or false")

    reveal_seconds = _whole_number(config, "reveal_seconds", DEFAULT_REVEAL_SECONDS, "seconds")
    reveals_per_minute = _whole_number(config, "reveals_per_minute", DEFAULT_REVEALS_PER_MINUTE, "reveals")
    max_age_days = None
    if config.get("max_age_days") is not None:
        max_age_days = _whole_number(config, "max_age_days", None, "days")
    return Settings(
        keyring, database, reveal, reveal_seconds, reveals_per_minute, max_age_days,
        key_provider=key_provider, held_keys=held, secrets=_secrets(config),
    )


def plugin_config(datasette):
    """The plugin's configuration, ``$env`` and ``$file`` resolved (by Datasette,
    which reads a ``$file`` at every call). Raises ConfigError naming a ``$file``
    that cannot be read, never quoting what it holds."""
    try:
        return datasette.plugin_config(PLUGIN) or {}
    except OSError as e:
        problem = f"{e.filename}: {e.strerror or type(e).__name__}"
    except UnicodeDecodeError:  # its message quotes a byte of the file: not passed on, nor chained
        problem = "not UTF-8 text"
    raise ConfigError(f"{PLUGIN}: a {{$file: ...}} in its configuration cannot be read ({problem})")


def _whole_number(config, name, default, unit):
    value = config.get(name, default)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)  # from -s or an environment variable
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{PLUGIN}: '{name}' must be a whole number of {unit}, 1 or more")
    return value


def _keys(config, key_provider=False):
    """The configured keys, current first, then previous_encryption_keys in order.

    Each malformed key is reported by where it is configured, never by its text.
    Previous keys without a current one are refused, unless a ``key_provider``
    keeps the current (data) key: they are then tried after the data keys.
    """
    current = config.get("encryption_key", config.get("encryption-key"))
    previous = config.get("previous_encryption_keys")
    if previous is None:
        previous = []
    if not isinstance(previous, list):
        raise ConfigError(
            f"{PLUGIN}: 'previous_encryption_keys' must be a list of keys, one item per key"
        )
    if not current:
        if key_provider:
            return [_key(text, f"previous_encryption_keys item {n}") for n, text in enumerate(previous, start=1)]
        if previous:
            raise ConfigError(
                f"{PLUGIN}: 'previous_encryption_keys' is set but 'encryption_key' is not: "
                "configure the current key too (new values are encrypted with it), or a key_provider"
            )
        return []
    keys = [_key(current, "encryption_key")]
    for number, text in enumerate(previous, start=1):
        key = _key(text, f"previous_encryption_keys item {number}")
        if key.id not in {k.id for k in keys}:  # the same key twice decrypts nothing more
            keys.append(key)
    return keys


def _key(text, where):
    if text is None or (isinstance(text, str) and not text.strip()):
        raise ConfigError(
            f"{PLUGIN}: {where} is empty (if it is read with $env, that variable is not "
            f"set). Make a key with: {GENERATE_COMMAND}"
        )
    if not isinstance(text, str):
        raise ConfigError(
            f"{PLUGIN}: {where} must be a key (text), {{$env: VARIABLE_NAME}} or {{$file: PATH}}"
        )
    try:
        return Key(text)
    except EncryptionKeyError as e:
        raise ConfigError(f"{PLUGIN}: {where}: {e}") from None


def get_config(datasette):
    """The plugin's key and database as datasette-secrets 0.3a0 returned them.

    Kept for plugins written against 0.3a0, with the same meaning: ``None``
    when no encryption key is configured, otherwise a dict
    ``{"database": ..., "encryption_key": ...}`` where ``database`` is the
    configured database's name (``"_internal"`` when none is) and
    ``encryption_key`` the current key's text. Unlike 0.3a0 it also reads the
    ``encryption_key`` spelling, as the rest of this plugin does. It does not
    check the configuration; read_settings does that at startup.

    Under a ``key_provider`` with no ``encryption_key`` it returns None, as
    without a key: the data key is never handed out.
    """
    config = datasette.plugin_config(PLUGIN) or {}
    encryption_key = config.get("encryption_key", config.get("encryption-key"))
    if not encryption_key:
        return None
    return {"database": own_database(config) or "_internal", "encryption_key": encryption_key}
