"""A server whose list holds one row of each state (issue 21's row states), for
test_row_states: not set, set, set by its variable, set by a file, due for
rotation, cannot be read, shadowed, no longer used; and alice's own value on
My secrets."""

import sqlite3
import time
from datetime import datetime, timedelta, timezone

from cryptography.fernet import Fernet

from datasette_secrets.crypto import Key
from helpers import ENCRYPTION_KEY, seed, sign_in

MAX_AGE_DAYS = 90
DUE_DAYS = 100  # how long ago the due row's value was stored

# Each state and the row that shows it (the example plugin's secrets, and its EXTRA_nnn ones).
STATES = {
    "not set": "BETA_TOKEN",
    "set": "GAMMA_WEBHOOK_SECRET",
    "set by env": "ENV_SECRET",
    "set by file": "EXTRA_000",
    "due": "ALPHA_API_KEY",
    "cannot be read": "EXTRA_002",
    "shadowed": "EXTRA_001",
    "no longer used": "OLD_PLUGIN_TOKEN",
}
PERSONAL = "AI_PERSONAL_KEY"  # plugins/personal_secrets.py's personal secret
FILE_VALUE = "value-from-a-mounted-file"
DUE_ACTOR = "alice-the-rotator"  # who stored the due value: a long name, which must still show


def states_server(start_datasette, tmp_path):
    """Starts the server and stores each state's value; returns it."""
    mounted = tmp_path / "extra-000"
    mounted.write_text(FILE_VALUE + "\n")
    return start_datasette(
        extra_secrets=3,
        personal=True,
        settings={"max_age_days": MAX_AGE_DAYS},
        env={"DATASETTE_SECRETS_EXTRA_000_FILE": str(mounted), "DATASETTE_SECRETS_EXTRA_001": "shadowing-value"},
    )


def store_states(context, server):
    """Signs the context in as root and stores what each state needs: values saved
    through the plugin, and rows written straight into the internal database (an
    old value, one under a key this server does not have, an orphan)."""
    sign_in(context, server, "root")
    seed(context, server, STATES["set"], "gamma-webhook-value-0123456789")
    seed(context, server, STATES["due"], "alpha-rotate-me-0123456789")
    seed(context, server, STATES["shadowed"], "stored-but-shadowed")
    other = Key(Fernet.generate_key().decode())
    mine = Key(ENCRYPTION_KEY)
    long_ago = (datetime.now(timezone.utc) - timedelta(days=DUE_DAYS)).strftime("%Y-%m-%d %H:%M:%S")
    conn = sqlite3.connect(server.internal)
    with conn:
        insert = (
            "insert into datasette_secrets (name, version, encrypted, encryption_key_name, note,"
            " created_at, updated_at) values (?, 1, ?, ?, '', datetime('now'), datetime('now'))"
        )
        conn.execute(insert, [STATES["cannot be read"], other.encrypt(STATES["cannot be read"], 1, "x"), other.id])
        conn.execute(insert, [STATES["no longer used"], mine.encrypt(STATES["no longer used"], 1, "y"), mine.id])
        conn.execute(
            "update datasette_secrets set created_at = ?, updated_at = ?, updated_by = ? where name = ?",
            [long_ago, long_ago, DUE_ACTOR, STATES["due"]],
        )
    conn.close()
    # The server notices a write from another connection within a second.
    deadline = time.monotonic() + 10
    while f'id="secret-{STATES["no longer used"]}"' not in context.request.get(server.path("/-/secrets")).text():
        assert time.monotonic() < deadline, "the orphan never appeared in the list"
        time.sleep(0.1)
    # alice keeps an own value of the personal secret (she signs in on My secrets later).
    sign_in(context, server, "alice")
    saved = context.request.post(
        server.path(f"/-/secrets/-/mine/{PERSONAL}"), form={"secret": "sk-alice-own-0001"}, max_redirects=0
    )
    assert saved.status == 302, saved.text()
    context.clear_cookies(name="ds_secrets_done")
    sign_in(context, server, "root")
