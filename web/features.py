"""Feature flags in requests: evaluated once per request (all flags of the tenant, two queries),
so a change is seen on the very next request and never costs more than that."""
from __future__ import annotations

from flask import Flask, abort, g

from services.flags import Evaluation, evaluate_all


def _evaluations() -> dict[str, Evaluation]:
    cached = g.get("_flag_evaluations")
    if cached is None:
        tenant = g.get("tenant")
        cached = evaluate_all(tenant) if tenant is not None else {}
        g._flag_evaluations = cached
    return cached


def feature(key: str) -> Evaluation:
    """The current tenant's value of `key` (off with a reason for unknown flags)."""
    evaluation = _evaluations().get(key)  # an "off" Evaluation is falsy: test for None, not truth
    return Evaluation(False, "off: no such flag") if evaluation is None else evaluation


def require_feature(key: str) -> None:
    """Gate a route: 404 when the flag is off for this tenant (do not reveal the feature)."""
    if not feature(key):
        abort(404)


def register_features(app: Flask) -> None:
    app.jinja_env.globals["feature"] = feature
