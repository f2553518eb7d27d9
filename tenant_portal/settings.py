"""The account's settings (owners only): the business name, the language and number format, the
time zone (which recounts the stats' days in the new zone). The currency and the plan are the
vendor's to change, and are shown here read-only."""
from __future__ import annotations

from flask import Response, abort, flash, g, url_for

from extensions import db
from models.control import utcnow
from services import rollup, tenants
from services.errors import ValidationFailed
from tenant_portal import bp
from tenant_portal.forms import SettingsForm
from tenancy.context import tenant_db
from web.actors import request_actor
from web.formatting import exponent
from web.rendering import htmx_redirect, render

PAGE = "tenant_portal/settings.html"


def _page(form: SettingsForm, status: int) -> Response:
    digits = exponent(g.tenant.currency)  # the examples: Rp 1.250.000, RM 1,250.00, $1,250.00
    sample = 1250 * 10 ** digits if digits else 1_250_000
    return render(PAGE, "form", status=status, form=form, sample_amount=sample, now=utcnow())


@bp.route("/settings", methods=["GET", "POST"])
def settings() -> Response:
    if not g.user.is_owner:
        abort(403, description="Only the account's owners can change its settings.")
    tenant = g.tenant
    form = SettingsForm(obj=tenant)
    form.locale.choices = tenants.locale_choices(tenant.locale)
    form.timezone.choices = tenants.timezone_choices()
    if not form.validate_on_submit():
        return _page(form, 422 if form.errors else 200)
    try:
        changed = tenants.update_settings(tenant, name=form.name.data or "", locale=form.locale.data or "",
                                          timezone=form.timezone.data or "", actor=request_actor())
    except ValidationFailed as exc:
        db.session.rollback()
        getattr(form, exc.field or "name").errors = [exc.message]
        return _page(form, exc.status)
    db.session.commit()
    if "timezone" in changed:  # every order and customer moves to its day in the new zone
        rollup.rebuild(tenant_db(), tenant.id, tenant.timezone)
        tenant_db().commit()
    flash("Settings saved." if changed else "Nothing to save: the settings are as they were.",
          "success" if changed else "info")
    return htmx_redirect(url_for("portal.settings"), full_page=True)  # the header shows the name
