"""Replacing secrets and personal data with placeholders, so real traffic can become a fixture.

The same address always becomes the same placeholder within one recording (``person1@example.com``),
so a case still shows that two fields named the same customer. Addresses already on the
documentation domains (example.com/.org/.net) are kept.
"""

from __future__ import annotations

import re
from typing import Any

EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
PHONE = re.compile(r"(?<![\w.])\+?\d[\d ().-]{7,}\d(?![\w.])")
IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
SAFE_DOMAINS = ("example.com", "example.org", "example.net")
#: Keys whose values are secrets: replaced whole.
SECRET_KEYS = re.compile(r"(secret|token|password|passwd|api_?key|signature|authorization|cookie)",
                         re.IGNORECASE)
#: Keys whose string values name a person: replaced whole.
NAME_KEYS = re.compile(r"^(name|full_?name|first_?name|last_?name|given_?name|family_?name|"
                       r"display_?name|author|author_?name|customer_?name|contact_?name|"
                       r"username|login)$", re.IGNORECASE)
#: Keys whose values are addresses or phone numbers even when they do not look like one.
CONTACT_KEYS = re.compile(r"(phone|mobile|address|street|city|zip|postal)", re.IGNORECASE)
REDACTED = "[redacted]"


class Scrubber:
    def __init__(self) -> None:
        self.emails: dict[str, str] = {}
        self.names: dict[str, str] = {}

    def email(self, found: str) -> str:
        address = found.lower()
        if address.rsplit("@", 1)[-1] in SAFE_DOMAINS:
            return found
        if address not in self.emails:
            self.emails[address] = f"person{len(self.emails) + 1}@example.com"
        return self.emails[address]

    def name(self, found: str) -> str:
        if found not in self.names:
            self.names[found] = f"Person {len(self.names) + 1}"
        return self.names[found]

    def text(self, value: str) -> str:
        value = EMAIL.sub(lambda m: self.email(m.group(0)), value)
        value = PHONE.sub("+1 555 0100", value)
        return IPV4.sub("192.0.2.1", value)

    def value(self, value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: self.value(item, str(k)) for k, item in value.items()}
        if isinstance(value, list):
            return [self.value(item, key) for item in value]
        if not isinstance(value, str) or not value:
            return value
        if SECRET_KEYS.search(key):
            return REDACTED
        if NAME_KEYS.match(key) and not EMAIL.fullmatch(value):
            return self.name(value)
        if CONTACT_KEYS.search(key) and not EMAIL.fullmatch(value):
            return "[redacted contact]"
        return self.text(value)

    def headers(self, headers: dict[str, str]) -> dict[str, str]:
        kept = {}
        for name, value in headers.items():
            lower = name.lower()
            if SECRET_KEYS.search(lower) or lower in ("host", "content-length", "x-forwarded-for",
                                                      "x-real-ip", "cf-connecting-ip"):
                continue
            kept[lower] = self.text(value)
        return kept
