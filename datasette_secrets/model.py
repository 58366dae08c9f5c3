"""The admin list's read model: what each secret is now, for the pages and the CLI.

``Entry`` is one row of the list (a registered secret, or an orphaned stored
one) and ``Listing`` every name the list can show, with statuses and search.
What an actor may do with an entry, and see of it, is decided in ``rules``;
this module only says what is. Reads go through the State's cache and
``store``; nothing here writes.
"""

import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cached_property
from urllib.parse import quote, unquote

from . import store
from .core import ENV_PREFIX, LINE_BREAK, env_value, file_path, file_value, is_key
from .files import FILE_SUFFIX, SecretFileError
from .crypto import SecretDecryptionError
from .registry import Registration
from .rules import STATUSES, status_of

MASK = "•" * 8
# Values at least this long show their last four characters beside the mask,
# to those who may reveal the value anyway.
HINT_MIN_LENGTH = 16
SAFE_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")
TAGS = re.compile(r"<[^>]+>")


def name_from_slug(slug):
    """The name a URL path segment stands for (see Entry.slug); None if none."""
    if slug.startswith("~"):
        try:
            return bytes.fromhex(slug[1:]).decode()
        except (ValueError, UnicodeDecodeError):
            return None
    return unquote(slug)


@dataclass
class Entry:
    """One row of the admin list: a registered secret, or an orphaned stored one."""

    name: str
    registration: Registration | None
    stored: dict | None  # the store's summary row (newest live, else newest)
    env: bool
    hint: str | None = None  # last four characters, for long values
    due: bool = False  # stored longer ago than max_age_days: due for rotation
    error: str | None = None  # why the stored value could not be read
    # The name's last use by get_secret, from the environment or stored; None if never.
    last_used_at: str | None = None
    last_used_by: str | None = None
    # The path in DATASETTE_SECRETS_<NAME>_FILE, when set (and the file holds no key).
    file: str | None = None
    file_error: str | None = None  # why that file cannot be read (SecretFileError's message)

    @property
    def secret(self):
        return self.registration.secret if self.registration else None

    @cached_property
    def slug(self):
        """The name as a URL path segment.

        Safe names as they are; any other (an orphan's name can be anything,
        even "", "." or "..", which a URL cannot carry as a segment) as "~"
        and the hex of its UTF-8, which no safe name starts with.
        """
        if SAFE_KEY.fullmatch(self.name):
            return quote(self.name, safe="")
        return "~" + self.name.encode().hex()

    @cached_property
    def key(self):
        """The name as a token safe in HTML ids and CSS selectors.

        Registered names always are; an orphan row's name may be anything, and
        then becomes "-" and its hex, which no safe name can start with.
        """
        return self.name if SAFE_KEY.fullmatch(self.name) else "-" + self.name.encode().hex()

    @property
    def is_orphan(self):
        return self.registration is None

    @property
    def is_set(self):
        return bool(self.stored) and not self.stored["deleted_at"]

    @property
    def is_deleted(self):
        return bool(self.stored) and bool(self.stored["deleted_at"])

    @property
    def from_file(self):
        """The value comes from a file: its _FILE variable is set, DATASETTE_SECRETS_<NAME> is not."""
        return self.file is not None and not self.env

    @property
    def is_shadowed(self):
        """A stored value exists, but the environment variable (or a file) wins."""
        return (self.env or self.from_file) and self.is_set

    @property
    def version(self):
        return self.stored["version"] if self.is_set else None

    @property
    def status(self):
        return status_of(self.registration is not None, self.env or self.from_file, self.stored)

    def hint_for(self, allowed):
        """The last four characters, for a viewer the rules let see them (rules.Allowed.hint)."""
        return self.hint if allowed.hint else None

    def mask_for(self, allowed):
        return MASK + (self.hint_for(allowed) or "")


class Listing:
    """Every secret the list page can show: registered ones and live orphans.

    Holds names, not entries: a page builds ``Entry`` objects only for the
    rows it shows, so a long list costs little more than a short one.
    """

    def __init__(self, registered, rows, uses, files=None):
        self.registered = registered
        self.files = files  # the State's Files, for secrets mounted as files
        self.rows = rows  # {name: summary row}, shared with the cache: never changed here
        self.uses = uses  # {name: (last_used_at, last_used_by)}, shared likewise
        self.names = sorted(
            set(registered) | {name for name, row in rows.items() if not row["deleted_at"]}
        )
        self._haystacks = None
        self._statuses_for = None
        self._statuses_cache = None

    def entries(self, names, used, max_age_days=None):
        """Entry objects for these names; ``used`` holds uses not written yet."""
        cutoff = rotation_cutoff(max_age_days)
        uses = self.uses
        return [
            _entry(
                name, self.registered.get(name), self.rows.get(name),
                used.get(name) or uses.get(name), cutoff, _file_of(self.files, self.registered, name),
            )
            for name in names
        ]

    def search(self, q, status=None, max_age_days=None):
        """(names, counts): the names matching every word of ``q``, in any order
        (in the name, description, note or plugin, ignoring case), and
        ``status``; and how many of those matching ``q`` have each status."""
        words = q.lower().split()
        names = self.names
        if words:
            if self._haystacks is None:
                self._haystacks = [(name, self._haystack(name)) for name in self.names]
            names = [name for name, haystack in self._haystacks if all(w in haystack for w in words)]
        statuses = self._all_statuses(rotation_cutoff(max_age_days))
        counts = {key: 0 for key in STATUSES}
        for name in names:
            for key in statuses[name]:
                counts[key] += 1
        if status:
            names = [name for name in names if status in statuses[name]]
        return names, counts

    def _all_statuses(self, cutoff):
        """{name: statuses} of every name, kept while the environment's secrets
        and the cutoff stay the same (a page load then costs no pass over them).
        A secret mounted as a file counts as "env" (its file is not read here)."""
        in_environment = frozenset(
            key[len(ENV_PREFIX):]
            for key, value in os.environ.items()
            if key.startswith(ENV_PREFIX) and value and not is_key(value)
        )
        in_environment |= {
            name[: -len(FILE_SUFFIX)]
            for name in in_environment
            if name.endswith(FILE_SUFFIX) and name not in self.registered
        }
        if self._statuses_for != (in_environment, cutoff):
            self._statuses_cache = {
                name: self._statuses(name, cutoff, in_environment) for name in self.names
            }
            self._statuses_for = (in_environment, cutoff)
        return self._statuses_cache

    def _statuses(self, name, cutoff, in_environment):
        """The statuses of one name: one of unset/set/env/deleted/orphan, maybe due."""
        row = self.rows.get(name)
        status = status_of(name in self.registered, name in in_environment, row)
        return ("set", "due") if status == "set" and _older(row, cutoff) else (status,)

    def _haystack(self, name):
        registration = self.registered.get(name)
        description = registration.secret.description if registration else None
        note = (self.rows.get(name) or {}).get("note")
        plugin = registration.plugin if registration else ""
        return " ".join([name, TAGS.sub("", description or ""), note or "", plugin]).lower()


async def listing(datasette, state):
    """The Listing of every secret, rebuilt only when registrations or stored rows change
    (a write of "last used" counts: the cache forgets rows and uses together)."""
    registered = await state.registry.get(datasette)
    rows, uses = await state.cache.summaries()
    built = state.listing
    if built is None or built.registered is not registered or built.rows is not rows:
        built = state.listing = Listing(registered, rows, uses, state.files)
    return built


async def entry(datasette, state, name, shown=True):
    """The entry for ``name`` with its value checked, or None if it is not listed.

    ``shown=False`` is for a change that answers with a redirect: its last use
    is not read and its value not decrypted, since nothing shows them.
    """
    registered = await state.registry.get(datasette)
    row = await store.summary(state.db, name)
    if name not in registered and (row is None or row["deleted_at"]):
        return None
    use = (state.usage.pending_use(name) or await store.use(state.db, name)) if shown else None
    found = _entry(
        name, registered.get(name), row, use, rotation_cutoff(state.settings.max_age_days),
        _file_of(state.files, registered, name),
    )
    if shown:
        check_values(state, [found])
    return found


def _entry(name, registration, row, use, cutoff=None, file=(None, None)):
    """``use``: the name's last (last_used_at, last_used_by), written or not, or None;
    ``file``: (path, error) from ``_file_of``."""
    last_used_at, last_used_by = use or (None, None)
    entry = Entry(
        name, registration, row, env=registration is not None and env_value(name) is not None,
        last_used_at=last_used_at, last_used_by=last_used_by, file=file[0], file_error=file[1],
    )
    entry.due = entry.is_set and not (entry.env or entry.from_file) and _older(row, cutoff)
    return entry


def _file_of(files, registered, name):
    """(path, why it cannot be read or None) for a registered secret whose
    DATASETTE_SECRETS_<NAME>_FILE is set; (None, None) otherwise, and when the
    file holds an encryption key (as a variable holding one is ignored)."""
    path = file_path(name, registered) if files is not None and name in registered else None
    if path is None:
        return None, None
    try:
        value = file_value(files, name, path)
    except SecretFileError as e:
        return path, str(e)
    return (None, None) if value is None else (path, None)


def rotation_cutoff(max_age_days):
    """The stored time before which a value is due for rotation, or None."""
    if not max_age_days:
        return None
    moment = datetime.now(timezone.utc) - timedelta(days=max_age_days)
    return moment.strftime("%Y-%m-%d %H:%M:00")  # to the minute: ample for days, and cacheable


def _older(row, cutoff):
    # Stored times are UTC "YYYY-MM-DD HH:MM:SS", so text order is time order.
    return bool(cutoff and row and row.get("created_at") and str(row["created_at"]) < cutoff)


def check_values(state, entries):
    """Decrypt each entry's stored value: for its hint, and to report what cannot be read."""
    if not state.settings.has_key:
        return
    for entry in entries:
        if not entry.is_set:
            continue
        row = entry.stored
        # A row the cache knows to be rolled back or planted is reported, not read.
        refused = state.cache.refusal(entry.name, row["version"], row["encryption_key_name"], row["encrypted"])
        if refused is not None:
            entry.error = str(refused)
            continue
        try:
            value = state.settings.keyring.decrypt(
                entry.name, row["version"], row["encryption_key_name"], row["encrypted"]
            )
        except SecretDecryptionError as e:
            entry.error = str(e)
        else:
            # Not for a value of several lines: its last four are boilerplate
            # ("----", "}") and could show where a line ends.
            if len(value) >= HINT_MIN_LENGTH and not LINE_BREAK.search(value):
                entry.hint = value[-4:]


