"""The list of secrets at /-/secrets: filter words, status links, pages of rows,
what needs someone first (model.RANKS)."""

import math

from datasette.utils.asgi import BadRequest

from .. import key_fit, model
from .base import SecretsView, is_htmx, viewer_of
from .context import list_context
from .feedback import read_flash
from .paging import PAGE_SIZE, flash_page, page_url
from .parts import shown_statuses, tally_context
from .render import render_either


class IndexView(SecretsView):
    async def get(self, request, datasette):
        state = self.state
        q = request.args.get("q", "").strip()
        status = request.args.get("status") or None
        statuses = shown_statuses(state)
        if status is not None and status not in statuses:
            raise BadRequest(f"status must be one of: {', '.join(statuses)}")
        listing = await model.listing(datasette, state)
        within = await shown_names(datasette, request, state)
        names, counts = listing.search(q, status, state.settings.max_age_days, within)
        model.unreadable(state, listing)  # once per cache epoch
        names = listing.order(names, state.settings.max_age_days)  # what needs someone first
        page = flash_page(request, read_flash(datasette, request), names)
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


async def shown_names(datasette, request, state):
    """The names the list may show this actor: None for all (granted every
    secret), else those their grants on single secrets cover."""
    viewer = await viewer_of(datasette, request, state)
    return None if viewer.manage else viewer.managed
