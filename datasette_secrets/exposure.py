"""Whether people who should not may run SQL on the database that holds the secrets.

With ``database:`` set, the plugin's tables live in an ordinary database. Its
table pages are closed (``permission_resources_sql``), but anyone Datasette
lets run SQL there reads every row: names, notes, actor ids, times, the audit
log and each ciphertext's length (only a value's 64-byte block count, except
for rows stored before padding until ``rotate-key`` runs). Asked once, at
startup, for an anonymous actor and a made-up signed-in one; never on a
request's path, so ``get_secret`` pays nothing for it.
"""

import logging

log = logging.getLogger("datasette_secrets")

# No real actor has this id: it stands for "any signed-in actor" (one with no
# permission of their own, only what every signed-in actor is granted).
PROBE_ACTOR = {"id": "datasette-secrets-probe"}
# Both: execute-sql requires view-database, and either refused closes SQL.
QUERY_ACTIONS = ("view-database", "execute-sql")


async def who_may_query(datasette, database):
    """"anonymous visitors", "any signed-in actor", or None: the widest group
    Datasette lets view ``database`` and run SQL against it."""
    from datasette.resources import DatabaseResource

    resource = DatabaseResource(database=database)
    for actor, who in ((None, "anonymous visitors"), (PROBE_ACTOR, "any signed-in actor")):
        allowed = await datasette.allowed_many(actions=QUERY_ACTIONS, resource=resource, actor=actor)
        if all(allowed.values()):
            return who
    return None


async def exposure(datasette, database):
    """A warning when ``database`` (the configured ``database:``, None for the
    internal one) may be queried by anonymous or by any signed-in actor, else None.

    The internal database is never exposed this way: Datasette lets only root query it.
    """
    if database is None:
        return None
    who = await who_may_query(datasette, database)
    if who is None:
        return None
    return (
        f"The secrets database {database!r} may be queried with SQL by {who}: they can read "
        "every secret's name, notes, history, who changed it and when, the audit log, and the "
        "length of each ciphertext (values are padded to 64 bytes, but rows stored before "
        "padding show their value's length until 'datasette secrets rotate-key' runs); never "
        f"a value. Deny view-database or execute-sql on {database!r} in datasette.yml (for "
        "example an 'allow' block for that database), or leave out 'database' to keep secrets "
        "in the internal database."
    )


async def warn(datasette, state):
    """Log the warning at startup and keep it on ``state`` for the admin pages."""
    state.exposed = await exposure(datasette, state.settings.database)
    if state.exposed:
        log.warning("datasette-secrets: %s", state.exposed)
