"""The stats dashboard: tiles compared with the previous period, charts, top customers, and (flag
`advanced_stats`) breakdowns by channel and payment method. Read from the daily rollup only."""
from __future__ import annotations

from flask import Response, g, request

from models.control import utcnow
from services import rollup, stats
from services.errors import ValidationFailed
from tenant_portal import bp
from tenant_portal.forms import StatsRangeForm
from tenancy.context import tenant_db
from web.features import feature
from web.rendering import render

PAGE = "tenant_portal/stats/index.html"


@bp.get("/stats", endpoint="stats")
def stats_index() -> Response:
    today = rollup.local_day(utcnow(), g.tenant.timezone)
    form = StatsRangeForm(request.args)
    try:
        rng = stats.parse_range(request.args, today)
    except ValidationFailed as exc:
        return render(PAGE, "stats", status=422, form=form, result=None, error=exc,
                      presets=stats.PRESETS, today=today)
    if rng.preset != "custom":  # the custom fields start from the range on show
        form = StatsRangeForm(date_from=rng.start, date_to=rng.end)
    result = stats.load_stats(tenant_db(), rng, advanced=bool(feature("advanced_stats")))
    return render(PAGE, "stats", form=form, result=result, error=None, presets=stats.PRESETS, today=today)
