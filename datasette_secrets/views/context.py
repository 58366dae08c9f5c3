"""The template context the pages and fragments share, and how they word things:
times, actors, history events, names that may wrap."""

import dataclasses
import functools
import os
from collections import OrderedDict
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

    rows = state.row_cache
    if rows is None:
        rows = state.row_cache = RowCache()
    epoch = state.cache.epoch()
    page = []  # the page-wide part of the rows' keys, worked out at the first row (None: render every row)

    @jinja2.pass_context
    def plain_row(context, entry, macro):
        """``entry``'s row in mode "view" with nothing open, as ``macro`` (the row macro) renders it:
        kept from an earlier render when everything it reads is the same (``row_key``)."""
        if not page:
            page.append(page_key(context))
        if page[0] is None:
            return macro(entry, "view")
        key = (page[0], row_key(context["facts"](entry), context["moment"], context["owners_of"]))
        try:
            html = rows.get(epoch, key)
        except TypeError:  # something unhashable in it (a plugin's own type of description): render
            return macro(entry, "view")
        if html is None:
            html = macro(entry, "view")
            rows.put(key, html)
        return html

    return {
        "entries": entries,
        "versions": versions,
        "q": q,
        "plain_row": plain_row,
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


ROW_CACHE_SIZE = 1000  # rendered rows kept (README, Speed: a limit): ~2 KB each


class RowCache:
    """The list's (and My secrets') plain rows as rendered, by ``row_key``: a
    second render of a page costs a dictionary look-up per row, not the row
    macro. At most ``size`` rows, the least recently shown going first;
    emptied when the cache epoch changes (everything forgotten). A save or a
    delete needs no emptying: it changes what the row's key holds."""

    def __init__(self, size=ROW_CACHE_SIZE):
        self.size = size
        self._rows = OrderedDict()
        self._epoch = None

    def get(self, epoch, key):
        """The HTML kept for ``key``, or None (nothing kept from before ``epoch`` is returned)."""
        if epoch != self._epoch:
            self._rows.clear()
            self._epoch = epoch
            return None
        html = self._rows.get(key)
        if html is not None:
            self._rows.move_to_end(key)
        return html

    def put(self, key, html):
        """Keep ``html`` for ``key`` (size 0: keep nothing)."""
        if self.size <= 0:
            return
        self._rows[key] = html
        if len(self._rows) > self.size:
            self._rows.popitem(last=False)

    def __len__(self):
        return len(self._rows)


# A plain row: what the row macro reads from the page's context when nothing is open in it.
PLAIN = (("focus", None), ("versions", None), ("editor_only", False), ("keep_about", False),
         ("result", None), ("failed", False), ("notice", False), ("tally", False))
ROW_TEMPLATES = ("_secrets_row.html", "_secrets_value.html", "_secrets_about.html")


def page_key(context):
    """What every row of a page reads from its context, as a tuple of plain values;
    None when its rows may not be kept: something is open in them, or a site
    overrides one of the row's templates (it may read anything)."""
    if any(context.get(name) != plain for name, plain in PLAIN):
        return None
    environment = context.environment
    if not all(is_ours(environment.get_template(name)) for name in ROW_TEMPLATES):
        return None
    settings = context["settings"]
    return (
        settings.max_age_days, settings.has_key, bool(settings.key_provider), context["mask"],
        context["columns"], context["owner"], context["row_prefix"], environment.autoescape,
    )


def row_key(r, moment, owners_of):
    """Everything a plain row of ``r`` (RowFacts) shows, as a tuple of plain values:
    two rows with the same key render the same HTML. ``moment`` and ``owners_of``:
    the context's (times in words, with whom; who keeps own values)."""
    entry, can = r.entry, r.can
    secret = entry.secret
    facts = (
        entry.name, r.id, r.path, r.label, r.own, allowed_key(can), r.statuses, r.source, r.note,
        r.editable, r.has_history, r.deleted, r.version, r.due, r.fallback, entry.is_set,
        r.updated and moment(r.updated_at, r.updated_by), r.shows_use and moment(r.used_at, r.used_by),
    )
    if r.own:
        value = None  # an own value shows only whether it is set, and its version and times
    else:
        stored = entry.stored
        value = (
            entry.is_deleted, entry.is_orphan, stored["version"] if stored else None, entry.hint_for(can),
            entry.env, entry.file is not None, entry.file_shown, entry.file_error, entry.error, entry.unreadable,
        )
    if secret is None:
        about = None
    else:
        # Markup and a str of the same text render differently: the type is part of the key.
        description, label = secret.description, secret.obtain_label
        about = (
            description, type(description), entry.obtain_url, label, type(label), entry.registration.plugin,
            secret.personal, tuple(owners_of(entry)) if secret.personal and not r.own else None,
        )
    return facts, value, about


_ALLOWED_FIELDS = {}


def allowed_key(can):
    """Every field of a rules.Allowed or AllowedOwn but its refusals' words, which no row shows."""
    kind = type(can)
    names = _ALLOWED_FIELDS.get(kind)
    if names is None:
        names = _ALLOWED_FIELDS[kind] = tuple(f.name for f in dataclasses.fields(can) if f.name != "why")
    return (kind, *(getattr(can, name) for name in names))


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
