"""datasette-secrets: encrypted secrets (API keys and the like) for Datasette plugins.

Plugin authors use ``Secret``, ``get_secret`` and ``get_secrets``; the rest of
this module is Datasette hook implementations.
"""

import json

from datasette import hookimpl
from datasette.permissions import Action, PermissionSQL
from datasette.plugins import pm
from datasette.utils import StartupError
from datasette.utils.asgi import Base400

from . import hookspecs, store
from .cli import register
from .config import PLUGIN, ConfigError, own_database
from .core import flush_usage, get_secret, ready
from .crypto import EncryptionKeyError, SecretDecryptionError
from .events import EVENTS
from .registry import Secret
from .state import forget
from . import views

pm.add_hookspecs(hookspecs)

__all__ = [
    "Secret",
    "get_secret",
    "get_secrets",
    "flush_usage",
    "SecretDecryptionError",
    "EncryptionKeyError",
]

MANAGE_SECRETS = "manage-secrets"
REVEAL_SECRETS = "reveal-secrets"
# Table actions denied on the plugin's own tables when they live in an
# ordinary database: /-/secrets is the only way in.
TABLE_ACTIONS = {"view-table", "insert-row", "update-row", "delete-row", "drop-table", "alter-table"}


async def get_secrets(datasette):
    """Every ``Secret`` registered by a plugin, one per name."""
    state = await ready(datasette)
    return [registration.secret for registration in (await state.registry.get(datasette)).values()]


@hookimpl
def register_actions(datasette):
    return [
        Action(
            name=MANAGE_SECRETS,
            description="Manage secrets: set, edit, delete and restore their values",
        ),
        Action(
            name=REVEAL_SECRETS,
            description="Reveal the stored values of secrets",
            also_requires=MANAGE_SECRETS,
        ),
    ]


@hookimpl
def register_events(datasette):
    return EVENTS


@hookimpl
def permission_resources_sql(datasette, action):
    if action not in TABLE_ACTIONS:
        return None
    database = own_database(datasette.plugin_config(PLUGIN) or {})
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
    async def create_tables():
        try:
            await ready(datasette)
        except ConfigError as e:
            raise StartupError(str(e))

    return create_tables


@hookimpl
def shutdown(datasette):
    async def write_what_is_buffered():
        state = forget(datasette)
        if state is not None:
            await state.close()

    return write_what_is_buffered


@hookimpl
def menu_links(datasette, actor):
    async def links():
        if await datasette.allowed(action=MANAGE_SECRETS, actor=actor):
            return [{"href": datasette.urls.path("/-/secrets"), "label": "Manage secrets"}]
        return []

    return links


@hookimpl
def register_routes():
    return views.ROUTES


# htmx swaps error responses too: these send a fragment's 4xx to the status region.


@hookimpl
def forbidden(datasette, request, message):
    if views.wants_fragment_error(datasette, request):
        return views.error_fragment(datasette, request, message, 403)


@hookimpl
def handle_exception(datasette, request, exception):
    if isinstance(exception, Base400) and views.wants_fragment_error(datasette, request):
        message = exception.args[0] if exception.args else "Bad request"
        return views.error_fragment(datasette, request, message, exception.status)


@hookimpl
def register_commands(cli):
    register(cli)
