"""The "memberships" file kind: loyalty programs and subscriptions of customers already imported."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.management import call_command
from django.urls import reverse

from parties.models import ImportRejection, Membership, Party, SourceRecord
from parties.services.merge import party_merge

pytestmark = pytest.mark.django_db

CUSTOMERS = (
    "source_key,given_name,family_name,email,phone\n"
    "k1,Ann,Lee,ann@example.com,+49 151 23456789\n"
    "k2,Bob,Stone,bob@example.com,\n"
    "k3,Cid,Moss,shared@example.com,\n"
    "k4,Dee,Moss,shared@example.com,\n"
)
HEADER = (
    "customer id,e-mail,mobile,program type,program,member number,tier,status,member since,expires,points\n"
)


@pytest.fixture
def customers(run_import) -> dict[str, Party]:
    assert run_import(CUSTOMERS).rows_created == 4
    return {r.source_key: r.party for r in SourceRecord.objects.select_related("party")}


def _rejections(job) -> dict[int, tuple[str, str]]:
    return {r.line: (r.column, r.reason) for r in ImportRejection.objects.filter(job=job)}


def test_it_creates_memberships_by_source_key_email_and_phone_with_usual_headers(run_import, customers):
    ann, bob = customers["k1"], customers["k2"]
    before = Party.objects.get(pk=bob.pk).updated_at
    job = run_import(
        HEADER
        + "k1,,,loyalty,Club Rewards,CR-1,Gold,active,01.04.2021,,12450\n"
        + ",Bob@Example.com,,Subscription,Premium Delivery,SUB-9,Annual,canceled,2022-01-15,2024-01-14,\n"
        + ",,0151 23456789,rewards,Coffee Club,,,,,,\n",
        kind="memberships",
    )
    # the headers map themselves through synonyms
    assert job.mapping["source_key"] == ["customer id"] and job.mapping["points_balance"] == ["points"]
    assert (job.status, job.rows_created, job.rows_rejected) == ("succeeded", 3, 0)
    club = Membership.objects.get(member_number="CR-1")
    assert (
        club.party_id,
        club.program_type,
        club.tier,
        club.status,
        club.started_on,
        club.points_balance,
    ) == (ann.pk, "loyalty", "Gold", "active", date(2021, 4, 1), 12450)
    assert club.source_system == job.source_system and club.source_record.source_key == "k1"
    sub = Membership.objects.get(member_number="SUB-9")
    assert (sub.party_id, sub.program_type, sub.status, sub.ends_on) == (
        bob.pk,
        "subscription",
        "cancelled",
        date(2024, 1, 14),
    )
    coffee = Membership.objects.get(program_name="Coffee Club")
    assert (coffee.party_id, coffee.member_number, coffee.status) == (ann.pk, "", "active")
    assert Party.objects.get(pk=bob.pk).updated_at > before  # API clients syncing see the change


def test_importing_it_again_is_idempotent_and_changed_rows_update(run_import, customers):
    content = (
        HEADER
        + "k1,,,loyalty,Club Rewards,CR-1,Gold,active,2021-04-01,,100\n"
        + "k2,,,loyalty,Club Rewards,,Silver,active,2021-04-01,,5\n"
    )
    assert run_import(content, kind="memberships").rows_created == 2
    again = run_import(content, kind="memberships")
    assert (again.rows_created, again.rows_updated, again.rows_unchanged) == (0, 0, 2)
    changed = run_import(content.replace(",100\n", ",250\n").replace("Silver", "Gold"), kind="memberships")
    assert (changed.rows_created, changed.rows_updated, changed.rows_unchanged) == (0, 2, 0)
    assert Membership.objects.count() == 2
    assert Membership.objects.get(member_number="CR-1").points_balance == 250
    assert Membership.objects.get(party=customers["k2"]).tier == "Gold"  # no number: by party + program


def test_a_member_number_follows_its_customer_into_a_merge(run_import, customers):
    ann, bob = customers["k1"], customers["k2"]
    content = HEADER + "k2,,,loyalty,Club Rewards,CR-1,Gold,active,2021-04-01,,100\n"
    assert run_import(content, kind="memberships").rows_created == 1
    party_merge(party_ids=[ann.pk, bob.pk], survivor_id=ann.pk)
    again = run_import(content, kind="memberships")
    assert (again.rows_created, again.rows_unchanged) == (0, 1)
    assert Membership.objects.get().party_id == ann.pk


def test_bad_lines_are_rejected_with_their_line_and_column(run_import, customers):
    job = run_import(
        HEADER
        + "k1,,,loyalty,Club Rewards,CR-1,Gold,active,2021-04-01,,100\n"  # 2: good
        + "k1,,,loyalty,Club Rewards,CR-2,Gold,active,2021-04-01,2020-01-01,\n"  # 3: ends before start
        + "k1,,,timeshare,Club Rewards,CR-3,,,,,\n"  # 4: unknown program type
        + "k1,,,loyalty,Club Rewards,CR-4,,,,,lots\n"  # 5: points not a number
        + "k1,,,loyalty,Club Rewards,CR-5,,,2021-13-45,,\n"  # 6: no such date
        + "k9,,,loyalty,Club Rewards,CR-6,,,,,\n"  # 7: unknown customer
        + ",shared@example.com,,loyalty,Club Rewards,CR-7,,,,,\n"  # 8: ambiguous email
        + "k2,,,loyalty,Club Rewards,CR-1,,,,,\n"  # 9: same membership as line 2
        + "k2,,,loyalty,,CR-8,,,,,\n"  # 10: no program
        + "k2,,,loyalty,Club Rewards,CR-9,,retired,,,\n"  # 11: unknown status
        + "k2,,,subscription,Premium,SUB-1,,paused,2023-01-01,2023-06-30,\n",  # 12: good
        kind="memberships",
    )
    assert (job.status, job.rows_created, job.rows_rejected) == ("succeeded", 2, 9)
    rejected = _rejections(job)
    expected = {
        3: ("expires", "ends before it started (2021-04-01)"),
        4: ("program type", "unknown program type 'timeshare'"),
        5: ("points", "not a whole number"),
        6: ("member since", "not a date"),
        7: ("customer id", "no customer with source key 'k9'"),
        8: ("e-mail", "2 customers have this email address"),
        9: ("member number", "already appeared at line 2"),
        10: ("program", "no program name"),
        11: ("status", "unknown status 'retired'"),
    }
    assert set(rejected) == set(expected)
    for line, (column, reason) in expected.items():
        assert rejected[line][0] == column, line
        assert reason in rejected[line][1], (line, rejected[line][1])
    assert sorted(Membership.objects.values_list("member_number", flat=True)) == ["CR-1", "SUB-1"]


def test_the_template_imports_after_the_customer_template(role_client, run_import):
    client = role_client("administrator")
    customers = b"".join(client.get(reverse("parties:import_template", args=["parties"])).streaming_content)
    assert run_import(customers).rows_created == 4
    response = client.get(reverse("parties:import_template", args=["memberships"]))
    template = b"".join(response.streaming_content)
    job = run_import(template, kind="memberships")
    assert (job.status, job.rows_created, job.rows_rejected) == ("succeeded", 3, 0)
    assert Membership.objects.get(member_number="CR100200301").party.given_name == "Zoë"


def test_the_command_line_imports_memberships_and_reports_rejected_lines(
    run_import, customers, source, tmp_path, capsys
):
    path = tmp_path / "members.csv"
    path.write_text(
        HEADER + "k1,,,loyalty,Club Rewards,CR-1,Gold,,,,\n" + "k9,,,loyalty,Club Rewards,CR-2,,,,,\n"
    )
    call_command("import_source", str(path), "--source", source.name, "--kind", "memberships", "--sync")
    out = capsys.readouterr().out
    assert "created 1, updated 0, unchanged 0, rejected 1" in out
    assert "line 3: no customer with source key 'k9'" in out
    assert Membership.objects.get().member_number == "CR-1"
