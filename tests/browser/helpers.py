"""Steps the browser tests share."""

from __future__ import annotations

import os
from pathlib import Path


def sign_in(page, username: str, password: str) -> None:
    """Sign in through the login form, as a person would."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def screenshots_dir() -> Path:
    """Where every browser test writes the screenshots a person looks at: C360_SCREENSHOTS,
    else var/screenshots in the checkout (kept after the run, unlike pytest's tmp_path)."""
    folder = Path(
        os.environ.get("C360_SCREENSHOTS") or Path(__file__).resolve().parents[2] / "var" / "screenshots"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder
