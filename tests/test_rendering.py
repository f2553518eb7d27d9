"""One URL renders a full page or its fragment (DESIGN §5)."""
from __future__ import annotations

from tests.factories import make_staff, make_tenant, staff_sign_in


def test_fragment_only_for_htmx_and_never_for_history_restore(client, app, backend):
    make_tenant("frag-shop")
    make_staff()
    staff_sign_in(client)
    full = client.get("/admin/tenants")
    fragment = client.get("/admin/tenants", headers={"HX-Request": "true"})
    restore = client.get("/admin/tenants", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert b"<html" in full.data and b"frag-shop" in full.data
    assert b"<html" not in fragment.data and b'id="results"' in fragment.data and b"frag-shop" in fragment.data
    assert b"<html" in restore.data
    for response in (full, fragment, restore):
        assert "HX-Request" in response.headers.get("Vary", "")


def test_htmx_request_without_a_session_gets_hx_redirect(client, app, backend):
    response = client.get("/admin/", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/admin/login")
