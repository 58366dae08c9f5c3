"""Test: running the registering plugin's check on a secret's value.

``check`` runs it on the value plugins would get now (the variable, the file
or the stored value) for the admin page's Test, audits it and sends the
event; ``run_check`` (also used for an actor's own value, in ``personal``)
bounds it in time and puts its message through the scrubber, so a result
holds nothing of the value. Who may run a check is ``rules``.
"""

import asyncio
from dataclasses import dataclass

from datasette.utils import await_me_maybe

from . import store
from .core import Conflict, actor_id_of, env_value, file_value, is_key
from .crypto import SecretDecryptionError
from .events import CheckSecretEvent
from .files import SecretFileError
from .scrub import Scrubber

CHECK_SECONDS = 10
MAX_CHECK_MESSAGE = 300


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    message: str


async def check(datasette, state, entry, actor):
    """Run the registering plugin's check on the value plugins would get now.

    The caller has asked the rules (``Allowed.test``). Never raises for what
    the check does: an exception, a timeout or a wrong return value is a
    failed result. The message goes through the scrubber, so it holds nothing
    of the value. Audited (action "check") and sent as a check-secret event.
    Raises Conflict when there is no value, or it cannot be decrypted.
    """
    try:
        if entry.env:
            value = env_value(entry.name)
        elif entry.from_file:
            value = file_value(state.files, entry.name, entry.file)
        else:
            value = await _stored_value(state, entry.name)
    except (SecretDecryptionError, SecretFileError) as e:
        raise Conflict(f"{entry.name} cannot be tested: {e}")
    if value is None or is_key(value):
        raise Conflict(f"{entry.name} has no value to test")
    result = await run_check(datasette, entry.secret.check, value)
    version = entry.version if not (entry.env or entry.from_file) else None
    detail = ("passed: " if result.ok else "failed: ") + result.message
    await store.record_check(state.db, entry.name, version, detail, actor_id_of(actor))
    await datasette.track_event(
        CheckSecretEvent(actor=actor, secret_name=entry.name, version=version, ok=result.ok)
    )
    return result


async def run_check(datasette, check, value):
    """A plugin's ``check(datasette, value)`` run for at most CHECK_SECONDS: a
    CheckResult whose message has passed the scrubber. Never raises for what
    the check does."""
    try:
        returned = await asyncio.wait_for(await_me_maybe(check(datasette, value)), CHECK_SECONDS)
    except asyncio.TimeoutError:
        result = CheckResult(False, f"The check took longer than {CHECK_SECONDS} seconds, so it was stopped.")
    except Exception as e:  # a plugin's check failing is a result to show, not an error page
        result = CheckResult(False, f"The check failed with {type(e).__name__}: {e}")
    else:
        try:
            ok, message = returned
        except (TypeError, ValueError) as e:
            result = CheckResult(False, f"The check did not return (ok, message): {type(e).__name__}.")
        else:
            result = CheckResult(bool(ok), str(message))
    # Cut first (a plugin may return megabytes), then scrub, then cut to size.
    message = Scrubber(value)(result.message[: MAX_CHECK_MESSAGE * 8])
    if len(message) > MAX_CHECK_MESSAGE:
        message = message[: MAX_CHECK_MESSAGE - 1] + "…"
    return CheckResult(result.ok, message)


async def _stored_value(state, name):
    current = await state.cache.load(name)
    if current is None or current.open is None:
        return None
    return current.open()
