"""What several pages answer with: the list's counts and status links after a
change moved a secret to another status (``tally``), and a secret's row
fragment (the list's row,
after a change, a Test or an error about it; or a row of My secrets), and
where a row is. Pages import it from here, never from one another.

A shared value's entry (model.Entry) has its row on the list; an own value's
(personal.OwnEntry, whose ``owner`` is set) on My secrets: one row template
for both, with what differs in its context.
"""

from urllib.parse import parse_qs, urlsplit

from .. import model, rules
from .context import MINE, list_context, mine_context
from .paging import list_url
from .render import render


def is_own(entry):
    """Whether ``entry`` is the signed-in actor's own value (a personal.OwnEntry)."""
    return getattr(entry, "owner", None) is not None


async def entry_context(datasette, request, state, entry, versions=None, events=None):
    """The context of ``entry``'s fragments and pages: the list's, or My secrets'."""
    if is_own(entry):
        context = await mine_context(datasette, request, state, [entry], versions)
    else:
        context = await list_context(datasette, request, state, [entry], versions, events=events)
    context["entry"] = entry
    return context


async def row_url(datasette, state, entry):
    """The page that shows ``entry``'s row, scrolled to it: the list, or My secrets."""
    if is_own(entry):
        return datasette.urls.path(MINE) + f"#mine-{entry.key}"
    return await list_url(datasette, state, entry)


async def row_fragment(datasette, request, state, entry, mode="view", versions=None, focus=None, **extra):
    """The row's fragment (htmx), with whatever is open in it; a change's result
    (``message`` or a Test's ``result``) also goes to the page's notice."""
    context = await entry_context(datasette, request, state, entry, versions, extra.get("events"))
    context.update(mode=mode, versions=versions, focus=focus, notice=True, **extra)
    return await render(datasette, request, "_secrets_row.html", context)


def shown_statuses(state):
    """The status links the list offers ("Due for rotation" only with max_age_days)."""
    max_age_days = state.settings.max_age_days
    return {k: v for k, v in model.STATUSES.items() if k != "due" or max_age_days}


def tally_context(listing, names, counts, q, status, statuses, within=None):
    """What the status links and the result line ("N secrets") show."""
    return {
        "q": q,
        "status": status,
        "statuses": statuses,
        "counts": counts,
        "all_count": sum(counts[key] for key in ("unset", "set", "env", "deleted", "orphan")),
        "total": len(names),
        "everything": len(listing.search("", within=within)[0]) if within is not None else len(listing.names),
    }


async def tally(datasette, request, state):
    """The counts of the list the request came from (htmx sends its URL as
    HX-Current-URL), fresh after a change: what a reload of that list would show."""
    query = parse_qs(urlsplit(request.headers.get("hx-current-url", "")).query)
    q = (query.get("q") or [""])[0].strip()
    statuses = shown_statuses(state)
    status = (query.get("status") or [None])[0]
    status = status if status in statuses else None
    listing = await model.listing(datasette, state)
    # The list's actor, not this change's one-secret Viewer: its own grants' scope.
    viewer = await rules.viewer(datasette, state, request.actor)
    within = None if viewer.manage else viewer.managed
    names, counts = listing.search(q, status, state.settings.max_age_days, within)
    return {**tally_context(listing, names, counts, q, status, statuses, within), "tally": True}
