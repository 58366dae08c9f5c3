"""What every view under /-/secrets shares: the ``SecretsView`` base, built on
Datasette's own ``View``, and the request helpers the views use.

A view says which actions it needs (``actions``) and defines ``get`` and/or
``post``; the base does the rest, in this order, so no view repeats it: the
permission check, the method (405 with ``Allow`` for any other; HEAD runs
GET and drops the body, as Datasette's ``View`` does), the plugin's state,
``prepare`` (a secret's views load the secret and ask the rules), the
handler, then ``Vary`` on the response. A database error is a 409, never a 500.
"""

import sqlite3

from datasette import Forbidden, NotFound, Response
from datasette.database import QueryInterrupted
from datasette.utils import MultiParams
from datasette.utils.asgi import BadRequest
from datasette.views.base import View
from urllib.parse import parse_qsl

from .. import core, key_fit, model, personal, rules, store
from ..grants import SecretResource
from ..rules import MANAGE

# Responses depend on these request headers (see is_htmx): set on every response here.
VARY = {"Vary": "HX-Request, HX-History-Restore-Request"}
VIEWER = "datasette_secrets.viewer"  # the request's rules.Viewer, kept in its scope


class StoreConflict(BadRequest):
    status = 409


class TooManyRequests(BadRequest):
    status = 429


class UnsupportedMediaType(BadRequest):
    status = 415


class SecretsView(View):
    """A page or fragment under /-/secrets (see the module docstring)."""

    actions = (MANAGE,)  # every one of them is checked before anything else
    # What manage-secrets and reveal-secrets must cover: "any" (a list: at least
    # one secret), "secret" (the one named in the URL) or "all" (every secret:
    # the key panel and rotation, which touch them all).
    covers = "any"

    async def __call__(self, request, datasette):
        state = await core.ready(datasette)  # the settings and grants the check reads
        for action in self.actions:
            await require(datasette, request, state, action, self.covers)
        methods = self.methods()
        if request.method not in methods:
            return Response.text("Method not allowed", status=405, headers={"Allow": ", ".join(methods), **VARY})
        try:
            self.state = state
            await self.prepare(request, datasette)
            response = await getattr(self, request.method.lower())(request, datasette)
        except store.SecretStoreError as e:
            raise StoreConflict(str(e)) from e
        except sqlite3.Error as e:
            raise StoreConflict(store.describe(e)) from e
        except QueryInterrupted as e:  # past Datasette's time limit: a busy database
            raise StoreConflict("The database was too busy to answer in time. Nothing was lost: try again.") from e
        for header, value in VARY.items():
            response.headers.setdefault(header, value)
        return response

    @classmethod
    def methods(cls):
        """The methods this view answers, as an ``Allow`` header lists them."""
        methods = [method for method in ("GET", "POST") if hasattr(cls, method.lower())]
        return methods + ["HEAD"] if "GET" in methods else methods

    async def prepare(self, request, datasette):
        """Runs after the checks, before the handler."""


class SecretView(SecretsView):
    """A view of one secret, named in the URL: ``self.entry`` is it, and
    ``self.can`` what the rules allow this actor to do with it (NotFound if
    there is no such secret).

    ``learns``: whether the view answers questions about the value (reveal,
    copy, Test). One that does not, answering a POST with a redirect, shows
    nothing, so it need not ask whether the actor may learn about values.
    """

    learns = False
    covers = "secret"
    owner = None  # a shared value (see OwnView)

    async def prepare(self, request, datasette):
        name = model.name_from_slug(request.url_vars["name"])
        # A POST without htmx answers with a redirect: nothing of the entry is shown. A view that
        # learns about the value reads it anyway: checked first, the rules can refuse an unreadable one.
        shown = request.method != "POST" or is_htmx(request) or self.learns
        entry = await model.entry(datasette, self.state, name, shown) if name is not None else None
        if entry is None:
            raise NotFound(f"No secret called {name if name is not None else request.url_vars['name']}")
        self.entry = entry
        if shown or self.learns or entry.is_orphan:
            viewer = await viewer_of(datasette, request, self.state, name, every=entry.is_orphan)
        else:
            # Nothing rendered, and the check above found it may manage this secret:
            # what it may change does not depend on reveal-secrets (no more queries).
            viewer = rules.Viewer(request.actor, manage=False, reveal=False, managed=frozenset([name]))
        self.can = rules.allowed(viewer, entry, self.state.settings, await key_fit.key_problem(self.state))
        # The check before the handler: on this secret (an orphan needs every secret).
        self.can.require("manage")


class OwnView(SecretsView):
    """A view of the signed-in actor's own value of the personal secret named in
    the URL (My secrets), as a SecretView is of a shared value: ``self.entry``
    (a personal.OwnEntry), ``self.owner`` and ``self.can`` (the rules'
    ``allowed_own``); NotFound unless a plugin registers the name as personal.
    Nobody can name another owner here. Listed first among a view's bases, it
    makes a shared value's view act on an own value (see ``values``).
    """

    actions = (rules.OWN,)

    async def prepare(self, request, datasette):
        name = request.url_vars["name"]
        self.owner = core.actor_id_of(request.actor)
        entry = await personal.entry(datasette, self.state, name, self.owner)
        if entry is None:
            raise NotFound(f"No personal secret called {name}")
        self.entry = entry
        self.can = rules.allowed_own(entry, self.state.settings, await key_fit.key_problem(self.state))


async def require(datasette, request, state, action=MANAGE, covers="any"):
    """Forbidden unless ``request.actor`` may ``action`` on what the view covers."""
    actor = request.actor
    if action == MANAGE and covers == "any":
        allowed = await state.scopes.any(datasette, actor)
    elif covers == "secret" and action in (MANAGE, rules.REVEAL):
        name = model.name_from_slug(request.url_vars["name"])
        resource = SecretResource(name) if name is not None else None
        # reveal-secrets needs manage-secrets too: a view that reveals lists both.
        allowed = await datasette.allowed(action=action, resource=resource, actor=actor)
    else:
        allowed = await datasette.allowed(action=action, actor=actor)
    if not allowed:
        scope = {"secret": " on this secret", "all": " on every secret"}.get(covers, "") if action != rules.OWN else ""
        raise Forbidden(f"You need the {action} permission{scope} to do this")


async def viewer_of(datasette, request, state, name=None, every=False):
    """The rules' Viewer for this request's actor (for the secret ``name``, or
    for a list), worked out once per request."""
    viewer = request.scope.get(VIEWER)
    if viewer is None:
        viewer = request.scope[VIEWER] = await rules.viewer(datasette, state, request.actor, name, every)
    return viewer



def is_htmx(request):
    """An htmx request for a fragment (a history restore wants the whole page)."""
    headers = request.headers
    return headers.get("hx-request") == "true" and headers.get("hx-history-restore-request") != "true"


def limit(rate_limit, request, what, consequence=""):
    """At most ``rate_limit.limit`` of ``what`` per actor a minute (reveals and
    key tests, ``reveals_per_minute``: slows down a stolen session; changes to
    own values, ``state.OWN_CHANGES_PER_MINUTE``: bounds what any actor writes)."""
    actor_id = core.actor_id_of(request.actor)
    if not rate_limit.allow(actor_id):
        raise TooManyRequests(
            f"Too many {what}: at most {rate_limit.limit} a minute.{consequence} "
            f"Try again in {rate_limit.retry_after(actor_id)} seconds."
        )


async def read_form(request):
    """The POSTed form; refused (never half-read) unless it is urlencoded UTF-8,
    which is how browsers and htmx send these forms."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("", "application/x-www-form-urlencoded"):
        raise UnsupportedMediaType(
            "Send this form as application/x-www-form-urlencoded, as a browser does. Nothing was changed."
        )
    try:
        body = (await request.post_body()).decode("utf-8")
        return MultiParams(parse_qsl(body, keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("That form could not be read: it must be UTF-8 form data. Nothing was changed.")
