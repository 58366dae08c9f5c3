"""The one door for text derived from a secret's value.

A plugin's check message, the text of an exception raised while a value was
in hand, anything computed from a value: before such text reaches a response,
a cookie, a log line or the audit table, it goes through ``scrub``. Nothing
else in the plugin may put value-derived text anywhere.

``scrub(text, *values)`` removes, for each value:

- the value itself, and the forms a message typically quotes it in: its
  ``repr``/``ascii`` (escaped quotes, backslashes, line breaks, non-ASCII),
  the ``repr`` of its UTF-8 bytes, its JSON string, its base64 and url-safe
  base64, its hex;
- any run of ``SHARED_RUN`` (6) or more characters that the text shares with
  the value or with any of those forms, wherever it appears: a message that
  quotes all but the last eight characters, or a line of a multi-line value,
  loses those too.

Each removed stretch becomes ``•••``. It runs in time linear in the lengths of
the text and the values (a set of the values' 6-character pieces, one pass
over the text), so a long message or value cannot stall the server.
"""

import base64
import json

SHARED_RUN = 6
REMOVED = "•••"


def forms(value):
    """The value and the ways code commonly renders it into text."""
    encoded = value.encode("utf-8", "surrogatepass")
    found = {
        value,
        repr(value)[1:-1],
        ascii(value)[1:-1],
        repr(encoded)[2:-1],
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        base64.b64encode(encoded).decode("ascii"),
        base64.urlsafe_b64encode(encoded).decode("ascii"),
        encoded.hex(),
    }
    for text in list(found):
        found.add(text.rstrip("="))  # base64 without padding
    found.discard("")
    return found


class Scrubber:
    """Removes what ``scrub`` removes for a fixed set of values; reusable."""

    def __init__(self, *values):
        self._whole = set()
        self._runs = set()
        for value in values:
            if not value:
                continue
            for text in forms(value):
                self._whole.add(text)
                for start in range(len(text) - SHARED_RUN + 1):
                    self._runs.add(text[start : start + SHARED_RUN])

    def __call__(self, text):
        if not text or not (self._whole or self._runs):
            return text
        text = str(text)
        hidden = bytearray(len(text))  # 1 where a character must go
        runs, size = self._runs, SHARED_RUN
        for start in range(len(text) - size + 1):
            if text[start : start + size] in runs:
                hidden[start : start + size] = b"\x01" * size
        # Whole forms shorter than a run (a 4-digit PIN, say) go wherever they stand.
        for whole in self._whole:
            if len(whole) < size:
                start = text.find(whole)
                while start != -1:
                    hidden[start : start + len(whole)] = b"\x01" * len(whole)
                    start = text.find(whole, start + 1)
        if not any(hidden):
            return text
        pieces, position = [], 0
        while position < len(text):
            if hidden[position]:
                end = position
                while end < len(text) and hidden[end]:
                    end += 1
                pieces.append(REMOVED)
            else:
                end = position
                while end < len(text) and not hidden[end]:
                    end += 1
                pieces.append(text[position:end])
            position = end
        return "".join(pieces)


def scrub(text, *values):
    """``text`` safe to show to anyone: every trace of ``values`` removed (see module doc)."""
    return Scrubber(*values)(text)
