"""``flask harness record ID``: a stored webhook or email becomes a new fixture.

The raw delivery is read back from the records, secrets and personal data are replaced with
placeholders (:mod:`connector.harness.scrub`), and the case is replayed offline against the
sandbox once to write its expectations, which the user then reviews like any ``--update``.
"""

from __future__ import annotations

import json
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from connector.errors import BadRequest, NotFound
from connector.harness.fixtures import FIXTURES_DIR, load_case
from connector.harness.offline import OfflineRunner
from connector.harness.scrub import Scrubber
from connector.harness.update import write_update
from connector.normalizers import RECIPIENT_HEADER
from connector.store import Store, Submission
from connector.web.inbound_email import MAILGUN_STORED_TYPE


def fixture_for(submission: Submission, scrubber: Scrubber) -> tuple[dict[str, Any], bytes | None]:
    """The fixture document (and, for a raw email, the scrubbed .eml) of one stored submission."""
    raw = submission.raw_body or b""
    base = {"description": f"Recorded from submission {submission.id} ({submission.channel}/"
                           f"{submission.source}); review before committing.",
            "channel": "", "request": {}, "halo": {"sandbox": True, "calls": []},
            "expect": {"status": 202}}
    if submission.channel == "webhook":
        request: dict[str, Any] = {"route": submission.source,
                                   "headers": scrubber.headers(dict(submission.headers or {}))}
        try:
            request["json"] = scrubber.value(json.loads(raw))
            request["headers"].pop("content-type", None)
        except ValueError:
            request["body"] = scrubber.text(raw.decode("utf-8", errors="replace"))
        return {**base, "channel": "webhook", "request": request}, None
    if submission.channel == "email" and submission.content_type == MAILGUN_STORED_TYPE:
        stored = json.loads(raw)
        fields = {key: scrubber.value(value, key) if key not in ("sender", "from", "recipient")
                  else scrubber.text(value) for key, value in stored["fields"].items()}
        return {**base, "channel": "mailgun", "request": {"fields": fields}}, None
    if submission.channel == "email":
        recipient = (submission.headers or {}).get(RECIPIENT_HEADER)
        request = {"eml": "", "recipient": scrubber.text(recipient) if recipient else None}
        return {**base, "channel": "email", "request": request}, scrub_email(raw, scrubber)
    raise BadRequest(f"Submission {submission.id} came from {submission.channel}; only webhooks "
                     "and emails can be recorded (Zapier and Make steps are fixtures already).")


def scrub_email(raw: bytes, scrubber: Scrubber) -> bytes:
    """Addresses, phone numbers and IPs replaced in every header and text part."""
    message = message_from_bytes(raw, policy=policy.default)
    for part in message.walk():
        for name, value in list(part.items()):
            if name.lower() in ("received", "dkim-signature", "arc-seal", "arc-message-signature",
                                "arc-authentication-results", "authentication-results",
                                "x-originating-ip"):
                del part[name]
                continue
            del part[name]
            part[name] = scrubber.text(str(value))
        if part.get_content_maintype() == "text" and not part.is_multipart():
            part.set_content(scrubber.text(part.get_content()),
                             subtype=part.get_content_subtype())
    return message.as_bytes(policy=policy.SMTP)


def record(store: Store, submission_id: int, *, name: str | None = None,
           folder: Path | None = None) -> Path:
    """Write ``fixtures/recorded/<name>.json`` (and ``.eml``) for a submission; its path."""
    with store.session() as session:
        submission = session.get(Submission, submission_id)
        if submission is None:
            raise NotFound(f"No submission {submission_id}.")
        document, eml = fixture_for(submission, Scrubber())
    folder = folder or FIXTURES_DIR / "recorded"
    folder.mkdir(parents=True, exist_ok=True)
    stem = name or f"{document['channel']}_{submission_id}"
    path = folder / f"{stem}.json"
    if eml is not None:
        (folder / f"{stem}.eml").write_bytes(eml)
        document["request"]["eml"] = f"{stem}.eml"
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    with OfflineRunner() as runner:
        write_update(runner.run(load_case(path, folder.parent)))
    return path
