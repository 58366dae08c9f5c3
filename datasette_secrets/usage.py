"""Who used each secret last, and when: recorded in memory on every read,
written at most once a second.

"Last used" is recorded per name (values from the environment and files
too), and for actors' own values of personal secrets on the own value's row
alone (an admin's list never learns of them), and written in one
transaction a second, instead of one write per read. The ``State`` of each
instance holds one ``UsageBuffer``.
"""

import asyncio
import logging
import time

from . import store, store_personal

log = logging.getLogger("datasette_secrets")

FLUSH_EVERY = 1.0  # seconds between writes of "last used"


class UsageBuffer:
    """Who used each secret last, and when: in memory, written once a second.

    ``record`` is called on every read and only updates a dict; the first
    record after a write schedules the next write one second later, so there
    is at most one write transaction a second however many reads there are.
    A process that is killed loses at most the last second's records; an
    orderly shutdown writes them (``flush``).
    """

    def __init__(self, db_ref, written, clock=time.monotonic):
        self._db = db_ref
        self._clock = clock  # monotonic: when the next write is due (the State's clock)
        self._written = written  # called after each write: the cached uses are stale (nothing else)
        self._pending = {}  # name -> (unix time, actor id, version or None)
        self._own = {}  # (name, owner) -> (unix time, version): uses of actors' own values
        self._timer = None

    def record(self, name, actor_id, version):
        """A use of ``name``'s shared value now; ``version`` is the stored version
        read, None for the environment variable."""
        self._pending[name] = (time.time(), actor_id, version)
        self._schedule()

    def record_own(self, name, owner, version):
        """A use of ``owner``'s own value of ``name`` now: on that value's row only,
        never as a use of the shared value (whose last use the admin list shows)."""
        self._own[name, owner] = (time.time(), version)
        self._schedule()

    def _schedule(self):
        if self._timer is None:
            self._timer = asyncio.get_running_loop().create_task(self._flush_later())

    def pending(self):
        """{name: (last_used_at text, actor id)} not yet written."""
        return {name: self.pending_use(name) for name in self._pending}

    def pending_use(self, name):
        """(last_used_at text, actor id) of a use of ``name`` not yet written, or None."""
        use = self._pending.get(name)
        return None if use is None else (sqlite_time(use[0]), use[1])

    async def _flush_later(self):
        try:
            due = self._clock() + FLUSH_EVERY
            while (left := due - self._clock()) > 0:  # a clock a test moves may not have moved yet
                await asyncio.sleep(min(left, FLUSH_EVERY))
            await self.flush()
        finally:
            self._timer = None
        if self._pending or self._own:  # recorded while writing: schedule the next write
            self._timer = asyncio.get_running_loop().create_task(self._flush_later())

    async def scheduled(self):
        """Wait for the write a use scheduled, if one is (tests that move the clock)."""
        if self._timer is not None:
            await asyncio.shield(self._timer)

    async def flush(self):
        """Write every pending record now, in one transaction."""
        pending, self._pending = self._pending, {}
        own, self._own = self._own, {}
        db = self._db()
        if not (pending or own) or db is None:
            return
        uses = [(name, sqlite_time(t), actor, version) for name, (t, actor, version) in pending.items()]
        own_uses = [(name, owner, sqlite_time(t), version) for (name, owner), (t, version) in own.items()]
        try:
            await store.record_uses(db, uses, lambda conn: store_personal.record_uses(conn, own_uses))
        except Exception as e:  # "last used" is a convenience: never fail a request for it
            log.warning("datasette-secrets: could not record when secrets were used: %s", e)
        else:
            self._written()


def sqlite_time(t):
    """A Unix time in SQLite's datetime('now') form, UTC."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))
