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

A file with any bad line is refused whole (``DotenvError``, listing every bad
line by number), and so is a name given twice: a file that is partly
misread must not be partly stored. Error messages never quote the file,
since a mangled line may be a value.
"""

import re
from dataclasses import dataclass, field

PREFIX = "DATASETTE_SECRETS_"
# The same rule as registry.NAME_PATTERN (not imported: this module stays pure).
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# An assignment's start; the rest of the line (and maybe more lines) is the value.
ASSIGNMENT = re.compile(r"\s*(?:export\s+)?(?P<name>[^\s=]+)\s*=(?P<rest>.*)", re.DOTALL)
ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
COMMENT = re.compile(r"\s+#.*")


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


class DotenvError(ValueError):
    """The text is not a valid .env file; ``errors`` lists every BadLine."""

    def __init__(self, errors):
        self.errors = errors
        count = len(errors)
        super().__init__(
            f"{count} bad line{'' if count == 1 else 's'}: " + "; ".join(str(e) for e in errors)
        )


def parse(text):
    """The entries of a .env file's text, in file order.

    Raises ``DotenvError`` listing every bad line (nothing is returned then):
    a line that is not a comment, blank or ``NAME=value``; a name that is not
    letters, digits and ``_`` (not starting with a digit); a quote that is
    never closed, or text after a closing quote; a name given twice (with or
    without the ``DATASETTE_SECRETS_`` prefix).
    """
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
        match = ASSIGNMENT.fullmatch(line)
        if match is None:
            errors.append(BadLine(number, "expected NAME=value"))
            continue
        rest = match["rest"]
        if rest.lstrip()[:1] in ("'", '"'):
            value, index, problem = _quoted(rest.lstrip(), lines, index)
            if problem:
                errors.append(BadLine(number, problem))
                continue
        else:  # before stripping: "A= # c" is a comment, "A=#c" a value
            value = COMMENT.sub("", rest).strip()
        name = match["name"]
        if not NAME.fullmatch(name):
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
    if errors:
        raise DotenvError(errors)
    return entries


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
