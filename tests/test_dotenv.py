"""datasette_secrets.dotenv: reading .env files, with no Datasette involved."""

import functools
import random
import re

import pytest

from datasette_secrets import dotenv
from datasette_secrets.dotenv import (
    MAX_ENTRIES,
    MAX_LISTED,
    MAX_TEXT,
    BadLine,
    DotenvError,
    Entry,
    _assignment,
    _without_comment,
    parse,
)
from secret_helpers import LINEAR, cpu_seconds, growth

PEM = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n"
    "q3/X+Zz9==\n"
    "-----END PRIVATE KEY-----"
)


def values(text):
    return {entry.name: entry.value for entry in parse(text)}


def bad_lines(text):
    with pytest.raises(DotenvError) as info:
        parse(text)
    return info.value.errors


# (description, file text, {name: value})
GOOD = [
    ("plain", "API_KEY=abc", {"API_KEY": "abc"}),
    ("export", "export API_KEY=abc", {"API_KEY": "abc"}),
    ("export with tabs", "export\tAPI_KEY=abc", {"API_KEY": "abc"}),
    ("blank lines and comments", "\n# a comment\n   # indented comment\n\nA=1\n\n", {"A": "1"}),
    ("spaces around everything", "   A   =   some value   ", {"A": "some value"}),
    ("trailing comment", "A=abc # not part of it", {"A": "abc"}),
    ("trailing comment after a tab", "A=abc\t# not part of it", {"A": "abc"}),
    ("# without a space before it", "A=abc#def", {"A": "abc#def"}),
    ("# first", "A=#abc", {"A": "#abc"}),
    ("comment only", "A= # nothing", {"A": ""}),
    ("= in values", "A=x=y==", {"A": "x=y=="}),
    ("base64 padding", "A=c2stMTIz==", {"A": "c2stMTIz=="}),
    ("empty", "A=", {"A": ""}),
    ("empty quoted", 'A=""\nB=\'\'', {"A": "", "B": ""}),
    ("single quotes keep everything", "A='a \\n # b \"c\"'", {"A": 'a \\n # b "c"'}),
    ("double quotes keep # and spaces", 'A="  a # b  "', {"A": "  a # b  "}),
    ("escapes", r'A="1\n2\t3\"4\\5"', {"A": '1\n2\t3"4\\5'}),
    ("unknown escape kept", r'A="C:\dir\x"', {"A": r"C:\dir\x"}),
    ("escaped backslash before n", r'A="\\n"', {"A": "\\n"}),
    ("comment after quotes", 'A="x" # comment\nB=\'y\'#c', {"A": "x", "B": "y"}),
    ("quote inside an unquoted value", "A=it's", {"A": "it's"}),
    ("unquoted value keeps inner quotes", 'A=a"b"', {"A": 'a"b"'}),
    ("prefix is dropped", "DATASETTE_SECRETS_API_KEY=abc", {"API_KEY": "abc"}),
    ("prefix with export", "export DATASETTE_SECRETS_API_KEY=abc", {"API_KEY": "abc"}),
    ("lower case and underscores", "_a_b1=x", {"_a_b1": "x"}),
    ("a name export", "export=x", {"export": "x"}),
    ("unicode", "A=héllo ✓", {"A": "héllo ✓"}),
    ("byte order mark", "\ufeffA=1", {"A": "1"}),
    ("PEM with \\n escapes", 'PEM="' + PEM.replace("\n", "\\n") + '"', {"PEM": PEM}),
    ("PEM over several lines", 'PEM="' + PEM + '"\nNEXT=1', {"PEM": PEM, "NEXT": "1"}),
    ("PEM in single quotes", "PEM='" + PEM + "'", {"PEM": PEM}),
    ("multi-line keeps blank lines and # lines", 'A="x\n\n# y\n"', {"A": "x\n\n# y\n"}),
    ("CRLF", "A=1\r\nB=two words # c\r\nC=3\r\n", {"A": "1", "B": "two words", "C": "3"}),
    ("CRLF inside quotes", 'PEM="' + PEM.replace("\n", "\r\n") + '"\r\n', {"PEM": PEM}),
    ("old Mac CR", "A=1\rB=2", {"A": "1", "B": "2"}),
    ("no final newline", "A=1\nB=2", {"A": "1", "B": "2"}),
]


@pytest.mark.parametrize("text, expected", [case[1:] for case in GOOD], ids=[case[0] for case in GOOD])
def test_parses(text, expected):
    assert values(text) == expected


def test_entries_keep_file_order_and_starting_line_numbers():
    text = '# header\nB=1\n\nA="two\nlines"\nexport C=3\n'
    assert parse(text) == [Entry("B", "1", 2), Entry("A", "two\nlines", 4), Entry("C", "3", 6)]


def test_line_numbers_with_crlf():
    assert [e.line for e in parse("# c\r\n\r\nA=1\r\nB=2\r\n")] == [3, 4]


def test_empty_file():
    assert parse("") == [] and parse("\n\n# only comments\n") == []


def test_a_value_is_never_in_a_repr():
    entry = parse("A=super-secret-value")[0]
    assert "super-secret-value" not in repr(entry)
    assert "super-secret-value" not in repr([entry])


# (description, file text, [(line, part of the message)])
BAD = [
    ("no =", "API_KEY", [(1, "expected NAME=value")]),
    ("a bare value", "A=1\nsk-abcdef123456\n", [(2, "expected NAME=value")]),
    ("space in the name", "MY KEY=1", [(1, "expected NAME=value")]),
    ("no name", "=value", [(1, "expected NAME=value")]),
    ("bad name", "my-key=1", [(1, "only letters, digits and _")]),
    ("name starts with a digit", "1KEY=1", [(1, "only letters, digits and _")]),
    ("prefix alone", "DATASETTE_SECRETS_=1", [(1, "names no secret")]),
    ("unclosed double quote", 'A=1\nB="abc\nC=3\n', [(2, "double-quoted value starting here is never closed")]),
    ("unclosed single quote", "B='abc", [(1, "single-quoted value starting here is never closed")]),
    ("escaped closing quote", r'B="abc\"', [(1, "never closed")]),
    ("text after the closing quote", 'A="abc" def', [(1, "unexpected text after the closing quote")]),
    ("twice", "A=1\nB=2\nA=3", [(3, "A is set again (first on line 1)")]),
    ("twice, once with the prefix", "A=1\nDATASETTE_SECRETS_A=2", [(2, "A is set again (first on line 1)")]),
    (
        "every bad line is reported",
        "ok=1\nbad\n2bad=x\nC=\"x\" y\nalso bad\n",
        [(2, "expected"), (3, "letters"), (4, "after the closing quote"), (5, "expected")],
    ),
]


@pytest.mark.parametrize("text, expected", [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_bad_lines(text, expected):
    errors = bad_lines(text)
    assert [error.line for error in errors] == [line for line, _ in expected]
    for error, (_, message) in zip(errors, expected):
        assert message in error.message
        assert str(error).startswith(f"line {error.line}: ")


def test_errors_never_quote_the_file():
    text = "sk-live-abcdef123456\nA=\"pem-secret-text\nmore-secret-text\n"
    with pytest.raises(DotenvError) as info:
        parse(text)
    shown = str(info.value) + " ".join(str(e) for e in info.value.errors)
    for secret in ("sk-live-abcdef123456", "pem-secret-text", "more-secret-text"):
        assert secret not in shown
    assert info.value.errors == [
        BadLine(1, "expected NAME=value"),
        BadLine(2, "the double-quoted value starting here is never closed"),
    ]
    assert str(info.value).startswith("2 bad lines: line 1: ")


def test_a_bad_file_gives_no_entries():
    """All or nothing: a caller cannot store the good half of a bad file."""
    with pytest.raises(DotenvError):
        parse("GOOD=1\nbad line\n")


def double_quoted(value):
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def test_any_value_written_double_quoted_reads_back():
    chars = "ab Z09=#'\"\\\n\t$é✓-_ "
    generator = random.Random(20261129)
    originals = {
        f"K{n}": "".join(generator.choice(chars) for _ in range(generator.randrange(0, 40)))
        for n in range(300)
    }
    text = "\n".join(f"{name}={double_quoted(value)}" for name, value in originals.items())
    assert values(text) == originals
    # and with real line breaks instead of \n escapes
    text = "\n".join(
        f'{name}="' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' for name, value in originals.items()
    )
    assert values(text) == originals


# Input shaped to make a backtracking parser slow; each is padded to just under
# MAX_TEXT. (description, start, repeated piece, end)
ADVERSARIAL = [
    ("spaces not followed by #", "A=x", " ", "y"),
    ("tabs and spaces not followed by #", "A=x", " \t", "y"),
    ("no-break spaces not followed by #", "A=x", "\u00a0", "y"),
    ("spaces, then # with no space", "A=x", " ", "x#y"),
    ("space-separated # runs", "A=", "x #", ""),
    ("whitespace line", "", " ", "x"),
    ("name, spaces, no =", "A", " ", "B"),
    ("export and spaces", "export", " ", "x"),
    ("export, spaces, name, spaces, no =", "export" + " " * 60_000 + "A", " ", "B"),
    ("= signs", "", "=", ""),
    ("a name and = signs", "A", "=", ""),
    ("a long name", "", "A", "=1"),
    ("unclosed double quote over many lines", 'A="', "x\n", ""),
    ("unclosed single quote over many lines", "A='", "\n", ""),
    ("backslashes", 'A="', "\\", '"'),
    ("escaped quotes, never closed", 'A="', '\\"', ""),
    ("quotes only", "", '"', ""),
    ("many bad lines", "", "x\n", ""),
    ("many blank CRLF lines", "", "\r\n", "A=1"),
    ("many comments", "", "# c\n", "A=1"),
]


def padded(start, piece, end, size=MAX_TEXT):
    return start + piece * ((size - len(start) - len(end)) // len(piece)) + end


def read(text):
    try:
        parse(text)
    except DotenvError:
        pass


@pytest.mark.parametrize(
    "start, piece, end", [case[1:] for case in ADVERSARIAL], ids=[case[0] for case in ADVERSARIAL]
)
def test_any_text_up_to_the_limit_is_read_in_linear_time(start, piece, end):
    """A quarter of the limit, then the whole of it: linear reading takes 4 times
    as long, a backtracking parser's 16 (a ratio of CPU times, never a figure)."""
    assert len(padded(start, piece, end)) <= MAX_TEXT

    def measure(size):
        return cpu_seconds(functools.partial(read, padded(start, piece, end, size)))

    assert growth(measure, MAX_TEXT // 4, MAX_TEXT) < LINEAR


def test_text_over_the_limit_is_refused_before_it_is_read(monkeypatch):
    text = "A=sk-live-over-the-limit\n" + "x" * MAX_TEXT
    lines_read = []
    monkeypatch.setattr(dotenv, "_assignment", lambda line: lines_read.append(line) or _assignment(line))
    with pytest.raises(DotenvError) as info:
        parse(text + " " * (2_000_000 - len(text)) + "y")  # a body as big as Datasette allows
    assert lines_read == [], "not one line was looked at"
    assert [error.line for error in info.value.errors] == [None], "no line was read"
    assert str(info.value) == str(info.value.errors[0]) == (
        "The .env text is longer than 262,144 characters (256 KiB), so none of it was read: "
        "a .env file is usually a few KB. Split it into smaller parts."
    )
    assert "sk-live" not in str(info.value)
    # exactly at the limit is read
    assert values(padded("A=1\n#", " ", "")) == {"A": "1"}
    assert lines_read


def test_at_most_max_entries():
    assert len(parse("\n".join(f"K{n}=v" for n in range(MAX_ENTRIES)))) == MAX_ENTRIES
    with pytest.raises(DotenvError) as info:
        parse("\n".join(f"K{n}=sk-value-{n}" for n in range(MAX_ENTRIES + 1)))
    assert [str(error) for error in info.value.errors] == [
        "The .env text has 1,001 NAME=value lines; at most 1,000 are read at once, so none was. "
        "Split it into smaller parts."
    ]
    assert "sk-value" not in str(info.value)


def test_many_bad_lines_are_counted_and_the_first_listed():
    errors = bad_lines("A=1\n" + "sk-bad\n" * (MAX_LISTED + 7))
    assert [error.line for error in errors] == list(range(2, MAX_LISTED + 2)) + [None]
    assert str(errors[-1]) == "and 7 more bad lines, not listed"
    with pytest.raises(DotenvError) as info:
        parse("sk-bad\n" * 2_000)
    assert str(info.value).startswith("2,000 bad lines: line 1: expected NAME=value; line 2: ")
    assert str(info.value).endswith("; line 50: expected NAME=value; and 1,950 more bad lines, not listed")
    assert "sk-bad" not in str(info.value)


# The regular expressions the parser used before it scanned strings by hand
# (they backtracked quadratically): the hand-written scan must read alike.
OLD_ASSIGNMENT = re.compile(r"\s*(?:export\s+)?(?P<name>[^\s=]+)\s*=(?P<rest>.*)", re.DOTALL)
OLD_COMMENT = re.compile(r"\s+#.*")


def old_reading(line):
    """What the old parser made of one line: (name, value) or None."""
    match = OLD_ASSIGNMENT.fullmatch(line)
    if match is None:
        return None
    if match["rest"].lstrip()[:1] in ("'", '"'):
        return match["name"], None  # quoted: read by _quoted, unchanged
    return match["name"], OLD_COMMENT.sub("", match["rest"]).strip()


def new_reading(line):
    assignment = _assignment(line)
    if assignment is None:
        return None
    name, rest = assignment
    if rest.lstrip()[:1] in ("'", '"'):
        return name, None
    return name, _without_comment(rest).strip()


def test_reads_every_line_as_the_old_regular_expressions_did():
    pieces = ["A", "b", "1", "=", "#", " ", "\t", "\u00a0", "\x0b", "export", "export ", "'", '"', "\\", "é"]
    generator = random.Random(20261130)
    for _ in range(20_000):
        line = "".join(generator.choice(pieces) for _ in range(generator.randrange(0, 12)))
        assert new_reading(line) == old_reading(line), repr(line)
