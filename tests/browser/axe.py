"""axe-core, injected into a page by Playwright: the automated accessibility check.

The vendored file is a test asset (never served to users). The page's CSP allows only the app's own
scripts, so pages checked with axe are opened in a context made with `bypass_csp=True`.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

AXE_VERSION = "4.14.1"
AXE_FILE = Path(__file__).parent / "vendor" / f"axe-core-{AXE_VERSION}.min.js"
BLOCKING = ("serious", "critical")


@lru_cache(maxsize=1)
def axe_source() -> str:
    return AXE_FILE.read_text(encoding="utf-8")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Every axe violation on the page as it is now (WCAG 2.x A/AA and best-practice rules)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source())
    result = page.evaluate("""async () => {
        const r = await window.axe.run(document, {resultTypes: ["violations"]});
        return r.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
            nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary}))
        }));
    }""")
    return list(result)


def describe(violations: list[dict[str, Any]]) -> str:
    """A readable report: rule id, impact, help, and the selectors of the offending elements."""
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']}  [{v['helpUrl']}]")
        for node in v["nodes"][:8]:
            lines.append(f"    {node['target']}")
            summary = (node["summary"] or "").strip().replace("\n", " ")
            if summary:
                lines.append(f"      {summary[:300]}")
        if len(v["nodes"]) > 8:
            lines.append(f"    … and {len(v['nodes']) - 8} more")
    return "\n".join(lines)


def assert_accessible(page: Any, name: str) -> None:
    """Fail on serious or critical axe violations, naming each rule and the elements it flags."""
    blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING]
    assert not blocking, f"axe found serious/critical problems on {name} ({page.url}):\n{describe(blocking)}"
