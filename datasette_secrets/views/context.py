"""The template context the pages and fragments share, and how they word things:
times, actors, history events, names that may wrap."""

import functools
import os
from datetime import datetime, timezone

import jinja2
from datasette.utils import display_actor
from markupsafe import Markup, escape

from .. import core, key_fit, model, rules, store_personal
from ..crypto import GENERATE_COMMAND
from .base import viewer_of

COLUMNS = 6  # of the list table, for colspan (My secrets' has no note: one fewer)
MINE = "/-/secrets/-/mine"


# The controls a row fragment may give focus to (?focus=): the one just used.
FOCUSABLE = {"edit", "history", "delete", "reveal", "test"}


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
    # Who has an own value of each personal secret shown (who, never what).
    personal_shown = [entry for entry in entries if entry.secret is not None and entry.secret.personal]
    owners = await store_personal.owners(state.db) if personal_shown else {}
    for entry in personal_shown:
        ids.update(owners.get(entry.name, []))
    ids.discard(None)
    actors = await datasette.actors_from_ids(sorted(ids)) if ids else {}
    viewer = await viewer_of(datasette, request, state)
    key_problem = await key_fit.key_problem(state) if entries else None
    settings = state.settings
    viewer_allowed = lambda entry: rules.allowed(viewer, entry, settings, key_problem)  # noqa: E731
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
        "exposed": state.exposed,  # who may query the secrets database (exposure.py), or None
        # What the rules allow for a secret: templates ask this, never decide.
        "allowed": viewer_allowed,
        # Granted every secret: the key panel, rotation and the configuration's warnings are theirs.
        "manages_all": viewer.manage,
        "columns": COLUMNS,
        "env_var": core.env_var,
        "breakable": breakable,
        "actor_name": actor_name,
        "moment": moment_of,
        "owners_of": lambda entry: [actor_name(owner) for owner in owners.get(entry.name, [])],
        "path": lambda entry, action=None: base + entry.slug + (f"/{action}" if action else ""),
        "generate_command": GENERATE_COMMAND,
        "plugin_static": lambda path: datasette.urls.static_plugins("datasette_secrets", path),
        "orphan_words": ORPHAN_WORDS,
        # The one row template serves the list (owner None) and My secrets (mine_context).
        "owner": None,
        "row_prefix": "secret",  # rows' ids: secret-NAME
        "home": str(datasette.urls.path("/-/secrets")),
        "home_label": "Secrets",
        "has_history": lambda entry: entry.stored is not None,
        "mask": model.MASK,
        # A template found once per render, for a row's include (Jinja looks a name up, and stats its file, each time).
        "template": jinja2.pass_context(lambda context, name: context.environment.get_template(name)),
        "ours": is_ours,
        "facts": lambda entry: RowFacts(entry, base, "secret-", viewer_allowed(entry), None),
        # What a row fragment sets (parts.row_fragment, row.edit_form): a list's rows read them as they
        # are here, found (an undefined name costs Jinja an object each time a row asks).
        "focus": None,
        "editor_only": False,
        "keep_about": False,
        "result": None,
        "failed": False,
        "notice": False,
        "tally": False,
    }


async def mine_context(datasette, request, state, entries, versions=None):
    """The template context of My secrets: ``list_context``'s, for the signed-in
    actor's own values (``owner``) of ``entries`` (personal.OwnEntry), each of
    which the templates ask ``rules.allowed_own`` about (``allowed``);
    ``versions``: an own value's history, whose deletions name who did them."""
    owner = core.actor_id_of(request.actor)
    context = await list_context(datasette, request, state, [])
    key_problem = await key_fit.key_problem(state)
    # History is offered for a value with versions, deleted ones included.
    kept = {entry.name for entry in entries if entry.is_set}
    kept |= {e.name for e in entries if not e.is_set and await store_personal.history(state.db, e.name, owner)}
    ids = sorted({v["deleted_by"] for v in versions or [] if v["deleted_by"] is not None})
    actors = await datasette.actors_from_ids(ids) if ids else {}
    base = str(datasette.urls.path(MINE)) + "/"
    context.update(
        entries=entries,
        versions=versions,
        owner=owner,
        row_prefix="mine",  # rows' ids: mine-NAME
        home=str(datasette.urls.path(MINE)),
        home_label="My secrets",
        columns=COLUMNS - 1,
        path=lambda entry, action=None: base + entry.slug + (f"/{action}" if action else ""),
        allowed=lambda entry: rules.allowed_own(entry, state.settings, key_problem),
        has_history=lambda entry: entry.name in kept,
        facts=lambda entry: RowFacts(entry, base, "mine-", rules.allowed_own(entry, state.settings, key_problem), kept),
        actor_name=lambda actor_id: display_name(actors, actor_id),
    )
    return context


class RowFacts:
    """What a row of the list (or of My secrets) shows of ``entry``, worked out
    once per row in Python: the row template reads these instead of asking the
    same questions again and again (the path, the rules' answer, the times).
    ``kept``: for an own value (My secrets), the names with a history; None on
    the admin list."""

    __slots__ = (
        "entry", "key", "id", "path", "can", "own", "label", "name_html", "statuses", "source",
        "note", "editable", "has_history", "deleted", "updated_at", "updated_by", "updated", "shows_use",
        "used_at", "used_by", "version", "due", "fallback",
    )

    def __init__(self, entry, base, prefix, can, kept):
        self.entry, self.can = entry, can
        self.key = key = entry.key
        self.id = prefix + key
        self.path = base + entry.slug
        self.own = own = kept is not None
        self.label = "your " + entry.name if own else entry.name  # after a verb: "Edit your NAME"
        self.name_html = breakable(entry.name)
        is_set = entry.is_set
        self.source = entry.source or ""
        self.version = entry.version  # the Updated cell's "v3"
        if own:
            row = entry.row or {}
            self.statuses = self.note = ""
            self.editable = can.set
            self.has_history = entry.name in kept
            # An own value: when it was stored, and last used, not by whom (it is the owner's).
            self.updated, self.deleted = is_set, False
            self.updated_at, self.updated_by = row.get("created_at"), None
            self.shows_use = is_set
            self.used_at, self.used_by = row.get("last_used_at"), None
            self.due = self.fallback = False
            return
        stored = entry.stored
        self.statuses = " ".join(entry.statuses)
        self.note = (stored["note"] or "") if is_set else ""
        self.editable = can.edit
        self.has_history = stored is not None
        self.deleted = deleted = entry.is_deleted
        self.updated = is_set or deleted  # "Deleted" before the time, for a deleted one
        if is_set:
            self.updated_at, self.updated_by = stored["updated_at"], stored["updated_by"]
        elif deleted:
            self.updated_at, self.updated_by = stored["deleted_at"], stored["deleted_by"]
        else:
            self.updated_at = self.updated_by = None
        self.shows_use = entry.shows_last_use
        self.used_at, self.used_by = entry.last_used_at, entry.last_used_by
        self.due = entry.due
        # Its variable (or a file) gives the value already: what may be stored is a fallback, no main action.
        self.fallback = bool(entry.env or entry.from_file)


# What "No longer used" (an orphan) means, said wherever the words appear.
ORPHAN_WORDS = "No plugin registers this name any more; it can only be deleted."


TEMPLATES = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", "templates"))


def is_ours(template):
    """Whether ``template`` is this plugin's own file (not a site's override of it)."""
    return template.filename is not None and _is_templates(os.path.dirname(template.filename))


@functools.lru_cache(maxsize=64)
def _is_templates(directory):
    return os.path.realpath(directory) == TEMPLATES  # a path resolved once, not on every render


def breakable(name):
    """A name that may wrap after each underscore (long names and environment variables)."""
    return Markup(str(escape(str(name))).replace("_", "_<wbr>"))  # escaping makes no "_"


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
    """How Datasette names an actor (its ``display_actor``), given ``actors_from_ids``' answer."""
    if actor_id is None:
        return None
    actor = actors.get(actor_id)
    return str(display_actor(actor)) if actor else str(actor_id)


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
    """How long ago, in words, always ("just now" to "3 years ago"): pages put the exact UTC time in a title."""
    seconds = int(delta.total_seconds())
    if seconds < 45:  # a clock a little ahead of the database's says "just now" too
        return "just now"
    if seconds < 90:
        return "1 minute ago"
    days = seconds // 86400
    if days > 60:
        count, unit = (days // 365, "year") if days >= 365 else (days // 30, "month")
    elif days:
        count, unit = days, "day"
    else:
        count, unit = (round(seconds / 3600), "hour") if seconds >= 3600 else (round(seconds / 60), "minute")
    return f"{count} {unit}{'s' if count != 1 else ''} ago"
