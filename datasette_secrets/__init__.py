"""datasette-secrets: encrypted secrets (API keys and the like) for Datasette plugins.

Plugin authors use ``Secret``, ``get_secret`` and ``get_secrets``; the rest of
this module is Datasette hook implementations.

Import order: Datasette loads every installed plugin, this one included, the
first time anything imports ``datasette.plugins``, and registers each plugin
module as it is at that moment. So nothing above the last lines of this module
imports Datasette or a module of ours that does: the hooks import what they
need when they run, the public names are loaded on first use, and the last
lines load Datasette's plugins once every hook here is defined. Imported before
Datasette or after it, this package is registered whole, and other plugins that
Datasette loads meanwhile can import ``Secret`` and ``get_secret`` from it.
"""

import importlib
import json
import logging
from typing import TYPE_CHECKING

from . import hookspecs
from .hookspecs import hookimpl

__all__ = [
    "Secret",
    "get_secret",
    "get_secrets",
    "flush_usage",
    "SecretDecryptionError",
    "SecretTamperedError",
    "SecretKeyUnavailableError",
    "SecretStoreError",
    "SecretFileError",
    "EncryptionKeyError",
    "get_config",
]

# The public names defined in other modules, imported on first use.
_DEFINED_IN = {
    "Secret": ".registry",
    "get_secret": ".core",
    "flush_usage": ".core",
    "SecretDecryptionError": ".crypto",
    "SecretTamperedError": ".crypto",
    "SecretKeyUnavailableError": ".crypto",
    "SecretStoreError": ".store",
    "SecretFileError": ".files",
    "EncryptionKeyError": ".crypto",
    "get_config": ".config",
}

if TYPE_CHECKING:  # for type checkers and editors, which do not run __getattr__
    from .config import get_config
    from .core import flush_usage, get_secret
    from .crypto import EncryptionKeyError, SecretDecryptionError, SecretKeyUnavailableError, SecretTamperedError
    from .files import SecretFileError
    from .registry import Secret
    from .store import SecretStoreError


def __getattr__(name):
    if name not in _DEFINED_IN:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_DEFINED_IN[name], __name__), name)
    globals()[name] = value  # later lookups find it without coming here
    return value


# Responses under /-/secrets refuse to be framed (no clickjacking of Reveal), and
# are never sniffed as another type (Copy's plain-text value is not HTML).
NO_FRAMING = [
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
]


async def get_secrets(datasette):
    """Every ``Secret`` registered by a plugin, one per name."""
    from .core import ready

    state = await ready(datasette)
    return [registration.secret for registration in (await state.registry.get(datasette)).values()]


@hookimpl
def register_actions(datasette):
    from datasette.permissions import Action

    from .grants import SecretResource
    from .rules import MANAGE, OWN, REVEAL

    # A grant without a resource covers every secret; one on a secret, that secret.
    return [
        Action(
            name=MANAGE,
            description="Manage secrets: set, edit, delete and restore their values",
            resource_class=SecretResource,
        ),
        Action(
            name=REVEAL,
            description="Reveal the stored values of secrets",
            resource_class=SecretResource,
            # Not also_requires=MANAGE: Datasette 1.0a41's allowed_resources_sql lists
            # an also_requires action's resources by the required action's grants.
            # The rules ask for both (rules.viewer, grants.Scopes, the views' checks).
        ),
        Action(
            name=OWN,
            description="Keep values of your own for personal secrets (My secrets)",
        ),
    ]


@hookimpl
def register_events(datasette):
    from .events import EVENTS

    return EVENTS


def is_table_action(datasette, action):
    """Whether Datasette (or a plugin) registered ``action`` as acting on a table."""
    from datasette.resources import TableResource

    registered = datasette.actions.get(action)
    resource = getattr(registered, "resource_class", None)
    return isinstance(resource, type) and issubclass(resource, TableResource)


@hookimpl
def permission_resources_sql(datasette, actor, action):
    from datasette.permissions import PermissionSQL

    from .rules import MANAGE, OWN, REVEAL

    if action in (MANAGE, REVEAL):
        from .state import STATES

        state = STATES.get(id(datasette))
        return state.scopes.config_grants(state.settings, actor, action) if state is not None else None
    if action == OWN:
        # Every signed-in actor may keep their own values, unless datasette.yml
        # says otherwise (its rules for the action decide then) or --default-deny.
        if actor and actor.get("id") is not None and not datasette.default_deny:
            return PermissionSQL.allow(reason="signed-in actors may keep their own values")
        return None
    # Every table-scoped action is denied on the plugin's own tables when they
    # live in an ordinary database: /-/secrets is the only way in.
    if not is_table_action(datasette, action):
        return None

    from . import store
    from .config import PLUGIN, own_database

    from .state import STATES

    state = STATES.get(id(datasette))
    # The settings read at startup: plugin_config() resolves $file again, and a key
    # file removed since must not turn a table page into a 500.
    database = state.settings.database if state is not None else own_database(datasette.plugin_config(PLUGIN) or {})
    if database is None:
        return None
    return PermissionSQL(
        sql="""
            select :datasette_secrets_database as parent, value as child, 0 as allow,
                'datasette-secrets tables are managed at /-/secrets' as reason
            from json_each(:datasette_secrets_tables)
        """,
        params={
            "datasette_secrets_database": database,
            "datasette_secrets_tables": json.dumps(store.TABLES),
        },
    )


@hookimpl
def startup(datasette):
    from datasette.utils import StartupError

    from . import exposure, store
    from .config import ConfigError
    from .core import ready

    async def create_tables():
        try:
            state = await ready(datasette)
        except ConfigError as e:
            raise StartupError(str(e))
        await exposure.warn(datasette, state)  # once, here: nothing on get_secret's path
        # Datasette's resources for per-secret grants (datasette-acl's pages list them),
        # read afresh: the list's cache starts with the first page that needs it.
        stored = await store.summaries(state.db)
        names = set(await state.registry.get(datasette))
        for name in sorted(set(state.settings.secrets) - names):
            # Its plugin may just be uninstalled for now: a warning, not an error.
            logging.getLogger("datasette_secrets").warning(
                "datasette-secrets: the configuration has settings for %s, which no installed plugin registers", name
            )
        await state.scopes.sync(datasette, names | {name for name, row in stored.items() if not row["deleted_at"]})

    return create_tables


@hookimpl
def shutdown(datasette):
    from .state import forget

    async def write_what_is_buffered():
        state = forget(datasette)
        if state is not None:
            await state.close()

    return write_what_is_buffered


@hookimpl
def menu_links(datasette, actor):
    from .rules import OWN

    async def links():
        found = []
        from .core import ready

        state = await ready(datasette)
        # Granted every secret, or one at least (at most one cheap query: see grants.Scopes.any).
        if await state.scopes.any(datasette, actor):
            found.append({"href": datasette.urls.path("/-/secrets"), "label": "Manage secrets"})
        if actor and await _has_personal_secrets(datasette) and await datasette.allowed(action=OWN, actor=actor):
            found.append({"href": datasette.urls.path("/-/secrets/-/mine"), "label": "My secrets"})
        return found

    return links


async def _has_personal_secrets(datasette):
    from .core import ready

    state = await ready(datasette)
    return any(r.secret.personal for r in (await state.registry.get(datasette)).values())


@hookimpl
def register_routes():
    from .views import ROUTES

    return ROUTES


# htmx swaps error responses too: these send a fragment's 4xx to the status region;
# a page's 4xx under /-/secrets is a page of the plugin's, with a way back.


@hookimpl
def forbidden(datasette, request, message):
    from . import views
    from .views import errors

    message = errors.error_message(datasette, request, message, 403)
    if views.wants_fragment_error(datasette, request):
        return views.error_fragment(datasette, request, message, 403)
    if errors.wants_error_page(datasette, request):
        return errors.error_page(datasette, request, message, 403)


@hookimpl
def handle_exception(datasette, request, exception):
    from datasette.utils.asgi import Base400

    from . import views
    from .views import errors

    if not isinstance(exception, Base400):
        return None
    message = exception.args[0] if exception.args else "Bad request"
    if views.wants_fragment_error(datasette, request):
        return views.error_fragment(datasette, request, message, exception.status)
    if errors.wants_error_page(datasette, request):
        return errors.error_page(datasette, request, message, exception.status)


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def refuse_framing(scope, receive, send):
            if scope.get("type") != "http" or not scope.get("path", "").startswith(
                datasette.urls.path("/-/secrets")
            ):
                return await app(scope, receive, send)

            async def send_with_headers(event):
                if event["type"] == "http.response.start":
                    event = {**event, "headers": [*event.get("headers", []), *NO_FRAMING]}
                await send(event)

            await app(scope, receive, send_with_headers)

        return refuse_framing

    return wrap


@hookimpl
def register_secrets_key_providers(datasette):
    # The built-in key providers come through the hook any plugin's come through.
    from .provider_aws import AwsKms
    from .provider_vault import VaultTransit

    return [VaultTransit, AwsKms]


@hookimpl
def register_commands(cli):
    from .cli import secrets

    cli.add_command(secrets)


# Last, on purpose (see the module docstring): the first import of
# datasette.plugins loads every installed plugin, this module among them.
from datasette.plugins import pm  # noqa: E402

pm.add_hookspecs(hookspecs)
