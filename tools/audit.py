"""Lighthouse 12 and axe-core on the review pages (tools/review_pages.py) of a running demo:
prints the four Lighthouse category scores per page and the axe violations, and exits 1 when
a score is below --min-score (95) or axe finds any violation.

    .venv/bin/python tools/audit.py [BASE_URL]     # default http://127.0.0.1:8000
    make audit [BASE=http://127.0.0.1:8001]

Lighthouse and axe-core come from the npm registry into var/audit-tools (installed on first
use: `npm install --prefix var/audit-tools lighthouse@12 axe-core@4`; Node 20) and run on
Debian's Chromium (CHROME_PATH, default /usr/bin/chromium, headless, --no-sandbox). Each
page is audited as its reader sees it: Lighthouse gets the reader's cookies (the exhausted
meter, the signed-in subscriber) with --extra-headers; axe is injected by Playwright into the
page at 1366x900 and 390x844. The JSON reports go to var/audit/.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright
from review_pages import (
    CHROMIUM,
    DEFAULT_BASE,
    VIEWPORTS,
    ReviewError,
    cookie_header,
    launch,
    review_pages,
)

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / "var" / "audit-tools"
REPORTS = ROOT / "var" / "audit"
PACKAGES = ["lighthouse@12", "axe-core@4"]
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
LIGHTHOUSE_ATTEMPTS = 3
PRESETS = ("mobile", "desktop")


def install_tools(tools: Path) -> None:
    if (tools / "node_modules/.bin/lighthouse").exists() and axe_source(tools).exists():
        return
    print(f"Installing {' '.join(PACKAGES)} into {tools} ...", file=sys.stderr)
    tools.mkdir(parents=True, exist_ok=True)
    subprocess.run(  # noqa: S603 - fixed arguments
        ["npm", "install", "--prefix", str(tools), "--no-audit", "--no-fund", *PACKAGES],  # noqa: S607
        check=True,
    )


def axe_source(tools: Path) -> Path:
    return tools / "node_modules/axe-core/axe.min.js"


def axe_violations(browser, review, source: str) -> dict[int, list[dict]]:
    """axe.run() on the page at each viewport width: {width: violations}."""
    found = {}
    for width, height in VIEWPORTS:
        # The site's Content-Security-Policy admits no inline script; axe is the reviewer's.
        context = browser.new_context(
            viewport={"width": width, "height": height},
            storage_state=review.state,
            bypass_csp=True,
        )
        page = context.new_page()
        page.goto(review.url, wait_until="networkidle")
        page.add_script_tag(content=source)
        found[width] = page.evaluate("async () => (await axe.run()).violations")
        context.close()
    return found


def lighthouse(tools: Path, review, preset: str, out: Path) -> dict:
    """One Lighthouse run: {category: score out of 100} and the report's failing audits."""
    command = [
        str(tools / "node_modules/.bin/lighthouse"),
        review.url,
        "--quiet",
        "--output=json",
        f"--output-path={out}",
        f"--only-categories={','.join(CATEGORIES)}",
        "--chrome-flags=--headless=new --no-sandbox",
    ]
    if preset == "desktop":
        command.append("--preset=desktop")
    if not review.indexable:
        command.append("--skip-audits=is-crawlable")
    cookies = cookie_header(review.state)
    if cookies:
        command.append("--extra-headers=" + json.dumps({"Cookie": cookies}))
    # Lighthouse sometimes fails to record a page load's trace on a busy machine
    # (NO_NAVSTART): such a run measured nothing, so it is run again, up to three times.
    for attempt in range(1, LIGHTHOUSE_ATTEMPTS + 1):
        run = subprocess.run(command, env={**os.environ, "CHROME_PATH": CHROMIUM})  # noqa: S603
        if run.returncode == 0:
            break
        print(f"lighthouse failed on {review.url} ({preset}), attempt {attempt}", file=sys.stderr)
    else:
        raise SystemExit(f"lighthouse failed {LIGHTHOUSE_ATTEMPTS} times on {review.url}")
    report = json.loads(out.read_text())
    scores = {}
    failing = []
    for name in CATEGORIES:
        category = report["categories"][name]
        scores[name] = round((category["score"] or 0) * 100)
        for ref in category["auditRefs"]:
            audit = report["audits"][ref["id"]]
            if ref["weight"] and audit["score"] is not None and audit["score"] < 1:
                failing.append(f"{name}: {audit['id']} ({audit['score']:.2f}) {audit['title']}")
    return {"scores": scores, "failing": failing}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", nargs="?", default=DEFAULT_BASE, help="the demo's base URL")
    parser.add_argument("--min-score", type=int, default=95)
    parser.add_argument(
        "--presets", default=",".join(PRESETS), help="Lighthouse presets: mobile,desktop"
    )
    parser.add_argument("--tools", type=Path, default=TOOLS, help="where npm installs")
    args = parser.parse_args(argv)
    presets = [p for p in args.presets.split(",") if p]
    if not set(presets) <= set(PRESETS):
        parser.error(f"--presets: each one of {', '.join(PRESETS)}")
    install_tools(args.tools)
    REPORTS.mkdir(parents=True, exist_ok=True)
    source = axe_source(args.tools).read_text()

    rows, notes, failed = [], [], False
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            pages = review_pages(browser, args.base)
            for review in pages:
                violations = axe_violations(browser, review, source)
                axe_count = sum(len(v) for v in violations.values())
                for width, found in violations.items():
                    for violation in found:
                        targets = [", ".join(map(str, n["target"])) for n in violation["nodes"]]
                        notes.append(
                            f"{review.name} @{width}: axe {violation['id']} "
                            f"({violation['impact']}): {violation['help']} -> {'; '.join(targets)}"
                        )
                failed |= axe_count > 0
                for preset in presets:
                    result = lighthouse(
                        args.tools, review, preset, REPORTS / f"{review.name}-{preset}.json"
                    )
                    scores = result["scores"]
                    failed |= min(scores.values()) < args.min_score
                    rows.append((review.name, preset, *scores.values(), axe_count))
                    notes.extend(f"{review.name} ({preset}): {line}" for line in result["failing"])
        except ReviewError as error:
            print(f"audit: {error}", file=sys.stderr)
            return 1
        finally:
            browser.close()

    header = ("page", "lighthouse", "perf", "a11y", "best-pr", "seo", "axe")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))
    if notes:
        print("\nBelow full marks:")
        print("\n".join(f"- {note}" for note in notes))
    print(f"\nReports: {REPORTS}/")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
