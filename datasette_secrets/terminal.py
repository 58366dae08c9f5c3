"""What the ``datasette secrets`` commands print, and how.

Every line goes through ``echo``, which escapes control characters: printed
lines quote names, notes, actor ids, key ids and paths, which must not drive
the terminal. Each command's output is worded here, from its result: the
tables of ``list``, ``history``, ``import`` and ``rotate-key``, ``list
--json``'s objects, and the lines ``set`` and ``delete`` print. Never a value.
"""

import json
from datetime import datetime

import click

from . import core
from .crypto import LEGACY_KEY_NAME


def printable(text):
    """``text`` with control characters escaped: a stored note or name must not
    drive the terminal (escape sequences) or break a table (newlines)."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in str(text))


def printable_lines(text):
    """``text`` with control characters escaped, its line breaks kept."""
    return "\n".join(printable(line) for line in str(text).split("\n"))


def echo(text="", **kwargs):
    """click.echo for every line a command prints: lines quote names, notes,
    actor ids, key ids and paths, which must not drive the terminal."""
    click.echo(printable_lines(text), **kwargs)


class SafeMessages(click.Group):
    """A group whose commands' error messages have control characters escaped:
    like printed lines, they quote names, paths and database errors."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except click.ClickException as e:
            e.message = printable_lines(e.message)
            raise


def _print_table(rows, right=()):
    """Print ``rows`` (the first is the header) in aligned columns, every cell escaped."""
    rows = [[printable(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths))
        ]
        echo("  " + "  ".join(cells).rstrip())


def _iso(timestamp):
    """A stored UTC time ("YYYY-MM-DD HH:MM:SS") in ISO 8601, or None."""
    if not timestamp:
        return None
    try:
        return datetime.fromisoformat(str(timestamp)).strftime("%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return str(timestamp)


def _when(iso_time, actor_id, nothing=""):
    """ "2025-01-02 10:00:00 UTC by root" for an ``_iso`` time and an actor id."""
    if not iso_time:
        return nothing
    text = iso_time.replace("T", " ").replace("Z", " UTC")
    return text + (f" by {actor_id}" if actor_id is not None else "")


def _s(count):
    return "" if count == 1 else "s"


# datasette secrets list


# ``list``'s word for where a secret's value comes from (model.Entry.source),
# or, when it has none, for its status (model.STATUSES).
SOURCES = {"env": "environment", "file": "file", "store": "stored"}
NO_VALUE = {"orphan": "orphan", "deleted": "deleted", "unset": "not set"}


def source(entry):
    """Where a listed secret's value comes from, as ``list`` reports it."""
    if entry.is_orphan:
        return "orphan"
    return SOURCES[entry.source] if entry.source else NO_VALUE[entry.status]


def list_row(entry, own_values=0, grants=(), grants_page=None):
    """One secret as ``list --json`` prints it. Stable keys; never a value, nor
    any part of one (so never ``entry.hint``).

    ``personal_values`` is how many actors have a value of their own for a
    personal secret (None for a secret that is not personal).

    ``grants``: who holds grants on this secret alone (grants.holders: "who",
    "actions", "source"); ``grants_page``: datasette-acl's page for the secret
    (None when it is not installed).

    ``updated_*`` is the last change: for a deleted secret, its deletion.
    ``version`` is that of the stored value, also when an environment variable
    shadows it (``shadowed``). ``last_used_*`` is the name's last use, from
    the environment or stored, for a secret that has a value.
    """
    stored = entry.stored or {}
    if entry.is_set:
        updated_at, updated_by = stored.get("updated_at"), stored.get("updated_by")
    elif entry.is_deleted:
        updated_at, updated_by = stored.get("deleted_at"), stored.get("deleted_by")
    else:
        updated_at = updated_by = None
    return {
        "name": entry.name,
        "plugin": entry.registration.plugin if entry.registration else None,
        "source": source(entry),
        # The status key, as the list page's filter names it (model.STATUSES).
        "status": entry.status,
        "shadowed": entry.is_shadowed,
        "version": entry.version,
        "updated_at": _iso(updated_at),
        "updated_by": updated_by,
        "last_used_at": _iso(entry.last_used_at) if entry.shows_last_use else None,
        "last_used_by": entry.last_used_by if entry.shows_last_use else None,
        # Stored longer ago than max_age_days (always false without it).
        "due_for_rotation": entry.due,
        "personal_values": own_values if entry.secret and entry.secret.personal else None,
        "grants": list(grants),
        "grants_page": grants_page,
    }


def print_list(rows, as_json):
    """Print ``list``'s rows (``list_row`` objects) as JSON or as a table."""
    if as_json:
        echo(json.dumps(rows, indent=2))
    elif not rows:
        echo("No secrets: no installed plugin registers any, and none are stored.")
    else:
        _print_table(
            [("name", "source", "version", "updated", "last used", "")] + [_list_cells(row) for row in rows],
            right=[2],
        )


# The table's words where they differ from --json's source (which keeps the key).
SOURCE_LABELS = {"orphan": "no longer used"}


def _list_cells(row):
    return (
        row["name"],
        SOURCE_LABELS.get(row["source"], row["source"]),
        str(row["version"] or ""),
        _when(row["updated_at"], row["updated_by"]),
        _when(row["last_used_at"], row["last_used_by"], "never")
        if row["version"] or row["source"] in ("environment", "file")
        else "",
        _list_notes(row),
    )


def _list_notes(row):
    """The table's last column: what else to know about a secret."""
    notes = []
    if row["shadowed"]:
        variable = core.env_var(row["name"]) + ("_FILE" if row["source"] == "file" else "")
        notes.append(f"{variable} overrides the stored value")
    if row["source"] == "orphan":
        notes.append("no installed plugin registers it")
    if row["due_for_rotation"]:
        notes.append("due for rotation")
    if row["personal_values"] is not None:
        count = row["personal_values"]
        notes.append(f"personal: {count} own value{'' if count == 1 else 's'}")
    if row["grants"]:
        held = ", ".join(f"{g['who']} ({' and '.join(GRANT_WORDS[a] for a in g['actions'])}; {g['source']})" for g in row["grants"])
        notes.append(f"granted to {held}")
        if row["grants_page"]:
            notes.append(f"datasette-acl: {row['grants_page']}")
    return "; ".join(notes)


# The table's word for each per-secret action (grants.ACTIONS).
GRANT_WORDS = {"manage-secrets": "manage", "reveal-secrets": "reveal"}


# datasette secrets set, delete, history


def print_saved(name, number, shadowed):
    """Print what ``set`` stored, warning (on stderr) when ``shadowed``, the
    variable that gives the value instead (or its _FILE), is set."""
    echo(f"Saved {name}: version {number}.")
    if shadowed:
        echo(
            f"Warning: {shadowed} is set, and takes precedence: plugins get its value, "
            "not the stored one, until it is unset.",
            err=True,
        )


def print_deleted(name, entry):
    """Print what ``delete`` did to ``entry`` (as it was before)."""
    echo(f"Deleted {name}: its stored versions are kept, marked deleted.")
    if entry.is_orphan:
        echo("No installed plugin registers it, so it leaves the list.")
    elif entry.env:
        echo(f"{core.env_var(name)} is still set, and still gives {name} its value.")


def print_history(name, entry, versions):
    """Print ``history``: the stored ``versions`` (newest first) in a table, and
    from the secret's facts (``entry``, a model.Entry or None) whether a plugin
    registers ``name`` and whether its variable or a file gives its value."""
    if not versions:
        echo(f"Nothing has been stored for {name} yet.")
    else:
        current = max((v["version"] for v in versions if not v["deleted_at"]), default=None)
        _print_table(
            [("version", "stored", "note", "key id", "status")] + [_version_cells(v, current) for v in versions],
            right=[0],
        )
    if entry is None or entry.is_orphan:
        echo(f"No installed plugin registers {name}.")
    elif entry.source == "env":
        echo(f"{core.env_var(name)} is set and takes precedence over any stored value.")
    elif entry.source == "file":
        echo(f"{core.env_var(name)}_FILE is set: the file it names takes precedence over any stored value.")


def _version_cells(version, current):
    if version["deleted_at"]:
        status = "deleted " + _when(_iso(version["deleted_at"]), version["deleted_by"])
    else:
        status = "current" if version["version"] == current else ""
    return (
        str(version["version"]),
        _when(_iso(version["created_at"]), version["created_by"]),
        version["note"] or "",
        version["encryption_key_name"] or "",
        status,
    )


# datasette secrets import


def print_import(name, planned, numbers, dry_run):
    """Print ``import``'s report on the file called ``name``: each planned
    name's line and result, then what was (or, dry run, would be) stored."""
    if not planned:
        echo(f"{name} holds no secrets: nothing to store.")
        return
    rows = [("line", "name", "result", "")]
    for plan in planned:
        remarks = [plan.remark] if plan.remark else []
        if plan.shadowed:
            remarks.append(f"{plan.shadowed} is set and takes precedence")
        rows.append((str(plan.entry.line), plan.entry.name, plan.status, "; ".join(remarks)))
    _print_table(rows, right=[0])
    storing = [plan.entry.name for plan in planned if plan.stores]
    echo()
    if dry_run:
        echo(f"Dry run: nothing was stored. {len(storing)} secret{_s(len(storing))} would be stored.")
    elif not numbers:
        echo("Nothing to store: every registered secret is unchanged or empty.")
    else:
        stored = ", ".join(f"{name} version {numbers[name]}" for name in storing)
        echo(f"Stored {len(numbers)} secret{_s(len(numbers))} in one transaction: {stored}.")
    unknown = [plan.entry.name for plan in planned if plan.status == "unknown"]
    if unknown:
        echo(f"Not stored, since no installed plugin registers them: {', '.join(unknown)}.")


# datasette secrets rotate-key


def print_rotation_start(database, keyring, counts):
    """Print, before ``rotate-key`` starts: the database, the current key and
    the stored versions by key id (``counts``)."""
    key_id = keyring.primary.id
    echo(f"Secrets database: {database}")
    echo(f"Current key: {key_id}")
    echo()
    echo("Stored versions by key id, before:")
    _print_counts(counts, _key_labels(keyring), key_id)


def print_rotation_pending(keyring, pending, dry_run):
    """Print how many versions ``rotate-key`` is about to re-encrypt."""
    echo()
    if dry_run:
        echo("Dry run: nothing will be changed.")
    echo(f"{pending} version{_s(pending)} to re-encrypt with key {keyring.primary.id}.")


def print_rotation(report, keyring):
    """Print what ``rotate-key`` did (``report``, a rotation.RotationReport), and what was left behind."""
    key_id = keyring.primary.id
    if report.dry_run:
        echo(f"Would re-encrypt {report.rotated} version{_s(report.rotated)}; nothing was changed.")
    else:
        echo(f"Re-encrypted {report.rotated} version{_s(report.rotated)} with key {key_id}.")
        echo()
        echo("Stored versions by key id, after:")
        _print_counts(report.after, _key_labels(keyring), key_id)
    _print_failed(report.failed)
    if report.changed_meanwhile:
        ids = ", ".join(str(id) for id in report.changed_meanwhile)
        echo()
        echo(
            f"Changed by something else while this ran, so left for the next run: row id {ids}. "
            "Run datasette secrets rotate-key again."
        )
    if report.complete and not report.dry_run:
        echo()
        echo(
            f"Every stored version now uses key {key_id}. Once every Datasette using "
            "this database runs with it, the old keys can be removed from "
            "previous_encryption_keys."
        )


def _key_labels(keyring):
    labels = {LEGACY_KEY_NAME: "legacy Fernet (0.2/0.3): tried with every configured key"}
    for number, key in enumerate(keyring.keys):
        labels[key.id] = "encryption_key (current)" if number == 0 else "previous_encryption_keys"
    return labels


def _print_counts(counts, labels, key_id):
    counts = {key_id: 0, **counts}
    rows = [("key id", "versions", "")] + [
        (id, str(count), labels.get(id, "no configured key has this id"))
        for id, count in sorted(counts.items(), key=lambda item: (item[0] != key_id, item[0]))
    ]
    _print_table(rows, right=[1])


def _print_failed(failed):
    if not failed:
        return
    echo()
    echo(
        f"{len(failed)} version{_s(len(failed))} could not be decrypted with any configured "
        "key and {} left unchanged:".format("were" if len(failed) != 1 else "was")
    )
    rows = [("row id", "name", "version", "key id", "reason")] + [
        (str(f.id), f.name, str(f.version), f.key_id, f.reason) for f in failed
    ]
    _print_table(rows, right=[0, 2])
    echo(
        "Configure the keys they need in previous_encryption_keys and run this again, "
        "or delete those secrets, before removing any old key."
    )
