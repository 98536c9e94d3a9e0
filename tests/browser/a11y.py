"""axe-core in the browser tests (issue 18, item 10).

``assets/axe.min.js`` is axe-core 4.14.1 from the npm registry (``npm pack axe-core``; MPL-2.0,
licence beside it): a test asset, never served by the application. It is evaluated through
Playwright's ``page.evaluate`` (the DevTools protocol), which the page's Content-Security-
Policy does not apply to; a ``<script>`` element added to the page would be refused by it,
and rightly so.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

AXE = Path(__file__).parent / "assets" / "axe.min.js"
BLOCKING = ("serious", "critical")


@cache
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


def axe_violations(page, impacts: tuple[str, ...] = BLOCKING) -> list[str]:
    """The page's accessibility violations of the given impacts (WCAG 2.x A and AA rules and
    axe's best practices), one line per rule with up to five offending elements."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    found = page.evaluate(
        """async (impacts) => {
        const result = await axe.run(document, {resultTypes: ["violations"]});
        return result.violations.filter((v) => impacts.includes(v.impact)).map((v) =>
            `${v.impact} ${v.id} (${v.help}): ` + v.nodes.slice(0, 5).map((n) =>
                n.target.join(" ") + " — " + (n.failureSummary || "").split("\\n").slice(1).join(" ")
            ).join(" | "));
    }""",
        list(impacts),
    )
    return [f"{page.url}: {line}" for line in found]
