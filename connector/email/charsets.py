"""Decoding that never fails: unknown or lying charsets fall back with replacement characters."""

from __future__ import annotations

import codecs
from email.header import decode_header

#: Labels that are really a superset in practice (mail clients mislabel Windows-1252 as Latin-1).
_ALIASES = {"latin-1": "cp1252", "latin1": "cp1252", "iso-8859-1": "cp1252", "us-ascii": "utf-8",
            "ascii": "utf-8", "x-unknown": "utf-8", "unknown-8bit": "utf-8", "x-user-defined": "utf-8"}


def _codec(charset: str | None) -> str:
    name = (charset or "utf-8").strip().strip('"').lower()
    name = _ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):
        return "utf-8"


def decode_bytes(data: bytes, charset: str | None) -> str:
    """``data`` as text in ``charset``; UTF-8 with replacement when the charset is unknown."""
    codec = _codec(charset)
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        if codec != "utf-8":
            try:
                return data.decode("utf-8")
            except UnicodeDecodeError:
                pass
        return data.decode(codec, errors="replace")
    except Exception:  # some codecs raise other errors on hostile input
        return data.decode("utf-8", errors="replace")


def unescape_raw(value: str) -> str:
    """Header text from a bytes parse keeps raw 8-bit bytes as surrogates: read them as UTF-8."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    return value.encode("utf-8", "surrogateescape").decode("utf-8", errors="replace")


def decode_header_value(value: str | None) -> str:
    """A raw header value with RFC 2047 encoded words decoded, unfolded to one line."""
    if not value:
        return ""
    text = unescape_raw(str(value))
    if "=?" not in text:
        return " ".join(text.split())
    try:
        parts = decode_header(text)
    except Exception:
        return " ".join(text.split())
    decoded = [
        chunk if isinstance(chunk, str)
        else decode_bytes(chunk, charset) if charset
        else chunk.decode("raw-unicode-escape", errors="replace")  # how decode_header keeps plain text
        for chunk, charset in parts
    ]
    return " ".join("".join(decoded).split())
