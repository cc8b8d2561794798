"""Find the real customer behind a submission, by one documented precedence for every sender.

Email (or user id), first match wins:

1. the route's mapping: ``user_id = "<ref>"`` and ``email = "<ref>"``, then a ``user_id`` the
   sender asked for explicitly (the Zapier/Make/JSON contract);
2. email-typed fields, in form order (Typeform/Tally email questions, Google's collected email);
3. the sender's own hints, best first (a tracker's reporter email, Tally's payment email);
4. the route's ``logins`` map (GitHub login, Linear/Jira user id → email);
5. hidden fields named like an email (``email``, ``customer_email`` …);
6. well-known keys or labels (``email``, ``e-mail``, ``email_address``, ``customer.email`` …);
7. the ONE email address among all field values (only when exactly one distinct address);
8. the customer's id in the customer's own product, when the sender carries it (Sentry
   ``user.id``, Intercom ``user_id`` of a signed-up user); it is also sent beside an email that
   came from the same hint;
9. the route's ``fallback_email``;
10. the person's id inside the sending tool, prefixed: ``github:21031067``.

Otherwise the customer stays unidentified, which is not an error: the submission is kept and
flagged for attention. The name: the route's ``name`` (or ``first_name`` + ``last_name``), the
display name beside the email, a composite name field, a field labelled like a name (full, or
first + last joined), then the sender's hint. ``resolved_by`` records the rule that decided.
"""

from __future__ import annotations

from typing import Any

from connector.sources.base import Candidate, Submission, text_of
from connector.sources.fields import EMAIL_KEYS, as_email, display, is_empty, name_role, normalize
from connector.sources.lookup import Lookup
from connector.sources.routes import Options
from connector.ticket import Customer

MAX_NAME_CHARS = 200
MAX_USER_ID_CHARS = 255
#: Kinds that are never the customer's own answer (computed values, sender bookkeeping).
_NOT_ANSWERS = frozenset({"variable", "calculated", "meta"})


def _detail(key: str) -> str:
    return key if len(key) <= 80 else key[:79] + "…"


def _email_from_fields(submission: Submission, options: Options) -> tuple[str, str | None, str, Candidate | None] | None:
    fields = submission.fields
    for item in fields:
        if item.kind == "email" and (found := as_email(item.value)):
            return found[0], found[1], f"field:{_detail(item.key)}", None
    for candidate in submission.candidates:
        if candidate.email and (found := as_email(candidate.email)):
            return found[0], found[1] or candidate.name, candidate.rule, candidate
    for candidate in submission.candidates:
        for login in candidate.logins:
            if login and login in options.logins and (found := as_email(options.logins[login])):
                return found[0], None, f"route:logins:{_detail(login)}", candidate
    for item in fields:
        if item.kind == "hidden" and (normalize(item.label) in EMAIL_KEYS or normalize(item.key) in EMAIL_KEYS) \
                and (found := as_email(item.value)):
            return found[0], found[1], f"hidden:{_detail(item.label)}", None
    for item in fields:
        if item.kind not in _NOT_ANSWERS and (
            normalize(item.key) in EMAIL_KEYS or normalize(item.label) in EMAIL_KEYS
        ) and (found := as_email(item.value)):
            return found[0], found[1], f"key:{_detail(item.key)}", None
    only: dict[str, tuple[str, str | None, str]] = {}
    for item in fields:
        if item.kind not in _NOT_ANSWERS and (found := as_email(item.value)):
            only.setdefault(found[0].lower(), (found[0], found[1], item.key))
            if len(only) > 1:
                return None
    if only:
        address, name, key = next(iter(only.values()))
        return address, name, f"only_email:{_detail(key)}", None
    return None


def _text(lookup: Lookup, ref: str | None) -> str | None:
    if not ref:
        return None
    found = lookup.find(ref)
    if found is None:
        return None
    return text_of(display(found[0], found[1]))


def _name_from_fields(submission: Submission) -> str | None:
    for item in submission.fields:
        if item.kind == "name" and not is_empty(item.value):
            return display(item.value, "name")
    first = last = None
    for item in submission.fields:
        if item.kind in _NOT_ANSWERS or not isinstance(item.value, str) or not item.value.strip():
            continue
        role = name_role(item.key) or name_role(item.label)
        if role == "full":
            return item.value.strip()
        if role == "first" and first is None:
            first = item.value.strip()
        elif role == "last" and last is None:
            last = item.value.strip()
    joined = " ".join(p for p in (first, last) if p)
    return joined or None


def resolve_customer(submission: Submission, options: Options, lookup: Lookup, sender: str) -> Customer:
    email = user_id = None
    rules: list[str] = []
    display_name: str | None = None
    chosen: Candidate | None = None

    if options.user_id and (user_id := _text(lookup, options.user_id)):
        rules.append("route:user_id")
    elif submission.requested.user_id and (user_id := text_of(submission.requested.user_id)):
        rules.append("sender:user_id")
    if options.email and (found := as_email(_text(lookup, options.email))):
        email, display_name = found
        rules.append("route:email")
    if email is None:
        hit = _email_from_fields(submission, options)
        if hit:
            email, display_name, rule, chosen = hit
            rules.append(rule)
    if email is not None and user_id is None and chosen is not None and (own := text_of(chosen.user_id)):
        user_id = own
        rules.append(f"{chosen.rule}:user_id")
    if email is None and user_id is None:
        for candidate in submission.candidates:
            if candidate.user_id and (user_id := text_of(candidate.user_id)):
                rules.append(f"{candidate.rule}:user_id")
                chosen = candidate
                break
    if email is None and user_id is None and options.fallback_email:
        email = as_email(options.fallback_email)[0]  # validated when the routes file loaded
        rules.append("route:fallback_email")
    if email is None and user_id is None:
        for candidate in submission.candidates:
            if candidate.account_id and (account := text_of(candidate.account_id)):
                user_id = f"{sender}:{account}"
                rules.append(f"{candidate.rule}:account_id")
                chosen = candidate
                break

    name = _route_name(options, lookup) or display_name or _name_from_fields(submission)
    if not name:
        hinted = [chosen] if chosen else []
        name = next((c.name for c in hinted + submission.candidates if c.name and c.name.strip()), None)
    if user_id and len(user_id) > MAX_USER_ID_CHARS:
        user_id = None
        rules = [r for r in rules if "user_id" not in r and "account_id" not in r]
    return Customer(
        email=email,
        user_id=user_id,
        name=_clip(name),
        resolved_by=", ".join(rules) or None,
    )


def _route_name(options: Options, lookup: Lookup) -> str | None:
    if options.name and (name := _text(lookup, options.name)):
        return name
    parts = [_text(lookup, options.first_name), _text(lookup, options.last_name)]
    return " ".join(p for p in parts if p) or None


def _clip(name: Any) -> str | None:
    text = " ".join(str(name).split()) if name else ""
    return text[:MAX_NAME_CHARS] or None
