"""The team page: owners invite, change roles, re-issue links and remove; staff are refused;
another tenant's members are 404; the plan's user limit and the last-owner rule hold."""
from __future__ import annotations

import html
import re
import uuid
from typing import Any

import pytest
from flask import url_for
from sqlalchemy import select

from extensions import db
from models.control import AuditEvent, Tenant
from models.tenant import TenantUser
from services import audit
from services.flags import set_override
from tests.factories import PASSWORD, make_plan, make_user
from tests.portal.helpers import HOSTILE, race, read
from tests.querycount import count_queries


def _member(tenant: Tenant, email: str) -> TenantUser:
    return read(tenant, select(TenantUser).where(TenantUser.email == email))[0]


def _members(tenant: Tenant) -> list[tuple[str, str, bool]]:
    return sorted((u.email, u.role, u.is_active) for u in read(tenant, select(TenantUser)))


def _link(page: bytes) -> str | None:
    """The path of the one-time link the team page shows (None when it shows none)."""
    match = re.search(rb'<code class="copyable-text" id="new-link">([^<]+)</code>', page)
    return re.sub(r"^https?://[^/]+", "", html.unescape(match.group(1).decode())) if match else None


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.execute(select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.at)).scalars())


def _usage_users(tenant: Tenant) -> int:
    db.session.expire_all()
    return db.session.get(Tenant, tenant.id).usage_users


def _team_routes(app: Any) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("portal.team"):
            routes += [(rule.endpoint, m) for m in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return routes


def _url(app: Any, endpoint: str, slug: str, user_id: Any) -> str:
    with app.test_request_context():
        values = {"user_id": user_id} if "<uuid:user_id>" in str(app.url_map._rules_by_endpoint[endpoint][0]) else {}
        return url_for(endpoint, tenant_slug=slug, **values)


def test_team_routes_exist(app):
    assert {e for e, _ in _team_routes(app)} == {"portal.team", "portal.team_invite", "portal.team_role",
                                                 "portal.team_link", "portal.team_remove"}


def test_bob_gets_403_on_every_team_route_and_method(app, client, people, backend, isolation):
    alice = _member(people.a, "alice@example.com")
    before = _members(people.a)
    people.bob.sign_in(client)
    home = client.get(f"/t/{people.a.slug}/")
    assert home.status_code == 200 and b">Team</a>" not in home.data
    data = {"email": "mallory@example.com", "role": "owner", "name": "Mallory"}
    for endpoint, method in _team_routes(app):
        response = client.open(_url(app, endpoint, people.a.slug, alice.id), method=method, data=data)
        assert response.status_code == 403, (endpoint, method, response.status_code)
        assert b"Only the account&#39;s owners can manage the team." in response.data
    assert _members(people.a) == before
    assert _events("tenant_user.invite") == [] and _events("tenant_user.role") == []


def test_charlie_gets_404_for_a_members_on_every_route(app, client, people, backend, isolation):
    alice = _member(people.a, "alice@example.com")
    before = _members(people.a)
    assert client.get(f"/t/{people.a.slug}/team").status_code == 302  # anonymous: sign in first
    people.charlie.sign_in(client)
    assert "/login" in client.get(f"/t/{people.a.slug}/team").headers["Location"]  # not signed in at A
    for endpoint, method in _team_routes(app):
        if endpoint in ("portal.team", "portal.team_invite"):
            continue  # no member id in these
        response = client.open(_url(app, endpoint, people.b.slug, alice.id), method=method, data={"role": "staff"})
        assert response.status_code == 404, (endpoint, method)
    assert client.post(f"/t/{people.b.slug}/team/{uuid.uuid4()}/remove").status_code == 404
    assert client.post(f"/t/{people.b.slug}/team/not-a-uuid/remove").status_code == 404
    assert _members(people.a) == before
    page = client.get(f"/t/{people.b.slug}/team")
    assert b"charlie@example.com" in page.data and b"alice@example.com" not in page.data


def test_flag_off_hides_the_page_and_the_link(app, client, people, backend, isolation):
    set_override(people.a, "team_members", False, "not on this plan", None, audit.SYSTEM)
    db.session.commit()
    people.alice.sign_in(client)
    assert b">Team</a>" not in client.get(f"/t/{people.a.slug}/").data
    bob = _member(people.a, "bob@example.com")
    for endpoint, method in _team_routes(app):
        response = client.open(_url(app, endpoint, people.a.slug, bob.id), method=method,
                               data={"email": "new@example.com", "role": "staff"})
        assert response.status_code == 404, (endpoint, method)
    assert len(_members(people.a)) == 2


def test_owner_sees_the_team_and_invites_with_a_link_shown_once(client, people, backend, isolation):
    people.alice.sign_in(client)
    slug = people.a.slug
    page = client.get(f"/t/{slug}/team")
    assert page.status_code == 200 and b">Team</a>" in page.data
    text = page.data.decode()
    assert "alice@example.com" in text and "bob@example.com" in text and "(you)" in text
    assert "Last owner" in text  # alice cannot be demoted or removed: no buttons for that
    response = client.post(f"/t/{slug}/team/invite", data={"email": " Dave@Example.com ", "name": "Dave Døe",
                                                           "role": "staff"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/t/{slug}/team#link-card")
    shown = client.get(f"/t/{slug}/team")
    link = _link(shown.data)
    assert link and link.startswith(f"/t/{slug}/set-password/")
    assert "Invitation for dave@example.com" in shown.data.decode() and "Invited" in shown.data.decode()
    assert _link(client.get(f"/t/{slug}/team").data) is None  # shown once
    dave = _member(people.a, "dave@example.com")
    assert (dave.name, dave.role, dave.password_hash) == ("Dave Døe", "staff", None)
    assert dave.set_password_token_hash and link.rsplit("/", 1)[1] not in dave.set_password_token_hash
    event = _events("tenant_user.invite")[0]
    assert event.actor_label == "alice@example.com" and event.target_label == "dave@example.com"
    assert event.after == {"role": "staff", "name": "Dave Døe"}
    assert _usage_users(people.a) == 3


def test_invite_link_works_once_and_a_new_link_replaces_it(app, client, people, backend, isolation):
    people.alice.sign_in(client)
    slug = people.a.slug
    client.post(f"/t/{slug}/team/invite", data={"email": "dave@example.com", "role": "owner"})
    first = _link(client.get(f"/t/{slug}/team").data)
    dave = _member(people.a, "dave@example.com")
    assert client.post(f"/t/{slug}/team/{dave.id}/link").headers["Location"].endswith("#link-card")
    second = _link(client.get(f"/t/{slug}/team").data)
    assert second and second != first
    assert _events("tenant_user.reissue_link")[0].target_label == "dave@example.com"
    newcomer = app.test_client()
    assert newcomer.get(first).status_code == 404  # replaced
    assert newcomer.get(second).status_code == 200
    done = newcomer.post(second, data={"password": "a long new password", "confirm": "a long new password"})
    assert done.status_code == 303
    assert b"dave@example.com" in newcomer.get(f"/t/{slug}/").data  # signed in
    assert newcomer.get(f"/t/{slug}/team").status_code == 200  # as an owner
    used = app.test_client().get(second)
    assert used.status_code == 404 and b"expired or was already used" in used.data


def test_the_plans_user_limit_is_enforced(client, people, backend, isolation):
    people.a.plan = make_plan("two-seats", max_users=2)
    db.session.commit()
    people.alice.sign_in(client)
    slug = people.a.slug
    page = client.get(f"/t/{slug}/team")
    assert b"All 2 users of your plan are in use." in page.data
    refused = client.post(f"/t/{slug}/team/invite", data={"email": "dave@example.com", "role": "staff"})
    assert refused.status_code == 402
    assert b"Your plan allows 2 users and all are in use" in refused.data
    assert _link(refused.data) is None and len(_members(people.a)) == 2
    bob = _member(people.a, "bob@example.com")
    assert client.post(f"/t/{slug}/team/{bob.id}/remove").status_code == 303  # frees a seat
    assert client.post(f"/t/{slug}/team/invite", data={"email": "dave@example.com", "role": "staff"}).status_code == 303
    assert client.post(f"/t/{slug}/team/invite", data={"email": "bob@example.com", "role": "staff"}).status_code == 402
    assert _usage_users(people.a) == 2


def test_the_last_owner_cannot_be_demoted_or_removed(client, people, backend, isolation):
    people.alice.sign_in(client)
    slug = people.a.slug
    alice, bob = _member(people.a, "alice@example.com"), _member(people.a, "bob@example.com")
    for path, data in ((f"{alice.id}/role", {"role": "staff"}), (f"{alice.id}/remove", {})):
        refused = client.post(f"/t/{slug}/team/{path}", data=data)
        assert refused.status_code == 409
        assert b"alice@example.com is the last owner who can sign in." in refused.data
    # An invited owner who has not set a password yet cannot take over.
    client.post(f"/t/{slug}/team/invite", data={"email": "dave@example.com", "role": "owner"})
    assert client.post(f"/t/{slug}/team/{alice.id}/remove").status_code == 409
    assert _member(people.a, "alice@example.com").role == "owner"
    assert _events("tenant_user.role") == [] and _events("tenant_user.remove") == []
    assert client.post(f"/t/{slug}/team/{bob.id}/role", data={"role": "owner"}).status_code == 303
    demoted = client.post(f"/t/{slug}/team/{alice.id}/role", data={"role": "staff"})
    assert demoted.status_code == 303 and demoted.headers["Location"].endswith(f"/t/{slug}/")
    assert client.get(f"/t/{slug}/team").status_code == 403  # alice is staff now
    assert [(e.before, e.after) for e in _events("tenant_user.role")] == [
        ({"role": "staff"}, {"role": "owner"}), ({"role": "owner"}, {"role": "staff"})]
    # The control plane's owner contact follows: alice is no longer an owner, bob is.
    db.session.expire_all()
    assert db.session.get(Tenant, people.a.id).owner_email == "bob@example.com"
    assert _events("tenant.owner_contact")[0].after == {"owner_email": "bob@example.com"}


def test_a_removed_member_is_signed_out_and_can_be_invited_back(app, client, people, backend, isolation):
    bobs = app.test_client()
    people.bob.sign_in(bobs)
    slug = people.a.slug
    assert bobs.get(f"/t/{slug}/orders").status_code == 200
    people.alice.sign_in(client)
    bob = _member(people.a, "bob@example.com")
    removed = client.post(f"/t/{slug}/team/{bob.id}/remove")
    assert removed.status_code == 303
    assert "bob@example.com was removed" in client.get(f"/t/{slug}/team").data.decode()
    signed_out = bobs.get(f"/t/{slug}/orders")
    assert signed_out.status_code == 302 and "/login" in signed_out.headers["Location"]
    assert bobs.post(f"/t/{slug}/login", data={"email": "bob@example.com", "password": PASSWORD}).status_code == 422
    assert ("bob@example.com", "staff", False) in _members(people.a)
    assert _events("tenant_user.remove")[0].target_label == "bob@example.com"
    assert _usage_users(people.a) == 1
    again = client.post(f"/t/{slug}/team/{bob.id}/remove")
    assert again.status_code == 422 and b"is not on the team any more" in again.data
    assert client.post(f"/t/{slug}/team/{bob.id}/link").status_code == 422
    # Invited back: a fresh start, with a new link; the old password does not come back.
    assert client.post(f"/t/{slug}/team/invite", data={"email": "bob@example.com", "role": "owner"}).status_code == 303
    link = _link(client.get(f"/t/{slug}/team").data)
    assert ("bob@example.com", "owner", True) in _members(people.a)
    assert bobs.post(f"/t/{slug}/login", data={"email": "bob@example.com", "password": PASSWORD}).status_code == 422
    assert bobs.get(link).status_code == 200
    assert _usage_users(people.a) == 2


def test_a_promoted_member_manages_the_team_at_their_next_request(app, client, people, backend, isolation):
    bobs = app.test_client()
    people.bob.sign_in(bobs)
    slug = people.a.slug
    assert bobs.get(f"/t/{slug}/team").status_code == 403
    people.alice.sign_in(client)
    client.post(f"/t/{slug}/team/{_member(people.a, 'bob@example.com').id}/role", data={"role": "owner"})
    assert bobs.get(f"/t/{slug}/team").status_code == 200
    assert "bob@example.com is now an owner." in client.get(f"/t/{slug}/team").data.decode()


def test_hostile_input_gets_a_clear_error_and_writes_nothing(client, people, backend, isolation):
    people.alice.sign_in(client)
    slug = people.a.slug
    before = _members(people.a)
    for value in HOSTILE:
        response = client.post(f"/t/{slug}/team/invite", data={"email": value, "role": "staff"})
        assert response.status_code == 422, value
        assert b"<script>alert(1)</script>" not in response.data
    for data, message in (
            ({"email": "x@example.com", "role": "admin"}, b"Not a valid choice"),
            ({"email": "x@example.com", "role": "staff", "name": "\u202e\u0000x"}, b"invisible control characters"),
            ({"email": "x@example.com", "role": "staff", "name": "x" * 10_000}, b"120"),
            ({"email": "", "role": "staff"}, b"Enter their email address."),
            ({"email": "alice@example.com", "role": "staff"}, b"alice@example.com is already on the team.")):
        response = client.post(f"/t/{slug}/team/invite", data=data)
        assert response.status_code == 422 and message in response.data, (data, response.status_code)
    bob = _member(people.a, "bob@example.com")
    for role in ("superuser", "", "owner' OR 1=1", "9" * 40):
        response = client.post(f"/t/{slug}/team/{bob.id}/role", data={"role": role})
        assert response.status_code in (400, 422) and b"owner or staff" in response.data, role
    assert _members(people.a) == before
    assert db.session.execute(select(AuditEvent).where(AuditEvent.action.like("tenant_user.%"))
                              .where(AuditEvent.action != "tenant_user.sign_in")).first() is None
    # A name is text, shown as text.
    client.post(f"/t/{slug}/team/invite", data={"email": "eve@example.com", "role": "staff",
                                                "name": "<script>alert(1)</script> 名前😀"})
    page = client.get(f"/t/{slug}/team").data.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; 名前😀" in page and "<script>alert(1)" not in page


def test_the_team_page_runs_the_same_statements_for_any_team_size(client, people, backend, isolation):
    people.alice.sign_in(client)
    url = f"/t/{people.a.slug}/team"
    client.get(url)  # warm caches (engines, plan)
    with count_queries() as small:
        assert client.get(url).status_code == 200
    for n in range(5):
        make_user(people.a, f"member{n}@example.com")
    with count_queries() as large:
        page = client.get(url)
    assert page.data.count(b"New link") == 6  # everyone but alice
    assert len(large) == len(small), large.statements


@pytest.mark.postgres_only
@pytest.mark.modes("shared", "schema")
def test_concurrent_invites_never_exceed_the_limit(app, people, backend, isolation):
    """Ten invites at once, one seat left: exactly one gets it."""
    from services import tenant_users

    people.a.plan = make_plan("three-seats", max_users=3)
    db.session.commit()
    tally = race(app, people.a.id, lambda session, tenant, n: tenant_users.invite_user(
        session, tenant, f"racer{n}@example.com", "staff"), threads=10)
    assert tally == {"created": 1, "limit": 9}, tally
    assert sum(1 for _e, _r, active in _members(people.a) if active) == 3
