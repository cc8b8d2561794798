"""SSRF guard on REST-hook target URLs: what is refused, spelled every way, and the local
testing allowance."""

from __future__ import annotations

import json

import pytest

from app import create_app
from connector.hooks.targets import TargetRefused, check_target
from tests.conftest import auth, base_env

PUBLIC = "93.184.216.34"


def public_dns(host: str, port: int) -> list[str]:
    return [PUBLIC]


REFUSED = [
    ("http://127.0.0.1/hook", "loopback"),
    ("http://127.8.9.10/hook", "loopback"),
    ("http://localhost:8000/hook", "loopback"),
    ("http://api.localhost/hook", "loopback"),
    ("http://[::1]/hook", "loopback"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[fe80::1]/hook", "link-local"),
    ("http://10.0.0.5/hook", "private"),
    ("http://172.16.3.4/hook", "private"),
    ("http://192.168.1.1/hook", "private"),
    ("http://100.64.0.1/hook", "CGNAT"),
    ("http://[fd12:3456::1]/hook", "unique-local"),
    ("http://[::ffff:10.0.0.1]/hook", "in disguise"),
    ("http://[::ffff:127.0.0.1]/hook", "in disguise"),
    ("http://[::ffff:169.254.169.254]/hook", "in disguise"),
    ("http://[64:ff9b::a9fe:a9fe]/hook", "in disguise"),
    ("http://2130706433/hook", "loopback"),          # decimal 127.0.0.1
    ("http://0177.0.0.1/hook", "loopback"),          # octal
    ("http://0x7f.0.0.1/hook", "loopback"),          # hex
    ("http://127.1/hook", "loopback"),               # short form
    ("http://0xa9fea9fe/hook", "link-local"),        # hex 169.254.169.254
    ("http://0.0.0.0/hook", "unspecified"),
    ("http://224.0.0.1/hook", "multicast"),
    ("ftp://hooks.example.com/hook", "http"),
    ("file:///etc/passwd", "http"),
    ("javascript:alert(1)", "http"),
    ("http://user:pw@hooks.example.com/", "user name"),
    ("http:///nohost", "no host"),
    ("http://hooks.example.com:99999/", "not a valid URL"),
]


@pytest.mark.parametrize("url,why", REFUSED)
def test_refused_targets(url, why):
    with pytest.raises(TargetRefused, match=why):
        check_target(url, resolve=public_dns)


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "fd00::1",
                                     "::ffff:192.168.0.1"])
def test_a_hostname_resolving_to_a_refused_address_is_refused(address):
    with pytest.raises(TargetRefused, match=f"resolves to .*{address.rsplit(':', 1)[-1]}"):
        check_target("https://hooks.example.com/h", resolve=lambda host, port: [address])


def test_one_bad_address_among_good_ones_is_enough_to_refuse():
    with pytest.raises(TargetRefused, match="10.0.0.7"):
        check_target("https://hooks.example.com/h", resolve=lambda host, port: [PUBLIC, "10.0.0.7"])


def test_unresolvable_host_is_refused():
    def nxdomain(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(TargetRefused, match="could not be resolved"):
        check_target("https://nowhere.example.com/h", resolve=nxdomain)


def test_a_public_target_is_pinned_to_the_address_that_was_checked():
    target = check_target("https://hooks.example.com:8443/catch/1?x=y", resolve=public_dns)
    assert (target.address, target.host, target.port, target.path) == (
        PUBLIC, "hooks.example.com", 8443, "/catch/1?x=y")
    assert target.host_header == "hooks.example.com:8443"


def test_local_testing_allowance_admits_loopback_and_private_but_never_metadata():
    assert check_target("http://127.0.0.1:5000/h", allow_private=True).address == "127.0.0.1"
    assert check_target("http://10.0.0.5/h", allow_private=True).address == "10.0.0.5"
    for url in ("http://169.254.169.254/", "http://0.0.0.0/", "http://[fe80::1]/"):
        with pytest.raises(TargetRefused):
            check_target(url, allow_private=True)


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/h", "http://169.254.169.254/", "http://2130706433/",
                                 "http://[::ffff:10.0.0.1]/", "gopher://hooks.example.com/"])
def test_subscribing_to_a_refused_target_is_422_naming_target_url(client, url):
    response = client.post("/v1/hooks", headers=auth(), json={"event": "new_ticket", "target_url": url})
    assert response.status_code == 422
    body = response.get_json()
    assert list(body["errors"]) == ["target_url"] and len(body["message"]) <= 250


def test_subscribing_to_a_name_that_resolves_privately_is_refused(client, svc):
    svc.hooks.resolve = lambda host, port: ["192.168.10.20"]
    response = client.post("/v1/hooks", headers=auth(), json={
        "event": "new_ticket", "target_url": "https://hooks.example.com/abc"})
    assert response.status_code == 422 and "192.168.10.20" in response.get_json()["message"]


def test_the_allowance_is_off_by_default_and_on_with_the_variable(tmp_path):
    app = create_app(base_env(tmp_path, HOOKS_ALLOW_PRIVATE_TARGETS="true"))
    try:
        response = app.test_client().post("/v1/hooks", headers=auth(), data=json.dumps({
            "event": "new_ticket", "target_url": "http://127.0.0.1:9/h"}), content_type="application/json")
        assert response.status_code == 201
    finally:
        app.extensions["halo_connector"].close()
