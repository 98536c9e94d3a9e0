"""Content-Security-Policy (issue 16, item 17): every page says that scripts and styles come only
from this site's own files, and no page carries code the policy would refuse (an inline
<script>, an on*= handler, a javascript: URL, a style attribute or <style> element).

The crawl fetches every named route that needs no argument, and the pages that do need one
(a party, its history, a review, an import, a run, a segment, admin change pages) with data
made for them, as the Administrator role and as a superuser (who sees every admin page).
"""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, URLResolver, get_resolver, reverse

from c360.api_tokens import api_token_create
from c360.kernel.roles import DATA_STEWARD
from consents.services.segments import segment_create
from matching.models import MatchRun, RunStatus
from parties.services.imports.jobs import (
    import_file_store,
    import_job_create,
    import_job_run,
    import_job_start,
)
from parties.services.merge import party_merge
from tests.factories import PartyFactory
from tests.matching.queue_helpers import suggestion_for
from tests.parties.customers import customer_copies

pytestmark = pytest.mark.django_db

UNSAFE = {"'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "data:", "http:", "https:"}
# Data blocks, never run: the policy does not apply to them and they are harmless.
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "xlink:href"}


def policy_of(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy")
    path = response.wsgi_request.get_full_path()
    assert header, f"{path} answered {response.status_code} without a Content-Security-Policy header"
    directives = {}
    for directive in header.split(";"):
        name, *values = directive.split()
        directives[name] = values
    return directives


def assert_strict_scripts(response) -> dict[str, list[str]]:
    directives = policy_of(response)
    path = response.wsgi_request.get_full_path()
    scripts = directives.get("script-src", directives.get("default-src"))
    assert scripts, f"{path}: the policy names no script-src nor default-src: {directives}"
    assert not UNSAFE & set(scripts), f"{path}: script-src allows {UNSAFE & set(scripts)}"
    assert "script-src-attr" not in directives and "script-src-elem" not in directives, path
    assert directives.get("object-src") == ["'none'"], f"{path}: plugins are not refused"
    assert directives.get("base-uri") == ["'none'"], f"{path}: <base> could re-point relative scripts"
    return directives


class InlineCode(HTMLParser):
    """Collects what a strict policy refuses: inline scripts, on*= handlers, javascript: URLs,
    scripts from another site, style attributes and <style> elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        where = self.get_starttag_text()[:160]
        if tag == "script":
            kind = (attributes.get("type") or "").strip().lower()
            src = attributes.get("src")
            if src is None and kind not in DATA_SCRIPT_TYPES:
                self.scripts.append(f"inline <script>: {where}")
            elif src is not None and not src.startswith("/"):
                self.scripts.append(f"script from elsewhere: {where}")
        if tag == "style":
            self.styles.append(f"<style> element: {where}")
        for name, value in attrs:
            if name.startswith("on"):
                self.scripts.append(f"{name}= handler: {where}")
            if (
                name in URL_ATTRIBUTES
                and value
                and re.sub(r"[\s\x00-\x1f]", "", value).lower().startswith("javascript:")
            ):
                self.scripts.append(f"javascript: URL: {where}")
            if name == "style":
                self.styles.append(f"style attribute: {where}")


def inline_code(html: str) -> InlineCode:
    parser = InlineCode()
    parser.feed(html)
    parser.close()
    return parser


def assert_no_inline_code(response, directives) -> None:
    if "text/html" not in response.headers.get("Content-Type", ""):
        return
    path = response.wsgi_request.get_full_path()
    found = inline_code(response.content.decode("utf-8", "replace"))
    assert not found.scripts, f"{path} carries code the policy refuses: {found.scripts}"
    styles = directives.get("style-src", directives.get("default-src", []))
    if "'unsafe-inline'" not in styles:
        assert not found.styles, f"{path} carries styles the policy refuses: {found.styles}"


def named_routes_without_arguments() -> list[str]:
    names: list[str] = []

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace
                walk(
                    pattern.url_patterns,
                    f"{namespace}:{inner}" if namespace and inner else inner or namespace,
                )
            elif pattern.name:
                names.append(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver().url_patterns, None)
    paths = []
    for name in dict.fromkeys(names):
        try:
            paths.append(reverse(name))
        except NoReverseMatch:
            continue  # needs arguments: the pages with data below cover those
    return paths


@pytest.fixture
def world(tmp_path, settings):
    """A party with every kind of row, a merge to undo, a suggestion to review, a draft import
    waiting for its mapping, a match run, a segment and an API token."""
    settings.MEDIA_ROOT = tmp_path / "media"
    c = customer_copies()
    suggestion = suggestion_for([c.crm.pk, c.shop.pk, c.pos.pk], score=0.91)
    left, right = PartyFactory(display_name="Left Copy"), PartyFactory(display_name="Right Copy")
    merge = party_merge(party_ids=[left.pk, right.pk], survivor_id=left.pk)
    content = b"customer_id,first_name,last_name,email\n1,Ann,Lee,ann@example.com\n"
    stored = import_file_store(stream=io.BytesIO(content), original_name="customers.csv")
    job = import_job_create(
        source=c.crm.source_records.get().source_system,
        kind="parties",
        stored_name=stored,
        original_name="customers.csv",
    )
    stored = import_file_store(stream=io.BytesIO(content), original_name="more.csv")
    finished = import_job_create(
        source=job.source_system, kind="parties", stored_name=stored, original_name="more.csv"
    )
    finished = import_job_run(job_id=import_job_start(job=finished, mapping=None, enqueue=False).pk)
    run = MatchRun.objects.filter(status=RunStatus.SUCCEEDED).get()
    segment = segment_create(name="Germany", description="In DE", filters={"country": "DE"}, user=None)
    api_token_create(name="crm-sync", role=DATA_STEWARD)
    user = get_user_model().objects.create_superuser("t-root", "root@example.com", "pw-for-tests")
    pk = c.shop.pk
    shown = [
        reverse("parties:detail", args=[pk]),
        reverse("parties:history", args=[pk]),
        reverse("parties:history", args=[left.pk]),
        reverse("parties:source_edit", args=[c.crm.source_records.get().source_system_id]),
        reverse("parties:import_mapping", args=[job.pk]),
        reverse("parties:import_detail", args=[finished.pk]),
        reverse("parties:import_progress", args=[finished.pk]),
        reverse("matching:review", args=[suggestion.pk]),
        reverse("matching:run_detail", args=[run.pk]),
        reverse("consents:preferences", args=[pk]),
        reverse("consents:erase", args=[pk]),
        reverse("consents:segment_detail", args=[segment.pk]),
        reverse("consents:segment_edit", args=[segment.pk]),
        reverse("consents:segment_delete", args=[segment.pk]),
        reverse("consents:segment_count", args=[segment.pk]),
    ]
    others = [  # redirects, refusals for the Administrator role, a 404
        reverse("parties:detail", args=[right.pk]),
        reverse("parties:import_detail", args=[job.pk]),
        reverse("admin:parties_party_change", args=[pk]),
        reverse("admin:auth_user_change", args=[user.pk]),
        reverse("admin:auth_user_password_change", args=[user.pk]),
        reverse("admin:parties_partyevent_change", args=[merge.pk]),
        reverse("admin:matching_matchsuggestion_change", args=[suggestion.pk]),
        reverse("admin:parties_importjob_change", args=[job.pk]),
        "/matching/suggestions/?q=schmidt",
        "/parties/search/?q=anna",
        "/no-such-page/",
    ]
    return shown, others


@pytest.mark.parametrize("who", ["administrator", "superuser"])
def test_every_page_sends_a_strict_policy_and_carries_no_inline_code(client, administrator, world, who):
    user = administrator if who == "administrator" else get_user_model().objects.get(username="t-root")
    client.force_login(user)
    shown, others = world
    paths = named_routes_without_arguments() + shown + others
    assert len(paths) > 100 and "/admin/parties/party/add/" in paths  # the admin's pages too
    answered = {}
    for path in paths:
        if path in ("/accounts/logout/", "/admin/logout/"):
            continue  # would end the session (a GET is refused anyway)
        response = client.get(path)
        assert response.status_code < 500, f"{path} answered {response.status_code}"
        directives = assert_strict_scripts(response)
        assert_no_inline_code(response, directives)
        answered[path] = response.status_code
    # the pages with data were really shown, not refused
    assert all(answered[p] == 200 for p in shown), {p: answered[p] for p in shown if answered[p] != 200}
    if who == "superuser":
        assert answered["/admin/parties/party/"] == 200


def test_the_sign_in_page_and_the_api_docs_send_the_policy_too(client, administrator):
    response = client.get(reverse("login"))
    assert_no_inline_code(response, assert_strict_scripts(response))
    client.force_login(administrator)
    for name in ("api-docs", "api-redoc"):
        response = client.get(reverse(name))
        assert response.status_code == 200
        assert_no_inline_code(response, assert_strict_scripts(response))
    # Swagger UI's start-up code is a script of this site (the split view), not inline
    script = client.get(reverse("api-docs") + "?script=")
    assert script.status_code == 200
    assert script.headers["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content


def test_only_redoc_may_inject_styles_and_no_page_may_run_inline_scripts(client, administrator):
    client.force_login(administrator)
    redoc = policy_of(client.get(reverse("api-redoc")))
    assert "'unsafe-inline'" in redoc["style-src"]  # styled-components; scripts stay strict
    assert redoc["script-src"] == ["'self'"]
    for path in (reverse("home"), reverse("api-docs"), reverse("admin:index")):
        directives = policy_of(client.get(path))
        assert directives["script-src"] == ["'self'"], path
        assert directives["style-src"] == ["'self'"], path


def test_the_server_error_page_has_no_inline_style():
    found = inline_code(render_to_string("errors/500.html"))
    assert not found.scripts and not found.styles, (found.scripts, found.styles)


TEMPLATE_DIRS = [Path(settings.BASE_DIR) / "templates", *sorted(Path(settings.BASE_DIR).glob("*/templates"))]
INLINE_IN_TEMPLATE = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>"  # a script without src
    r"|\son[a-z]+\s*="  # an event handler attribute
    r"|javascript:"  # a javascript: URL
    r"|\sstyle\s*=|<style",  # inline styles
    re.IGNORECASE,
)


def test_no_template_holds_inline_code():
    """Also the templates of pages the crawl cannot reach (error pages, rare states)."""
    offenders = []
    for directory in TEMPLATE_DIRS:
        for template in sorted(directory.rglob("*.html")):
            text = template.read_text(encoding="utf-8")
            for match in INLINE_IN_TEMPLATE.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                offenders.append(f"{template.relative_to(settings.BASE_DIR)}:{line}: {match.group(0)!r}")
    assert not offenders, "inline code in templates:\n" + "\n".join(offenders)


def test_the_parser_finds_what_the_policy_refuses():
    found = inline_code(
        '<script>alert(1)</script><script src="/static/x.js"></script>'
        '<script type="application/json">{}</script><script src="https://cdn.example/x.js"></script>'
        '<a href=" JaVa\tscript:alert(1)">x</a><button onclick="x()">b</button>'
        '<p style="color:red">s</p><style>p{}</style>'
    )
    assert len(found.scripts) == 4, found.scripts
    assert len(found.styles) == 2, found.styles
