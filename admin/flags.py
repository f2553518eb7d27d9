"""Feature flags in the vendor console: registry, plan × flag matrix, who has it, overrides."""
from __future__ import annotations

import datetime as dt

from flask import Response, flash, redirect, request, url_for
from sqlalchemy import select

from admin import bp, requires
from admin.flag_forms import FlagForm, OverrideForm
from extensions import db
from models.control import FeatureFlag, FlagOverride, Plan, utcnow
from services import flags
from services.errors import ServiceError, ValidationFailed
from services.plans import get_plan
from services.staff import MANAGE_FLAGS as MANAGE
from services.staff import READ
from services.tenants import get_tenant
from web.actors import request_actor
from web.rendering import htmx_redirect, render



@bp.get("/flags")
@requires(READ)
def flags_index() -> Response:
    tenants, values = flags.fleet_values()
    registry = db.session.execute(select(FeatureFlag).order_by(FeatureFlag.archived, FeatureFlag.key)).scalars().all()
    on_counts = {key: sum(1 for e in per_tenant.values() if e.value) for key, per_tenant in values.items()}
    return render("admin/flags/index.html", registry=registry, on_counts=on_counts, tenant_total=len(tenants))


@bp.route("/flags/new", methods=["GET", "POST"])
@requires(MANAGE)
def flag_new() -> Response:
    form = FlagForm()
    if form.validate_on_submit():
        try:
            flag = flags.create_flag(form.key.data, form.description.data, form.default.data,
                                     form.rollout_percent.data, request_actor())
        except ValidationFailed as exc:
            getattr(form, exc.field or "key").errors.append(exc.message)
        else:
            db.session.commit()
            flash(f"Flag {flag.key} created.", "success")
            return redirect(url_for("admin.flag_detail", key=flag.key), 303)  # type: ignore[return-value]
    return render("admin/flags/form.html", form=form, flag=None, status=422 if form.errors else 200)


@bp.route("/flags/<key>/edit", methods=["GET", "POST"])
@requires(MANAGE)
def flag_edit(key: str) -> Response:
    flag = flags.get_flag(key)
    form = FlagForm(obj=flag)
    if form.validate_on_submit():
        try:
            flags.update_flag(flag, form.description.data, form.default.data, form.rollout_percent.data,
                              form.archived.data, request_actor())
        except ValidationFailed as exc:
            getattr(form, exc.field or "description").errors.append(exc.message)
        else:
            db.session.commit()
            flash(f"Flag {flag.key} saved.", "success")
            return redirect(url_for("admin.flag_detail", key=flag.key), 303)  # type: ignore[return-value]
    return render("admin/flags/form.html", form=form, flag=flag, status=422 if form.errors else 200)


@bp.get("/flags/matrix")
@requires(READ)
def flags_matrix() -> Response:
    plans = db.session.execute(select(Plan).where(Plan.archived.is_(False)).order_by(Plan.price_monthly)).scalars().all()
    registry = db.session.execute(select(FeatureFlag).where(FeatureFlag.archived.is_(False)).order_by(FeatureFlag.key)).scalars().all()
    return render("admin/flags/matrix.html", plans=plans, registry=registry)


@bp.post("/flags/matrix/<plan_slug>/<key>")
@requires(MANAGE)
def flags_matrix_cell(plan_slug: str, key: str) -> Response:
    """Cycle the plan's value: not set → on → off → not set. Returns the cell for htmx."""
    plan = get_plan(plan_slug)
    current = (plan.features or {}).get(key)
    following = {None: True, True: False, False: None}[current if isinstance(current, bool) else None]
    flags.set_plan_value(plan, key, following, request_actor())
    db.session.commit()
    if request.headers.get("HX-Request"):
        return render("admin/flags/matrix.html", "cell", plan=plan, key=key)
    return redirect(url_for("admin.flags_matrix"), 303)  # type: ignore[return-value]


@bp.get("/flags/<key>")
@requires(READ)
def flag_detail(key: str) -> Response:
    flag = flags.get_flag(key)
    show = request.args.get("value", "")
    query = (request.args.get("q", "") or "").strip().lower()[:60]
    tenants, values = flags.fleet_values(key)
    rows = [(t, values[key][t.id]) for t in tenants
            if (show not in ("on", "off") or values[key][t.id].value == (show == "on"))
            and (not query or query in t.slug or query in t.name.lower())]
    overrides = {o.tenant_id: o for o in db.session.execute(select(FlagOverride).where(FlagOverride.flag_key == key)).scalars()}
    return render("admin/flags/detail.html", "results", flag=flag, rows=rows[:500], total=len(rows),
                  show=show, q=query, overrides=overrides, form=OverrideForm())


@bp.post("/flags/<key>/override")
@requires(MANAGE)
def flag_override(key: str) -> Response:
    form = OverrideForm()
    if not form.validate_on_submit():
        flash("Give the tenant, on or off, and a reason.", "error")
        return redirect(url_for("admin.flag_detail", key=key), 303)  # type: ignore[return-value]
    expires = utcnow() + dt.timedelta(days=form.expires_in_days.data) if form.expires_in_days.data else None
    try:
        tenant = get_tenant(form.tenant.data.strip().lower())
        flags.set_override(tenant, key, form.value.data == "on", form.reason.data, expires, request_actor())
        db.session.commit()
        flash(f"{key} is now {form.value.data} for {tenant.slug}.", "success")
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    return htmx_redirect(url_for("admin.flag_detail", key=key))


@bp.post("/flags/<key>/override/<slug>/clear")
@requires(MANAGE)
def flag_override_clear(key: str, slug: str) -> Response:
    tenant = get_tenant(slug)
    flags.clear_override(tenant, key, request_actor())
    db.session.commit()
    flash(f"Override of {key} for {tenant.slug} removed.", "success")
    return htmx_redirect(url_for("admin.flag_detail", key=key))
