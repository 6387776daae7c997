"""Take the README screenshots from a running demo server (not a test: pytest does not collect this file).

    DEBUG=1 .venv/bin/python manage.py seed_demo
    DEBUG=1 .venv/bin/python manage.py runserver 127.0.0.1:8014 --noreload --skip-checks &
    .venv/bin/python tests/browser/make_screenshots.py http://127.0.0.1:8014

Signs in as owner@acme.test and writes docs/screenshots/iam-table.png, add-user-dialog.png and
project-iam.png. Run it on freshly seeded demo data so the pictures show the demo team.
"""

import argparse
import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from iam_portal.orgs.demo import DEMO_PASSWORD
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS, VIEWPORT

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url", help="the running demo server, e.g. http://127.0.0.1:8014")
    parser.add_argument("--email", default="owner@acme.test")
    parser.add_argument("--password", default=DEMO_PASSWORD)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    base = args.base_url.rstrip("/")
    args.out.mkdir(parents=True, exist_ok=True)
    expect.set_options(timeout=10_000)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=VIEWPORT, device_scale_factor=1)
        page.set_default_timeout(10_000)

        page.goto(f"{base}/accounts/login/")
        page.locator("#id_username").fill(args.email)
        page.locator("#id_password").fill(args.password)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()

        page.goto(f"{base}/companies/acme/iam/")
        expect(page.locator("#iam-table tbody tr").first).to_be_visible()
        save(page, args.out / "iam-table.png", full_page=True)

        page.get_by_role("link", name="Add user").click()
        dialog = page.locator("#dialog")
        expect(dialog.get_by_role("heading", name="Add user")).to_be_visible()
        dialog.get_by_label("Email").fill("new.colleague@acme.test")
        dialog.get_by_label("Company role").select_option("developer")
        page.mouse.move(0, 0)
        save(page, args.out / "add-user-dialog.png")

        # Wider, so the environment columns and "Edit" fit next to each other (they scroll at 1280 px).
        page.set_viewport_size({"width": 1440, "height": VIEWPORT["height"]})
        page.goto(f"{base}/companies/acme/projects/webshop/iam/")
        expect(page.locator("#project-iam-table tbody tr").first).to_be_visible()
        save(page, args.out / "project-iam.png", full_page=True)

        browser.close()


def save(page, path: Path, *, full_page: bool = False) -> None:
    page.screenshot(path=str(path), full_page=full_page, animations="disabled", caret="hide")
    print(f"saved {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


if __name__ == "__main__":
    main()
