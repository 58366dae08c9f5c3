"""The key panel at /-/secrets/-/keys: where the key comes from (the
configuration or a key provider), configured keys, stored versions per key
id, and re-encryption under the current key (the same code as
``datasette secrets rotate-key``)."""


from .. import envelope, key_fit, rotation, rules
from ..crypto import LEGACY_KEY_NAME
from .base import SecretsView, is_htmx
from .context import list_context
from .feedback import redirect_with_message
from .render import render, render_either


class KeysView(SecretsView):
    covers = "all"  # the keys decide every secret
    async def get(self, request, datasette):
        context = await key_context(datasette, request, self.state)
        return await render_either(datasette, request, "secrets_keys.html", "_secrets_keys.html", context)


class RotateView(SecretsView):
    """Re-encrypt every stored version under the current key."""

    covers = "all"

    async def post(self, request, datasette):
        state = self.state
        # The rules' answer for storing: a key, and one that fits (as rotate-key refuses).
        rules.require_storing(state.settings, await key_fit.key_problem(state))
        report = await rotation.rotate(datasette, state, request.actor)
        message = rotation_message(report)
        if not is_htmx(request):
            return redirect_with_message(datasette, request, datasette.urls.path("/-/secrets/-/keys"), message)
        context = await key_context(datasette, request, state)
        context.update(message=message, report=report)
        return await render(datasette, request, "_secrets_keys.html", context)


async def key_context(datasette, request, state):
    keyring = state.settings.keyring
    counts = await key_fit.count_by_key(state.db)
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
        key_source=envelope.key_source(state.settings, state.envelope),  # where the key comes from
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
