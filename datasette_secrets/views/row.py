"""One secret's row on the list, and the changes made from it: edit, history,
restore, delete (the masked value put back after a reveal is in ``values``).

With htmx each answers with the row's fragment (its ``<tbody>``); without
JavaScript, with a page of its own (GET) or a redirect to the list (POST).
"""

from datasette import NotFound, Response
from datasette.utils.asgi import BadRequest

from .. import core, grants, model, store
from ..core import Conflict
from ..crypto import SecretDecryptionError
from .base import SecretView, is_htmx, read_form
from .context import focus_of, list_context
from .feedback import redirect_with_flash
from .paging import list_url
from .parts import row_fragment, tally
from .render import render

HISTORY_EVENTS = 20  # the newest audit rows a secret's history shows; its audit log has all
SQLITE_INTEGERS = range(-(2**63), 2**63)


class EditView(SecretView):
    """Set or edit a value and its note: GET the form, POST it."""

    async def prepare(self, request, datasette):
        await super().prepare(request, datasette)
        self.can.require("edit")

    async def get(self, request, datasette):
        multiline = request.args.get("multiline") == "1"
        return await edit_form(datasette, request, self.state, self.entry, multiline=multiline)

    async def post(self, request, datasette):
        state, entry = self.state, self.entry
        form = await read_form(request)
        value = core.clean_value(form.get("secret", ""))
        note = form.get("note", "").strip()
        errors = core.validate(entry, value, note)
        if errors:
            multiline = form.get("multiline") == "1" or "\n" in value
            return await edit_form(
                datasette, request, state, entry, errors, note, value_dropped=bool(value), multiline=multiline
            )
        version, note_changed = await core.save(datasette, state, entry, value, note, request.actor)
        if version is not None:
            message = f"Saved {entry.name}: version {version}."
        elif note_changed:
            message = f"Updated the note for {entry.name}; the value is unchanged."
        else:
            message = f"No changes to {entry.name}."
        return await done(datasette, request, state, entry, message)


class RowView(SecretView):
    """The row as it is (htmx: Cancel, closing History), focus on Edit unless ?focus=
    names another control; without JavaScript, the list at it."""

    async def get(self, request, datasette):
        if not is_htmx(request):
            return Response.redirect(await list_url(datasette, self.state, self.entry))
        return await row_fragment(datasette, request, self.state, self.entry, focus=focus_of(request) or "edit")


class HistoryView(SecretView):
    async def get(self, request, datasette):
        # Opened, focus goes to the history's heading (a restore's Cancel says where else).
        return await history_response(
            datasette, request, self.state, self.entry, focus_of(request) or "heading"
        )


class RestoreView(SecretView):
    """Store an old version again as the newest: GET asks first (a confirmation under
    that version in the history, or a page of its own); POST does it."""

    async def prepare(self, request, datasette):
        await super().prepare(request, datasette)
        self.can.require("restore")

    async def get(self, request, datasette):
        number = self.version_number(request.args)
        return await history_response(
            datasette, request, self.state, self.entry, confirm_version=number, template="secrets_restore.html"
        )

    async def post(self, request, datasette):
        state, entry = self.state, self.entry
        form = await read_form(request)
        number = self.version_number(form)
        try:
            version = await core.restore(datasette, state, entry.name, number, request.actor)
        except SecretDecryptionError as e:
            raise Conflict(str(e))
        if version is None:
            raise NotFound(f"{entry.name} has no version {number}")
        # Undoing a delete (Undo, or a deleted row's Restore) brings the secret back as it was;
        # restoring an older version says which version came back as which.
        undone = entry.is_deleted and number == entry.stored["version"]
        message = f"Restored {entry.name}." if undone else f"Restored {entry.name} version {number} as version {version}."
        # From the history's confirmation the history stays open; from Undo or a deleted row's Restore it does not.
        return await done(datasette, request, state, entry, message, history=form.get("history") == "1")

    def version_number(self, form):
        try:
            number = int(form.get("version", ""))
        except ValueError:
            raise BadRequest("Say which version to restore")
        if number not in SQLITE_INTEGERS:
            raise NotFound(f"{self.entry.name} has no version {number}")
        return number


class DeleteView(SecretView):
    """Delete: GET asks first (in the row, or a page of its own); POST does it."""

    async def prepare(self, request, datasette):
        await super().prepare(request, datasette)
        self.can.require("delete")

    async def get(self, request, datasette):
        if is_htmx(request):
            return await row_fragment(datasette, request, self.state, self.entry, mode="delete")
        context = await list_context(datasette, request, self.state, [self.entry])
        context["entry"] = self.entry
        return await render(datasette, request, "secrets_delete.html", context)

    async def post(self, request, datasette):
        entry = self.entry
        await core.delete(datasette, self.state, entry.name, request.actor)
        message = f"Deleted {entry.name}."
        if entry.is_orphan:
            message += " No installed plugin uses it, so it is gone from this list."
        return await done(datasette, request, self.state, entry, message, undo=not entry.is_orphan)


async def done(datasette, request, state, entry, message, history=False, undo=False):
    """After a change, its message at the row (with Undo after a delete) and in the
    page's notice: the fresh row fragment for htmx, else a redirect to the row.

    With htmx, a change that moved the secret to another status sends the list's
    new counts along (``tally``), so the status links and "N secrets" stay true."""
    if not is_htmx(request):
        return await redirect_with_flash(datasette, request, state, entry, message, undo)
    before = tally_key(entry)
    entry = await model.entry(datasette, state, entry.name)
    counts = await tally(datasette, request, state) if tally_key(entry) != before else {}
    if entry is None:  # a deleted orphan leaves the list
        return await render(datasette, request, "_secrets_removed.html", {"message": message, **counts})
    extra = dict(counts, keep_about=True)  # what the secret is did not change: the page keeps it
    if history:
        return await history_response(datasette, request, state, entry, focus="history", message=message, **extra)
    return await row_fragment(datasette, request, state, entry, focus="edit", message=message, undo=undo, **extra)


def tally_key(entry):
    """What the list's counts know of a secret: its status, and whether it is due."""
    if entry is None:
        return None
    return entry.status, entry.due


async def history_response(
    datasette, request, state, entry, focus=None, confirm_version=None, template="secrets_history.html", message=None,
    **counts,
):
    """The row with its history open (htmx), or the history page; ``message``: a change's, at the row;
    ``counts``: the list's new counts (see ``done``)."""
    versions = await store.history(state.db, entry.name)
    events, _ = await store.audit_log(state.db, entry.name, limit=HISTORY_EVENTS)
    extra = {"events": events, "confirm_version": confirm_version, "message": message, **counts}
    # Who holds grants on this secret alone (configuration, datasette-acl), and datasette-acl's page for it.
    held = await grants.holders(datasette, state.settings, entry.name)
    extra.update(grants=held.get(entry.name, []), grants_page=grants.acl_page(datasette, entry.name))
    if confirm_version is not None:
        if confirm_version not in {v["version"] for v in versions}:
            raise NotFound(f"{entry.name} has no version {confirm_version}")
        extra["next_version"] = max(v["version"] for v in versions) + 1
    if is_htmx(request):
        return await row_fragment(datasette, request, state, entry, versions=versions, focus=focus, **extra)
    context = await list_context(datasette, request, state, [entry], versions, events=events)
    context.update(entry=entry, versions=versions, page=True, **extra)
    return await render(datasette, request, template, context)


async def edit_form(datasette, request, state, entry, errors=None, note=None, value_dropped=False, multiline=False):
    """The edit form; with errors, status 422 and the note as typed.

    The typed value is never sent back: in the browser the form sent back is
    morphed into the one on the page, which keeps what was typed; without
    JavaScript the page asks for it again.
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
        # Edit adds just the editor under the row; the value field's switch
        # (?multiline=) and a form sent back with errors get the whole row.
        context.update(mode="edit", editor_only=not errors and "multiline" not in request.args)
        return await render(datasette, request, "_secrets_row.html", context, status)
    return await render(datasette, request, "secrets_edit.html", context, status)

