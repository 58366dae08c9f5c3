"""The audit log at /-/secrets/-/audit (and .json): every audited action, never a value."""

from urllib.parse import urlencode

from datasette import Response
from datasette.utils.asgi import BadRequest

from .. import store
from .base import SecretsView, viewer_of
from .context import COPIED, display_name, list_context, when
from .render import render_either

AUDIT_PAGE_SIZE = 50
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
    "personal-set": "Stored an own value (personal secret)",
    "personal-delete": "Deleted an own value (personal secret)",
    "personal-reveal": "Revealed their own value",
    "personal-check": "Tested their own value",
    # The data key under a key_provider (envelope.py): rows about every secret at once.
    "wrap-key": "Stored a key wrapped by the key provider",
    "rewrap-key": "Rewrapped the data keys to the provider's newest key",
    "new-data-key": "Made a new data key",
    "unwrap-key": "Wrote the data key to a file",
}
# The filter's words: a copy is stored as a reveal, so filtering reveals lists copies too.
FILTER_ACTIONS = {
    **AUDIT_ACTIONS,
    "reveal": "Revealed or copied",
    "personal-reveal": "Revealed or copied their own value",
}
# A copy is a reveal row whose detail says so (stored rows keep their action).
COPY_WORDS = {"reveal": "Copied", "personal-reveal": "Copied their own value"}


def copied(row):
    """Whether an audit row is a copy to the clipboard rather than a reveal on the page."""
    detail = row["detail"] or ""
    return row["action"] in COPY_WORDS and (detail == COPIED or detail.endswith("; " + COPIED))


def action_text(row):
    """The log's word for a row's action: "Copied" for a copy, not "Revealed"."""
    if copied(row):
        return COPY_WORDS[row["action"]]
    return AUDIT_ACTIONS.get(row["action"], row["action"])


def detail_text(row):
    """A row's detail, less what its action's word already says (a copy)."""
    detail = row["detail"] or ""
    if copied(row):
        detail = detail[: -len(COPIED)].removesuffix("; ")
    return detail


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


class AuditView(SecretsView):
    """The audit log: newest first, filtered by secret, actor and action; JSON too."""

    async def get(self, request, datasette):
        state = self.state
        filters = {key: request.args.get(key, "").strip() or None for key in AUDIT_FILTERS}
        before = audit_cursor(request)
        viewer = await viewer_of(datasette, request, state)
        # Granted some secrets only: the rows about those (not those about every secret at once).
        within = None if viewer.manage else viewer.managed
        rows, older = await store.audit_log(
            state.db, filters["secret"], filters["actor"], filters["action"], before, AUDIT_PAGE_SIZE, within
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
            )
        context = await list_context(datasette, request, state, [])
        context.update(
            rows=rows,
            filters=filters,
            actions=FILTER_ACTIONS,
            action_text=action_text,
            detail_text=detail_text,
            older_url=older_url,
            newest_url=audit_url(datasette, filters, None, False) if before else None,
            json_url=audit_url(datasette, filters, before, True),
            actor_name=lambda actor_id: display_name(actors, actor_id),
        )
        return await render_either(datasette, request, "secrets_audit.html", "_secrets_audit.html", context)
