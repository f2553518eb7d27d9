"""The console's front page: tenants by status, each tile opening the filtered list."""
from __future__ import annotations

from extensions import db
from tests.admin.helpers import sign_in_as, tenant_row
from tests.factories import make_tenant
from tests.querycount import count_queries


def test_tiles_count_tenants_by_status_and_link_to_the_filtered_list(client, backend) -> None:
    make_tenant("alpha")
    make_tenant("beta")
    beta = tenant_row("beta")
    beta.status = "suspended"
    db.session.commit()
    sign_in_as(client, "viewer")
    with count_queries() as queries:
        page = client.get("/admin/")
    html = page.data.decode()
    assert page.status_code == 200 and "2 tenants in all" in html
    assert 'href="/admin/tenants?status=active"' in html and 'href="/admin/tenants?status=suspended"' in html
    assert "Newest tenants" in html and html.index("beta") < html.index("alpha")
    assert "New tenant" not in html  # a viewer cannot create
    assert len(queries) <= 6, queries.statements
