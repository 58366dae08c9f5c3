"""datasette_secrets.dotenv: reading .env files, with no Datasette involved."""

import random

import pytest

from datasette_secrets.dotenv import BadLine, DotenvError, Entry, parse

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
