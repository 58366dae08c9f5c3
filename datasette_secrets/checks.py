"""Test: running the registering plugin's check on a secret's value.

``check`` runs it on the value plugins would get now (the variable, the file
or the stored value) for the admin page's Test, audits that it ran and
whether it passed, and sends the event; ``run_check`` (also used for an
actor's own value, in ``personal``) bounds it in time and makes its result.
A result's message goes to the response that asked for it and nowhere else:
no audit row, cookie, history or log line keeps it. Who may run a check is
``rules``.
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
    failed result. The result goes to the one response that asked for it and
    is kept nowhere: the audit row (action "check") and the check-secret event
    say only that a Test ran, by whom, and whether it passed. For a value from
    a variable or a file, which is never revealed, the result says only passed
    or failed and the exception's type (see ``run_check``).
    Raises Conflict when there is no value, or it cannot be decrypted.
    """
    outside = entry.env or entry.from_file
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
    result = await run_check(datasette, entry.secret.check, value, terse=outside)
    version = None if outside else entry.version
    await store.record_check(state.db, entry.name, version, "passed" if result.ok else "failed", actor_id_of(actor))
    await datasette.track_event(
        CheckSecretEvent(actor=actor, secret_name=entry.name, version=version, ok=result.ok)
    )
    return result


async def run_check(datasette, check, value, terse=False):
    """A plugin's ``check(datasette, value)`` run for at most CHECK_SECONDS: a
    CheckResult for the response that asked, never stored. Never raises for
    what the check does, whatever it returns or raises.

    The message is the check's own (or its exception's), cut to
    MAX_CHECK_MESSAGE characters and passed through the scrubber, a second
    line of defence for a message that quotes the value. ``terse`` (a value
    that is never revealed) gives no message of the check's at all: passed or
    failed, and the exception's type.
    """
    try:
        returned = await asyncio.wait_for(await_me_maybe(check(datasette, value)), CHECK_SECONDS)
    except asyncio.TimeoutError:
        ok, message = False, f"The check took longer than {CHECK_SECONDS} seconds, so it was stopped."
    except Exception as e:  # a plugin's check failing is a result to show, not an error page
        ok, message = False, _failure(e, terse)
    else:
        try:
            ok, message = returned
        except Exception as e:
            ok, message = False, f"The check did not return (ok, message): {type(e).__name__}."
        else:
            try:
                ok = bool(ok)  # a numpy array or a pandas Series raises here
                message = "" if terse else str(message)
            except Exception as e:
                ok, message = False, f"The check's result could not be read: {type(e).__name__}."
    if terse:
        return CheckResult(ok, message or ("Passed." if ok else "Failed."))
    # Cut first (a plugin may return megabytes), then scrub, then cut to size.
    message = Scrubber(value)(message[: MAX_CHECK_MESSAGE * 8])
    if len(message) > MAX_CHECK_MESSAGE:
        message = message[: MAX_CHECK_MESSAGE - 1] + "…"
    return CheckResult(ok, message)


def _failure(error, terse):
    """What a failed check says: the exception's type, and unless ``terse`` its text."""
    kind = type(error).__name__
    if terse:
        return f"Failed: the check raised {kind}."
    try:
        text = str(error)
    except Exception:  # an exception whose __str__ raises: its type is all there is
        text = ""
    return f"The check failed with {kind}: {text}" if text else f"The check failed with {kind}."


async def _stored_value(state, name):
    current = await state.cache.load(name)
    if current is None or current.open is None:
        return None
    return current.open()
