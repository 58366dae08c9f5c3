"""The list of secrets at /-/secrets: filter words, status links, pages of rows."""

import math

from datasette.utils.asgi import BadRequest

from .. import model, rotation, rules
from .base import SecretsView, is_htmx
from .context import list_context
from .feedback import PAGE_SIZE, clear_flash, page_number, page_url, read_flash
from .render import render_either


class IndexView(SecretsView):
    async def get(self, request, datasette):
        state = self.state
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
            clear_flash(datasette, response)
        return response
