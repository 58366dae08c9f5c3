"""datasette-secrets: encrypted secrets (API keys and the like) for Datasette plugins.

Plugin authors use ``Secret``, ``get_secret`` and ``get_secrets``; the rest of
this module is Datasette hook implementations.
"""

import json

from datasette import hookimpl
from datasette.permissions import Action, PermissionSQL
from datasette.resources import TableResource
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
# Responses under /-/secrets refuse to be framed: no clickjacking of Reveal.
NO_FRAMING = [
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
]


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


def is_table_action(datasette, action):
    """Whether Datasette (or a plugin) registered ``action`` as acting on a table."""
    registered = datasette.actions.get(action)
    resource = getattr(registered, "resource_class", None)
    return isinstance(resource, type) and issubclass(resource, TableResource)


@hookimpl
def permission_resources_sql(datasette, action):
    # Every table-scoped action is denied on the plugin's own tables when they
    # live in an ordinary database: /-/secrets is the only way in.
    if not is_table_action(datasette, action):
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
def register_commands(cli):
    register(cli)
