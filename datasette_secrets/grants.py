"""Per-secret permissions: each secret a Datasette resource.

``manage-secrets`` and ``reveal-secrets`` take a ``SecretResource`` (named
``secret``, its parent the secret's name). A grant without a resource (a
``permissions:`` block in datasette.yml, ``-s permissions...``, ``--root``)
covers every secret, as it always did; a grant on one secret (from this
plugin's configuration, or from datasette-acl's page for the resource)
covers that secret only. This module answers, for an actor, which secrets
those grants cover (``Scopes``); what the actor may then do with a secret is
``rules``' to decide, from that answer.

Grants from the configuration are grant-only: each ``secrets: NAME:
permissions:`` block adds the actors it lists for that secret, as allow rows
(``config_grants``), and never takes the secret from anyone granted every
secret. (Read with Datasette's own semantics, the same block would deny
everyone it does not list, global admins and root included.)

Datasette resolves resources from a table of names in its internal database
(``datasette_secrets_names``: every registered and stored name), which
``sync_names`` keeps. No ACL is kept here: datasette-acl, where installed,
stores its grants and emits its own rows.
"""

import hashlib
import json
import logging
import sqlite3

from datasette.permissions import PermissionSQL, Resource
from datasette.utils import actor_matches_allow

from .generation import DataVersionWatch

log = logging.getLogger("datasette_secrets")

MANAGE = "manage-secrets"
REVEAL = "reveal-secrets"
ACTIONS = (MANAGE, REVEAL)
NAMES_TABLE = "datasette_secrets_names"
CREATE_NAMES = f"create table if not exists {NAMES_TABLE} (name text primary key)"
CONFIGURED_KEPT = 10_000  # actors' configured grants kept before forgetting them all


class SecretResource(Resource):
    """One secret, by name: the resource of manage-secrets and reveal-secrets."""

    name = "secret"
    parent_class = None

    def __init__(self, name):
        super().__init__(parent=name, child=None)

    @classmethod
    async def resources_sql(cls, datasette, actor=None):
        return f"select name as parent, null as child from {NAMES_TABLE}"


async def sync_names(datasette, names):
    """Make the internal database's table of secret names hold ``names`` (a set)."""

    def write(conn):
        conn.execute(CREATE_NAMES)
        known = {row[0] for row in conn.execute(f"select name from {NAMES_TABLE}")}
        if known == names:
            return False
        conn.executemany(f"insert or ignore into {NAMES_TABLE} (name) values (?)", [(n,) for n in names - known])
        conn.executemany(f"delete from {NAMES_TABLE} where name = ?", [(n,) for n in known - names])
        return True

    return await datasette.get_internal_database().execute_write_fn(write)


def configured_names(settings, actor, action):
    """The JSON list of secrets whose configured ``permissions:`` block grants
    ``actor`` ``action``; None when there is none."""
    names = [
        name
        for name, secret in settings.secrets.items()
        if action in secret.permissions and actor_matches_allow(actor, secret.permissions[action])
    ]
    return json.dumps(names) if names else None


def config_grants(settings, actor, action, names=None):
    """PermissionSQL allowing ``actor`` ``action`` on each secret whose
    configured ``permissions:`` block lists them; None when there is none.
    Allow rows only: a block grants, it never denies. ``names``: the answer of
    ``configured_names``, when already known."""
    names = configured_names(settings, actor, action) if names is None else names
    if not names:
        return None
    return PermissionSQL(
        sql="""
            select value as parent, null as child, 1 as allow,
                'datasette-secrets configuration: secrets.' || value || '.permissions' as reason
            from json_each(:datasette_secrets_granted)
        """,
        params={"datasette_secrets_granted": names},
    )


class Scope:
    """What one actor's grants cover: every secret (``manage``/``reveal``), or
    the names of ``managed``/``revealed`` secrets. ``reveal`` and ``revealed``
    hold only where manage-secrets does too."""

    __slots__ = ("manage", "reveal", "managed", "revealed")

    def __init__(self, manage, reveal, managed=frozenset(), revealed=frozenset()):
        self.manage, self.reveal, self.managed, self.revealed = manage, reveal, managed, revealed

    @property
    def any(self):
        """Whether the actor may manage at least one secret."""
        return self.manage or bool(self.managed)


class Scopes:
    """Each actor's Scope, worked out once per actor while nothing that decides
    it changes: the sets of secrets take Datasette one query over every name
    (8 to 40 ms for 1,000), so they are kept, and forgotten when the names
    change, or when the tables grants come from (``GRANT_TABLES``: the names,
    datasette-acl's) change (``watch``, a ``GrantsWatch``, looked at most once
    a second). Any other commit to the internal database, this plugin's "last
    used" writes under get_secret traffic included, keeps them. The grants on
    every secret are asked of Datasette on every request (it caches them for
    the request)."""

    def __init__(self, watch=None):
        self._watch = watch
        self._sets = {}
        self._names = None  # the names last written to the internal database
        self._configured = {}  # (action, actor) -> configured_names: asked on every permission check

    def config_grants(self, settings, actor, action):
        """``config_grants``, its names worked out once per actor and action: a
        State's settings never change, and matching an actor against every
        secret's block costs 0.5 ms for 500 blocks, on each permission check."""
        key = (action, json.dumps(actor, sort_keys=True, default=repr))
        if key not in self._configured:
            if len(self._configured) >= CONFIGURED_KEPT:
                self._configured.clear()
            self._configured[key] = configured_names(settings, actor, action) or ""
        return config_grants(settings, actor, action, self._configured[key])

    async def sync(self, datasette, names):
        """Make Datasette's resources the secrets ``names`` (registered and stored)."""
        names = frozenset(names)
        if names != self._names:
            await sync_names(datasette, set(names))
            self._names = names
            self._forget()

    def _forget(self):
        """Forget every actor's sets; the watch takes the grant tables as they are now
        (sets worked out from here on see them so, or newer)."""
        self._sets.clear()
        if self._watch is not None:
            self._watch.settle()

    async def of(self, datasette, actor, names, reveal_possible=True):
        """The Scope of ``actor`` among the secrets ``names``. ``reveal_possible``:
        False in write-only mode."""
        granted = await datasette.allowed_many(actions=ACTIONS, actor=actor)  # one query, or the request's cache
        manage = granted[MANAGE]
        reveal = reveal_possible and manage and granted[REVEAL]
        if manage and (reveal or not reveal_possible):
            return Scope(True, reveal)
        await self.sync(datasette, names)
        managed, revealed = await self.sets(datasette, actor)
        return Scope(manage, reveal, managed, revealed if reveal_possible else frozenset())

    async def sets(self, datasette, actor):
        """(names the actor may manage, names they may reveal), by grants on single secrets."""
        if self._watch is not None and self._watch.changed():
            self._sets.clear()  # the watch has just read the tables as they are now
        key = json.dumps(actor, sort_keys=True, default=repr)
        found = self._sets.get(key)
        if found is None:
            managed = await allowed_names(datasette, MANAGE, actor)
            found = self._sets[key] = (managed, managed & await allowed_names(datasette, REVEAL, actor))
        return found

    async def any(self, datasette, actor):
        """Whether ``actor`` may manage at least one secret: the grant on every
        secret, else the kept sets, else one query that stops at the first."""
        # Both actions in the one query: a list page asks reveal-secrets next (Scopes.of), from the request's cache.
        if (await datasette.allowed_many(actions=ACTIONS, actor=actor))[MANAGE]:
            return True
        if self._watch is not None and self._watch.changed():
            self._sets.clear()
        found = self._sets.get(json.dumps(actor, sort_keys=True, default=repr))
        if found is not None:
            return bool(found[0])
        query, params = await datasette.allowed_resources_sql(action=MANAGE, actor=actor)
        rows = await datasette.get_internal_database().execute(f"select 1 from ({query}) limit 1", params)
        return bool(rows.rows)


async def allowed_names(datasette, action, actor):
    """The names of the secrets ``actor`` may ``action``, by any grant."""
    query, params = await datasette.allowed_resources_sql(action=action, actor=actor)
    rows = await datasette.get_internal_database().execute(f"select parent from ({query})", params)
    return frozenset(row[0] for row in rows.rows if row[0] is not None)


# Where grants on single secrets come from, in the internal database: the
# names Datasette resolves resources from, and datasette-acl's grants, groups
# and group members (its audit tables only log). The configuration's grants
# never change while a State lives.
GRANT_TABLES = (NAMES_TABLE, "acl", "acl_actions", "acl_resources", "acl_groups", "acl_actor_groups")


def grants_digest(conn):
    """A digest of every row of the ``GRANT_TABLES`` that exist, read on ``conn``."""
    existing = {row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")}
    digest = hashlib.blake2b(digest_size=16)
    for table in GRANT_TABLES:
        if table in existing:
            digest.update(f"{table}\0".encode())
            for row in conn.execute(f"select * from [{table}] order by rowid"):
                digest.update(repr(row).encode())
    return digest.digest()


class GrantsWatch(DataVersionWatch):
    """Tells, at most once a second, whether the grants on single secrets may
    have changed: another connection committed (``DataVersionWatch``) and the
    rows of ``GRANT_TABLES`` are not what they were. Every commit to the
    internal database moves its data_version, this plugin's own "last used"
    writes too (once a second under get_secret traffic); those leave the
    digest as it was, and the actors' sets are kept."""

    def __init__(self, path, clock):
        super().__init__(path, clock)
        self._digest = self._read_digest()

    def _read_digest(self):
        try:
            return grants_digest(self._conn)
        except sqlite3.Error:
            return None  # locked by a writer for a moment: the next look counts as a change

    def settle(self):
        """Take the grant tables as they are now (the sets were just forgotten): this
        plugin's own change of the names is not taken for someone else's at the next look."""
        self._digest = self._read_digest()

    def changed(self):
        """Whether the grant tables changed since the last look (None digest: assume so)."""
        if not super().changed():
            return False
        digest = self._read_digest()
        if digest is not None and digest == self._digest:
            return False
        self._digest = digest
        return True


def watch_internal(datasette, clock):
    """A GrantsWatch of the internal database's file on ``clock`` (the State's),
    or None (an internal database held in memory)."""
    db = datasette.get_internal_database()
    if db.is_memory or not db.path:
        return None
    try:
        return GrantsWatch(db.path, clock)
    except sqlite3.Error as e:
        log.warning("datasette-secrets: cannot watch %s for changed grants: %s", db.path, e)
        return None


# Who holds grants on single secrets, to show on a secret's History and in
# ``datasette secrets list``: from this plugin's configuration, and from
# datasette-acl's tables in the internal database where it is installed (read
# here, never imported: its schema is its migrations' acl, acl_resources,
# acl_actions and acl_groups).
ACL_ACTION = "datasette-acl"  # datasette-acl's own action: registered means installed
ACL_HOLDERS = f"""
    select ar.parent as name, aa.name as action, a.principal_type as kind,
        a.actor_id as actor_id, g.name as group_name
    from acl a
    join acl_resources ar on a.resource_id = ar.id
    join acl_actions aa on a.action_id = aa.id
    left join acl_groups g on a.group_id = g.id
    where ar.resource_type = '{SecretResource.name}' and ar.child is null
        and aa.name in ('{MANAGE}', '{REVEAL}')
        and (a.group_id is null or g.deleted is null)
        and (:name is null or ar.parent = :name)
"""
ACL_TABLES = ("acl", "acl_resources", "acl_actions", "acl_groups")
# datasette-acl's audiences that name no one (its principal_type), in words.
ACL_AUDIENCES = {"everyone": "everyone", "authenticated": "every signed-in actor", "anonymous": "anonymous visitors"}
CONFIGURATION = "configuration"


def describe_allow(allow):
    """An allow block in a few words: ``{id: [bob, carol]}`` is "id: bob, carol"."""
    if allow is True:
        return "everyone"
    if allow is False or not allow:
        return "nobody"
    if not isinstance(allow, dict):
        return str(allow)
    parts = []
    for key, values in allow.items():
        values = values if isinstance(values, list) else [values]
        parts.append(f"{key}: {', '.join(str(v) for v in values)}")
    return "; ".join(parts)


def configured_holders(settings):
    """{name: {who: [actions]}} from each ``secrets: NAME: permissions:`` block."""
    found = {}
    for name, secret in settings.secrets.items():
        for action in ACTIONS:
            if action in secret.permissions:
                who = describe_allow(secret.permissions[action])
                found.setdefault(name, {}).setdefault(who, []).append(action)
    return found


def acl_installed(datasette):
    """Whether datasette-acl is installed (its own action is registered)."""
    return ACL_ACTION in datasette.actions


def acl_page(datasette, name):
    """datasette-acl's page for the secret ``name``; None without datasette-acl."""
    if not acl_installed(datasette):
        return None
    return datasette.urls.path(f"/-/acl/resource/{SecretResource.name}/{name}")


async def acl_holders(datasette, name=None):
    """{name: {who: [actions]}} of datasette-acl's grants on single secrets (all,
    or ``name``'s); empty without datasette-acl or before it made its tables."""
    if not acl_installed(datasette):
        return {}
    db = datasette.get_internal_database()
    tables = set(await db.table_names())
    if not tables.issuperset(ACL_TABLES):
        return {}
    found = {}
    for row in (await db.execute(ACL_HOLDERS, {"name": name})).rows:
        if row["kind"] == "actor":
            who = f"id: {row['actor_id']}"
        elif row["kind"] == "group":
            who = f"group: {row['group_name']}"
        else:
            who = ACL_AUDIENCES.get(row["kind"], row["kind"])
        found.setdefault(row["name"], {}).setdefault(who, []).append(row["action"])
    return found


async def holders(datasette, settings, name=None):
    """Who holds grants on single secrets: {name: [{"who", "actions", "source"}]},
    ``source`` "configuration" or "datasette-acl", for every secret or only
    ``name``. Grants on every secret (``permissions:``, --root) are not listed."""
    found = {}
    for source, by_name in (
        (CONFIGURATION, configured_holders(settings)),
        (ACL_ACTION, await acl_holders(datasette, name)),
    ):
        for secret, by_who in by_name.items():
            if name is not None and secret != name:
                continue
            for who, actions in sorted(by_who.items()):
                ordered = [action for action in ACTIONS if action in actions]
                found.setdefault(secret, []).append({"who": who, "actions": ordered, "source": source})
    return found
