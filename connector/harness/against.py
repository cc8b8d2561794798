"""``--against URL``: the same cases sent to a running connector, checked against what its Halo
received.

The connector must accept the harness's key and test secrets (``flask harness env`` prints them).
With its sandbox as Halo, the sandbox is reset and given the case's faults before each case, and
``/sandbox/inspect/...`` says afterwards what arrived (polled for a few seconds, since webhooks and
emails are delivered in the background). With a real Halo test key (no ``/sandbox``) only the
connector's answers are checked, and cases needing faults are skipped. Cases that declare their
own Halo replies or settings, or list the connector's records (tag ``needs-empty-records``), need
the offline runner and are skipped either way. Use a connector with empty records: event ids
already seen are answered as duplicates.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import requests

from connector.harness.fixtures import Case
from connector.harness.inbound import HARNESS_API_KEY, Outgoing, build
from connector.harness.matching import differences
from connector.harness.outcome import Observed, Result, compare

#: How long a background delivery may take to reach the sandbox.
SETTLE_SECONDS = 10.0
#: Wait this long for deliveries that should produce no Halo call at all.
QUIET_SECONDS = 0.5
#: Tag of cases whose answer lists the connector's own records (searches, triggers): a running
#: connector keeps what earlier cases created, so only offline replay can check them.
NEEDS_EMPTY_RECORDS = "needs-empty-records"
#: Channels the connector answers before delivering (its worker does the Halo calls).
BACKGROUND = ("webhook", "email", "mailgun")
#: How long earlier steps sent through those channels get to be delivered.
GIVEN_SETTLE_SECONDS = 2.0
#: Which inspect listing shows each Halo call, and how to find the item it made.
INSPECTED = {"tickets/create": "tickets", "users/identify": "users", "companies/identify": "companies"}


class AgainstRunner:
    """Replays cases over HTTP against one running connector (see the module docstring)."""

    def __init__(self, url: str, *, api_key: str = HARNESS_API_KEY, timeout: float = 10.0,
                 settle_seconds: float = SETTLE_SECONDS) -> None:
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.settle_seconds = settle_seconds
        self.session = requests.Session()
        self._sandbox_available: bool | None = None

    @property
    def sandbox_available(self) -> bool:
        """False when URL talks to a real Halo (no ``/sandbox``): only answers are checked then."""
        if self._sandbox_available is None:
            probe = self.session.get(f"{self.url}/sandbox/inspect/tickets", params={"limit": 1},
                                     timeout=self.timeout)
            self._sandbox_available = probe.status_code == 200
        return self._sandbox_available

    def close(self) -> None:
        self.session.close()

    def run(self, case: Case) -> Result:
        started = time.perf_counter()
        result = Result(case)
        try:
            if NEEDS_EMPTY_RECORDS in case.tags:
                result.skipped = ("its answer depends on the connector holding no other records; "
                                  "replay it offline")
                return result
            if case.halo["replies"] or case.env:
                result.skipped = ("declares its own Halo replies or settings; replay it offline"
                                  if case.halo["replies"] else "needs its own connector settings")
                return result
            if case.halo.get("faults") and not self.sandbox_available:
                result.skipped = "needs sandbox faults; this connector talks to a real Halo"
                return result
            observed, problems = self.observe(case)
        except requests.RequestException as error:
            result.problems = [f"could not reach {self.url}: {type(error).__name__}: {error}"]
        else:
            result.observed = observed
            result.problems = [p for p in compare(case, observed)
                               if not p.startswith(("missing Halo call", "unexpected Halo call",
                                                    "Halo call #"))] + problems
        result.seconds = time.perf_counter() - started
        return result

    def _sandbox(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        response = self.session.request(method, f"{self.url}/sandbox/{path}", timeout=self.timeout,
                                        **kwargs)
        response.raise_for_status()
        return response

    def inspect(self, what: str) -> list[dict[str, Any]]:
        return self._sandbox("GET", f"inspect/{what}", params={"limit": 1000}).json()

    def send(self, outgoing: Outgoing) -> requests.Response:
        kwargs: dict[str, Any] = {"headers": outgoing.headers, "timeout": self.timeout}
        if outgoing.form is not None:
            kwargs["files"] = {name: (None, value) for name, value in outgoing.form.items()}
        else:
            kwargs["data"] = outgoing.body
        return self.session.request(outgoing.method, f"{self.url}{outgoing.url_path}", **kwargs)

    def observe(self, case: Case) -> tuple[Observed, list[str]]:
        if not self.sandbox_available:
            return self._answer_only(case), []
        self._sandbox("POST", "control/reset")
        self._sandbox("DELETE", "control/faults")
        now = time.time()
        for step in case.given:
            self.send(build(case, step["request"], step["channel"], base_url=self.url,
                            api_key=self.api_key, now=now))
        if any(step["channel"] in BACKGROUND for step in case.given):
            time.sleep(GIVEN_SETTLE_SECONDS)  # their deliveries run in the connector's worker
        before = {what: len(self.inspect(what)) for what in set(INSPECTED.values())}
        if case.halo.get("faults"):
            self._sandbox("PUT", "control/faults", json={"spec": case.halo["faults"]})
        response = self.send(build(case, case.request, case.channel, base_url=self.url,
                                   api_key=self.api_key, now=now))
        # Calls a fault answered stored nothing, and which ones those were is the fault's business:
        # with faults, the answer is what is checked.
        expected = [call for call in case.halo["calls"]
                    if call["path"] in INSPECTED and not case.halo.get("faults")]
        wanted = sum(1 for call in expected if call["path"] == "tickets/create")
        new: dict[str, list[dict[str, Any]]] = {}

        def arrived() -> bool:
            for what in set(INSPECTED.values()):
                items = self.inspect(what)
                new[what] = items[: max(0, len(items) - before[what])]
            return len(new["tickets"]) >= wanted

        self._wait_for(self.settle_seconds if wanted else QUIET_SECONDS, arrived, quiet=not wanted)
        self._sandbox("DELETE", "control/faults")
        return _observed(response), received_differences(expected, new)

    def _answer_only(self, case: Case) -> Observed:
        """Against a real Halo test key: send the steps and compare the connector's answer."""
        now = time.time()
        for step in case.given:
            self.send(build(case, step["request"], step["channel"], base_url=self.url,
                            api_key=self.api_key, now=now))
        return _observed(self.send(build(case, case.request, case.channel, base_url=self.url,
                                         api_key=self.api_key, now=now)))

    @staticmethod
    def _wait_for(seconds: float, done: Callable[[], bool], *, quiet: bool = False) -> None:
        deadline = time.monotonic() + seconds
        while True:
            finished = done()
            if (finished and not quiet) or time.monotonic() >= deadline:
                return
            time.sleep(0.05)


def _observed(response: requests.Response) -> Observed:
    try:
        answer: Any = response.json()
    except ValueError:
        answer = response.text
    return Observed(status=response.status_code, json=answer, headers=dict(response.headers), calls=[])


def ticket_as_sent(ticket: dict[str, Any]) -> dict[str, Any]:
    """The tickets/create body the sandbox stored, in the request's own keys."""
    sent = {"user_id": ticket["request"]["user_id"], "email": ticket["request"]["email"],
            "name": ticket["request"]["name"]}
    sent.update({key: ticket[key] for key in ("subject", "message", "metadata", "source",
                                              "priority", "ai_enabled")})
    return sent


def received_differences(expected: list[dict[str, Any]],
                         new: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Each expected ticket arrived with the expected fields (and only once); each identified
    user and company exists.

    Tickets that resemble no expected one are left alone: they are earlier cases' background
    retries landing late (a 429 case's delivery comes back after its Retry-After).
    """
    problems: list[str] = []
    received = [ticket_as_sent(t) for t in reversed(new.get("tickets", []))]  # oldest first
    wanted = [call["json"] or {} for call in expected if call["path"] == "tickets/create"]

    def problems_with(want: dict[str, Any], got: dict[str, Any]) -> list[str]:
        return differences(want, {key: got.get(key) for key in want})

    unmatched = list(received)
    for index, want in enumerate(wanted):
        match = next((got for got in unmatched if not problems_with(want, got)), None)
        if match is not None:
            unmatched.remove(match)
            continue
        closest = next((got for got in unmatched if got.get("subject") == want.get("subject")), None)
        if closest is None:
            problems.append(f"Halo received no ticket #{index + 1} ({want.get('subject')!r})")
        else:
            unmatched.remove(closest)
            problems += [f"Halo ticket #{index + 1} {line[1:]}" for line in problems_with(want, closest)]
    for got in unmatched:
        if any(not problems_with(want, got) for want in wanted):
            problems.append(f"Halo received a second ticket {got.get('subject')!r}")
    for call in expected:
        body = call["json"] or {}
        if call["path"] == "users/identify":
            ids = {u.get("external_id") for u in new.get("users", [])}
            if body.get("user_id") not in ids:
                problems.append(f"Halo has no identified user {body.get('user_id')!r}")
        elif call["path"] == "companies/identify":
            ids = {c.get("company_id") or c.get("external_id") for c in new.get("companies", [])}
            if body.get("company_id") not in ids:
                problems.append(f"Halo has no identified company {body.get('company_id')!r}")
    return problems


def replay_against(url: str, cases: Iterable[Case], *, api_key: str = HARNESS_API_KEY,
                   on_result: Callable[[Result], None] | None = None) -> Iterator[Result]:
    runner = AgainstRunner(url, api_key=api_key)
    try:
        for case in cases:
            result = runner.run(case)
            if on_result is not None:
                on_result(result)
            yield result
    finally:
        runner.close()
