"""Staff management: owners invite (a one-time set-password link), change roles, disable and enable;
the last active owner stays; every other role is refused (403) on every staff route."""
from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest
from flask import url_for
from sqlalchemy import func, select

from extensions import db
from models.control import AuditEvent, VendorStaff
from services import audit
from services import staff as svc
from tests.admin.helpers import ROLES, last_event, sign_in_as
from tests.factories import PASSWORD, make_staff, staff_sign_in
from tests.querycount import count_queries

OWNER = "owner@vendor.example.com"
NEW_PASSWORD = "a brand new passphrase"


def _member(email: str) -> VendorStaff:
    db.session.expire_all()
    return db.session.execute(select(VendorStaff).where(VendorStaff.email == email)).scalar_one()


def _staff_count() -> int:
    return db.session.execute(select(func.count()).select_from(VendorStaff)).scalar_one()


def _events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars())


def _link_on(page: bytes) -> str | None:
    found = re.search(r'id="staff-link">([^<]+)<', page.decode())
    return found.group(1) if found else None


def _invite(client, email: str = "nia@vendor.example.com", role: str = "support", name: str = "Nia New") -> str:
    """Invite through the form; returns the set-password link path shown on the member's page."""
    response = client.post("/admin/staff/new", data={"email": email, "name": name, "role": role})
    assert response.status_code == 303, response.data[:500]
    page = client.get(response.headers["Location"])
    link = _link_on(page.data)
    assert page.status_code == 200 and link, page.data[:500]
    return urlsplit(link).path


def _other_client(client):
    return client.application.test_client()


def test_invite_then_the_link_sets_a_password_and_signs_the_member_in(client, backend) -> None:
    sign_in_as(client, "owner")
    link = _invite(client, " Nia@Vendor.Example.com ")
    member = _member("nia@vendor.example.com")  # normalised
    assert (member.role, member.name, member.password_hash) == ("support", "Nia New", None)
    assert _link_on(client.get(f"/admin/staff/{member.id}").data) is None  # shown once
    listing = client.get("/admin/staff").data.decode()
    assert "nia@vendor.example.com" in listing and "Invited" in listing

    nia = _other_client(client)
    form = nia.get(link)
    assert form.status_code == 200 and b"nia@vendor.example.com" in form.data
    assert nia.post(link, data={"password": NEW_PASSWORD, "confirm": "different"}).status_code == 422
    assert nia.post(link, data={"password": "short", "confirm": "short"}).status_code == 422
    too_long = "é" * 40  # 80 bytes: over bcrypt's 72, refused rather than truncated
    refused = nia.post(link, data={"password": too_long, "confirm": too_long})
    assert refused.status_code == 422 and b"72 bytes" in refused.data
    assert _member("nia@vendor.example.com").password_hash is None

    done = nia.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 303 and done.headers["Location"].endswith("/admin/")
    assert nia.get("/admin/").status_code == 200  # signed in
    assert nia.get(link).status_code == 404        # the link worked once
    assert nia.post(link, data={"password": "another one!", "confirm": "another one!"}).status_code == 404
    nia.post("/admin/logout")
    staff_sign_in(nia, "nia@vendor.example.com", NEW_PASSWORD)

    invite = last_event("staff.invite")
    assert invite.actor_label == OWNER and invite.target_label == "nia@vendor.example.com"
    assert invite.after == {"email": "nia@vendor.example.com", "name": "Nia New", "role": "support"}
    assert last_event("staff.set_password").actor_label == "nia@vendor.example.com"
    assert _member("nia@vendor.example.com").last_login_at is not None


def test_links_expire_cannot_be_forged_and_die_when_replaced_or_the_member_is_disabled(client, app, backend) -> None:
    sign_in_as(client, "owner")
    member = svc.create_staff("sam@vendor.example.com", "viewer", None, 4, audit.SYSTEM)
    db.session.commit()
    key = app.config["SECRET_KEY"]
    with app.test_request_context():
        def path(token: str) -> str:
            return url_for("admin.staff_set_password", token=token)
        eight_days_ago = time.time() - 8 * 86400
        expired = path(svc.set_password_token(member, key, now=eight_days_ago))
        first = path(svc.set_password_token(member, key))
        forged = path(svc.set_password_token(member, "not-the-secret-key"))
    anonymous = _other_client(client)
    assert anonymous.get(expired).status_code == 404
    assert anonymous.get(forged).status_code == 404
    assert anonymous.get("/admin/set-password/" + "x" * 3000).status_code == 404
    page = anonymous.get(first)
    assert page.status_code == 200 and b"sam@vendor.example.com" in page.data

    assert client.post(f"/admin/staff/{member.id}/link").status_code == 303
    second = urlsplit(_link_on(client.get(f"/admin/staff/{member.id}").data)).path
    assert anonymous.get(first).status_code == 404   # replaced
    assert anonymous.get(second).status_code == 200
    assert last_event("staff.reissue_link").target_label == "sam@vendor.example.com"

    assert client.post(f"/admin/staff/{member.id}/disable").status_code == 303
    assert anonymous.get(second).status_code == 404  # disabled
    assert client.post(f"/admin/staff/{member.id}/enable").status_code == 303
    assert anonymous.get(second).status_code == 404  # and still dead once enabled again
    assert anonymous.post(second, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 404
    assert _member("sam@vendor.example.com").password_hash is None


def test_a_link_never_skips_the_second_factor(client, backend) -> None:
    sign_in_as(client, "owner")
    member = make_staff("tess@vendor.example.com", "admin")
    member.totp_secret = "JBSWY3DPEHPK3PXP"
    db.session.commit()
    assert client.post(f"/admin/staff/{member.id}/link").status_code == 303
    link = urlsplit(_link_on(client.get(f"/admin/staff/{member.id}").data)).path
    tess = _other_client(client)
    done = tess.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 303 and done.headers["Location"].endswith("/admin/login")
    assert tess.get("/admin/").status_code == 302  # not signed in: the code is still needed
    step_one = tess.post("/admin/login", data={"email": "tess@vendor.example.com", "password": NEW_PASSWORD})
    assert step_one.headers["Location"].endswith("/admin/login/verify")


def test_disabling_ends_an_existing_session_at_the_next_request(client, backend) -> None:
    member = make_staff("sam@vendor.example.com", "admin")
    sam = _other_client(client)
    staff_sign_in(sam, "sam@vendor.example.com")
    assert sam.get("/admin/tenants").status_code == 200
    sign_in_as(client, "owner")

    assert client.post(f"/admin/staff/{member.id}/disable").status_code == 303
    assert b"Disabled" in client.get(f"/admin/staff/{member.id}").data
    nope = sam.get("/admin/tenants")
    assert nope.status_code == 302 and "/admin/login" in nope.headers["Location"]
    refused = sam.post("/admin/login", data={"email": "sam@vendor.example.com", "password": PASSWORD})
    assert refused.status_code == 422
    event = last_event("staff.disable")
    assert event.before == {"role": "admin", "active": True} and event.after == {"role": "admin", "active": False}

    assert client.post(f"/admin/staff/{member.id}/enable").status_code == 303
    staff_sign_in(sam, "sam@vendor.example.com")
    assert last_event("staff.enable").after == {"role": "admin", "active": True}
    again = client.post(f"/admin/staff/{member.id}/enable")
    assert again.status_code == 422 and b"already active" in again.data


def test_change_role_is_audited_with_before_and_after(client, backend) -> None:
    member = make_staff("sam@vendor.example.com", "viewer")
    sign_in_as(client, "owner")
    response = client.post(f"/admin/staff/{member.id}/role", data={"role": "admin"})
    assert response.status_code == 303
    assert _member("sam@vendor.example.com").role == "admin"
    event = last_event("staff.change_role")
    assert event.actor_label == OWNER and event.target_id == str(member.id)
    assert (event.before["role"], event.after["role"]) == ("viewer", "admin")
    same = client.post(f"/admin/staff/{member.id}/role", data={"role": "admin"})
    assert same.status_code == 422 and b"already admin" in same.data


def test_the_last_active_owner_cannot_demote_or_disable_themselves(client, backend) -> None:
    sign_in_as(client, "owner")
    me = _member(OWNER)
    other = make_staff("otto@vendor.example.com", "owner")
    other.is_active = False  # a disabled owner does not count
    db.session.commit()
    for path, data in ((f"/admin/staff/{me.id}/role", {"role": "admin"}), (f"/admin/staff/{me.id}/disable", {})):
        refused = client.post(path, data=data)
        assert refused.status_code == 422 and b"last active owner" in refused.data, path
    me = _member(OWNER)
    assert (me.role, me.is_active) == ("owner", True)
    assert not _events("staff.change_role") and not _events("staff.disable")

    assert client.post(f"/admin/staff/{other.id}/enable").status_code == 303
    assert client.post(f"/admin/staff/{me.id}/role", data={"role": "admin"}).status_code == 303
    assert client.get("/admin/staff").status_code == 403  # an admin now
    assert _member(OWNER).role == "admin"


def _staff_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin.staff") and rule.endpoint != "admin.staff_set_password":
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method


@pytest.mark.parametrize("role", [r for r in ROLES if r != "owner"])
def test_every_staff_route_refuses_every_role_but_owner(client, app, backend, role) -> None:
    target = make_staff("sam@vendor.example.com", "viewer")
    sign_in_as(client, role)
    routes = list(_staff_routes(app))
    assert len(routes) >= 8, routes
    before = _staff_count()
    for rule, method in routes:
        path = rule.rule.replace("<uuid:staff_id>", str(target.id))
        response = client.open(path, method=method, data={"email": "x@vendor.example.com", "role": "owner"})
        assert response.status_code == 403, (rule.rule, method, response.status_code)
    assert _staff_count() == before and _member("sam@vendor.example.com").role == "viewer"
    assert _member(f"{role}@vendor.example.com").role == role
    assert b'href="/admin/staff"' not in client.get("/admin/").data  # no menu entry it cannot use


def test_owners_see_every_member_in_one_query_plus_the_session(client, backend) -> None:
    sign_in_as(client, "owner")
    for i in range(8):
        make_staff(f"member{i}@vendor.example.com", ROLES[i % 4])
    assert b'href="/admin/staff"' in client.get("/admin/").data
    with count_queries() as queries:
        listing = client.get("/admin/staff")
    assert listing.status_code == 200 and listing.data.count(b"@vendor.example.com</") >= 9
    assert len(queries) <= 3, queries.statements


@pytest.mark.parametrize("data, message", [
    ({"email": "not-an-email"}, b"valid email"),
    ({"email": ""}, b"Enter their email"),
    ({"email": "a" * 300 + "@vendor.example.com"}, b"254"),
    ({"email": "<script>@vendor.example.com"}, b"valid email"),
    ({"email": "OWNER@Vendor.Example.com"}, b"already a staff member"),
    ({"role": "superuser"}, b"Not a valid choice"),
    ({"name": "Nia\x00"}, b"control characters"),
    ({"name": "n" * 200}, b"120"),
])
def test_hostile_invitations_get_a_clear_error_and_write_nothing(client, backend, data, message) -> None:
    sign_in_as(client, "owner")
    before = _staff_count()
    response = client.post("/admin/staff/new", data={"email": "nia@vendor.example.com", "name": "Nia",
                                                     "role": "viewer", **data})
    assert response.status_code == 422 and message in response.data, response.data[-2000:]
    assert _staff_count() == before and not _events("staff.invite")


def test_unknown_members_and_bad_roles_are_refused(client, backend) -> None:
    member = make_staff("sam@vendor.example.com", "viewer")
    sign_in_as(client, "owner")
    assert client.get("/admin/staff/00000000-0000-0000-0000-000000000000").status_code == 404
    assert client.get("/admin/staff/not-a-uuid").status_code == 404
    assert client.post(f"/admin/staff/{member.id}/role", data={"role": "god"}).status_code == 422
    assert client.get(f"/admin/staff/{member.id}/disable").status_code == 405  # no state change over GET
    me = _member(OWNER)
    refused = client.post(f"/admin/staff/{me.id}/link")
    assert refused.status_code == 422 and b"your own account" in refused.data
    assert _member("sam@vendor.example.com").role == "viewer"
