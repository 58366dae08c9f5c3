"""The admin pages and htmx fragments under /-/secrets.

Every view checks permission on its first line. A URL that serves both a full
page and a fragment decides by the ``HX-Request`` header and sends
``Vary: HX-Request``. Each interaction is a plain form first (POST, then a
redirect back to the list with a message), with htmx attributes on top.
"""

import asyncio
import bisect
import functools
import math
import sqlite3
import time
from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlencode

import jinja2
from datasette import Forbidden, NotFound, Response
from datasette.utils import MultiParams
from markupsafe import Markup, escape
from datasette.database import QueryInterrupted
from datasette.utils.asgi import BadRequest
from itsdangerous import BadSignature

from . import core, dotenv, imports, model, rotation, rules, store
from .core import Conflict
from .crypto import LEGACY_KEY_NAME, SecretDecryptionError
from .rules import MANAGE, REVEAL
COLUMNS = 7  # of the list table, for colspan
PAGE_SIZE = 25  # secrets per page of the list
SQLITE_INTEGERS = range(-(2**63), 2**63)
# Responses depend on these request headers (see is_htmx).
VARY = {"Vary": "HX-Request, HX-History-Restore-Request"}


async def require(datasette, request, action=MANAGE):
    if not await datasette.allowed(action=action, actor=request.actor):
        raise Forbidden(f"You need the {action} permission to do this")


VIEWER = "datasette_secrets.viewer"  # the request's rules.Viewer, kept in its scope


async def viewer_of(datasette, request, state):
    """The rules' Viewer for this request's actor, worked out once per request."""
    viewer = request.scope.get(VIEWER)
    if viewer is None:
        viewer = request.scope[VIEWER] = await rules.viewer(datasette, state.settings, request.actor)
    return viewer


async def allowed(datasette, request, state, entry):
    """What the rules allow this request's actor to do with ``entry``."""
    viewer = await viewer_of(datasette, request, state)
    return rules.allowed(viewer, entry, state.settings, await rotation.key_problem(state))


class TooManyRequests(BadRequest):
    status = 429


def limit(rate_limit, request, what, consequence=""):
    """At most ``rate_limit.limit`` of ``what`` per actor a minute (reveals and
    key tests, ``reveals_per_minute``): slows down a stolen session."""
    actor_id = core.actor_id_of(request.actor)
    if not rate_limit.allow(actor_id):
        raise TooManyRequests(
            f"Too many {what}: at most {rate_limit.limit} a minute.{consequence} "
            f"Try again in {rate_limit.retry_after(actor_id)} seconds."
        )


class UnsupportedMediaType(BadRequest):
    status = 415


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


class StoreConflict(BadRequest):
    status = 409


def store_errors(view):
    """A database error (read-only file, dropped table, a query past Datasette's
    time limit) is a clear 409, never a 500."""

    @functools.wraps(view)
    async def guarded(datasette, request):
        try:
            return await view(datasette, request)
        except store.SecretStoreError as e:
            raise StoreConflict(str(e)) from e
        except sqlite3.Error as e:
            raise StoreConflict(store.describe(e)) from e
        except QueryInterrupted as e:  # past Datasette's time limit: a busy database
            raise StoreConflict("The database was too busy to answer in time. Nothing was lost: try again.") from e

    return guarded


def is_htmx(request):
    """An htmx request for a fragment (a history restore wants the whole page)."""
    headers = request.headers
    return headers.get("hx-request") == "true" and headers.get("hx-history-restore-request") != "true"


def is_write(request):
    """Only a POST changes anything; HEAD (and anything else let through) reads."""
    return request.method == "POST"


def check_method(request, *methods):
    if "GET" in methods:
        methods += ("HEAD",)
    if request.method not in methods:
        return Response.text(
            "Method not allowed", status=405, headers={"Allow": ", ".join(methods)}
        )


# Pages and fragments


async def index(datasette, request):
    await require(datasette, request)
    if rejected := check_method(request, "GET"):
        return rejected
    state = await core.ready(datasette)
    q = request.args.get("q", "").strip()
    max_age_days = state.settings.max_age_days
    statuses = {k: v for k, v in rules.STATUSES.items() if k != "due" or max_age_days}
    status = request.args.get("status") or None
    if status is not None and status not in statuses:
        raise BadRequest(f"status must be one of: {', '.join(statuses)}")
    page = page_number(request)
    listing = await model.listing(datasette, state)
    names, counts = listing.search(q, status, max_age_days)
    pages = max(1, math.ceil(len(names) / PAGE_SIZE))
    page = min(page, pages)
    shown = listing.entries(
        names[(page - 1) * PAGE_SIZE : page * PAGE_SIZE], state.usage.pending(), max_age_days
    )
    model.check_values(state, shown)
    context = await list_context(datasette, request, state, shown, q=q)
    flash = read_flash(datasette, request)
    context.update(
        flash=flash,
        everything=len(listing.names),
        total=len(names),
        first=(page - 1) * PAGE_SIZE + 1,
        page=page,
        pages=pages,
        page_url=lambda number: page_url(datasette, q, number, status),
        status=status,
        statuses=statuses,
        counts=counts,
        all_count=sum(counts[key] for key in ("unset", "set", "env", "deleted", "orphan")),
        status_url=lambda key: page_url(datasette, q, 1, key),
        htmx=is_htmx(request),
        key_problem=await rotation.key_problem(state),
    )
    response = await render_either(datasette, request, "secrets_index.html", "_secrets_table.html", context)
    if flash:
        response.set_cookie(
            FLASH_COOKIE, "", expires=0, max_age=0, path=datasette.urls.path("/-/secrets"), httponly=True
        )
    return response


async def edit(datasette, request):
    await require(datasette, request)
    if rejected := check_method(request, "GET", "POST"):
        return rejected
    state, entry = await load(datasette, request)
    (await allowed(datasette, request, state, entry)).require("edit")
    if not is_write(request):
        multiline = request.args.get("multiline") == "1"
        return await edit_form(datasette, request, state, entry, multiline=multiline)

    form = await read_form(request)
    value = core.clean_value(form.get("secret", ""))
    note = form.get("note", "").strip()
    errors = core.validate(entry, value, note)
    if errors:
        multiline = form.get("multiline") == "1" or "\n" in value
        return await edit_form(
            datasette, request, state, entry, errors, note, value_dropped=bool(value),
            multiline=multiline,
        )
    version, note_changed = await core.save(
        datasette, state, entry, value, note, request.actor
    )
    if version is not None:
        message = f"Saved {entry.name}: version {version}."
    elif note_changed:
        message = f"Updated the note for {entry.name}; the value is unchanged."
    else:
        message = f"No changes to {entry.name}."
    return await done(datasette, request, state, entry, message)


async def row(datasette, request):
    await require(datasette, request)
    if rejected := check_method(request, "GET"):
        return rejected
    state, entry = await load(datasette, request)
    if not is_htmx(request):
        return Response.redirect(await list_url(datasette, state, entry), headers=dict(VARY))
    return await row_fragment(datasette, request, state, entry, focus=focus_of(request))


async def history(datasette, request):
    await require(datasette, request)
    if rejected := check_method(request, "GET"):
        return rejected
    state, entry = await load(datasette, request)
    return await history_response(datasette, request, state, entry, focus_of(request) or "history")


async def history_response(
    datasette, request, state, entry, focus=None, confirm_version=None, template="secrets_history.html", message=None
):
    """The row with its history open (htmx), or the history page; ``message``: a change's, at the row."""
    versions = await store.history(state.db, entry.name)
    events, _ = await store.audit_log(state.db, entry.name, limit=HISTORY_EVENTS)
    extra = {"events": events, "confirm_version": confirm_version, "message": message}
    if confirm_version is not None:
        if confirm_version not in {v["version"] for v in versions}:
            raise NotFound(f"{entry.name} has no version {confirm_version}")
        extra["next_version"] = max(v["version"] for v in versions) + 1
    if is_htmx(request):
        return await row_fragment(datasette, request, state, entry, versions=versions, focus=focus, **extra)
    context = await list_context(datasette, request, state, [entry], versions, events=events)
    context.update(entry=entry, versions=versions, page=True, **extra)
    return await render(datasette, request, template, context)


async def restore(datasette, request):
    """Store an old version again as the newest: GET asks first (a confirmation under
    that version in the history, or a page of its own); POST does it."""
    await require(datasette, request)
    if rejected := check_method(request, "GET", "POST"):
        return rejected
    state, entry = await load(datasette, request)
    (await allowed(datasette, request, state, entry)).require("restore")
    form = await read_form(request) if is_write(request) else request.args
    try:
        number = int(form.get("version", ""))
    except ValueError:
        raise BadRequest("Say which version to restore")
    if number not in SQLITE_INTEGERS:
        raise NotFound(f"{entry.name} has no version {number}")
    if not is_write(request):
        return await history_response(
            datasette, request, state, entry, confirm_version=number, template="secrets_restore.html"
        )
    try:
        version = await core.restore(datasette, state, entry.name, number, request.actor)
    except SecretDecryptionError as e:
        raise Conflict(str(e))
    if version is None:
        raise NotFound(f"{entry.name} has no version {number}")
    message = f"Restored {entry.name} version {number} as version {version}."
    # From the history's confirmation the history stays open; from Undo or a deleted row's Restore it does not.
    return await done(datasette, request, state, entry, message, history=form.get("history") == "1")


async def delete(datasette, request):
    await require(datasette, request)
    if rejected := check_method(request, "GET", "POST"):
        return rejected
    state, entry = await load(datasette, request)
    (await allowed(datasette, request, state, entry)).require("delete")
    if not is_write(request):
        if is_htmx(request):
            return await row_fragment(datasette, request, state, entry, mode="delete")
        context = await list_context(datasette, request, state, [entry])
        context["entry"] = entry
        return await render(datasette, request, "secrets_delete.html", context)
    await core.delete(datasette, state, entry.name, request.actor)
    message = f"Deleted {entry.name}."
    if entry.is_orphan:
        message += " No installed plugin uses it, so it is gone from this list."
    return await done(datasette, request, state, entry, message, undo=not entry.is_orphan)


async def reveal(datasette, request):
    await require(datasette, request)
    await require(datasette, request, REVEAL)
    if rejected := check_method(request, "POST"):
        return rejected
    state, entry, version, value = await read_value(datasette, request, "revealed")
    context = await list_context(datasette, request, state, [entry])
    context.update(
        entry=entry,
        version=version,
        value=value,
        seconds=state.settings.reveal_seconds,
        back_url=await list_url(datasette, state, entry),
    )
    return await render_either(datasette, request, "secrets_reveal.html", "_secrets_revealed.html", context)


async def copy(datasette, request):
    """The current value as text for secrets.js to put on the clipboard, never shown.

    Allowed and audited exactly as a reveal (its audit row says "copied to the
    clipboard"). Without JavaScript the Copy button submits the Reveal form instead.
    """
    await require(datasette, request)
    await require(datasette, request, REVEAL)
    if rejected := check_method(request, "POST"):
        return rejected
    _, _, _, value = await read_value(datasette, request, "copied", COPIED)
    # X-Content-Type-Options: nosniff comes with every response here (the asgi_wrapper hook).
    return Response.text(value, headers={"Cache-Control": "no-store", **VARY})


async def read_value(datasette, request, done_word, detail=None):
    """(state, entry, version, value) for a reveal or a copy, after the checks
    they share (permissions are checked first, by the view) and counted
    against the actor's reveal limit; audited with ``detail``."""
    state, entry = await load(datasette, request)
    (await allowed(datasette, request, state, entry)).require("reveal")
    limit(state.reveals, request, "reveals", f" Nothing was {done_word}.")
    try:
        version, value = await core.reveal(datasette, state, entry.name, request.actor, detail)
    except SecretDecryptionError as e:
        raise Conflict(str(e))
    if core.is_key(value):
        raise Conflict(f"{entry.name} holds a configured encryption key, which is never revealed")
    return state, entry, version, value


async def check(datasette, request):
    """Run the plugin's check of this secret's value; the result, never the value."""
    await require(datasette, request)
    if rejected := check_method(request, "POST"):
        return rejected
    state, entry = await load(datasette, request)
    (await allowed(datasette, request, state, entry)).require("test")
    limit(state.checks, request, "tests")
    result = await core.check(datasette, state, entry, request.actor)
    text = ("✓ " if result.ok else "✗ ") + result.message
    if not is_htmx(request):
        return await redirect_with_flash(datasette, request, state, entry, f"Test of {entry.name}: {text}")
    context = {"entry": entry, "result": result}
    return await render(datasette, request, "_secrets_check.html", context)


async def mask(datasette, request):
    await require(datasette, request)
    if rejected := check_method(request, "GET"):
        return rejected
    state, entry = await load(datasette, request)
    if not is_htmx(request):
        return Response.redirect(await list_url(datasette, state, entry), headers=dict(VARY))
    context = await list_context(datasette, request, state, [entry])
    context.update(entry=entry, focus=focus_of(request))
    return await render(datasette, request, "_secrets_masked.html", context)


async def audit(datasette, request):
    """The audit log: newest first, filtered by secret, actor and action; JSON too."""
    await require(datasette, request)
    if rejected := check_method(request, "GET"):
        return rejected
    state = await core.ready(datasette)
    filters = {key: request.args.get(key, "").strip() or None for key in AUDIT_FILTERS}
    before = audit_cursor(request)
    rows, older = await store.audit_log(
        state.db, filters["secret"], filters["actor"], filters["action"], before, AUDIT_PAGE_SIZE
    )
    ids = sorted({row["actor_id"] for row in rows if row["actor_id"] is not None})
    actors = await datasette.actors_from_ids(ids) if ids else {}
    as_json = request.url_vars.get("format") == ".json"
    older_url = audit_url(datasette, filters, older, as_json) if older else None
    if as_json:
        return Response.json(
            {
                "ok": True,
                "filters": filters,
                "rows": [audit_json(row, actors) for row in rows],
                "next": str(older) if older else None,
                "next_url": datasette.absolute_url(request, older_url) if older else None,
            },
            headers=dict(VARY),
        )
    context = await list_context(datasette, request, state, [])
    context.update(
        rows=rows,
        filters=filters,
        actions=AUDIT_ACTIONS,
        older_url=older_url,
        newest_url=audit_url(datasette, filters, None, False) if before else None,
        json_url=audit_url(datasette, filters, before, True),
        actor_name=lambda actor_id: display_name(actors, actor_id),
    )
    return await render_either(datasette, request, "secrets_audit.html", "_secrets_audit.html", context)


async def import_env(datasette, request):
    """Paste a .env block: GET the form; POST it for a preview of what would be stored."""
    await require(datasette, request)
    if rejected := check_method(request, "GET", "POST"):
        return rejected
    state = await core.ready(datasette)
    context = await list_context(datasette, request, state, [])
    context.update(planned=None, errors=None, token=None, result=None, htmx=is_htmx(request))
    if not is_write(request):
        return await render(datasette, request, "secrets_import.html", context)
    if not state.settings.has_key:
        raise Conflict("No encryption key is configured, so nothing can be imported")
    if problem := await rotation.key_problem(state):
        raise Conflict(problem)
    text = (await read_form(request)).get("dotenv", "")
    viewer = await viewer_of(datasette, request, state)
    try:
        # Off the event loop: a large paste must not hold up other requests.
        entries = await asyncio.to_thread(dotenv.parse, text)
        planned = await imports.plan(
            datasette, state, entries, compare=comparer(state, viewer),
            actor_id=viewer.actor_id, detail="import preview",
        )
    except dotenv.DotenvError as e:
        context["errors"] = [str(error) for error in e.errors]
        return await import_response(datasette, request, context, 422)
    except imports.ValuesTooLong as e:
        context["errors"] = [str(e)]
        return await import_response(datasette, request, context, 422)
    if not planned:
        context["errors"] = ["There are no NAME=value lines in that text."]
        return await import_response(datasette, request, context, 422)
    context.update(
        planned=planned,
        token=state.imports.add(core.actor_id_of(request.actor), text),
        env_var=core.env_var,
        mask=model.MASK,
    )
    return await import_response(datasette, request, context)


async def import_confirm(datasette, request):
    """Store the secrets chosen from a preview, in one transaction."""
    await require(datasette, request)
    if rejected := check_method(request, "POST"):
        return rejected
    state = await core.ready(datasette)
    form = await read_form(request)
    text = state.imports.take(form.get("token", ""), core.actor_id_of(request.actor))
    if text is None:
        raise Conflict("That preview has expired or was already used: paste the .env text again")
    chosen = set(form.getlist("store"))
    # No comparison here: the preview made (and audited) those it was allowed to.
    planned = await imports.plan(datasette, state, await asyncio.to_thread(dotenv.parse, text))
    numbers = await imports.store_planned(
        datasette, state, planned, request.actor, detail="imported from a .env file", only=chosen
    )
    if numbers:
        stored = ", ".join(f"{name} (version {number})" for name, number in numbers.items())
        message = f"Stored {len(numbers)} secret{'s' if len(numbers) != 1 else ''}: {stored}."
    else:
        message = "Nothing was stored: no new or changed secret was chosen."
    if not is_htmx(request):
        datasette.add_message(request, message, datasette.INFO)
        return Response.redirect(datasette.urls.path("/-/secrets"))
    context = await list_context(datasette, request, state, [])
    context.update(planned=None, errors=None, token=None, result=message)
    return await render(datasette, request, "_secrets_import.html", context)


def comparer(state, viewer):
    """``compare(name)`` for an import preview: whether this viewer may learn if a
    pasted value equals the stored one (the rules), counted against their reveal limit."""
    if not rules.may_learn(viewer, state.settings):
        return None
    return lambda name: state.reveals.allow(viewer.actor_id)


async def import_response(datasette, request, context, status=200):
    return await render_either(datasette, request, "secrets_import.html", "_secrets_import.html", context, status)


async def keys(datasette, request):
    """The key panel: configured keys, stored versions per key id, rotation."""
    await require(datasette, request)
    if rejected := check_method(request, "GET"):
        return rejected
    state = await core.ready(datasette)
    context = await key_context(datasette, request, state)
    return await render_either(datasette, request, "secrets_keys.html", "_secrets_keys.html", context)


async def rotate(datasette, request):
    """Re-encrypt every stored version under the current key: the same code as
    ``datasette secrets rotate-key``."""
    await require(datasette, request)
    if rejected := check_method(request, "POST"):
        return rejected
    state = await core.ready(datasette)
    if not state.settings.has_key:
        raise Conflict("No encryption key is configured, so there is nothing to re-encrypt with")
    report = await rotation.rotate(datasette, state, request.actor)
    message = rotation_message(report)
    if not is_htmx(request):
        datasette.add_message(request, message, datasette.INFO if report.complete else datasette.WARNING)
        return Response.redirect(datasette.urls.path("/-/secrets/-/keys"))
    context = await key_context(datasette, request, state)
    context.update(message=message, report=report)
    return await render(datasette, request, "_secrets_keys.html", context)


async def key_context(datasette, request, state):
    keyring = state.settings.keyring
    counts = await rotation.count_by_key(state.db)
    configured = [
        {"id": key.id, "current": key is keyring.primary, "versions": counts.get(key.id, 0)}
        for key in keyring.keys
    ]
    known = {key.id for key in keyring.keys}
    others = [
        {"id": key_id, "versions": count, "legacy": key_id == LEGACY_KEY_NAME}
        for key_id, count in sorted(counts.items())
        if key_id not in known
    ]
    context = await list_context(datasette, request, state, [])
    context.update(
        configured=configured,
        others=others,
        to_rotate=await rotation.count_to_rotate(state) if state.settings.has_key else 0,
        message=None,
        report=None,
    )
    return context


def rotation_message(report):
    message = f"Re-encrypted {report.rotated:,} stored version{'s' if report.rotated != 1 else ''} with the current key."
    if report.failed:
        ids = ", ".join(str(failure.id) for failure in report.failed[:20])
        message += (
            f" {len(report.failed):,} could not be decrypted by any configured key and were"
            f" left as they were (row ids {ids}{', …' if len(report.failed) > 20 else ''})."
        )
    if report.changed_meanwhile:
        message += f" {len(report.changed_meanwhile):,} changed meanwhile: run it again for those."
    return message


ROUTES = [
    (pattern, store_errors(view))
    for pattern, view in [
        (r"^/-/secrets$", index),
        (r"^/-/secrets/-/keys$", keys),
        (r"^/-/secrets/-/keys/rotate$", rotate),
        (r"^/-/secrets/-/audit(?P<format>\.json)?$", audit),
        (r"^/-/secrets/-/import$", import_env),
        (r"^/-/secrets/-/import/confirm$", import_confirm),
        (r"^/-/secrets/(?P<name>[^/]+)$", edit),
        (r"^/-/secrets/(?P<name>[^/]+)/row$", row),
        (r"^/-/secrets/(?P<name>[^/]+)/history$", history),
        (r"^/-/secrets/(?P<name>[^/]+)/restore$", restore),
        (r"^/-/secrets/(?P<name>[^/]+)/delete$", delete),
        (r"^/-/secrets/(?P<name>[^/]+)/reveal$", reveal),
        (r"^/-/secrets/(?P<name>[^/]+)/copy$", copy),
        (r"^/-/secrets/(?P<name>[^/]+)/mask$", mask),
        (r"^/-/secrets/(?P<name>[^/]+)/test$", check),
    ]
]


# Helpers


async def load(datasette, request):
    """(state, entry) for the secret named in the URL; NotFound if none."""
    state = await core.ready(datasette)
    name = model.name_from_slug(request.url_vars["name"])
    entry = await model.entry(datasette, state, name) if name is not None else None
    if entry is None:
        raise NotFound(f"No secret called {name if name is not None else request.url_vars['name']}")
    return state, entry


AUDIT_PAGE_SIZE = 50
HISTORY_EVENTS = 20  # the newest audit rows a secret's history shows; its audit log has all
AUDIT_FILTERS = ("secret", "actor", "action")
# Every action the audit log records, as the log's filter offers them.
AUDIT_ACTIONS = {
    "set": "Stored a new version",
    "note": "Changed the note",
    "restore": "Restored an old version",
    "delete": "Deleted",
    "reveal": "Revealed",
    "rotate": "Re-encrypted everything under the current key",
    "check": "Tested the value",
    "compare": "Compared with an imported value",
}


def audit_cursor(request):
    """The ``_next`` cursor: the id the next page's rows are older than."""
    text = request.args.get("_next")
    if text is None:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise BadRequest("_next must be a cursor from a previous page of the audit log")
    return int(text)


def audit_url(datasette, filters, before, as_json):
    query = {key: value for key, value in filters.items() if value}
    if before:
        query["_next"] = before
    path = datasette.urls.path("/-/secrets/-/audit" + (".json" if as_json else ""))
    return path + (f"?{urlencode(query)}" if query else "")


def audit_json(row, actors):
    """One audit row for log collectors: never a value (the table holds none)."""
    actor_id = row["actor_id"]
    return {
        "id": row["id"],
        "time": when(row["created_at"])["iso"] if row["created_at"] else None,
        "secret": row["name"],
        "version": row["version"],
        "action": row["action"],
        "detail": row["detail"],
        "actor_id": actor_id,
        "actor": display_name(actors, actor_id),
    }


def page_number(request):
    """The ?page= asked for; past the last page means the last page."""
    text = request.args.get("page", "1")
    if not (text.isascii() and text.isdigit()) or int(text[:10]) < 1:
        raise BadRequest("The page must be a whole number, 1 or more")
    return int(text[:10]) if len(text) <= 10 else 10**10


def page_url(datasette, q, number, status=None):
    pairs = (("q", q), ("status", status), ("page", number))
    query = urlencode({key: value for key, value in pairs if value and value != 1})
    return datasette.urls.path("/-/secrets") + (f"?{query}" if query else "")


async def list_url(datasette, state, entry):
    """The list page that shows ``entry``, scrolled to its row.

    The last listing built serves, even if a change made it stale: a change
    moves a row at most by the few names added or removed meanwhile, and a
    redirect after each save must not read every summary again (under a burst
    of saves those reads queued past Datasette's time limit).
    """
    built = state.listing or await model.listing(datasette, state)
    names = built.names
    page = bisect.bisect_left(names, entry.name) // PAGE_SIZE + 1
    query = f"?page={page}" if page > 1 else ""
    return datasette.urls.path("/-/secrets") + query + f"#secret-{entry.key}"


async def done(datasette, request, state, entry, message, history=False, undo=False):
    """After a change, its message at the row (with Undo after a delete) and in the
    page's notice: the fresh row fragment for htmx, else a redirect to the row."""
    if not is_htmx(request):
        return await redirect_with_flash(datasette, request, state, entry, message, undo)
    entry = await model.entry(datasette, state, entry.name)
    if entry is None:  # a deleted orphan leaves the list
        context = {"message": message}
        return await render(datasette, request, "_secrets_removed.html", context)
    if history:
        return await history_response(datasette, request, state, entry, focus="history", message=message)
    return await row_fragment(datasette, request, state, entry, focus="edit", message=message, undo=undo)


# Without JavaScript a change redirects to the list, and the list shows its message
# at the changed row: the message travels in a signed cookie read once (as
# Datasette's own flash messages do), which names the row. It is bound to the
# actor who made the change and lives FLASH_SECONDS, so a cookie planted by
# another page on the same host (cookies ignore ports) shows nothing.
FLASH_COOKIE = "ds_secrets_done"
FLASH_NAMESPACE = "datasette-secrets-done"
FLASH_SECONDS = 60


async def redirect_with_flash(datasette, request, state, entry, message, undo=False):
    response = Response.redirect(await list_url(datasette, state, entry))
    flash = {
        "name": entry.name,
        "message": message,
        "undo": undo,
        "actor": core.actor_id_of(request.actor),
        "at": int(time.time()),
    }
    response.set_cookie(
        FLASH_COOKIE,
        datasette.sign(flash, FLASH_NAMESPACE),
        max_age=FLASH_SECONDS,
        path=datasette.urls.path("/-/secrets"),
        httponly=True,
        samesite="strict",
    )
    return response


def read_flash(datasette, request):
    """The message a redirect left for this actor on the list page, or None."""
    cookie = request.cookies.get(FLASH_COOKIE)
    if not cookie:
        return None
    try:
        flash = datasette.unsign(cookie, FLASH_NAMESPACE)
    except BadSignature:
        return None
    if not (isinstance(flash, dict) and isinstance(flash.get("name"), str) and isinstance(flash.get("message"), str)):
        return None
    if flash.get("actor") != core.actor_id_of(request.actor):
        return None
    at = flash.get("at")
    if not isinstance(at, int) or not (0 <= time.time() - at <= FLASH_SECONDS):
        return None
    return flash


async def edit_form(
    datasette, request, state, entry, errors=None, note=None, value_dropped=False, multiline=False
):
    """The edit form; with errors, status 422 and the note as typed.

    The typed value is never sent back: in the browser secrets.js carries it
    over from the form being replaced; without JavaScript the page asks for it again.
    ``multiline`` asks for a textarea instead of the password input.
    """
    context = await list_context(datasette, request, state, [entry])
    context.update(
        entry=entry,
        errors=errors or {},
        value_dropped=value_dropped,
        multiline=multiline,
        note=(entry.stored or {}).get("note") or "" if note is None else note,
    )
    status = 422 if errors else 200
    if is_htmx(request):
        # A fresh editor replaces just the row's <tr>; one sent back with errors
        # answers the form's own POST, which swaps the whole tbody.
        context.update(mode="edit", editor_only=not errors)
        return await render(datasette, request, "_secrets_row.html", context, status)
    return await render(datasette, request, "secrets_edit.html", context, status)


async def row_fragment(datasette, request, state, entry, mode="view", versions=None, focus=None, **extra):
    context = await list_context(datasette, request, state, [entry], versions, events=extra.get("events"))
    context.update(entry=entry, mode=mode, versions=versions, focus=focus, **extra)
    return await render(datasette, request, "_secrets_row.html", context)


# The controls a row fragment may give focus to (?focus=): the one just used.
FOCUSABLE = {"edit", "history", "delete", "reveal"}


def focus_of(request):
    focus = request.args.get("focus")
    if focus in FOCUSABLE or (focus or "").startswith("restore-"):
        return focus
    return None


async def list_context(datasette, request, state, entries, versions=None, q="", events=None):
    """Template context shared by the page and its fragments.

    Actors named anywhere in it are resolved with one actors_from_ids call.
    """
    ids = set()
    for entry in entries:
        ids.add(entry.last_used_by)
        for column in ("updated_by", "deleted_by"):
            ids.add((entry.stored or {}).get(column))
    for version in versions or []:
        ids.update([version["created_by"], version["deleted_by"]])
    ids.update(event["actor_id"] for event in events or [])
    ids.discard(None)
    actors = await datasette.actors_from_ids(sorted(ids)) if ids else {}
    viewer = await viewer_of(datasette, request, state)
    key_problem = await rotation.key_problem(state) if entries else None
    actor_name = lambda actor_id: display_name(actors, actor_id)  # noqa: E731
    base = str(datasette.urls.path("/-/secrets/"))  # a plain str concatenates faster
    moments = {}  # rows share times and actors: make each piece of HTML once

    def moment_of(timestamp, actor_id):
        html = moments.get((timestamp, actor_id))
        if html is None:
            html = moments[timestamp, actor_id] = moment(when(timestamp), actor_name(actor_id))
        return html

    return {
        "entries": entries,
        "versions": versions,
        "q": q,
        "max_note": core.MAX_NOTE_LENGTH,
        "restore_label": restore_label,
        "event_text": event_text,
        "settings": state.settings,
        "can_reveal": viewer.reveal,
        # What the rules allow for a secret: templates ask this, never decide.
        "allowed": lambda entry: rules.allowed(viewer, entry, state.settings, key_problem),
        "columns": COLUMNS,
        "env_var": core.env_var,
        "breakable": breakable,
        "actor_name": actor_name,
        "moment": moment_of,
        "path": lambda entry, action=None: base + entry.slug + (f"/{action}" if action else ""),
        "generate_command": "datasette secrets generate-encryption-key",
        "plugin_static": lambda path: datasette.urls.static_plugins("datasette_secrets", path),
    }


def breakable(name):
    """A name that may wrap after each underscore (long names and environment variables)."""
    return Markup("_<wbr>").join(escape(part) for part in str(name).split("_"))


def restore_label(number):
    """The one verb for putting an old version back, everywhere."""
    return f"Restore version {number}"


# How a secret's history tells each audited action (the audit log page says it in its own words).
COPIED = "copied to the clipboard"


def event_text(row):
    version, detail = row["version"], row["detail"]
    text = {
        "set": f"stored version {version}",
        "note": f"changed the note of version {version}",
        "restore": f"stored version {version}, restored {detail}" if detail else f"restored version {version}",
        "delete": "deleted it",
        "reveal": f"copied version {version} to the clipboard" if detail == COPIED else f"revealed version {version}",
        "check": f"tested version {version}",
        "compare": f"compared version {version} with an imported value",
    }.get(row["action"], row["action"])
    if detail and row["action"] in ("set", "delete", "check"):
        text += f" ({detail})"
    return text


def moment(w, who):
    """A time from ``when()`` as relative text with the exact time on hover, and who."""
    if w is None:
        return Markup('<span class="secret-never">never</span>')
    html = (
        f'<time datetime="{escape(w["iso"])}" title="{escape(w["utc"])}">'
        f'{escape(w["relative"] or w["utc"])}</time>'
    )
    if who:
        html += f' by <span class="secret-actor">{escape(who)}</span>'
    return Markup(html)


def display_name(actors, actor_id):
    if actor_id is None:
        return None
    actor = actors.get(actor_id) or {}
    return actor.get("username") or actor.get("name") or str(actor_id)


def when(timestamp):
    """{"iso", "utc", "relative"} for a stored UTC timestamp, or None."""
    if not timestamp:
        return None
    try:
        moment = datetime.fromisoformat(str(timestamp)).replace(tzinfo=timezone.utc)
    except ValueError:
        return {"iso": str(timestamp), "utc": str(timestamp), "relative": str(timestamp)}
    return {
        "iso": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "utc": moment.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "relative": relative(datetime.now(timezone.utc) - moment),
    }


def relative(delta):
    seconds = int(delta.total_seconds())
    if seconds < 45:
        return "just now"
    if seconds < 90:
        return "1 minute ago"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = round(seconds / size) if unit != "day" else seconds // size
            if unit == "day" and count > 60:
                break
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return None  # the template shows the date instead


# Compiled fragment templates, shared by every Datasette instance in the process
# (Jinja checks each template's source, so an edited template is compiled again).
class SharedBytecodeCache(jinja2.BytecodeCache):
    """Compiled templates kept in memory, shared by the environments that use it."""

    def __init__(self):
        self.compiled = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket):
        self.compiled[bucket.key] = bucket.bytecode_to_string()


COMPILED = SharedBytecodeCache()


def fragments(datasette, state):
    """The Jinja environment for fragments (``_secrets_*.html``): synchronous.

    Datasette's environment is asynchronous, which costs about half a
    millisecond per rendered row; fragments need nothing asynchronous, so they
    render here, from Datasette's own template loader (so ``--template-dir``
    overrides still apply). Pages embed them with ``fragment(name)``.
    """
    if state.fragments is None:
        state.fragments = jinja2.Environment(
            loader=datasette.get_jinja_environment().loader,
            autoescape=True,
            bytecode_cache=COMPILED,
            auto_reload=False,  # no stat() of every included file on each render
            trim_blocks=True,
            lstrip_blocks=True,
        )
    return state.fragments


async def render(datasette, request, template, context, status=200):
    """A page (through Datasette, with its chrome) or a fragment (``_`` names)."""
    state = await core.ready(datasette)
    environment = fragments(datasette, state)
    context = {"urls": datasette.urls, **context}
    if template.startswith("_"):
        html = environment.get_template(template).render(context)
    else:
        context["fragment"] = lambda name: Markup(environment.get_template(name).render(context))
        html = await datasette.render_template(template, context, request=request)
    return Response.html(html, status=status, headers=dict(VARY))


async def render_either(datasette, request, page, fragment, context, status=200):
    """The fragment for an htmx request, the whole page otherwise (same URL, Vary)."""
    template = fragment if is_htmx(request) else page
    return await render(datasette, request, template, context, status)


async def error_fragment(datasette, request, message, status):
    """An htmx request's 4xx error, in the page's notice; and at the row when it was
    about a secret whose row the request would have swapped (a stale confirmation,
    say), which then shows what is true now."""
    if status in (404, 409) and request.headers.get("hx-target", "").startswith("tbody#secret-"):
        row = await error_row(datasette, request, message, status)
        if row is not None:
            return row
    html = await datasette.render_template(
        "_secrets_error.html", {"message": message}, request=request
    )
    return Response.html(
        html,
        status=status,
        headers={
            "HX-Retarget": "#secrets-status",
            "HX-Reswap": "innerHTML",
            **VARY,
        },
    )


async def error_row(datasette, request, message, status):
    """The secret's row as it is now, with the error where its change's result would be;
    None when there is no such row (or it cannot be read either)."""
    # Permission first: the error may come from outside the views (an unknown route).
    if not await datasette.allowed(action=MANAGE, actor=request.actor):
        return None
    name = model.name_from_slug((request.url_vars or {}).get("name", ""))
    if name is None:
        return None
    try:
        state = await core.ready(datasette)
        entry = await model.entry(datasette, state, name)
        if entry is None:
            return None
        response = await row_fragment(datasette, request, state, entry, message=message, failed=True)
    except (store.SecretStoreError, sqlite3.Error, QueryInterrupted):
        return None
    response.status = status
    return response


def wants_fragment_error(datasette, request):
    return is_htmx(request) and request.path.startswith(datasette.urls.path("/-/secrets"))
