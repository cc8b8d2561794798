"""Who the customer is, in an explained and configurable order of rules.

Each rule looks at one kind of evidence and either names the customer or says why it does not
apply. The first rule that names someone wins; every rule tried is kept as a :class:`Step`, so
a ticket can say *why* this person was chosen (``resolved_by`` + ``reason``). Two things are
never chosen: the support team's own addresses (``SUPPORT_ADDRESSES`` and the mailbox the email
was delivered to) and notification senders (no-reply, bounces, form tools).

The default order (``EMAIL_RESOLUTION_ORDER`` changes it):

1. ``rfc822_attachment`` - a forward attached as message/rfc822, when the outer sender is a
   notifier, one of ours, or the subject says forward: resolve the attached message.
2. ``reply_to`` - From is a notifier or one of ours (a site's contact form): Reply-To.
3. ``x_original_from`` / 4. ``x_original_sender`` - set by Google Groups, Mailman, b4 relays.
5. ``sender_on_behalf`` - Sender differs from From: From is still the author (RFC 5322).
6. ``via_rewrite`` - "Name via List" / "'Name' via Group" senders and ``user=40domain@`` wraps.
7. ``inline_forward`` - From is one of ours or a notifier: the forwarded block's From; nested
   forwards are followed past our own people and pure re-forwards to the real original.
8. ``body_fields`` - From is a notifier: ``Email: ...`` / ``From: Name <...>`` body fields.
9. ``from`` - From itself, unless it is one of ours, a notifier or a rewritten list address.

``body_first_address`` (the first address in the body that is not ours) is available but off by
default: in notifications it too often finds the form owner or a footer address.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from connector.email.addresses import (
    ADDRESS_RE,
    Mailbox,
    SupportAddresses,
    is_public_mail_domain,
    is_system_address,
    normalize_address,
    notifier_tool,
    split_via,
    unwrap_mailman,
)
from connector.email.fields import email_fields, extract_fields, name_from_fields
from connector.email.forwards import ForwardedEmail, parse_forward
from connector.email.message import ParsedEmail
from connector.email.quotes import trim_quoted_history
from connector.email.subjects import is_forward_subject

DEFAULT_ORDER: tuple[str, ...] = (
    "rfc822_attachment", "reply_to", "x_original_from", "x_original_sender", "sender_on_behalf",
    "via_rewrite", "inline_forward", "body_fields", "from",
)
_MAX_ATTACHED_DEPTH = 3


@dataclass(frozen=True)
class Step:
    """One rule tried: whether it chose someone and why (not)."""

    rule: str
    chosen: bool
    detail: str
    #: True when the email had nothing this rule looks at.
    routine: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "chosen": self.chosen, "detail": self.detail,
                "applies": not self.routine}


@dataclass(frozen=True)
class Resolution:
    """The customer of an email, or why none was found."""

    email: str | None
    name: str | None
    #: The stable name of the rule that found the customer; None when unresolved.
    resolved_by: str | None
    #: One sentence: why this customer, or why nobody.
    reason: str
    #: The sender that is not the customer (notifier, list, forwarding agent), if any.
    notifier: str | None = None
    #: The tool behind the notifier (``formspree``, ``wordpress`` ...), when known.
    notifier_tool: str | None = None
    #: notification, list, forward, attachment, internal or direct.
    sender_kind: str = "direct"
    steps: tuple[Step, ...] = ()
    #: The forwarded original the customer came from (inline_forward).
    forwarded: ForwardedEmail | None = None
    #: The first forwarded original found in the body, chosen or not.
    forward_found: ForwardedEmail | None = None
    #: The attached message the customer came from (rfc822_attachment), and how it resolved.
    attached: ParsedEmail | None = None
    inner: Resolution | None = None

    @property
    def identified(self) -> bool:
        return bool(self.email)

    def evidence(self) -> list[dict[str, Any]]:
        return [step.to_dict() for step in self.steps]


@dataclass(frozen=True)
class ResolverConfig:
    """What the resolver needs from the settings."""

    support: SupportAddresses = field(default_factory=SupportAddresses)
    order: tuple[str, ...] = DEFAULT_ORDER

    @classmethod
    def from_values(cls, support_addresses: str | None = None,
                    resolution_order: str | None = None) -> ResolverConfig:
        order = parse_order(resolution_order) if resolution_order else DEFAULT_ORDER
        return cls(SupportAddresses.parse(support_addresses), order)

    @classmethod
    def from_settings(cls, settings: Any) -> ResolverConfig:
        """From ``SUPPORT_ADDRESSES`` and ``EMAIL_RESOLUTION_ORDER`` (both validated at start-up)."""
        return cls.from_values(settings.get("SUPPORT_ADDRESSES"),
                               settings.get("EMAIL_RESOLUTION_ORDER"))


def parse_order(raw: str) -> tuple[str, ...]:
    """``EMAIL_RESOLUTION_ORDER``: rule names, comma-separated; ValueError names an unknown one."""
    names = tuple(part.strip() for part in raw.split(",") if part.strip())
    unknown = [name for name in names if name not in RULES]
    if unknown or not names:
        raise ValueError("rule names, comma-separated, from: " + ", ".join(RULES))
    return names


# --- facts about the email -------------------------------------------------------------------


@dataclass
class _Facts:
    parsed: ParsedEmail
    config: ResolverConfig
    ours: SupportAddresses
    our_domains: frozenset[str]
    depth: int
    sender: Mailbox
    system: bool
    automated: bool
    support: bool
    internal: bool
    via: tuple[str | None, str] | None
    unwrapped: str | None
    _forward: Any = None
    _fields: Any = None

    @property
    def notifier_like(self) -> bool:
        return self.system or self.automated

    @property
    def rewritten(self) -> bool:
        return self.via is not None or self.unwrapped is not None

    def forward(self) -> ForwardedEmail | None:
        if self._forward is None:
            self._forward = parse_forward(self.parsed.text, self.parsed.subject or None,
                                          sender_is_ours=self.internal) or False
        return self._forward or None

    def fields(self) -> list[tuple[str, str]]:
        if self._fields is None:
            self._fields = extract_fields(trim_quoted_history(self.parsed.text))
        return self._fields

    def is_ours(self, address: str | None) -> bool:
        if not address:
            return False
        return self.ours.matches(address) or address.rpartition("@")[2] in self.our_domains

    def unusable(self, address: str | None) -> str | None:
        """Why ``address`` cannot be the customer, or None when it can."""
        if not address:
            return "there is no address"
        if self.ours.matches(address):
            return f"{address} is one of the support team's own addresses"
        if is_system_address(address):
            return f"{address} is a notification or no-reply sender"
        return None


def _facts(parsed: ParsedEmail, config: ResolverConfig, recipient: str | None, depth: int) -> _Facts:
    sender = parsed.from_mailbox or Mailbox()
    mailboxes = [recipient] if recipient else list(parsed.delivered_to)
    ours = config.support
    for address in mailboxes:
        ours = ours.with_address(address)
    # Senders on our inbox's own domain are colleagues (unless it is a public mail provider).
    our_domains = frozenset(
        domain for domain in (a.rpartition("@")[2].lower() for a in mailboxes if a and "@" in a)
        if not is_public_mail_domain(domain))
    automated_header = (parsed.header("auto-submitted") or "").strip().lower()
    precedence = (parsed.header("precedence") or "").strip().lower()
    address = sender.address
    support = ours.matches(address)
    return _Facts(
        parsed=parsed,
        config=config,
        ours=ours,
        our_domains=our_domains,
        depth=depth,
        sender=sender,
        system=is_system_address(address),
        automated=bool(automated_header and automated_header != "no")
        or precedence in ("bulk", "junk", "auto_reply"),
        support=support,
        internal=support or bool(address and address.rpartition("@")[2] in our_domains),
        via=split_via(sender.name),
        unwrapped=unwrap_mailman(address),
    )


# --- the rules ---------------------------------------------------------------------------------


class _NotApplicable(str):
    """A rule's answer when the email has nothing of its kind (left out of short reasons)."""


@dataclass(frozen=True)
class _Choice:
    mailbox: Mailbox
    detail: str
    forwarded: ForwardedEmail | None = None
    attached: ParsedEmail | None = None
    inner: Resolution | None = None


Rule = Callable[[_Facts], "_Choice | str"]


def _rfc822_attachment(facts: _Facts) -> _Choice | str:
    attached = facts.parsed.attached_messages
    if not attached:
        return _NotApplicable("no message/rfc822 attachment")
    if not (facts.notifier_like or facts.internal or is_forward_subject(facts.parsed.subject)):
        return (f"an attached message, but From {facts.sender.address} is an outside sender, so "
                "the attachment is theirs to share, not the customer")
    if facts.depth >= _MAX_ATTACHED_DEPTH:
        return "attached messages nested too deep"
    reasons = []
    for inner in attached:
        inner_resolution = _resolve(inner, facts.config, None, facts.depth + 1,
                                    extra_ours=facts.ours, extra_domains=facts.our_domains)
        if inner_resolution.identified:
            mailbox = Mailbox(inner_resolution.email, inner_resolution.name)
            return _Choice(mailbox, f"the attached message {inner.subject!r} names the customer "
                           f"({inner_resolution.resolved_by}: {inner_resolution.reason})",
                           attached=inner, inner=inner_resolution)
        reasons.append(inner_resolution.reason)
    return "the attached message names no customer: " + "; ".join(reasons)


def _reply_to(facts: _Facts) -> _Choice | str:
    if not (facts.notifier_like or facts.internal):
        return _NotApplicable(f"From {facts.sender.address} is neither a notifier nor one of ours")
    if not facts.parsed.reply_to:
        return _NotApplicable("no Reply-To header")
    why_not = []
    for mailbox in facts.parsed.reply_to:
        problem = facts.unusable(mailbox.address)
        if problem is None and mailbox.address != facts.sender.address:
            kind = "a notification sender" if facts.notifier_like else "one of our own addresses"
            return _Choice(mailbox, f"From {facts.sender.address} is {kind}; Reply-To names "
                           f"{mailbox.address}")
        why_not.append(problem or f"{mailbox.address} is the From address itself")
    return "Reply-To cannot be the customer: " + "; ".join(why_not)


def _original_header(header: str, attribute: str) -> Rule:
    """A rule for a header a list or relay adds with the original author (X-Original-From ...)."""

    def rule(facts: _Facts) -> _Choice | str:
        found: list[Mailbox] = getattr(facts.parsed, attribute)
        if not found:
            return _NotApplicable(f"no {header} header")
        why_not = []
        for mailbox in found:
            problem = facts.unusable(mailbox.address)
            if problem is None:
                return _Choice(mailbox, f"{header} names the original author {mailbox.address}"
                               f" (From is {facts.sender.address})")
            why_not.append(problem)
        return f"{header} cannot be the customer: " + "; ".join(why_not)

    return rule


def _sender_on_behalf(facts: _Facts) -> _Choice | str:
    sender = facts.parsed.sender
    if sender is None or sender.address == facts.sender.address:
        return _NotApplicable("no Sender header different from From")
    problem = facts.unusable(facts.sender.address)
    if problem or facts.rewritten:
        return f"Sender {sender.address} differs, but From cannot be the customer: " + (
            problem or "it is a rewritten list address")
    return _Choice(facts.sender, f"Sender {sender.address} sent it on behalf of From "
                   f"{facts.sender.address}; From is the author (RFC 5322)")


def _via_rewrite(facts: _Facts) -> _Choice | str:
    if facts.unwrapped:
        name = facts.via[0] if facts.via else facts.sender.name
        problem = facts.unusable(facts.unwrapped)
        if problem:
            return f"the list wrapped {facts.unwrapped} in its From, but {problem}"
        return _Choice(Mailbox(facts.unwrapped, name),
                       f"From {facts.sender.address} is a list address wrapping {facts.unwrapped} "
                       "(=40 stands for @)")
    if facts.via is None:
        return _NotApplicable("From is not rewritten by a list ('Name via List')")
    name, list_name = facts.via
    for mailbox in facts.parsed.reply_to:
        if mailbox.address != facts.sender.address and facts.unusable(mailbox.address) is None:
            return _Choice(Mailbox(mailbox.address, mailbox.name or name),
                           f"From {facts.sender} was rewritten by the list {list_name!r}; "
                           f"Reply-To names the author {mailbox.address}")
    return (f"From was rewritten by the list {list_name!r} and no header carries "
            f"{name or 'the author'}'s own address")


def _inline_forward(facts: _Facts) -> _Choice | str:
    if not (facts.internal or facts.notifier_like):
        return _NotApplicable(f"From {facts.sender.address} is an outside sender: a message they "
                              "forward is still theirs")
    forward = facts.forward()
    if forward is None:
        return _NotApplicable("no forwarded message in the body")
    skipped = []
    for level in forward.chain:
        mailbox = level.from_mailbox
        address = mailbox.address if mailbox else None
        problem = facts.unusable(address)
        if problem is None and facts.is_ours(address):
            problem = f"{address} is on our own domain (a colleague's forward)"
        if problem is None and _pure_forward(level):
            problem = f"{address} only forwarded it further (a 'Fwd:' with no text of their own)"
        if problem is None:
            depth = len(forward.chain) - len(level.chain)
            where = "the forwarded message" if depth == 0 else f"the forward nested {depth} deep"
            return _Choice(mailbox, f"From {facts.sender.address} forwarded a message; "
                           f"{where} ({level.layout}) is from {address}", forwarded=level)
        if mailbox is None or not mailbox.address:
            problem = f"the forwarded From {mailbox.name if mailbox else ''} has no address"
        skipped.append(problem)
    return "forwarded message found, but " + "; ".join(skipped)


def _pure_forward(level: ForwardedEmail) -> bool:
    return level.nested is not None and is_forward_subject(level.subject) and not level.nested.note


def _body_fields(facts: _Facts) -> _Choice | str:
    if not _from_unusable(facts):
        return _NotApplicable(f"From {facts.sender.address} is a person, so body fields are not "
                              "the sender")
    why_not = []
    for label, mailbox in email_fields(facts.fields()):
        problem = facts.unusable(mailbox.address)
        if problem is None:
            name = mailbox.name or name_from_fields(facts.fields())
            return _Choice(Mailbox(mailbox.address, name),
                           f"From {facts.sender.address} is not the customer; the body field "
                           f"{label!r} names {mailbox.address}")
        why_not.append(f"{label!r}: {problem}")
    if why_not:
        return "body email fields cannot be the customer: " + "; ".join(why_not)
    return "no email field in the body"


def _body_first_address(facts: _Facts) -> _Choice | str:
    if not _from_unusable(facts):
        return _NotApplicable(f"From {facts.sender.address} is a person")
    for found in ADDRESS_RE.finditer(facts.parsed.text):
        address = normalize_address(found.group())
        if facts.unusable(address) is None and address != facts.sender.address:
            return _Choice(Mailbox(address, None), f"the first address in the body that is not "
                           f"ours or a notifier is {address}")
    return "no usable address in the body"


def _from(facts: _Facts) -> _Choice | str:
    problem = facts.unusable(facts.sender.address)
    if problem:
        return f"From cannot be the customer: {problem}"
    if facts.rewritten:
        return f"From {facts.sender.address} is a mailing list's address, not the author's"
    if facts.automated:
        return f"From {facts.sender.address} marks itself as automated (Auto-Submitted/Precedence)"
    return _Choice(facts.sender, f"From {facts.sender.address} is the author")


def _from_unusable(facts: _Facts) -> bool:
    return bool(facts.unusable(facts.sender.address) or facts.rewritten or facts.automated)


RULES: dict[str, Rule] = {
    "rfc822_attachment": _rfc822_attachment,
    "reply_to": _reply_to,
    "x_original_from": _original_header("X-Original-From", "x_original_from"),
    "x_original_sender": _original_header("X-Original-Sender", "x_original_sender"),
    "sender_on_behalf": _sender_on_behalf,
    "via_rewrite": _via_rewrite,
    "inline_forward": _inline_forward,
    "body_fields": _body_fields,
    "body_first_address": _body_first_address,
    "from": _from,
}

_KIND_BY_RULE = {
    "rfc822_attachment": "attachment", "reply_to": "notification", "x_original_from": "list",
    "x_original_sender": "list", "via_rewrite": "list", "inline_forward": "forward",
    "body_fields": "notification", "body_first_address": "notification", "from": "direct",
    "sender_on_behalf": "direct",
}


# --- putting it together -----------------------------------------------------------------------


def resolve(parsed: ParsedEmail, config: ResolverConfig | None = None, *,
            recipient: str | None = None) -> Resolution:
    """The customer of ``parsed``; ``recipient`` is our mailbox it was sent to (if known)."""
    return _resolve(parsed, config or ResolverConfig(), recipient, 0)


def _resolve(parsed: ParsedEmail, config: ResolverConfig, recipient: str | None, depth: int, *,
             extra_ours: SupportAddresses | None = None,
             extra_domains: Iterable[str] = ()) -> Resolution:
    facts = _facts(parsed, config, recipient, depth)
    if extra_ours is not None:
        facts.ours = SupportAddresses(facts.ours.addresses | extra_ours.addresses,
                                      facts.ours.domains | extra_ours.domains)
        facts.our_domains = facts.our_domains | frozenset(extra_domains)
    steps: list[Step] = []
    for name in config.order:
        outcome = RULES[name](facts)
        if isinstance(outcome, str):
            steps.append(Step(name, False, str(outcome), isinstance(outcome, _NotApplicable)))
            continue
        steps.append(Step(name, True, outcome.detail))
        mailbox = outcome.mailbox
        email = normalize_address(mailbox.address or "")
        return Resolution(
            email=email,
            name=mailbox.name or _known_name(facts, email),
            resolved_by=name,
            reason=outcome.detail,
            notifier=None if facts.sender.address == email else facts.sender.address,
            notifier_tool=notifier_tool(facts.sender.address),
            sender_kind=_KIND_BY_RULE.get(name, "direct"),
            steps=tuple(steps),
            forwarded=outcome.forwarded,
            forward_found=facts.forward() if name == "inline_forward" else _found_forward(facts),
            attached=outcome.attached,
            inner=outcome.inner,
        )
    return Resolution(
        email=None,
        name=_unresolved_name(facts),
        resolved_by=None,
        reason="No customer address found. " + " ".join(
            f"{step.rule}: {step.detail}." for step in steps if not step.routine),
        notifier=facts.sender.address,
        notifier_tool=notifier_tool(facts.sender.address),
        sender_kind=_unresolved_kind(facts),
        steps=tuple(steps),
        forward_found=_found_forward(facts),
    )


def _found_forward(facts: _Facts) -> ForwardedEmail | None:
    return facts.forward() if (facts.internal or facts.notifier_like) else None


def _known_name(facts: _Facts, email: str) -> str | None:
    """A name for an address found without one, from other places that name it."""
    candidates = [facts.sender, *facts.parsed.reply_to, *facts.parsed.x_original_from]
    if _from_unusable(facts):
        candidates += [mailbox for _, mailbox in email_fields(facts.fields())]
    forward = facts.forward() if facts.internal or facts.notifier_like else None
    if forward is not None:
        candidates += [level.from_mailbox for level in forward.chain if level.from_mailbox]
    for mailbox in candidates:
        if mailbox.address and normalize_address(mailbox.address) == email and mailbox.name:
            via = split_via(mailbox.name)
            return via[0] if via else mailbox.name
    if facts.via and facts.via[0]:
        return facts.via[0]
    if _from_unusable(facts):
        return name_from_fields(facts.fields())
    return None


def _unresolved_name(facts: _Facts) -> str | None:
    if facts.via and facts.via[0]:
        return facts.via[0]
    forward = _found_forward(facts)
    if forward is not None:
        for level in forward.chain:
            if level.from_mailbox and level.from_mailbox.name and not level.from_mailbox.address:
                return level.from_mailbox.name
    if _from_unusable(facts):
        return name_from_fields(facts.fields())
    return None


def _unresolved_kind(facts: _Facts) -> str:
    if facts.notifier_like:
        return "notification"
    if facts.rewritten or facts.parsed.x_original_from:
        return "list"
    if facts.internal:
        return "forward" if facts.forward() else "internal"
    return "direct"
