"""Staff two-factor sign-in: enrol with a QR code, then sign-in asks for the code."""
from __future__ import annotations

import re

import pyotp

from sqlalchemy import select

from extensions import db
from models.control import VendorStaff
from tests.factories import PASSWORD, make_staff, staff_sign_in


def _enrol(client) -> tuple[str, list[str]]:
    page = client.post("/admin/account/security/enrol")
    assert page.status_code == 200 and b"data:image/svg+xml" in page.data
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.data.decode()).group(1)
    wrong = client.post("/admin/account/security/confirm", data={"code": "000000"})
    assert wrong.status_code == 422
    done = client.post("/admin/account/security/confirm", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200 and b"recovery codes" in done.data
    codes = re.search(r'id="recovery-codes">([^<]+)<', done.data.decode()).group(1).split()
    return secret, codes


def test_enrol_then_sign_in_needs_the_code(client, app, backend):
    make_staff()
    staff_sign_in(client)
    secret, codes = _enrol(client)
    assert len(codes) == 10
    client.post("/admin/logout")

    step_one = client.post("/admin/login", data={"email": "ana@vendor.example.com", "password": PASSWORD})
    assert step_one.status_code == 303 and step_one.headers["Location"].endswith("/admin/login/verify")
    assert client.get("/admin/").status_code == 302  # the password alone signs nobody in
    assert client.post("/admin/login/verify", data={"code": "123456"}).status_code == 422
    ok = client.post("/admin/login/verify", data={"code": pyotp.TOTP(secret).now()})
    assert ok.status_code == 303
    assert client.get("/admin/").status_code == 200


def test_a_recovery_code_works_once(client, app, backend):
    make_staff()
    staff_sign_in(client)
    _secret, codes = _enrol(client)
    for expected in (303, 422):
        client.post("/admin/logout")
        client.post("/admin/login", data={"email": "ana@vendor.example.com", "password": PASSWORD})
        assert client.post("/admin/login/verify", data={"code": codes[0]}).status_code == expected
    db.session.expire_all()
    assert len(db.session.execute(select(VendorStaff)).scalar_one().recovery_codes) == 9
