"""The facts about each secret: what it is now, the same for whoever asks.

The one place that says, for each secret, where the value plugins get comes
from (``Entry.source``: its variable, a file, the store; ``OwnEntry`` in
``personal`` says "own"), its status (``statuses_of``, the only function
that decides one), whether it has a value, whether its last use shows, and
the obtain link that is safe to show. Pages, fragments, templates, the
list's counts, the import, rotation and the command line read these facts
and re-derive none of them. ``Listing`` is every name the list can show,
with statuses and search.

What an actor may do with an entry, and see of it, is decided from these
facts in ``rules``. Reads go through the State's cache and ``store``;
nothing here writes.
"""

import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cached_property
from urllib.parse import quote, unquote

from . import store
from .core import ENV_PREFIX, LINE_BREAK, env_value, file_path, file_value
from .files import FILE_SUFFIX, SecretFileError, shown_path
from .crypto import LEGACY_KEY_NAME, SecretDecryptionError
from .registry import Registration

MASK = "•" * 8
# Values at least this long show their last four characters beside the mask,
# to those who may reveal the value anyway.
HINT_MIN_LENGTH = 16
SAFE_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")
TAGS = re.compile(r"<[^>]+>")

# A secret's status, as the list filters and the command line name them (keys)
# and the page words them (labels).
STATUSES = {
    "unset": "Not set",
    "set": "Set",
    "env": "Environment",
    "deleted": "Deleted",
    "orphan": "No longer used",  # the key stays "orphan" (URLs, JSON)
    "due": "Due for rotation",  # with max_age_days: a set value stored long ago
}
# Where the value plugins get comes from.
SOURCES = ("env", "file", "store", "own")
# Links a page may show for a Secret's obtain_url: no javascript: or data: URLs.
SAFE_LINK_PREFIXES = ("https://", "http://", "/")


def statuses_of(registered, outside, row, cutoff=None):
    """A secret's statuses: one of unset, set, env, deleted or orphan, then
    "due" for a set value stored before ``cutoff``. The one function that
    decides a status, for the list, its counts, a row and the command line.

    ``registered``: a plugin registers the name; ``outside``: its variable, or
    a file its _FILE variable names, gives the value; ``row``: its summary row.
    """
    if not registered:
        return ("orphan",)
    if outside:
        return ("env",)
    if row is None:
        return ("unset",)
    if row["deleted_at"]:
        return ("deleted",)
    return ("set", "due") if _older(row, cutoff) else ("set",)


# The list's order: first what needs someone (due for rotation, cannot be read,
# shadowed by the environment, no longer used), then values plugins get, then
# the rest (not set, deleted); by name within each.
RANKS = ("due", "unreadable", "shadowed", "orphan", "in use", "no value")


def rank_of(statuses, unreadable=False, shadowed=False):
    """Where a secret sorts in the list: an index into RANKS."""
    if "due" in statuses:
        return 0
    if unreadable:
        return 1
    if shadowed:
        return 2
    if statuses[0] == "orphan":
        return 3
    return 4 if statuses[0] in ("set", "env") else 5


def safe_link(url):
    """``url`` if a page may link to it, else None."""
    return url if url and url.startswith(SAFE_LINK_PREFIXES) else None


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
    cutoff: str | None = None  # a set value stored before this is due for rotation (rotation_cutoff)
    error: str | None = None  # why the stored value could not be read
    # The same in a few words for its row ("saved with a different key"), set with ``error``.
    unreadable: str | None = None
    # The name's last use by get_secret, from the environment or stored; None if never.
    last_used_at: str | None = None
    last_used_by: str | None = None
    # The path in DATASETTE_SECRETS_<NAME>_FILE, when set (and the file holds no key).
    # Read from, never shown as it is: see file_shown.
    file: str | None = None
    file_error: str | None = None  # why that file cannot be read (SecretFileError's message)

    @property
    def file_shown(self):
        """The file's path as pages show it: only an absolute path (anything else in
        the variable is most likely the value itself, put there by mistake)."""
        return shown_path(self.file)

    @cached_property
    def statuses(self):
        return statuses_of(self.registration is not None, self.env or self.from_file, self.stored, self.cutoff)

    @property
    def status(self):
        return self.statuses[0]

    @property
    def due(self):
        """Stored longer ago than max_age_days: due for rotation."""
        return "due" in self.statuses

    @property
    def source(self):
        """Where the value plugins get comes from: "env", "file", "store", or None (none)."""
        if self.env:
            return "env"
        if self.from_file:
            return "file"
        return "store" if self.is_set else None

    @property
    def has_value(self):
        """Whether plugins get a value (a file that cannot be read gives an error, not a value)."""
        return self.source is not None and not (self.from_file and self.file_error)

    @property
    def shows_last_use(self):
        """Whether the secret's last use is shown: it has a value from somewhere."""
        return self.source is not None

    @property
    def obtain_url(self):
        """The plugin's obtain_url, when safe to link to."""
        return safe_link(self.secret.obtain_url) if self.secret else None

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

    def __init__(self, registered, rows, uses, files=None, verdicts=None):
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
        # Whether each stored value can be read: (version, key id, ciphertext, the keyring's
        # key ids, readable) by name, worked out once per Listing (see ``unreadable``); the previous one's are reused.
        self.verdicts = dict(verdicts or {})
        self.unreadable = None  # the names whose stored value cannot be read, once known
        self.unreadable_for = None  # the keyring's key ids ``unreadable`` was worked out with
        self._order_for = None
        self._ordered = None  # every name, in the list's order
        self._position = None  # {name: its index in _ordered}

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

    def search(self, q, status=None, max_age_days=None, within=None):
        """(names, counts): the names matching every word of ``q``, in any order
        (in the name, description, note or plugin, ignoring case), and
        ``status``; and how many of those matching ``q`` have each status.
        ``within``: only these names, and only registered ones (an actor
        granted some secrets: orphans need a grant on every secret)."""
        words = q.lower().split()
        names = self.names
        if within is not None:
            names = [name for name in names if name in within and name in self.registered]
        if words:
            if self._haystacks is None:
                self._haystacks = [(name, self._haystack(name)) for name in self.names]
            shown = None if within is None else set(names)
            names = [
                name for name, haystack in self._haystacks
                if (shown is None or name in shown) and all(w in haystack for w in words)
            ]
        statuses = self._all_statuses(rotation_cutoff(max_age_days))
        counts = {key: 0 for key in STATUSES}
        for name in names:
            for key in statuses[name]:
                counts[key] += 1
        if status:
            names = [name for name in names if status in statuses[name]]
        return names, counts

    def order(self, names, max_age_days=None):
        """``names`` in the list's order (RANKS, by name within a rank), from an order
        worked out once per Listing. Needs ``unreadable`` worked out first."""
        position = self._order(max_age_days)
        if len(names) == len(position):  # all of them (names are always some of self.names)
            return self._ordered
        return sorted(names, key=position.__getitem__)

    def position(self, name, max_age_days=None):
        """How many names come before ``name`` in the list's order (all of them, no filter)."""
        return self._order(max_age_days).get(name, 0)

    def _order(self, max_age_days):
        statuses = self._all_statuses(rotation_cutoff(max_age_days))
        if self._order_for != (self._statuses_for, self.unreadable):
            unreadable = self.unreadable or frozenset()
            rows = self.rows
            self._ordered = sorted(
                self.names,
                key=lambda name: (
                    rank_of(statuses[name], name in unreadable, statuses[name][0] == "env" and _live(rows.get(name))),
                    name,
                ),
            )
            self._position = {name: index for index, name in enumerate(self._ordered)}
            self._order_for = (self._statuses_for, self.unreadable)
        return self._position

    def _all_statuses(self, cutoff):
        """{name: statuses} of every name, kept while the secrets given by the
        environment (variables and files) and the cutoff stay the same (a page
        load then costs no pass over them). Each is ``statuses_of``, with the
        same facts an Entry has."""
        variables = [key[len(ENV_PREFIX):] for key in os.environ if key.startswith(ENV_PREFIX)]
        candidates = {*variables, *(name.removesuffix(FILE_SUFFIX) for name in variables)}
        outside = frozenset(
            name for name in candidates
            if name in self.registered and _outside(self.files, self.registered, name)
        )
        if self._statuses_for != (outside, cutoff):
            self._statuses_cache = {
                name: statuses_of(name in self.registered, name in outside, self.rows.get(name), cutoff)
                for name in self.names
            }
            self._statuses_for = (outside, cutoff)
        return self._statuses_cache

    def _haystack(self, name):
        registration = self.registered.get(name)
        description = registration.secret.description if registration else None
        note = (self.rows.get(name) or {}).get("note")
        plugin = registration.plugin if registration else ""
        return " ".join([name, TAGS.sub("", description or ""), note or "", plugin]).lower()


async def listing(datasette, state):
    """The Listing of every secret, rebuilt only when registrations or stored rows
    change; a write of "last used" changes only its uses."""
    registered = await state.registry.get(datasette)
    rows, uses = await state.cache.summaries()
    built = state.listing
    if built is None or built.registered is not registered or built.rows is not rows:
        verdicts = built.verdicts if built is not None else None
        built = state.listing = Listing(registered, rows, uses, state.files, verdicts)
    built.uses = uses
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
    return Entry(
        name, registration, row, env=registration is not None and env_value(name) is not None,
        cutoff=cutoff, last_used_at=last_used_at, last_used_by=last_used_by, file=file[0], file_error=file[1],
    )


def _outside(files, registered, name):
    """Whether a registered secret's value comes from its variable or a file (as an Entry says)."""
    return env_value(name) is not None or _file_of(files, registered, name)[0] is not None


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


def unreadable(state, listing):
    """The names whose stored value cannot be read (refused as tampered, or not
    decrypted with the configured keys), for the list's order: worked out once per
    Listing, that is once per cache epoch, decrypting only the rows that changed
    since the previous Listing (a row's own display still asks, in check_values)."""
    keyring = state.settings.keyring
    key_ids = tuple(key.id for key in keyring.keys)  # a key unwrapped later reads more
    if listing.unreadable is not None and listing.unreadable_for == key_ids:
        return listing.unreadable
    found = set()
    verdicts = {}
    if state.settings.has_key:
        cache = state.cache
        before = listing.verdicts
        for name, row in listing.rows.items():
            if not _live(row):
                continue
            seen = (row["version"], row["encryption_key_name"], row["encrypted"], key_ids)
            known = before.get(name)
            if known is not None and known[:4] == seen:
                readable = known[4]
            else:
                readable = _readable(keyring, cache, name, row)
            verdicts[name] = (*seen, readable)
            if not readable:
                found.add(name)
    listing.verdicts = verdicts
    listing.unreadable_for = key_ids
    listing.unreadable = frozenset(found)
    return listing.unreadable


def _readable(keyring, cache, name, row):
    if cache.refusal(name, row["version"], row["encryption_key_name"], row["encrypted"]) is not None:
        return False
    try:
        keyring.decrypt(name, row["version"], row["encryption_key_name"], row["encrypted"])
    except SecretDecryptionError:
        return False
    return True


def _live(row):
    return bool(row) and not row["deleted_at"]


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
            entry.error, entry.unreadable = str(refused), "changed outside Datasette"
            continue
        keyring = state.settings.keyring
        try:
            value = keyring.decrypt(entry.name, row["version"], row["encryption_key_name"], row["encrypted"])
        except SecretDecryptionError as e:
            entry.error, entry.unreadable = str(e), _why_unreadable(keyring, row)
        else:
            # Not for a value of several lines: its last four are boilerplate
            # ("----", "}") and could show where a line ends.
            if len(value) >= HINT_MIN_LENGTH and not LINE_BREAK.search(value):
                entry.hint = value[-4:]


def _why_unreadable(keyring, row):
    """Why a stored value did not decrypt, in a row's few words: a key id no configured
    key has (or a 0.2/0.3 token no key opens) means another key; else it was damaged."""
    key_id = row["encryption_key_name"]
    if key_id == LEGACY_KEY_NAME or all(key.id != key_id for key in keyring.keys):
        return "saved with a different key"
    return "damaged or changed outside Datasette"
