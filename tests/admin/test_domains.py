"""Custom domains on the tenant page: add (validated), verify through a real DNS lookup, remove.

The DNS answers come from a tiny DNS server on 127.0.0.1 (a thread speaking real DNS over UDP),
which TENANTRY_DNS_RESOLVER points at; nothing of ours is mocked.
"""
from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import Any, Iterator

import dns.flags
import dns.message
import dns.rcode
import dns.rrset
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from config import ConfigError, load_config
from extensions import db
from models.control import CustomDomain
from services.domains import normalise_domain
from services.errors import ValidationFailed
from tests.admin.helpers import HX, actions_for, last_event, sign_in_as
from tests.factories import make_tenant


class TinyDNS:
    """Answers TXT questions from `records` ({name: [values]}; [] = the name exists, no TXT);
    every other name is NXDOMAIN. `silent = True` makes it drop queries (the client times out)."""

    def __init__(self) -> None:
        self.records: dict[str, list[str]] = {}
        self.silent = False
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, name="tiny-dns", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return  # closed
            if self.silent:
                continue
            query = dns.message.from_wire(data)
            response = dns.message.make_response(query)
            response.flags |= dns.flags.AA
            question = query.question[0]
            name = question.name.to_text().rstrip(".").lower()
            if name not in self.records:
                response.set_rcode(dns.rcode.NXDOMAIN)
            elif self.records[name]:
                response.answer.append(dns.rrset.from_text(
                    question.name, 60, "IN", "TXT", *(f'"{value}"' for value in self.records[name])))
            self.sock.sendto(response.to_wire(), peer)

    def close(self) -> None:
        self.sock.close()
        self.thread.join(2)


@pytest.fixture
def dns_server(app: Any) -> Iterator[TinyDNS]:
    server = TinyDNS()
    settings_ = load_config(Path(app.instance_path), {"TENANTRY_ENV": "test",
                                                      "TENANTRY_DNS_RESOLVER": f"127.0.0.1:{server.port}"})
    app.config["DNS_RESOLVER"] = settings_["DNS_RESOLVER"]
    app.config["DNS_TIMEOUT_SECONDS"] = 0.5
    try:
        yield server
    finally:
        server.close()


def _domain(name: str) -> CustomDomain | None:
    db.session.expire_all()
    return db.session.execute(select(CustomDomain).where(CustomDomain.domain == name)).scalar_one_or_none()


def _domains() -> list[str]:
    db.session.expire_all()
    return list(db.session.execute(select(CustomDomain.domain)).scalars())


@pytest.mark.modes("shared")
def test_add_verify_and_the_domain_reaches_the_tenant(client, people, dns_server, backend, isolation) -> None:
    a = people.a
    sign_in_as(client, "admin")
    added = client.post(f"/admin/tenants/{a.slug}/domains", data={"domain": "  Shop.Alice.Example. "})
    assert added.status_code == 303 and added.headers["Location"].endswith(f"/admin/tenants/{a.slug}#domains")
    row = _domain("shop.alice.example")
    page = client.get(f"/admin/tenants/{a.slug}").data.decode()
    for text in ("Custom domains", "shop.alice.example", "Not verified", "_tenantry-challenge.shop.alice.example",
                 row.verification_token, "Verify", "Remove"):
        assert text in page, text
    site = "http://shop.alice.example"
    assert client.get("/login", base_url=site).status_code == 404  # not before it is verified

    dns_server.records["_tenantry-challenge.shop.alice.example"] = ["something-else", row.verification_token]
    verified = client.post(f"/admin/tenants/{a.slug}/domains/{row.id}/verify")
    assert verified.status_code == 303
    assert _domain("shop.alice.example").verified_at is not None
    assert "Verified" in client.get(f"/admin/tenants/{a.slug}").data.decode()

    visitor = client.application.test_client()
    assert visitor.get("/", base_url=site).headers["Location"] == "/login?next=/"
    charlie = visitor.post("/login", base_url=site, data={"email": people.charlie.email,
                                                          "password": people.charlie.password})
    assert charlie.status_code == 422  # B's owner is nobody at A's domain
    alice = visitor.post("/login", base_url=site, data={"email": people.alice.email,
                                                        "password": people.alice.password})
    assert alice.status_code == 303 and visitor.get("/", base_url=site).status_code == 200

    actions = actions_for(a.id)
    assert actions.index("domain.add") < actions.index("domain.verify")
    event = last_event("domain.verify")
    assert event.actor_label == "admin@vendor.example.com" and event.target_label == "shop.alice.example"
    assert event.before == {"verified_at": None} and event.after["verified_at"]

    removed = client.post(f"/admin/tenants/{a.slug}/domains/{row.id}/remove")
    assert removed.status_code == 303 and _domain("shop.alice.example") is None
    assert visitor.get("/", base_url=site).status_code == 404  # gone at once
    assert last_event("domain.remove").before["domain"] == "shop.alice.example"


def test_htmx_gets_the_card_back_in_place(client, dns_server, backend) -> None:
    make_tenant("acme")
    sign_in_as(client, "owner")
    added = client.post("/admin/tenants/acme/domains", data={"domain": "shop.acme.example"}, headers=HX)
    body = added.data.decode()
    assert added.status_code == 200 and body.lstrip().startswith('<section class="card" id="domains"')
    assert "<html" not in body and "shop.acme.example added" in body and 'hx-target="this"' in body
    row = _domain("shop.acme.example")

    bad = client.post("/admin/tenants/acme/domains", data={"domain": "http://x.example/"}, headers=HX)
    assert bad.status_code == 422 and "without http://" in bad.data.decode() and "<html" not in bad.data.decode()

    failed = client.post(f"/admin/tenants/acme/domains/{row.id}/verify", headers=HX)
    assert failed.status_code == 422 and "TXT record not found" in failed.data.decode()
    dns_server.records["_tenantry-challenge.shop.acme.example"] = [row.verification_token]
    ok = client.post(f"/admin/tenants/acme/domains/{row.id}/verify", headers=HX)
    assert ok.status_code == 200 and "is verified" in ok.data.decode() and "Not verified" not in ok.data.decode()

    gone = client.post(f"/admin/tenants/acme/domains/{row.id}/remove", headers=HX)
    assert gone.status_code == 200 and "No custom domains" in gone.data.decode()
    assert _domains() == []


def test_verification_failures_are_clear_messages_and_change_nothing(client, dns_server, backend) -> None:
    tenant = make_tenant("acme")
    sign_in_as(client, "owner")
    client.post("/admin/tenants/acme/domains", data={"domain": "shop.acme.example"})
    row = _domain("shop.acme.example")
    name = "_tenantry-challenge.shop.acme.example"
    path = f"/admin/tenants/acme/domains/{row.id}/verify"

    cases = [({}, False, "TXT record not found: _tenantry-challenge.shop.acme.example does not exist"),
             ({name: []}, False, "exists but has no TXT record"),
             ({name: ["wrong-token"]}, False, "does not hold this domain"),
             ({name: [row.verification_token]}, True, "timed out after 0.5 seconds")]
    for records, silent, message in cases:
        dns_server.records, dns_server.silent = records, silent
        response = client.post(path)
        assert response.status_code == 422, message
        assert message in response.data.decode(), message
        assert "<html" in response.data.decode()  # without JavaScript: the whole page, with the reason
    assert _domain("shop.acme.example").verified_at is None
    assert "domain.verify" not in actions_for(tenant.id)


@pytest.mark.parametrize("raw, message", [
    ("", "Enter a domain name"),
    ("https://shop.example.com", "without http://"),
    ("shop.example.com/orders", "without a path"),
    ("shop.example.com:8443", "without a port"),
    ("admin@shop.example.com", "without a user name"),
    ("203.0.113.7", "IP address"),
    ("[2001:db8::1]", "IP address"),
    ("localhost", "full domain name"),
    ("shop.localhost", "not public addresses"),
    ("acme.tenantry.test", "already belong to this service"),
    ("tenantry.test", "already belong to this service"),
    ("shop..example.com", "empty parts"),
    (".example.com", "empty parts"),
    ("-shop.example.com", "letters, digits and hyphens"),
    ("*.example.com", "letters, digits and hyphens"),
    ("shop_1.example.com", "letters, digits and hyphens"),
    ("<script>.example.com", "letters, digits and hyphens"),
    ("../../etc/passwd", "without a path"),
    ("s" * 64 + ".example.com", "letters, digits and hyphens"),
    ("a." * 120 + "com", "too long"),
    ("x" * 400, "too long"),
    ("shop .example.com", "spaces"),
    ("shop\u200b.example.com", "invisible"),
    ("shop\x00.example.com", "invisible"),
    ("1.2.3", "cannot be a number"),
    ("xn--zz.example", "not a valid international domain name"),
])
def test_bad_domains_get_a_clear_error_and_nothing_is_written(client, backend, raw, message) -> None:
    tenant = make_tenant("acme")
    sign_in_as(client, "admin")
    response = client.post("/admin/tenants/acme/domains", data={"domain": raw})
    assert response.status_code == 422 and message in response.data.decode(), response.data.decode()[-3000:]
    assert _domains() == [] and "domain.add" not in actions_for(tenant.id)


def test_international_names_are_stored_as_idna_and_each_domain_belongs_to_one_tenant(client, backend) -> None:
    make_tenant("acme")
    make_tenant("globex")
    sign_in_as(client, "admin")
    assert client.post("/admin/tenants/acme/domains", data={"domain": "Bücher.Example"}).status_code == 303
    assert _domains() == ["xn--bcher-kva.example"]
    page = client.get("/admin/tenants/acme").data.decode()
    assert "bücher.example" in page and "_tenantry-challenge.xn--bcher-kva.example" in page

    mine = client.post("/admin/tenants/acme/domains", data={"domain": "xn--bcher-kva.example"})
    assert mine.status_code == 422 and "already added to this tenant" in mine.data.decode()
    theirs = client.post("/admin/tenants/globex/domains", data={"domain": "BÜCHER.example"})
    assert theirs.status_code == 422 and "already used by another tenant (acme)" in theirs.data.decode()
    assert _domains() == ["xn--bcher-kva.example"]


def test_another_tenants_domain_is_not_found_through_this_tenant(client, backend) -> None:
    make_tenant("acme")
    make_tenant("globex")
    sign_in_as(client, "admin")
    client.post("/admin/tenants/globex/domains", data={"domain": "shop.globex.example"})
    theirs = _domain("shop.globex.example")
    for action in ("verify", "remove"):
        assert client.post(f"/admin/tenants/acme/domains/{theirs.id}/{action}").status_code == 404
    assert client.post("/admin/tenants/acme/domains/not-a-uuid/remove").status_code == 404
    assert client.post("/admin/tenants/nope/domains", data={"domain": "x.example.com"}).status_code == 404
    assert _domains() == ["shop.globex.example"]


@pytest.mark.parametrize("role", ["support", "viewer"])
def test_support_and_viewers_read_the_card_but_cannot_change_it(client, backend, role) -> None:
    tenant = make_tenant("acme")
    db.session.add(CustomDomain(tenant_id=tenant.id, domain="shop.acme.example", verification_token="tok"))
    db.session.commit()
    row = _domain("shop.acme.example")
    sign_in_as(client, role)
    page = client.get("/admin/tenants/acme").data.decode()
    assert "shop.acme.example" in page and "_tenantry-challenge.shop.acme.example" in page
    assert "Add domain" not in page and f"/domains/{row.id}/verify" not in page
    for path in ("/admin/tenants/acme/domains", f"/admin/tenants/acme/domains/{row.id}/verify",
                 f"/admin/tenants/acme/domains/{row.id}/remove"):
        assert client.post(path, data={"domain": "other.example.com"}).status_code == 403, path
    assert _domains() == ["shop.acme.example"] and _domain("shop.acme.example").verified_at is None


def test_the_resolver_setting_is_validated() -> None:
    def parse(value: str) -> Any:
        return load_config(Path("/tmp/unused"), {"TENANTRY_ENV": "test", "TENANTRY_DNS_RESOLVER": value})["DNS_RESOLVER"]
    assert parse("") is None
    assert parse("10.0.0.2") == ("10.0.0.2", 53)
    assert parse("127.0.0.1:5353") == ("127.0.0.1", 5353)
    assert parse("[2001:db8::1]:53") == ("2001:db8::1", 53)
    for bad in ("dns.example.com", "10.0.0.2:0", "10.0.0.2:99999", "10.0.0.2:x", "[::1"):
        with pytest.raises(ConfigError, match="TENANTRY_DNS_RESOLVER"):
            parse(bad)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_any_input_is_either_a_clean_host_name_or_a_clear_refusal(raw: str) -> None:
    try:
        host = normalise_domain(raw, "tenantry.test")
    except ValidationFailed as exc:
        assert exc.field == "domain" and exc.message
        return
    assert host == host.lower() and host.isascii() and 3 <= len(host) <= 233
    assert "." in host and not host.endswith(".tenantry.test")
    assert normalise_domain(host, "tenantry.test") == host  # stable
