"""Erasure scope (issue 16, items 4 and 5): an erasure removes all of the person — also from
draft uploads, their mapping previews and names, and the free text of the consent ledger — and
only the person: another customer's import file is never deleted or changed because a short or
invalid value of the erased customer ("77") appears in it, and a file that mixes customers is
rewritten without the erased customer's rows, the others' rows kept byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from consents.services.erasure import erasure_summary
from consents.services.ledger import Actor, consent_set, ledger_check, preferences_set
from parties.models import ContactPointPhone, ImportJob, ImportStatus, Party, SourceRecord
from parties.services.imports.jobs import job_file_info
from parties.services.imports.readers import rows_iter
from parties.services.merge import party_merge
from tests.consents.test_erasure import HEADER, erasure_run, file_hits, value_hits
from tests.factories import SourceSystemFactory

pytestmark = pytest.mark.django_db


def _import(tmp_path: Path, source: str, name: str, text: str) -> ImportJob:
    path = tmp_path / name
    path.write_bytes(text.encode())
    call_command("import_source", str(path), source=source, kind="parties", sync=True, verbosity=0)
    return ImportJob.objects.latest("pk")


def _stored(job: ImportJob) -> Path:
    from django.conf import settings

    return Path(settings.MEDIA_ROOT) / job.file.name


def _lines(job: ImportJob) -> list[bytes]:
    return _stored(job).read_bytes().splitlines(keepends=True)


# --- item 5: only the person ------------------------------------------------------------------

MIXED = HEADER + (
    "QX-1,Quirin,Xanthopoulos,02.02.1980,quirin.xanthopoulos@example.org,ZQ-BADPHONE-77,,,,,,\n"
    "QX-2,Anna,Schulz,07.07.1977,anna.schulz.77@example.org,030 7777777,Hauptstraße 77,Berlin,10115,DE,,\n"
    '"QX-3",Bernd,Meier,,bernd.meier@example.org,+49 30 1234567,"Am Hang 7\r\nHinterhaus",Berlin,,DE,,\n'
)
OTHERS = HEADER + (
    "SH-9,Anna,Schulz,,anna.schulz.77@example.org,,Allee 77,Hamburg,20095,DE,,\n"
    "SH-10,Carla,Neumann,,carla.neumann@example.org,+49 40 7700077,,,,,,\n"
    "SH-11,Dora,Sieben,,77@example.org,77,77,77,,DE,,\n"
)
ONLY_QUIRIN = HEADER + "WB-5,Quirin,Xanthopoulos,,quirin.xanthopoulos@example.org,,,,,,,\n"


def test_erasure_keeps_other_customers_files_and_rewrites_a_mixed_file_without_the_person(
    tmp_path, settings, administrator
):
    # Given Quirin, whose phone "ZQ-BADPHONE-77" standardizes to "77", in a file with two other
    # customers, in a file of his own, and a file of other customers full of 77s
    settings.MEDIA_ROOT = tmp_path / "media"
    for name in ("Zeta CRM", "Zeta Shop", "Zeta Web"):
        SourceSystemFactory(name=name, default_region="DE", date_order="DMY")
    mixed = _import(tmp_path, "Zeta CRM", "crm.csv", MIXED)
    others = _import(tmp_path, "Zeta Shop", "shop.csv", OTHERS)
    own = _import(tmp_path, "Zeta Web", "web.csv", ONLY_QUIRIN)
    quirin = SourceRecord.objects.get(source_key="QX-1").party
    web = SourceRecord.objects.get(source_key="WB-5").party
    party_merge(party_ids=[quirin.pk, web.pk], survivor_id=quirin.pk, actor=administrator)
    assert ContactPointPhone.objects.get(party=quirin).normalized == "77"  # the value that broke
    mixed_before, others_before = _lines(mixed), _stored(others).read_bytes()
    others_file, mixed_file, own_file = others.file.name, mixed.file.name, _stored(own)

    # When he is erased
    result = erasure_run(party_id=quirin.pk, actor=administrator, reason="PRIV-77")

    # Then the other customers' file is untouched, byte for byte
    others.refresh_from_db()
    assert others.file.name == others_file and _stored(others).read_bytes() == others_before
    # his own file is gone, and the mixed one is rewritten without his row only
    own.refresh_from_db()
    assert own.file.name == "" and not own_file.exists()
    mixed.refresh_from_db()
    assert mixed.file.name == mixed_file
    after = _lines(mixed)
    assert len(after) == len(mixed_before)  # line numbers of the report and the cursor still hold
    assert after[1].strip() == b"" and after[:1] + after[2:] == mixed_before[:1] + mixed_before[2:]
    rows = list(rows_iter(_stored(mixed), job_file_info(mixed)))
    assert [(r.line, r.values["source_key"]) for r in rows] == [(3, "QX-2"), (4, "QX-3")]
    assert rows[1].values["address_line1"] == "Am Hang 7\r\nHinterhaus"
    assert file_hits(Path(settings.MEDIA_ROOT), ["Quirin", "Xanthopoulos", "BADPHONE"]) == []
    assert result.files_removed == [own.pk] and result.files_rewritten == [mixed.pk]
    assert "1 stored import file removed, 1 rewritten without the customer's rows" in erasure_summary(result)
    # and nobody else's values were redacted
    anna = SourceRecord.objects.get(source_key="QX-2")
    assert anna.raw_payload["email"] == "anna.schulz.77@example.org"
    assert SourceRecord.objects.get(source_key="SH-11").raw_payload["phone"] == "77"
    assert not Party.objects.filter(erased_at__isnull=False).exclude(pk__in=[quirin.pk, web.pk]).exists()


# --- item 4: all of the person ----------------------------------------------------------------

YOLANDA = [
    "Yolanda",
    "Zyxwvut",
    "yolanda.zyxwvut",
    "YZ-CRM-1",
    "YZ-SHOP-1",
    "5550142",
    "Schnuffelhausen",
    "Fluffy",
    "poodle",
]
DRAFT_OWN = HEADER + "YZ-LEAD-1,Yolanda,Zyxwvut,,yolanda.zyxwvut@example.org,,,,,,,\n"
DRAFT_MIXED = HEADER + (
    "LEAD-7,Otto,Ottensen,,otto.ottensen@example.org,,,,,,,\n"
    "LEAD-8,Yolanda,Zyxwvut,,Yolanda.Zyxwvut@example.org,,,,,,,\n"
    "LEAD-9,Petra,Pahl,,petra.pahl@example.org,,,,,,,\n"
)


def _upload(client, source, name: str, text: str) -> ImportJob:
    response = client.post(
        reverse("parties:import_new"),
        {"source": source.pk, "kind": "parties", "file": SimpleUploadedFile(name, text.encode())},
    )
    assert response.status_code == 302, response.content[:2000]
    return ImportJob.objects.latest("pk")


def test_erasing_a_merged_customer_leaves_nothing_in_drafts_previews_names_or_ledger_text(
    tmp_path, settings, administrator, role_client
):
    # Given Yolanda from two sources, merged, with free-text consent history on both parties
    settings.MEDIA_ROOT = tmp_path / "media"
    crm = SourceSystemFactory(name="Ypsilon CRM", default_region="DE", date_order="DMY")
    SourceSystemFactory(name="Ypsilon Shop", default_region="DE", date_order="DMY")
    _import(
        tmp_path,
        "Ypsilon CRM",
        "ycrm.csv",
        HEADER + "YZ-CRM-1,Yolanda,Zyxwvut,01.01.1990,yolanda.zyxwvut@example.org,0171 5550142,,,,,,\n",
    )
    _import(
        tmp_path,
        "Ypsilon Shop",
        "yshop.csv",
        HEADER + "YZ-SHOP-1,Yolanda,Zyxwvut,,yolanda.zyxwvut@example.org,,,,,,,\n",
    )
    survivor = SourceRecord.objects.get(source_key="YZ-CRM-1").party_id
    absorbed = SourceRecord.objects.get(source_key="YZ-SHOP-1").party_id
    actor = Actor.of_user(administrator)
    consent_set(
        party_id=absorbed,
        channel="email",
        purpose="newsletter",
        status="opt_in",
        actor=actor,
        capture_source="stand at the Schnuffelhausen fair",
        evidence="talked about her dog",
    )
    party_merge(party_ids=[survivor, absorbed], survivor_id=survivor, actor=administrator)
    consent_set(
        party_id=survivor,
        channel="sms",
        purpose="marketing",
        status="opt_in",
        actor=actor,
        capture_source="her poodle Fluffy's birthday card",
    )
    preferences_set(
        party_id=survivor, changes={"interests": ["poodle shows"]}, actor=actor, capture_source="survey"
    )
    # and two drafts uploaded but not mapped: one of hers alone, named after her, one mixed
    client = role_client("administrator")
    own = _upload(client, crm, "Yolanda Zyxwvut.csv", DRAFT_OWN)
    mixed = _upload(client, crm, "march-leads.csv", DRAFT_MIXED)
    assert own.status == mixed.status == ImportStatus.DRAFT
    preview = client.get(reverse("parties:import_mapping", args=[mixed.pk]))
    assert b"yolanda.zyxwvut@example.org" in preview.content.lower()
    before = value_hits(YOLANDA)
    assert {"parties_importjob", "consents_consentevent"} <= {table for table, _ in before}
    mixed_before = _lines(mixed)

    # When she is erased (by the id of the merged-away party)
    erasure_run(party_id=absorbed, actor=administrator, reason="PRIV-Y")

    # Then nothing of hers is left in any table, file, preview or name
    assert value_hits(YOLANDA) == set()
    assert file_hits(Path(settings.MEDIA_ROOT), YOLANDA) == []
    assert ledger_check() == []
    own.refresh_from_db()
    assert own.file.name == "" and own.status == ImportStatus.CANCELLED
    assert own.original_name == "[erased].csv"
    assert client.get(reverse("parties:import_mapping", args=[own.pk])).status_code == 302
    assert client.get(reverse("parties:import_detail", args=[own.pk])).status_code == 200
    mixed.refresh_from_db()
    assert mixed.status == ImportStatus.DRAFT and mixed.original_name == "march-leads.csv"
    after = _lines(mixed)
    assert after[2].strip() == b"" and after[:2] + after[3:] == mixed_before[:2] + mixed_before[3:]
    preview = client.get(reverse("parties:import_mapping", args=[mixed.pk]))
    assert preview.status_code == 200
    assert b"otto.ottensen@example.org" in preview.content and b"petra.pahl" in preview.content
    assert b"zyxwvut" not in preview.content.lower()


# --- other file formats -----------------------------------------------------------------------


def _xlsx(rows: list[list]) -> bytes:
    from io import BytesIO

    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize("suffix", ["jsonl", "xlsx"])
def test_a_mixed_jsonl_or_xlsx_file_keeps_the_other_customers_rows(tmp_path, settings, administrator, suffix):
    # Given a file of three customers in JSON Lines or XLSX, one of whom is erased
    settings.MEDIA_ROOT = tmp_path / "media"
    SourceSystemFactory(name="Zeta CRM", default_region="DE", date_order="DMY")
    people = [
        ["QX-1", "Quirin", "Xanthopoulos", "quirin.xanthopoulos@example.org", "+49 171 5550123"],
        ["QX-2", "Anna", "Schulz", "anna.schulz.77@example.org", "0171 5550124"],
        ["QX-3", "Bernd", "Meier", "bernd.meier@example.org", "77"],
    ]
    columns = ["source_key", "given_name", "family_name", "email", "phone"]
    path = tmp_path / f"crm.{suffix}"
    if suffix == "xlsx":
        path.write_bytes(_xlsx([columns, *people]))
    else:
        import json

        path.write_text("".join(json.dumps(dict(zip(columns, p, strict=True))) + "\n" for p in people))
    call_command("import_source", str(path), source="Zeta CRM", kind="parties", sync=True, verbosity=0)
    job = ImportJob.objects.latest("pk")
    before = list(rows_iter(_stored(job), job_file_info(job)))

    # When Quirin is erased
    result = erasure_run(party_id=SourceRecord.objects.get(source_key="QX-1").party_id, actor=administrator)

    # Then the file keeps the other two rows, at their lines, with their values
    after = list(rows_iter(_stored(job), job_file_info(job)))
    assert result.files_rewritten == [job.pk] and result.files_removed == []
    assert [(r.line, r.values) for r in after] == [(r.line, r.values) for r in before[1:]]
    assert file_hits(Path(settings.MEDIA_ROOT), ["Quirin", "Xanthopoulos", "5550123"]) == []


def test_touch_point_files_and_drafts_lose_only_the_rows_that_are_the_person(
    tmp_path, settings, administrator, role_client
):
    # Given Quirin and his namesake, an order file naming customers by email, by key in another
    # system, and by key; and a draft naming him by name and birth date only
    settings.MEDIA_ROOT = tmp_path / "media"
    crm = SourceSystemFactory(name="Zeta CRM", default_region="DE", date_order="DMY")
    SourceSystemFactory(name="Zeta Shop", default_region="DE", date_order="DMY")
    customers = _import(
        tmp_path,
        "Zeta CRM",
        "crm.csv",
        HEADER
        + (
            "QX-1,Quirin,Xanthopoulos,02.02.1980,quirin.xanthopoulos@example.org,,,,,,,\n"
            "QX-9,Quirin,Xanthopoulos,09.09.1999,quirin.x.junior@example.org,,,,,,,\n"
        ),
    )
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "source_system,source_key,email,external_id,engagement_type,occurred_at,channel\n"
        ",,Quirin.Xanthopoulos@example.org,ORD-1,order,2025-06-03,web\n"
        "Zeta CRM,QX-9,,ORD-2,order,2025-06-04,web\n"
        "Zeta CRM,QX-1,,ORD-3,order,2025-06-05,web\n"
        ",,quirin.x.junior@example.org,ORD-4,order,2025-06-06,web\n"
    )
    call_command("import_source", str(orders), source="Zeta Shop", kind="engagements", sync=True, verbosity=0)
    order_job = ImportJob.objects.latest("pk")
    assert order_job.rows_created == 4
    draft = _upload(
        role_client("administrator"),
        crm,
        "leads.csv",
        HEADER + ("L-1,QUIRIN,Xanthopoulos,1980-02-02,,,,,,,,\nL-2,Quirin,Xanthopoulos,1999-09-09,,,,,,,,\n"),
    )
    orders_before, draft_before = _lines(order_job), _lines(draft)

    # When Quirin (born 1980) is erased
    result = erasure_run(party_id=SourceRecord.objects.get(source_key="QX-1").party_id, actor=administrator)

    # Then his two orders and his draft row are gone, his namesake's stay byte for byte
    assert result.files_rewritten == [customers.pk, order_job.pk, draft.pk]
    orders_after, draft_after = _lines(order_job), _lines(draft)
    assert [n for n, (a, b) in enumerate(zip(orders_before, orders_after, strict=True)) if a != b] == [1, 3]
    assert [n for n, (a, b) in enumerate(zip(draft_before, draft_after, strict=True)) if a != b] == [1]
    assert orders_after[1].strip() == orders_after[3].strip() == draft_after[1].strip() == b""


def test_a_file_the_readers_cannot_read_is_removed_only_if_it_mentions_the_person(
    tmp_path, settings, administrator
):
    # Given two stored files that no longer decode (bytes changed on disk after the import):
    # one mentions Quirin's email address, the other only other customers and a "77"
    settings.MEDIA_ROOT = tmp_path / "media"
    SourceSystemFactory(name="Zeta CRM", default_region="DE", date_order="DMY")
    SourceSystemFactory(name="Zeta Shop", default_region="DE", date_order="DMY")
    mixed = _import(tmp_path, "Zeta CRM", "crm.csv", MIXED)
    others = _import(tmp_path, "Zeta Shop", "shop.csv", OTHERS)
    for job in (mixed, others):
        _stored(job).write_bytes(
            _stored(job)
            .read_bytes()
            .replace(b"Berlin", b"Berl\xff\xfein")
            .replace(b"Hamburg", b"Hamb\xff\xfeurg")
        )
    others_before = _stored(others).read_bytes()

    # When Quirin is erased
    result = erasure_run(party_id=SourceRecord.objects.get(source_key="QX-1").party_id, actor=administrator)

    # Then the file that mentions him is removed whole, the other is kept as it is
    assert result.files_removed == [mixed.pk] and result.files_rewritten == []
    others.refresh_from_db()
    assert _stored(others).read_bytes() == others_before


def test_a_value_other_customers_share_does_not_make_a_row_the_persons(
    tmp_path, settings, administrator, role_client
):
    # Given Quirin and Dora, both recorded with the placeholder noemail@example.org and one
    # family landline, and a draft of new leads that use the same placeholder and landline
    settings.MEDIA_ROOT = tmp_path / "media"
    crm = SourceSystemFactory(name="Zeta CRM", default_region="DE", date_order="DMY")
    _import(
        tmp_path,
        "Zeta CRM",
        "crm.csv",
        HEADER
        + (
            "QX-1,Quirin,Xanthopoulos,,quirin.xanthopoulos@example.org,,,,,,,\n"
            "QX-2,Quirin,Xanthopoulos,,noemail@example.org,030 5550177,,,,,,\n"
            "DS-1,Dora,Sieben,,noemail@example.org,+49 30 5550177,,,,,,\n"
        ),
    )
    quirin = SourceRecord.objects.get(source_key="QX-1").party_id
    party_merge(
        party_ids=[quirin, SourceRecord.objects.get(source_key="QX-2").party_id],
        survivor_id=quirin,
        actor=administrator,
    )
    draft = _upload(
        role_client("administrator"),
        crm,
        "leads.csv",
        HEADER + ("L-1,Emil,Eins,,noemail@example.org,,,,,,,\nL-2,Zora,Zwei,,,(030) 555 01 77,,,,,,\n"),
    )
    before = _stored(draft).read_bytes()

    # When Quirin is erased
    result = erasure_run(party_id=quirin, actor=administrator)

    # Then the draft is kept as it was: neither value identifies him
    assert draft.pk not in result.files_removed + result.files_rewritten
    assert _stored(draft).read_bytes() == before


def test_a_windows_1252_draft_whose_head_is_plain_ascii_is_rewritten_not_removed(
    tmp_path, settings, administrator, role_client
):
    # Given a draft read as UTF-8 from its head (300 KB of plain ASCII rows), whose later row is
    # Windows-1252 ("René")
    settings.MEDIA_ROOT = tmp_path / "media"
    padding = "".join(f"P-{n},Paul,Pad{n},,pad{n}@example.org,,,,,,,\n" for n in range(7000))
    crm = SourceSystemFactory(name="Zeta CRM", default_region="DE", date_order="DMY")
    _import(tmp_path, "Zeta CRM", "crm.csv", ONLY_QUIRIN.replace("WB-5", "QX-1"))
    client = role_client("administrator")
    response = client.post(
        reverse("parties:import_new"),
        {
            "source": crm.pk,
            "kind": "parties",
            "file": SimpleUploadedFile(
                "leads.csv",
                (
                    HEADER
                    + "L-1,Quirin,X,,quirin.xanthopoulos@example.org,,,,,,,\n"
                    + padding
                    + "L-2,René,Müller,,rene@example.org,,,,,,,\n"
                ).encode("cp1252"),
            ),
        },
    )
    assert response.status_code == 302
    draft = ImportJob.objects.latest("pk")
    assert draft.encoding == "utf-8" and draft.file_size > 300_000
    before = _lines(draft)

    # When Quirin is erased
    result = erasure_run(party_id=SourceRecord.objects.get(source_key="QX-1").party_id, actor=administrator)

    # Then only his row left the draft
    assert draft.pk in result.files_rewritten
    after = _lines(draft)
    assert after[1].strip() == b"" and after[:1] + after[2:] == before[:1] + before[2:]
