"""Full-page screenshots of the review pages (tools/review_pages.py) on a running demo, at
1366x900 and 390x844, into var/screenshots/<name>-<width>.png; prints each path.

    .venv/bin/python tools/screenshots.py [BASE_URL]     # default http://127.0.0.1:8000
    make screenshots [BASE=http://127.0.0.1:8001]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright
from review_pages import DEFAULT_BASE, VIEWPORTS, ReviewError, launch, review_pages

OUT = Path(__file__).resolve().parent.parent / "var" / "screenshots"


def load_lazy_images(page) -> None:
    """Scrolls to the bottom a screen at a time and back, so lazily loaded pictures are in
    the full-page shot as a reader who scrolls would see them."""
    page.evaluate(
        """async () => {
            for (let y = 0; y < document.body.scrollHeight; y += innerHeight) {
                scrollTo(0, y);
                await new Promise(done => setTimeout(done, 100));
            }
            scrollTo(0, 0);
        }"""
    )
    page.wait_for_load_state("networkidle")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", nargs="?", default=DEFAULT_BASE, help="the demo's base URL")
    parser.add_argument("--out", type=Path, default=OUT, help="where the PNGs go")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            pages = review_pages(browser, args.base)
            for width, height in VIEWPORTS:
                for review in pages:
                    context = browser.new_context(
                        viewport={"width": width, "height": height}, storage_state=review.state
                    )
                    page = context.new_page()
                    page.goto(review.url, wait_until="networkidle")
                    load_lazy_images(page)
                    path = args.out / f"{review.name}-{width}.png"
                    page.screenshot(path=path, full_page=True)
                    context.close()
                    print(path)
        except ReviewError as error:
            print(f"screenshots: {error}", file=sys.stderr)
            return 1
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
