"""axe-core in the browser tests: the vendored static/vendor/axe/axe.min.js (no network),
loaded from the live server as any page script is, so the Content-Security-Policy allows it."""

from playwright.sync_api import Page

AXE_URL = "/static/vendor/axe/axe.min.js"
SEVERE = ("serious", "critical")

_RUN = """async (severe) => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter((v) => severe.includes(v.impact))
    .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                  nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + " :: " + (n.failureSummary || ""))}));
}"""


def axe_severe_violations(page: Page) -> list[dict]:
    """The serious and critical axe-core violations of the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=AXE_URL)
        page.wait_for_function("typeof window.axe !== 'undefined'")
    return page.evaluate(_RUN, list(SEVERE))
