"""Plans in the vendor console: list with tenant counts, create, edit (optimistic lock), archive."""
from __future__ import annotations

from flask import Response, flash, redirect, url_for
from sqlalchemy import select

from admin import bp, requires
from admin.plan_forms import plan_form
from extensions import db
from models.control import FeatureFlag
from services import plans
from services.errors import ServiceError, ValidationFailed
from services.staff import MANAGE_PLANS as MANAGE
from services.staff import READ
from web.actors import request_actor
from web.rendering import render



def _flag_keys() -> list[str]:
    return list(db.session.execute(select(FeatureFlag.key).where(FeatureFlag.archived.is_(False))
                                   .order_by(FeatureFlag.key)).scalars())


@bp.get("/plans")
@requires(READ)
def plans_index() -> Response:
    return render("admin/plans/index.html", rows=plans.plans_with_counts())


@bp.route("/plans/new", methods=["GET", "POST"])
@requires(MANAGE)
def plan_new() -> Response:
    form = plan_form(_flag_keys())
    if form.validate_on_submit() and (values := form.to_input()) is not None:
        try:
            plan = plans.create_plan(form.slug.data, values, request_actor())
        except ValidationFailed as exc:
            getattr(form, exc.field or "name").errors.append(exc.message)
        else:
            db.session.commit()
            flash(f"Plan {plan.name} created.", "success")
            return redirect(url_for("admin.plans_index"), 303)  # type: ignore[return-value]
    return render("admin/plans/form.html", form=form, plan=None, status=422 if form.errors else 200)


@bp.route("/plans/<slug>/edit", methods=["GET", "POST"])
@requires(MANAGE)
def plan_edit(slug: str) -> Response:
    plan = plans.get_plan(slug)
    form = plan_form(_flag_keys())
    if not form.is_submitted():
        form.fill_from(plan)
    elif form.validate() and (values := form.to_input()) is not None:
        try:
            plans.update_plan(plan, values, _int(form.version.data), request_actor())
        except plans.PlanConflict as exc:
            return render("admin/plans/form.html", form=form, plan=exc.plan, conflict=exc, status=409)
        except ValidationFailed as exc:
            getattr(form, exc.field or "name").errors.append(exc.message)
        else:
            db.session.commit()
            flash(f"Plan {plan.name} saved.", "success")
            return redirect(url_for("admin.plans_index"), 303)  # type: ignore[return-value]
    return render("admin/plans/form.html", form=form, plan=plan, status=422 if form.errors else 200)


@bp.post("/plans/<slug>/archive")
@requires(MANAGE)
def plan_archive(slug: str) -> Response:
    return _set_archived(slug, True)


@bp.post("/plans/<slug>/unarchive")
@requires(MANAGE)
def plan_unarchive(slug: str) -> Response:
    return _set_archived(slug, False)


def _set_archived(slug: str, archived: bool) -> Response:
    plan = plans.get_plan(slug)
    try:
        plans.set_archived(plan, archived, request_actor())
        db.session.commit()
        flash(f"Plan {plan.name} {'archived: no new tenants' if archived else 'is available again'}.", "success")
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    return redirect(url_for("admin.plans_index"), 303)  # type: ignore[return-value]


def _int(raw: str | None) -> int:
    try:
        return int(raw or "")
    except ValueError:
        return -1  # an edit with no readable version can only conflict
