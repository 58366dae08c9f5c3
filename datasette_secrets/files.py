"""Secrets mounted as files: ``DATASETTE_SECRETS_<NAME>_FILE=/run/secrets/name``.

The ``_FILE`` convention of official Docker images (and of Kubernetes secret
volumes): the variable holds a path, and the secret's value is that file's
contents, UTF-8, with ONE trailing line break removed ("\\n" or "\\r\\n", as
``echo`` and most editors leave one); any other whitespace is part of the value.

``Files`` (one per State) reads each path once and then looks at the file
with ``os.stat`` (which follows symbolic links, so Kubernetes' swap of its
``..data`` link is seen) at most once every ``check_every`` seconds; when its
device, inode, size, mtime, ctime or mode changed, the file is read again. So
a changed file is served within a second, and a ``get_secret`` call between
looks costs two dict lookups and a clock read.

A file that cannot be read gives ``SecretFileError``. Its message is built
from the variable, the path and the system's reason only: never from the
bytes read, which are not even attached to it (no chained exception). The
path must be absolute: a variable holding anything else (most likely the
value itself, an easy mistake) is refused, and its text is never shown.

A value read from a file is kept in memory, as an environment variable's is;
only the configured encryption keys are refused (see ``core.is_key``).
"""

import os
import stat
import time

FILE_VARIABLE = "DATASETTE_SECRETS_{}_FILE"  # core.ENV_PREFIX + name + FILE_SUFFIX
FILE_SUFFIX = "_FILE"
MAX_BYTES = 64 * 1024  # a larger file is more likely a wrong path than a secret
CHECK_EVERY = 1.0  # seconds between looks at a file that was read


class SecretFileError(Exception):
    """A secret's ``DATASETTE_SECRETS_<NAME>_FILE`` names a file that cannot be
    read: missing, not a regular file, unreadable, not UTF-8, empty, or larger
    than 64 KiB. ``get_secret`` raises it instead of returning another value.

    The message names the variable, the path and the reason, never the contents.
    ``name``, ``path`` and ``reason`` are attributes too. A variable that holds
    no absolute path is refused without being quoted (``path`` is None): it most
    likely holds the value itself, put there by mistake.
    """

    def __init__(self, name, path, reason):
        self.name = name
        self.path = shown_path(path)
        self.reason = reason
        if self.path is None:
            super().__init__(f"{file_variable(name)} {NOT_A_PATH}")
        else:
            super().__init__(f"{file_variable(name)} names {path}, which {reason}")


# What a _FILE variable holding no absolute path is told (its text is never shown).
NOT_A_PATH = "does not hold an absolute path (does it hold the value itself, instead of a file's path?)"


def shown_path(path):
    """``path`` if a page, a message or the command line may show it: an absolute
    path. Anything else in a _FILE variable is most likely a value put there by
    mistake, and is never shown (None)."""
    if path and os.path.isabs(path) and path.isprintable():
        return path
    return None


def file_variable(name):
    """The variable that names the file holding secret ``name``."""
    return FILE_VARIABLE.format(name)


class _Seen:
    __slots__ = ("checked", "signature", "value", "reason")

    def __init__(self, checked, signature, value, reason):
        self.checked = checked
        self.signature = signature
        self.value = value
        self.reason = reason


class Files:
    """The contents of secret files, each looked at once a ``check_every`` at most.

    ``clock`` is a monotonic clock in seconds (tests pass their own).
    """

    def __init__(self, clock=time.monotonic, check_every=CHECK_EVERY):
        self.clock = clock
        self.check_every = check_every
        self._seen = {}  # path -> _Seen

    def read(self, name, path):
        """The value in the file at ``path`` for secret ``name``.

        Raises SecretFileError when it cannot be read (the reason is kept
        until the file changes, and looked at again as often as a value), and
        when ``path`` is not an absolute path (then nothing is read).
        """
        if shown_path(path) is None:
            raise SecretFileError(name, path, NOT_A_PATH)
        now = self.clock()
        seen = self._seen.get(path)
        if seen is None or now - seen.checked >= self.check_every:
            seen = self._seen[path] = self._look(path, seen, now)
        if seen.reason is not None:
            raise SecretFileError(name, path, seen.reason)
        return seen.value

    def _look(self, path, seen, now):
        if seen is not None:
            try:
                signature = _signature(os.stat(path))
            except OSError:
                signature = None  # gone or unreachable: read says why
            if signature is not None and signature == seen.signature:
                seen.checked = now
                return seen
        signature, value, reason = _load(path)
        return _Seen(now, signature, value, reason)


def _signature(info):
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_mode)


def _load(path):
    """(signature or None, value or None, reason or None) for the file at ``path``."""
    reason = None
    try:
        # Non-blocking, so a FIFO (or /dev/stdin) is refused below instead of waiting forever.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        return None, None, _reason(e)
    signature = data = None
    try:
        with open(fd, "rb") as file:
            info = os.fstat(file.fileno())
            signature = _signature(info)
            if stat.S_ISDIR(info.st_mode):
                reason = "is a directory, not a file"
            elif not stat.S_ISREG(info.st_mode):
                reason = "is not a regular file"
            else:
                data = file.read(MAX_BYTES + 1)
    except OSError as e:
        reason = _reason(e)
    if reason is not None:
        return signature, None, reason
    if len(data) > MAX_BYTES:
        return signature, None, f"is larger than {MAX_BYTES // 1024} KiB"
    text = _decoded(data)
    if text is None:
        # _decoded keeps no UnicodeDecodeError: it holds the bytes, and would be chained to the error.
        return signature, None, "is not UTF-8 text"
    if text.endswith("\r\n"):
        text = text[:-2]
    elif text.endswith("\n"):
        text = text[:-1]
    if not text:
        return signature, None, "is empty"
    return signature, text, None


def _decoded(data):
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _reason(error):
    """A reason from an OSError, without its message (which may repeat the path oddly quoted)."""
    if isinstance(error, FileNotFoundError):
        return "does not exist"
    if isinstance(error, PermissionError):
        return "cannot be read: permission denied"
    if isinstance(error, IsADirectoryError):
        return "is a directory, not a file"
    return f"cannot be read: {error.strerror or type(error).__name__}"
