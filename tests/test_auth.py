"""Sign-in for both faces: passwords, rate limits, new sessions, timeouts, disabled users, CSRF."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from models.tenant import TenantUser
from tenancy.context import tenant_context
from tests.factories import PASSWORD, make_staff, make_tenant, staff_sign_in


def test_staff_sign_in_and_out(client, app, backend):
    make_staff()
    assert client.get("/admin/").status_code == 302
    wrong = client.post("/admin/login", data={"email": "ana@vendor.example.com", "password": "nope-nope"})
    assert wrong.status_code == 422 and b"do not match" in wrong.data
    staff_sign_in(client)
    assert client.get("/admin/").status_code == 200
    client.post("/admin/logout")
    assert client.get("/admin/").status_code == 302


def test_rate_limit_answers_429_and_gives_no_session(client, app, backend):
    make_staff()
    limit, _window = app.config["LOGIN_RATE_LIMIT"]
    for _ in range(limit):
        client.post("/admin/login", data={"email": "ana@vendor.example.com", "password": "wrong-password"})
    blocked = client.post("/admin/login", data={"email": "ana@vendor.example.com", "password": PASSWORD})
    assert blocked.status_code == 429
    assert b"Too many sign-in attempts" in blocked.data
    assert client.get("/admin/").status_code == 302  # the right password did not sign in


def test_sign_in_starts_a_new_session(client, app, backend):
    make_staff()
    client.get("/admin/login")
    with client.session_transaction() as s:
        s["planted"] = "by an attacker"
    staff_sign_in(client)
    with client.session_transaction() as s:
        assert "planted" not in s


def test_passwords_over_72_bytes_are_refused_not_truncated(app, backend):
    from services.errors import ValidationFailed
    from services.passwords import hash_password
    with pytest.raises(ValidationFailed, match="72 bytes"):
        hash_password("é" * 40, 4)  # 80 bytes


@pytest.mark.modes("shared")
def test_idle_and_absolute_timeouts_end_the_session(client, app, people, backend, isolation):
    people.alice.sign_in(client)
    home = f"/t/{people.a.slug}/"
    assert client.get(home).status_code == 200
    key = f"tenant:{people.a.id}"
    with client.session_transaction() as s:
        s["auth"][key]["seen"] = int(time.time()) - app.config["SESSION_IDLE_SECONDS"] - 5
        s.modified = True
    assert client.get(home).status_code == 302
    people.alice.sign_in(client)
    with client.session_transaction() as s:
        s["auth"][key]["at"] = int(time.time()) - app.config["SESSION_MAX_SECONDS"] - 5
        s.modified = True
    assert client.get(home).status_code == 302


def test_a_disabled_user_is_signed_out_at_the_next_request(client, people, backend, isolation):
    people.bob.sign_in(client)
    assert client.get(f"/t/{people.a.slug}/").status_code == 200
    with tenant_context(people.a) as ctx:
        bob = ctx.session.execute(select(TenantUser).where(TenantUser.email == people.bob.email)).scalar_one()
        bob.is_active = False
        ctx.session.commit()
    assert client.get(f"/t/{people.a.slug}/").status_code == 302


def test_set_password_link_works_once(client, app, backend):
    from services import tenant_users
    tenant = make_tenant("linky")
    with tenant_context(tenant) as ctx:
        user, token = tenant_users.invite_user(ctx.session, tenant, "new@linky.example.com", "staff")
        ctx.session.commit()
    page = f"/t/linky/set-password/{token}"
    assert client.get(page).status_code == 200
    mismatch = client.post(page, data={"password": "long enough pw", "confirm": "different pw"})
    assert mismatch.status_code == 422
    done = client.post(page, data={"password": "long enough pw", "confirm": "long enough pw"})
    assert done.status_code == 303
    assert client.get("/t/linky/").status_code == 200
    assert client.get(page).status_code == 404  # used up
    assert client.get("/t/linky/set-password/forged-token").status_code == 404


def test_forms_without_a_csrf_token_are_refused(app, backend):
    make_staff()
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    response = client.post("/admin/login", data={"email": "ana@vendor.example.com", "password": PASSWORD})
    assert response.status_code == 400 and b"Form expired" in response.data


def test_security_headers(client, app, backend):
    response = client.get("/admin/login")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
