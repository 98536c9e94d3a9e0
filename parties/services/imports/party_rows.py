"""The "parties" file kind: rows of customers (the canonical template) into source records
and parties, as idempotent upserts keyed on (source system, source key)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.utils import timezone

from parties.columns import CANONICAL_COLUMNS
from parties.extensions import BatchResult, ImportKind
from parties.models import ImportJob, ImportRejection, Party, SourceRecord, SourceSystem
from parties.services import outbox
from parties.services.golden import party_golden_refresh
from parties.services.imports.mapping import Columns, mapping_apply, mapping_source_column
from parties.services.imports.readers import RawRow
from parties.services.party_create import Plan, plan_render, plans_write, record_plan
from parties.services.records import (
    NewRecord,
    content_hash,
    row_identifies_party,
    row_standardize,
    source_record_update,
)

# Header spellings met in real files (English variants, German, French, Spanish, Dutch).
# Compared without case, accents, spaces or punctuation: "E-Mail-Adresse" is "emailadresse".
SYNONYMS: dict[str, Sequence[str]] = {
    "source_key": [
        "id",
        "key",
        "record id",
        "customer id",
        "cust id",
        "contact id",
        "client id",
        "account id",
        "external id",
        "kundennr",
        "kundennummer",
        "kunden nr",
        "kunden id",
        "customer no",
        "customer number",
        "source id",
        "numero client",
        "n client",
        "id client",
        "code client",
        "numero de cliente",
        "id cliente",
        "cliente id",
        "klantnummer",
        "klantnr",
        "klant id",
        "relatienummer",
    ],
    "party_type": [
        "type",
        "customer type",
        "party kind",
        "kind",
        "record type",
        "kundentyp",
        "type client",
        "tipo de cliente",
        "klanttype",
    ],
    "salutation": [
        "title",
        "anrede",
        "prefix",
        "civility",
        "civilite",
        "tratamiento",
        "aanhef",
        "salutation",
    ],
    "given_name": [
        "first name",
        "firstname",
        "fname",
        "forename",
        "given",
        "vorname",
        "prenom",
        "first",
        "given name",
        "nombre",
        "nombre de pila",
        "voornaam",
        "roepnaam",
    ],
    "middle_name": [
        "middle",
        "middle names",
        "second name",
        "middle initial",
        "zweiter vorname",
        "tussenvoegsel",
        "segundo nombre",
    ],
    "family_name": [
        "last name",
        "lastname",
        "surname",
        "lname",
        "family",
        "nachname",
        "nom",
        "last",
        "family name",
        "familienname",
        "nom de famille",
        "apellido",
        "apellidos",
        "achternaam",
        "familienaam",
    ],
    "full_name": [
        "name",
        "customer name",
        "contact name",
        "display name",
        "full name",
        "vollstandiger name",
        "nom complet",
        "nombre completo",
        "naam",
        "volledige naam",
    ],
    "organization_name": [
        "company",
        "company name",
        "organisation",
        "organization",
        "organisation name",
        "firma",
        "account name",
        "business name",
        "employer name",
        "legal name",
        "firmenname",
        "unternehmen",
        "societe",
        "entreprise",
        "raison sociale",
        "empresa",
        "razon social",
        "bedrijf",
        "bedrijfsnaam",
    ],
    "birth_date": [
        "dob",
        "date of birth",
        "birthday",
        "birthdate",
        "geburtsdatum",
        "born",
        "birth date",
        "geburtstag",
        "geb datum",
        "date de naissance",
        "naissance",
        "fecha de nacimiento",
        "fecha nacimiento",
        "geboortedatum",
        "geboren",
    ],
    "gender": ["sex", "geschlecht", "genre", "sexe", "sexo", "genero", "geslacht"],
    "email": [
        "e-mail",
        "email address",
        "e-mail address",
        "mail",
        "emailaddress",
        "email1",
        "primary email",
        "e_mail",
        "e-mail-adresse",
        "mail adresse",
        "emailadresse",
        "courriel",
        "adresse e-mail",
        "adresse mail",
        "adresse courriel",
        "mel",
        "correo",
        "correo electronico",
        "e-mailadres",
        "emailadres",
        "mailadres",
    ],
    "email_2": [
        "email2",
        "secondary email",
        "alt email",
        "alternative email",
        "work email",
        "other email",
        "e-mail 2",
        "zweite e-mail",
        "e-mail geschaftlich",
        "courriel 2",
        "correo 2",
    ],
    "phone": [
        "telephone",
        "tel",
        "phone number",
        "mobile",
        "cell",
        "cell phone",
        "handy",
        "telefon",
        "phone1",
        "mobile phone",
        "primary phone",
        "telephone number",
        "mobile number",
        "mobile no",
        "cell number",
        "phone no",
        "contact number",
        "mobil",
        "mobilnummer",
        "mobiltelefon",
        "handynummer",
        "telefonnummer",
        "tel nr",
        "portable",
        "telephone portable",
        "mobile",
        "numero de telephone",
        "tel portable",
        "movil",
        "telefono",
        "telefono movil",
        "celular",
        "numero de telefono",
        "mobiel",
        "mobiel nummer",
        "mobielnummer",
        "telefoon",
        "telefoonnummer",
        "gsm",
    ],
    "phone_2": [
        "phone2",
        "secondary phone",
        "work phone",
        "alt phone",
        "other phone",
        "home phone",
        "landline",
        "festnetz",
        "telefon privat",
        "telefon geschaftlich",
        "telephone fixe",
        "fixe",
        "telefono fijo",
        "vaste telefoon",
        "telefoon 2",
        "telefon 2",
        "phone 2",
    ],
    "address_line1": [
        "street",
        "address",
        "address1",
        "street address",
        "strasse",
        "str",
        "addr1",
        "adresse",
        "address line 1",
        "street1",
        "anschrift",
        "strasse und hausnummer",
        "rue",
        "adresse postale",
        "direccion",
        "calle",
        "domicilio",
        "straat",
        "adres",
        "straatnaam",
    ],
    "address_line2": [
        "address2",
        "addr2",
        "apt",
        "suite",
        "unit",
        "address line 2",
        "street2",
        "adresszusatz",
        "complement d adresse",
        "complement",
        "piso",
        "toevoeging",
    ],
    "city": [
        "town",
        "ort",
        "stadt",
        "ville",
        "locality",
        "city name",
        "wohnort",
        "town city",
        "commune",
        "ciudad",
        "localidad",
        "poblacion",
        "municipio",
        "woonplaats",
        "plaats",
        "stad",
    ],
    "region": [
        "state",
        "province",
        "county",
        "bundesland",
        "state province",
        "state code",
        "region",
        "departement",
        "provincia",
        "comunidad autonoma",
        "provincie",
    ],
    "postal_code": [
        "zip",
        "zipcode",
        "zip code",
        "postcode",
        "post code",
        "plz",
        "postleitzahl",
        "code postal",
        "postal",
        "zip postal code",
        "cp",
        "codigo postal",
        "cod postal",
    ],
    "country": [
        "country code",
        "land",
        "pays",
        "nation",
        "country name",
        "iso country",
        "country region",
        "pais",
    ],
    "identifier_type": ["id type", "identifier kind"],
    "identifier_value": ["id value", "identifier", "id number"],
    "updated_at": [
        "last modified",
        "modified",
        "updated",
        "last updated",
        "changed at",
        "modified at",
        "lastmodifieddate",
        "last change",
        "updated on",
        "geandert am",
        "letzte anderung",
        "date de modification",
        "fecha de modificacion",
        "gewijzigd op",
    ],
}
# File columns that complete another field rather than fill one: a house number beside the
# street joins the street (in file order: "Hauptstr." + "5", "12" + "Main Street").
JOINED: dict[str, Sequence[str]] = {
    "address_line1": [
        "house number",
        "house no",
        "street number",
        "street no",
        "hausnummer",
        "hausnr",
        "haus nr",
        "n de rue",
        "numero de rue",
        "huisnummer",
        "huisnr",
    ],
}


@dataclass(frozen=True)
class Candidate:
    line: int
    content_hash: str
    problems: int
    plan: Plan  # what the row adds if it is new, rendered for the database in use


@dataclass
class PreparedBatch:
    """A batch standardized without touching the database (safe in a pool process)."""

    candidates: dict[str, Candidate] = field(default_factory=dict)
    rejections: list[tuple[int, str, str, str]] = field(default_factory=list)  # line, column, value, why


def _standardized(raw: RawRow, mapping: Columns, source: SourceSystem) -> NewRecord:
    mapped = mapping_apply(mapping, raw.values)
    return NewRecord(
        raw.values, row_standardize(mapped, source=source), raw.line, content_hash(raw.values, mapped)
    )


def party_batch_prepare(
    rows: Sequence[RawRow], mapping: Columns, source: SourceSystem, job_id: int | None, now: datetime
) -> PreparedBatch:
    """Map and standardize a batch and plan each row as a new party; reject rows that cannot
    be imported. Pure: no database access."""
    prepared = PreparedBatch()
    key_column = mapping_source_column(mapping, "source_key")
    for raw in rows:
        if raw.error:
            prepared.rejections.append((raw.line, "", "", raw.error))
            continue
        item = _standardized(raw, mapping, source)
        key = item.row.source_key
        if not key:
            prepared.rejections.append(
                (raw.line, key_column, "", "no source key: the row cannot be identified")
            )
        elif len(key) > 255:
            prepared.rejections.append(
                (raw.line, key_column, key, "the source key is longer than 255 characters")
            )
        elif key in prepared.candidates:
            prepared.rejections.append(
                (
                    raw.line,
                    key_column,
                    key,
                    f"source key {key!r} already appeared at line {prepared.candidates[key].line}; "
                    "this row was not imported",
                )
            )
        elif not row_identifies_party(item.row):
            prepared.rejections.append(
                (
                    raw.line,
                    "",
                    "",
                    "nothing identifies a party: no name, organization name, email, phone or identifier",
                )
            )
        else:
            plan = record_plan(item, source=source, job_id=job_id, seen_at=now)
            prepared.candidates[key] = Candidate(
                raw.line, item.content_hash, len(item.row.problems), plan_render(plan, now=now)
            )
    return prepared


def _records_touch(records: Sequence[SourceRecord], *, job: ImportJob, now: datetime) -> None:
    """Mark unchanged records as seen by this job, at their line of this file, in one
    statement (``bulk_update``'s CASE expressions cost more than the whole import)."""
    if not records:
        return
    table = connection.ops.quote_name(SourceRecord._meta.db_table)
    values = ", ".join(["(%s, %s)"] * len(records))
    params: list = [now, job.pk]
    for record in records:
        params += [record.pk, record.import_line]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH v(id, line) AS (VALUES {values}) "  # noqa: S608 - only placeholders are formatted in
            f"UPDATE {table} SET last_seen_at = %s, last_import_job_id = %s, import_line = v.line "
            f"FROM v WHERE {table}.id = v.id",
            params[2:] + params[:2],
        )


def party_batch_import(
    *,
    job: ImportJob,
    source: SourceSystem,
    rows: Sequence[RawRow],
    mapping: Columns,
    prepared: PreparedBatch | None = None,
) -> BatchResult:
    """Upsert one batch: new keys become parties, changed rows update their source record and
    golden record, unchanged rows only get their last-seen time. Runs inside the caller's
    transaction together with the job's cursor update."""
    now = timezone.now()
    if prepared is None:
        prepared = party_batch_prepare(rows, mapping, source, job.pk, now)
    candidates = prepared.candidates
    rejections = [
        ImportRejection(job=job, line=line, column=column[:255], value=value[:2000], reason=reason[:500])
        for line, column, value, reason in prepared.rejections
    ]
    key_column = mapping_source_column(mapping, "source_key")

    existing = {
        r.source_key: r
        for r in SourceRecord.objects.filter(source_system=source, source_key__in=list(candidates)).only(
            "id", "source_key", "content_hash", "party_id", "last_import_job_id", "import_line"
        )
    }
    # an erased customer's records keep a placeholder key ("erased-<id>"): a row naming it
    # must not give the erased party a name, an email or anything else again
    erased = set(
        Party.objects.filter(
            pk__in={r.party_id for r in existing.values()}, erased_at__isnull=False
        ).values_list("pk", flat=True)
    )
    new_keys, changed, unchanged = [], [], []
    for key, candidate in candidates.items():
        record = existing.get(key)
        if record is None:
            new_keys.append(key)
        elif record.party_id in erased:
            rejections.append(
                ImportRejection(
                    job=job,
                    line=candidate.line,
                    column=key_column[:255],
                    value=key,
                    reason=f"source key {key!r} belongs to a customer erased on request (right to be "
                    "forgotten); this row was not imported",
                )
            )
        elif record.last_import_job_id == job.pk and record.import_line != candidate.line:
            rejections.append(
                ImportRejection(
                    job=job,
                    line=candidate.line,
                    column=key_column[:255],
                    value=key,
                    reason=f"source key {key!r} already appeared at line {record.import_line}; "
                    "this row was not imported",
                )
            )
        elif record.content_hash == candidate.content_hash:
            record.last_seen_at, record.last_import_job, record.import_line = now, job, candidate.line
            unchanged.append(record)
        else:
            changed.append((record, candidate))

    # Parties first (the lock order: parties_lock's docstring): the changed rows' parties are
    # locked in primary-key order before any source record is written, as a merge does.
    changed.sort(key=lambda item: (item[0].party_id, item[0].pk))
    list(
        Party.objects.select_for_update(no_key=connection.features.has_select_for_no_key_update)
        .filter(pk__in=sorted({record.party_id for record, _ in changed}))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    created = plans_write(new_keys, [candidates[k].plan for k in new_keys], now=now)
    actor = f"import #{job.pk}"
    outbox.parties_created_events(party_ids=[r.party_id for r in created], actor=actor, source_id=source.pk)
    _records_touch(unchanged, job=job, now=now)
    changed_party_ids = [r.party_id for r in created]
    if changed:
        # Changed rows are rare in bulk loads: standardize them again here rather than
        # shipping every row's full standardization back from the pool.
        raw_by_line = {raw.line: raw for raw in rows}
        full = SourceRecord.objects.select_related("source_system").in_bulk(
            [record.pk for record, _ in changed]
        )
        for record, candidate in changed:
            record = full[record.pk]
            item = _standardized(raw_by_line[candidate.line], mapping, source)
            source_record_update(record=record, item=item, seen_at=now, job=job)
            party = party_golden_refresh(party_id=record.party_id)
            outbox.party_updated_event(
                party_id=record.party_id, fields=party.golden_changed, actor=actor, source_id=source.pk
            )
            changed_party_ids.append(record.party_id)
    ImportRejection.objects.bulk_create(rejections)
    issues = sum(candidates[k].problems for k in new_keys) + sum(c.problems for _, c in changed)
    return BatchResult(
        created=len(created),
        updated=len(changed),
        unchanged=len(unchanged),
        rejected=len(rejections),
        issues=issues,
        changed_party_ids=changed_party_ids,
    )


PARTIES_KIND = ImportKind(
    name="parties",
    label="Customers (parties)",
    columns=CANONICAL_COLUMNS,
    required=("source_key",),
    synonyms=SYNONYMS,
    handle_batch=party_batch_import,
    prepare_batch=party_batch_prepare,
    description="One row per customer record: names, birth date, emails, phones, address, an identifier.",
    example_path="parties/examples/parties_canonical.csv",
    extra={"joined": JOINED},
)

__all__ = ["PARTIES_KIND", "PreparedBatch", "party_batch_import", "party_batch_prepare"]
