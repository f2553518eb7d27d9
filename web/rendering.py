"""One helper for "full page or fragment" (DESIGN §5).

A fragment is rendered only when the request comes from htmx (`HX-Request`) and is not a
history-restore request (`HX-History-Restore-Request`), which needs the whole page. Every response
from `render` says `Vary: HX-Request` so caches keep the two apart.

Rule for templates: a block rendered as a fragment runs alone, without the template's top-level
statements, so it must `{% from "_macros/…" import … %}` the macros it uses inside the block.
"""
from __future__ import annotations

from typing import Any

from flask import Response, current_app, make_response, request
from jinja2_fragments.flask import render_block


def wants_fragment() -> bool:
    htmx = request.htmx  # type: ignore[attr-defined]
    return bool(htmx) and not htmx.history_restore_request


def render(template: str, block: str | None = None, status: int = 200, **context: Any) -> Response:
    """Render `template` whole, or only `block` of it for an htmx request."""
    if block is not None and wants_fragment():
        body = render_block(template, block, **context)
    else:
        body = current_app.jinja_env.get_template(template).render(**_with_globals(context))
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def _with_globals(context: dict[str, Any]) -> dict[str, Any]:
    # render_template would add the context processors; do the same for the full render.
    current_app.update_template_context(context)
    return context


def htmx_redirect(url: str, full_page: bool = False) -> Response:
    """After a successful POST: a real redirect for plain forms, HX-Location for htmx.

    HX-Location fetches `url` with HX-Request set and swaps it into <body>; when `url` is a page
    that `render`s a block, that request would get the fragment alone. `full_page=True` answers
    with HX-Redirect instead (the browser loads the whole page)."""
    if request.htmx:  # type: ignore[attr-defined]
        response = make_response("", 204)
        response.headers["HX-Redirect" if full_page else "HX-Location"] = url
        return response
    from flask import redirect
    return redirect(url, 303)  # type: ignore[return-value]
