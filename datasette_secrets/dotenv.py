"""Reading ``.env`` files: ``NAME=value`` lines, as shells and python-dotenv write them.

Pure text in, entries out: no Datasette, no database, so the command line
(``datasette secrets import``) and the admin pages can share it.

What a line may be::

    # a comment, or a blank line
    API_KEY=plain value          # unquoted: a trailing " # comment" is dropped
    export OTHER_KEY=value       # "export " is allowed and ignored
    DATASETTE_SECRETS_API_KEY=x  # the environment variable's prefix is dropped
    QUOTED='kept exactly: no escapes, # not a comment'
    PEM="-----BEGIN KEY-----\\nMIIB...\\n-----END KEY-----"
    PEM2="-----BEGIN KEY-----
    MIIB...
    -----END KEY-----"

- Quoted values (single or double quotes) may span several lines; the line
  breaks are part of the value. Double quotes understand ``\\n``, ``\\r``,
  ``\\t``, ``\\"`` and ``\\\\``; any other backslash is kept as it is. Single
  quotes keep everything as written.
- Unquoted values end at the end of the line; ``#`` starts a comment only
  after whitespace (``a#b`` is a value), as in a shell.
- Whitespace around names, ``=`` and unquoted values is dropped. Inside quotes
  it is kept: callers that store values strip them as the admin page does.
- Windows line endings (CRLF) and a leading byte order mark are fine.

A file with any bad line is refused whole (``DotenvError``, listing the bad
lines by number), and so is a name given twice: a file that is partly
misread must not be partly stored. Error messages never quote the file,
since a mangled line may be a value.

Reading takes time linear in the text, whatever it holds (no regular
expression that can backtrack), and the text is bounded: at most
``MAX_TEXT`` characters and ``MAX_ENTRIES`` entries, far above any real
.env file, so a paste on the admin page cannot hold the server up.
"""

from dataclasses import dataclass, field

from .registry import NAME_PATTERN

PREFIX = "DATASETTE_SECRETS_"
ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
MAX_TEXT = 256 * 1024  # characters; a real .env file is a few KB
MAX_ENTRIES = 1_000  # NAME=value lines; a real .env file has tens
MAX_LISTED = 50  # bad lines listed in a DotenvError; the rest are counted


@dataclass(frozen=True)
class Entry:
    """One ``NAME=value`` of a file. ``line`` is where it starts, counting from 1."""

    name: str  # without the DATASETTE_SECRETS_ prefix
    value: str = field(repr=False)  # never in a repr: tracebacks and logs print reprs
    line: int


@dataclass(frozen=True)
class BadLine:
    line: int
    message: str  # says what is wrong, never what the line says

    def __str__(self):
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class TextProblem:
    """A problem with the text as a whole (too long, too many entries or bad
    lines), rather than with one line: ``line`` is None."""

    message: str  # says what is wrong, never what the text says
    line = None

    def __str__(self):
        return self.message


class DotenvError(ValueError):
    """The text is not a valid .env file (or too big to read); ``errors`` lists
    the bad lines (each a BadLine) and any TextProblem, each printable as it is."""

    def __init__(self, errors, bad_lines=None):
        self.errors = errors
        count = sum(isinstance(e, BadLine) for e in errors) if bad_lines is None else bad_lines
        described = "; ".join(str(e) for e in errors)
        if count:
            described = f"{count:,} bad line{'' if count == 1 else 's'}: " + described
        super().__init__(described)


def parse(text):
    """The entries of a .env file's text, in file order.

    Raises ``DotenvError`` listing the bad lines (nothing is returned then):
    a line that is not a comment, blank or ``NAME=value``; a name that is not
    letters, digits and ``_`` (not starting with a digit); a quote that is
    never closed, or text after a closing quote; a name given twice (with or
    without the ``DATASETTE_SECRETS_`` prefix). The first ``MAX_LISTED`` bad
    lines are listed and the rest counted. Text longer than ``MAX_TEXT``
    characters is refused before any of it is read, and so is a file of more
    than ``MAX_ENTRIES`` entries once read.
    """
    if len(text) > MAX_TEXT:
        raise DotenvError([TextProblem(
            f"The .env text is longer than {MAX_TEXT:,} characters ({MAX_TEXT // 1024} KiB), "
            "so none of it was read: a .env file is usually a few KB. Split it into smaller parts."
        )])
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    entries, errors, seen = [], [], {}
    index = 0
    while index < len(lines):
        number = index + 1
        line = lines[index]
        index += 1
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        assignment = _assignment(line)
        if assignment is None:
            errors.append(BadLine(number, "expected NAME=value"))
            continue
        name, rest = assignment
        if rest.lstrip()[:1] in ("'", '"'):
            value, index, problem = _quoted(rest.lstrip(), lines, index)
            if problem:
                errors.append(BadLine(number, problem))
                continue
        else:  # before stripping: "A= # c" is a comment, "A=#c" a value
            value = _without_comment(rest).strip()
        if not NAME_PATTERN.fullmatch(name):
            errors.append(BadLine(number, "the name may hold only letters, digits and _, and not start with a digit"))
            continue
        name = name.removeprefix(PREFIX) if name != PREFIX else ""
        if not name:
            errors.append(BadLine(number, f"{PREFIX} alone names no secret"))
            continue
        if name in seen:
            errors.append(BadLine(number, f"{name} is set again (first on line {seen[name]})"))
            continue
        seen[name] = number
        entries.append(Entry(name, value, number))
    if errors or len(entries) > MAX_ENTRIES:
        listed = errors[:MAX_LISTED]
        if len(errors) > MAX_LISTED:
            unlisted = len(errors) - MAX_LISTED
            listed.append(TextProblem(f"and {unlisted:,} more bad line{'' if unlisted == 1 else 's'}, not listed"))
        if len(entries) > MAX_ENTRIES:
            listed.append(TextProblem(
                f"The .env text has {len(entries):,} NAME=value lines; at most {MAX_ENTRIES:,} are read "
                "at once, so none was. Split it into smaller parts."
            ))
        raise DotenvError(listed, bad_lines=len(errors))
    return entries


def _assignment(line):
    """(name, the rest of the line after the first "="), or None if the line
    is not ``[export] NAME=...``. The name is not checked yet.

    A name holds no "=" and no whitespace, so the first "=" ends it; what
    comes before must be one word, or "export" and one word.
    """
    equals = line.find("=")
    if equals == -1:
        return None
    words = line[:equals].split()  # str.split's whitespace is re's \s
    if len(words) == 2 and words[0] == "export":
        return words[1], line[equals + 1 :]
    if len(words) == 1:
        return words[0], line[equals + 1 :]
    return None


def _without_comment(rest):
    """An unquoted value up to a " #" comment: a "#" right after whitespace
    starts one, any other "#" is part of the value. Callers strip the result."""
    position = rest.find("#", 1)  # a "#" first (rest[0]) has no whitespace before it
    while position != -1:
        if rest[position - 1].isspace():
            return rest[:position]
        position = rest.find("#", position + 1)
    return rest


def _quoted(rest, lines, index):
    """(value, index of the next unread line, problem or None) for a quoted value.

    ``rest`` starts with the opening quote; further lines are read from
    ``lines[index]`` on while the quote is open.
    """
    quote = rest[0]
    text, position, parts = rest, 1, []
    while True:
        if quote == '"':
            while position < len(text):
                char = text[position]
                if char == "\\" and position + 1 < len(text):
                    following = text[position + 1]
                    parts.append(ESCAPES.get(following, "\\" + following))
                    position += 2
                elif char == '"':
                    break
                else:
                    parts.append(char)
                    position += 1
        else:
            end = text.find("'", position)
            if end == -1:
                parts.append(text[position:])
                position = len(text)
            else:
                parts.append(text[position:end])
                position = end
        if position < len(text):  # at the closing quote
            after = text[position + 1 :].strip()
            if after and not after.startswith("#"):
                return None, index, "unexpected text after the closing quote"
            return "".join(parts), index, None
        if index >= len(lines):
            kind = "double" if quote == '"' else "single"
            return None, index, f"the {kind}-quoted value starting here is never closed"
        parts.append("\n")
        text, position = lines[index], 0
        index += 1
