"""What the ``datasette secrets`` commands print, and how.

Every line goes through ``echo``, which escapes control characters: printed
lines quote names, notes, actor ids, key ids and paths, which must not drive
the terminal. The tables of ``list``, ``history``, ``import`` and
``rotate-key`` are built here; ``list --json``'s objects too. Never a value.
"""

from datetime import datetime

import click

from . import core
from .crypto import LEGACY_KEY_NAME


# Where a listed secret's value comes from, as ``list`` words its status (rules.STATUSES).
SOURCES = {"orphan": "orphan", "env": "environment", "set": "stored", "deleted": "deleted", "unset": "not set"}


def source(entry):
    """Where a listed secret's value comes from, as ``list`` reports it."""
    return SOURCES[entry.status]


def list_row(entry):
    """One secret as ``list --json`` prints it. Stable keys; never a value, nor
    any part of one (so never ``entry.hint``).

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
    has_value = entry.is_set or entry.env
    return {
        "name": entry.name,
        "plugin": entry.registration.plugin if entry.registration else None,
        "source": source(entry),
        "shadowed": entry.is_shadowed,
        "version": entry.version,
        "updated_at": iso(updated_at),
        "updated_by": updated_by,
        "last_used_at": iso(entry.last_used_at) if has_value else None,
        "last_used_by": entry.last_used_by if has_value else None,
        # Stored longer ago than max_age_days (always false without it).
        "due_for_rotation": entry.due,
    }


def list_notes(row):
    """The table's last column: what else to know about a secret."""
    notes = []
    if row["shadowed"]:
        notes.append(f"{core.env_var(row['name'])} overrides the stored value")
    if row["source"] == "orphan":
        notes.append("no installed plugin registers it")
    if row["due_for_rotation"]:
        notes.append("due for rotation")
    return "; ".join(notes)


def list_cells(row):
    return (
        row["name"],
        row["source"],
        str(row["version"] or ""),
        when(row["updated_at"], row["updated_by"]),
        when(row["last_used_at"], row["last_used_by"], "never")
        if row["version"] or row["source"] == "environment"
        else "",
        list_notes(row),
    )


def version_cells(version, current):
    if version["deleted_at"]:
        status = "deleted " + when(iso(version["deleted_at"]), version["deleted_by"])
    else:
        status = "current" if version["version"] == current else ""
    return (
        str(version["version"]),
        when(iso(version["created_at"]), version["created_by"]),
        version["note"] or "",
        version["encryption_key_name"] or "",
        status,
    )


def print_import(name, planned, numbers, dry_run):
    if not planned:
        echo(f"{name} holds no secrets: nothing to store.")
        return
    rows = [("line", "name", "result", "")]
    for plan in planned:
        remarks = [plan.remark] if plan.remark else []
        if plan.shadowed:
            remarks.append(f"{core.env_var(plan.entry.name)} is set and takes precedence")
        rows.append((str(plan.entry.line), plan.entry.name, plan.status, "; ".join(remarks)))
    print_table(rows, right=[0])
    storing = [plan.entry.name for plan in planned if plan.stores]
    echo()
    if dry_run:
        echo(
            f"Dry run: nothing was stored. {len(storing)} secret{plural(len(storing))} would be stored."
        )
    elif not numbers:
        echo("Nothing to store: every registered secret is unchanged or empty.")
    else:
        stored = ", ".join(f"{name} version {numbers[name]}" for name in storing)
        echo(f"Stored {len(numbers)} secret{plural(len(numbers))} in one transaction: {stored}.")
    unknown = [plan.entry.name for plan in planned if plan.status == "unknown"]
    if unknown:
        echo(f"Not stored, since no installed plugin registers them: {', '.join(unknown)}.")


def iso(timestamp):
    """A stored UTC time ("YYYY-MM-DD HH:MM:SS") in ISO 8601, or None."""
    if not timestamp:
        return None
    try:
        return datetime.fromisoformat(str(timestamp)).strftime("%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return str(timestamp)


def when(iso_time, actor_id, nothing=""):
    """ "2025-01-02 10:00:00 UTC by root" for an ``iso`` time and an actor id."""
    if not iso_time:
        return nothing
    text = iso_time.replace("T", " ").replace("Z", " UTC")
    return text + (f" by {actor_id}" if actor_id is not None else "")


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


def key_labels(keyring):
    labels = {LEGACY_KEY_NAME: "legacy Fernet (0.2/0.3): tried with every configured key"}
    for number, key in enumerate(keyring.keys):
        labels[key.id] = "encryption_key (current)" if number == 0 else "previous_encryption_keys"
    return labels


def print_counts(counts, labels, key_id):
    counts = {key_id: 0, **counts}
    rows = [("key id", "versions", "")] + [
        (id, str(count), labels.get(id, "no configured key has this id"))
        for id, count in sorted(counts.items(), key=lambda item: (item[0] != key_id, item[0]))
    ]
    print_table(rows, right=[1])


def print_failed(failed):
    if not failed:
        return
    echo()
    echo(
        f"{len(failed)} version{plural(len(failed))} could not be decrypted with any configured "
        "key and {} left unchanged:".format("were" if len(failed) != 1 else "was")
    )
    rows = [("row id", "name", "version", "key id", "reason")] + [
        (str(f.id), f.name, str(f.version), f.key_id, f.reason) for f in failed
    ]
    print_table(rows, right=[0, 2])
    echo(
        "Configure the keys they need in previous_encryption_keys and run this again, "
        "or delete those secrets, before removing any old key."
    )


def print_table(rows, right=()):
    """Print ``rows`` (the first is the header) in aligned columns, every cell escaped."""
    rows = [[printable(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths))
        ]
        echo("  " + "  ".join(cells).rstrip())


def plural(count):
    """The plural ending for ``count`` things: "" for one, "s" otherwise."""
    return "" if count == 1 else "s"
