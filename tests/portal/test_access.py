"""Three people on every back-office route and method, found by walking app.url_map (new routes
are covered the day they are added):

- charlie (owner of tenant B, signed in there) gets 404 for tenant A's ids, sees none of A's data
  and changes nothing of A's, on every route with an id and every method it accepts;
- bob (staff in A) gets 403 on the owner-only routes (team, settings) and on nothing else;
- alice (owner of A) is refused nowhere.
"""
from __future__ import annotations

import re
from typing import Any, Iterator

from flask import url_for
from sqlalchemy import func, select

from extensions import db
from models.control import AuditEvent
from models.tenant import TenantUser
from services import orders
from tenancy.context import tenant_context
from tests.portal.helpers import add_customer, add_order, read, snapshot

PUBLIC = {"portal.login", "portal.set_password"}  # reached signed out: tests/test_auth.py
SESSION = {"portal.logout"}  # would end the walker's own session: tests/test_auth.py
OWNER_ONLY = re.compile(r"^portal\.(team|settings)")  # issue 4: "staff cannot manage team or settings"
SECRET = b"alphaonly"  # in every piece of A's data a page could show
# What an attacker would post: a value for every field any portal form has.
ATTACK = {"to_status": "paid", "note": "charlie was here", "name": "Hijacked",
          "email": "hijack@evil.example", "phone": "+1 555 0100", "role": "owner",
          "items-0-name": "Stolen", "items-0-quantity": "1", "items-0-unit_price": "1",
          "discount": "0", "tax": "0", "payment_method": "card", "channel": "web", "customer_id": ""}


def _routes(app: Any) -> Iterator[tuple[Any, str]]:
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint.startswith("portal.") and rule.endpoint not in PUBLIC | SESSION:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method


def _id_args(rule: Any) -> list[str]:
    return [a for a in rule.arguments if rule._converters[a].__class__.__name__ == "UUIDConverter"]


def _url(app: Any, rule: Any, slug: str, ids: dict[str, Any]) -> str:
    values: dict[str, Any] = {}
    for arg in rule.arguments - {"tenant_slug"}:
        if arg in _id_args(rule):
            assert arg in ids, f"{rule.endpoint}: give the walk an object of tenant A for <{arg}>"
            values[arg] = ids[arg]
        else:
            values[arg] = "x1"
    with app.test_request_context():
        return url_for(rule.endpoint, tenant_slug=slug, **values)


def _world(people: Any) -> dict[str, Any]:
    """Tenant A's data, every piece of it carrying SECRET; the ids a walker can aim at."""
    ann = add_customer(people.a, "Annalise Alphaonly", "annalise@alphaonly.example", "+62 812 555 01")
    order = add_order(people.a, customer_id=ann.id, total=4_200)
    with tenant_context(people.a) as ctx:
        orders.add_note(ctx.session, people.a, orders.get_order(ctx.session, order.id),
                        "alphaonly: ring the bell", "alice@example.com")
        ctx.session.commit()
    users = {u.email: u.id for u in read(people.a, select(TenantUser))}
    return {"order_id": order.id, "customer_id": ann.id, "user_id": users["bob@example.com"],
            "owner_id": users["alice@example.com"]}


def _audit_count() -> int:
    db.session.expire_all()
    return db.session.execute(select(func.count(AuditEvent.id))).scalar_one()


def test_charlie_gets_404_for_a_ids_on_every_route_and_method(app, client, people, backend, isolation):
    ids = _world(people)
    people.charlie.sign_in(client)
    before, audits = snapshot(people.a), _audit_count()
    walked = set()
    for rule, method in _routes(app):
        if not _id_args(rule):
            continue
        walked.add(rule.endpoint)
        response = client.open(_url(app, rule, people.b.slug, ids), method=method, data=ATTACK)
        assert response.status_code == 404, (rule.endpoint, method, response.status_code)
        assert SECRET not in response.data.lower() and b"bob@example.com" not in response.data
    assert {"portal.order_detail", "portal.order_status", "portal.order_note", "portal.customer_detail",
            "portal.customer_edit"} <= walked, walked
    assert snapshot(people.a) == before and _audit_count() == audits


def test_charlie_sees_nothing_of_a_through_query_parameters(app, client, people, backend, isolation):
    ids = _world(people)
    people.charlie.sign_in(client)
    before = snapshot(people.a)
    params = {"customer": str(ids["customer_id"]), "order": str(ids["order_id"]), "q": "Annalise",
              "customer_search": "Annalise"}  # the search is shown back; A's name would bring SECRET
    for rule, method in _routes(app):
        if method != "GET" or _id_args(rule):
            continue
        response = client.get(_url(app, rule, people.b.slug, ids), query_string=params)
        assert response.status_code < 500, (rule.endpoint, response.status_code)
        assert SECRET not in response.data.lower(), rule.endpoint
    assert snapshot(people.a) == before


def test_staff_are_refused_owner_only_routes_and_nothing_else(app, client, people, backend, isolation):
    ids = _world(people)
    aimed = {**ids, "user_id": ids["owner_id"]}  # bob goes for alice's membership
    people.bob.sign_in(client)
    before, audits = snapshot(people.a), _audit_count()
    owner_only = []
    for rule, method in _routes(app):
        if OWNER_ONLY.match(rule.endpoint):
            owner_only.append(rule.endpoint)
            response = client.open(_url(app, rule, people.a.slug, aimed), method=method, data=ATTACK)
            assert response.status_code == 403, (rule.endpoint, method, response.status_code)
            assert b'class="error-message"' in response.data
    assert snapshot(people.a) == before and _audit_count() == audits
    for rule, method in _routes(app):
        if not OWNER_ONLY.match(rule.endpoint):
            response = client.open(_url(app, rule, people.a.slug, ids), method=method, data={})
            assert response.status_code not in (403, 404) and response.status_code < 500, (
                rule.endpoint, method, response.status_code)
    # The walk knows the owner-only routes there are today; new ones are covered by their names.
    assert {"portal.team", "portal.team_role", "portal.team_remove"} <= set(owner_only), owner_only


def test_owners_are_refused_nowhere(app, client, people, backend, isolation):
    ids = _world(people)
    people.alice.sign_in(client)
    for rule, method in _routes(app):
        if method == "GET":
            response = client.get(_url(app, rule, people.a.slug, ids))
            assert response.status_code == 200, (rule.endpoint, response.status_code)


BUTTONS = {"portal.team_link", "portal.team_remove"}  # no fields: a post is the whole request (CSRF guards it)
JSON_BODIES = [[1, 2], {"name": ["Hijacked"], "items": {"0": "x"}, "note": None, "to_status": True},
               "just a string", None, {"email": {"$ne": ""}, "role": ["owner"]}]


def test_json_bodies_of_any_shape_are_a_clear_refusal_on_every_form(app, client, people, backend, isolation):
    """Forms read JSON as text fields (web.forms.WebForm): lists, objects, null and booleans are
    missing values, so every form answers as it would to an empty post — a message, or for an edit
    form "saved, nothing changed" (WTForms keeps the object's values), for the live totals an empty
    preview — never a 500, and nothing is written."""
    ids = _world(people)
    people.alice.sign_in(client)
    before, audits = snapshot(people.a), _audit_count()
    for rule, method in _routes(app):
        if method != "POST" or rule.endpoint in BUTTONS:
            continue
        for body in JSON_BODIES:
            response = client.post(_url(app, rule, people.a.slug, ids), json=body)
            assert response.status_code < 500, (rule.endpoint, body, response.status_code)
    assert snapshot(people.a) == before and _audit_count() == audits
