"""The list of secrets at /-/secrets: filter words, status links, pages of rows."""

import math
from urllib.parse import parse_qs, urlsplit

from datasette.utils.asgi import BadRequest

from .. import key_fit, model, rules
from .base import SecretsView, is_htmx, viewer_of
from .context import list_context
from .paging import PAGE_SIZE, page_number, page_url
from .render import render_either


class IndexView(SecretsView):
    async def get(self, request, datasette):
        state = self.state
        q = request.args.get("q", "").strip()
        status = request.args.get("status") or None
        statuses = shown_statuses(state)
        if status is not None and status not in statuses:
            raise BadRequest(f"status must be one of: {', '.join(statuses)}")
        page = page_number(request)
        listing = await model.listing(datasette, state)
        within = await shown_names(datasette, request, state)
        names, counts = listing.search(q, status, state.settings.max_age_days, within)
        pages = max(1, math.ceil(len(names) / PAGE_SIZE))
        page = min(page, pages)
        shown = listing.entries(
            names[(page - 1) * PAGE_SIZE : page * PAGE_SIZE], state.usage.pending(), state.settings.max_age_days
        )
        model.check_values(state, shown)
        context = await list_context(datasette, request, state, shown, q=q)
        context.update(
            tally_context(listing, names, counts, q, status, statuses, within),
            first=(page - 1) * PAGE_SIZE + 1,
            page=page,
            pages=pages,
            page_url=lambda number: page_url(datasette, q, number, status),
            status_url=lambda key: page_url(datasette, q, 1, key),
            htmx=is_htmx(request),
            key_problem=await key_fit.key_problem(state),
            unregistered_settings=sorted(set(state.settings.secrets) - set(listing.registered)),
        )
        return await render_either(datasette, request, "secrets_index.html", "_secrets_table.html", context)


def shown_statuses(state):
    """The status links the list offers ("Due for rotation" only with max_age_days)."""
    max_age_days = state.settings.max_age_days
    return {k: v for k, v in model.STATUSES.items() if k != "due" or max_age_days}


async def shown_names(datasette, request, state):
    """The names the list may show this actor: None for all (granted every
    secret), else those their grants on single secrets cover."""
    viewer = await viewer_of(datasette, request, state)
    return None if viewer.manage else viewer.managed


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
