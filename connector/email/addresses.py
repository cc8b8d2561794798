"""Mailboxes: parsing, who is a system sender, the support team's own addresses, list rewrites.

Two parsers on purpose: real headers go through :func:`email.utils.getaddresses` (RFC 5322),
while the header lines *printed* inside forwarded bodies need a forgiving one, because clients
print unquoted commas in names (``John, Doe <j@x>``), ``;`` separators, ``[mailto:...]`` and
``<mailto:...>`` decorations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import getaddresses

from connector.email.charsets import decode_header_value, unescape_raw

# Bounded repeats keep every search linear, even over a megabyte without an "@".
_LOCAL = r"[\w.!#$%&'*+/=?^`{|}~-]{1,64}"
_DOMAIN = r"[\w-]{1,63}(?:\.[\w-]{1,63}){0,8}\.[^\W\d_]{2,24}"
ADDRESS_RE = re.compile(rf"{_LOCAL}@{_DOMAIN}")
_ADDRESS_FULL_RE = re.compile(rf"{_LOCAL}@{_DOMAIN}")


@dataclass(frozen=True)
class Mailbox:
    """One address with its display name; either may be missing in text blocks."""

    address: str | None = None
    name: str | None = None

    def __str__(self) -> str:
        if self.address and self.name:
            return f"{self.name} <{self.address}>"
        return self.address or self.name or ""

    def to_dict(self) -> dict[str, str | None]:
        return {"address": self.address, "name": self.name}


def is_address(text: str | None) -> bool:
    return bool(text) and _ADDRESS_FULL_RE.fullmatch(text.strip()) is not None


def normalize_address(address: str) -> str:
    """Lower-cased, without ``mailto:``, angle brackets or surrounding quotes."""
    address = address.strip().strip("<>\"'").strip()
    if address.lower().startswith("mailto:"):
        address = address[7:]
    return address.lower()


def clean_name(name: str | None, address: str | None = None) -> str | None:
    """A display name without quotes and extra spaces; None when it is empty or an address."""
    if not name:
        return None
    name = " ".join(name.replace("\xa0", " ").split())
    name = name.strip("\"'“”„«»‘’`").strip()
    name = name.strip("\"'“”„«»‘’`").strip()
    if not name or is_address(name) or (address and name.lower() == address.lower()):
        return None
    return name


# --- real headers --------------------------------------------------------------------------


def parse_address_header(raw_value: str | None) -> list[Mailbox]:
    """Mailboxes of a raw (undecoded) address header; names are RFC 2047-decoded."""
    if not raw_value:
        return []
    value = " ".join(unescape_raw(str(raw_value)).split())
    try:
        pairs = getaddresses([value])
    except Exception:
        pairs = []
    mailboxes: list[Mailbox] = []
    for raw_name, raw_address in pairs:
        address = normalize_address(raw_address) if raw_address else ""
        if not is_address(address):
            continue
        name = clean_name(decode_header_value(raw_name), address)
        mailboxes.append(Mailbox(address, name))
    if not mailboxes:
        # getaddresses gives up on some real-world noise; any address in the value will do.
        decoded = decode_header_value(value)
        for found in ADDRESS_RE.finditer(decoded):
            mailboxes.append(Mailbox(normalize_address(found.group()), None))
    return mailboxes


# --- header lines printed in bodies (forwarded blocks) -------------------------------------

_MAILTO_ANGLE_RE = re.compile(r"<\s*mailto:[^<>]*>", re.IGNORECASE)
_MAILTO_SQUARE_RE = re.compile(r"\[\s*mailto:\s*([^\[\]\s]+)\s*\]", re.IGNORECASE)
_PAREN_ADDRESS_RE = re.compile(rf"\(\s*<?\s*({_LOCAL}@{_DOMAIN})\s*>?\s*\)")
_ANGLE_RE = re.compile(rf"<\s*(?:mailto:)?({_LOCAL}@{_DOMAIN})\s*>", re.IGNORECASE)
_LEADING_BARE_RE = re.compile(rf"^[\s\"'“”„«»‘’]*({_LOCAL}@{_DOMAIN})[\s\"'“”„«»‘’]*[,;]\s*")
_SEPARATORS = ",; \t"


def strip_mailto(text: str) -> str:
    """Undo Outlook's link decorations: ``a@x<mailto:a@x>`` and ``[mailto:a@x]``."""
    return _MAILTO_SQUARE_RE.sub(r"<\1>", _MAILTO_ANGLE_RE.sub("", text))


def parse_mailbox_list(text: str | None) -> list[Mailbox]:
    """Mailboxes from a ``From:``/``To:``/``Cc:`` line as mail clients print it in a body."""
    if not text:
        return []
    text = _PAREN_ADDRESS_RE.sub(r"<\1>", strip_mailto(text))
    mailboxes: list[Mailbox] = []
    position = 0
    for match in _ANGLE_RE.finditer(text):
        segment = text[position:match.start()].lstrip(_SEPARATORS)
        position = match.end()
        # Bare addresses followed by a separator are mailboxes of their own ("a@x, Name <b@y>");
        # a bare address right before "<...>" is the display name ("b@y <b@y>").
        while True:
            bare = _LEADING_BARE_RE.match(segment)
            if not bare:
                break
            mailboxes.append(Mailbox(normalize_address(bare.group(1)), None))
            segment = segment[bare.end():]
        address = normalize_address(match.group(1))
        mailboxes.append(Mailbox(address, clean_name(segment, address)))
    for piece in re.split(r"[,;]", text[position:]):
        piece = piece.strip()
        if not piece:
            continue
        found = ADDRESS_RE.search(piece)
        if found:
            mailboxes.append(Mailbox(normalize_address(found.group()), None))
        else:
            name = clean_name(piece)
            if name:
                mailboxes.append(Mailbox(None, name))
    return mailboxes


def parse_mailbox(text: str | None) -> Mailbox | None:
    mailboxes = parse_mailbox_list(text)
    return mailboxes[0] if mailboxes else None


# --- who is a system sender ---------------------------------------------------------------

_SYSTEM_LOCAL_RE = re.compile(
    r"^(?:no[-_.]?reply|do[-_.]?not[-_.]?reply|donotreply|notifications?|notify|"
    r"mailer(?:-daemon)?|bounces?|wordpress|postmaster|forms?|alerts?|support-noreply|"
    r"srs[01])(?![a-z0-9])",
    re.IGNORECASE,
)
_NOREPLY_ANYWHERE_RE = re.compile(r"(?:^|[-_.+])(?:no-?reply|do-?not-?reply|donotreply|bounces?)(?:$|[-_.+])",
                                  re.IGNORECASE)

#: Domains that only send notifications, with the tool's name.
NOTIFIER_DOMAINS: dict[str, str] = {
    "formspree.io": "formspree",
    "jotform.com": "jotform",
    "typeform.com": "typeform",
    "tally.so": "tally",
    "hubspot.com": "hubspot",
    "hubspotemail.net": "hubspot",
    "zapier.com": "zapier",
    "wufoo.com": "wufoo",
    "formstack.com": "formstack",
    "cognitoforms.com": "cognito_forms",
    "paperform.co": "paperform",
    "getform.io": "getform",
    "netlify.com": "netlify",
    "webflow.com": "webflow",
    "squarespace.info": "squarespace",
}

#: Local parts that name the tool even on a customer's own domain.
_NOTIFIER_LOCALS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^forms-receipts-noreply$"), "google_forms"),
    (re.compile(r"^wordpress$"), "wordpress"),
    (re.compile(r"^mailer-daemon$"), "mailer_daemon"),
)


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower()


def _domain_in(domain: str, domains: dict[str, str] | frozenset[str]) -> str | None:
    for candidate in domains:
        if domain == candidate or domain.endswith("." + candidate):
            return candidate
    return None


def is_system_address(address: str | None) -> bool:
    """True for no-reply, bounce, list-bounce and notification-tool senders."""
    if not address or "@" not in address:
        return False
    local = address.rpartition("@")[0]
    return bool(
        _SYSTEM_LOCAL_RE.match(local)
        or _NOREPLY_ANYWHERE_RE.search(local)
        or _domain_in(_domain(address), NOTIFIER_DOMAINS)
    )


def notifier_tool(address: str | None) -> str | None:
    """The notification tool behind a sender address (``formspree``, ``wordpress`` ...)."""
    if not address or "@" not in address:
        return None
    local = address.rpartition("@")[0].lower()
    for pattern, tool in _NOTIFIER_LOCALS:
        if pattern.match(local):
            return tool
    domain = _domain_in(_domain(address), NOTIFIER_DOMAINS)
    return NOTIFIER_DOMAINS[domain] if domain else None


#: Mailbox providers shared by millions: a support inbox there says nothing about its senders.
PUBLIC_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
    "yahoo.com", "ymail.com", "icloud.com", "me.com", "mac.com", "aol.com", "gmx.com", "gmx.net",
    "gmx.de", "web.de", "t-online.de", "proton.me", "protonmail.com", "pm.me", "zoho.com",
    "fastmail.com", "hey.com", "mail.com", "yandex.ru", "yandex.com", "mail.ru", "qq.com",
    "163.com", "126.com", "orange.fr", "free.fr", "laposte.net", "libero.it", "seznam.cz",
    "wp.pl", "onet.pl", "o2.pl", "hotmail.co.uk", "yahoo.co.uk", "btinternet.com", "comcast.net",
})


def is_public_mail_domain(domain: str) -> bool:
    domain = domain.lower()
    return domain in PUBLIC_MAIL_DOMAINS or domain.startswith(("yahoo.", "hotmail.", "outlook.", "live."))


# --- the support team's own addresses -----------------------------------------------------


def _canonical(address: str) -> str:
    """Lower case, without a ``+tag``: support+billing@x is support@x."""
    local, _, domain = normalize_address(address).rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


@dataclass(frozen=True)
class SupportAddresses:
    """``SUPPORT_ADDRESSES``: exact addresses and ``@domain`` entries; never a customer."""

    addresses: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, raw: str | None) -> SupportAddresses:
        """From ``support@acme.com, @acme.com``; raises ValueError naming a bad entry."""
        addresses: set[str] = set()
        domains: set[str] = set()
        for entry in (raw or "").replace(";", ",").split(","):
            entry = entry.strip().lower()
            if not entry:
                continue
            if entry.startswith("@") and re.fullmatch(_DOMAIN, entry[1:]):
                domains.add(entry[1:])
            elif is_address(entry):
                addresses.add(_canonical(entry))
            else:
                raise ValueError(f"addresses or @domain entries, comma-separated (not {entry!r})")
        return cls(frozenset(addresses), frozenset(domains))

    def with_address(self, address: str | None) -> SupportAddresses:
        """These addresses plus one more (the mailbox the email was delivered to)."""
        if not address or not is_address(address):
            return self
        return SupportAddresses(self.addresses | {_canonical(address)}, self.domains)

    def matches(self, address: str | None) -> bool:
        if not address or "@" not in address:
            return False
        canonical = _canonical(address)
        return canonical in self.addresses or _domain(canonical) in self.domains

    def __bool__(self) -> bool:
        return bool(self.addresses or self.domains)


# --- list rewrites ---------------------------------------------------------------------------

_VIA_RE = re.compile(r"^\s*(?P<name>\S.{0,200}?)\s+via\s+(?P<list>\S.{0,200})$", re.IGNORECASE)
_MAILMAN_WRAPPED_RE = re.compile(r"^(?P<local>.+)=40(?P<domain>[^@=]+)@(?P<relay>.+)$")


def split_via(display_name: str | None) -> tuple[str | None, str] | None:
    """``'Maria Garcia' via Support`` -> (``Maria Garcia``, ``Support``); None if not a rewrite."""
    if not display_name:
        return None
    match = _VIA_RE.match(display_name.strip())
    if not match:
        return None
    return clean_name(match.group("name")), match.group("list").strip()


def unwrap_mailman(address: str | None) -> str | None:
    """``maria=40example.org@dmarc.lists.example.net`` -> ``maria@example.org``."""
    if not address:
        return None
    match = _MAILMAN_WRAPPED_RE.match(address)
    if not match:
        return None
    unwrapped = f"{match.group('local')}@{match.group('domain')}".lower()
    return unwrapped if is_address(unwrapped) else None
