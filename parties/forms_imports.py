"""Forms of the import pages: upload a file, map its columns."""

from __future__ import annotations

from django import forms
from django.utils.html import format_html_join

from parties.extensions import ImportKind, import_kinds
from parties.models import SourceSystem
from parties.models.sources import DateOrder


class ImportUploadForm(forms.Form):
    source = forms.ModelChoiceField(
        queryset=SourceSystem.objects.filter(is_active=True),
        required=False,
        empty_label="— choose —",
        label="Source system",
    )
    new_source = forms.CharField(
        max_length=100,
        required=False,
        label="…or a new source system",
        help_text="Registered when you start the import (not before): adjust its trust rank later.",
    )
    new_source_region = forms.CharField(
        max_length=2,
        required=False,
        label="Phone region of the new source",
        widget=forms.TextInput(attrs={"placeholder": "e.g. DE, FR, US", "size": 4}),
        help_text="ISO country code used to read phone numbers written without +country.",
    )
    new_source_date_order = forms.ChoiceField(
        choices=[("", "— choose —"), *DateOrder.choices],
        required=False,
        label="Date order of the new source",
        help_text="How the file writes dates such as 03/04/1980.",
    )
    kind = forms.ChoiceField(label="File kind")
    file = forms.FileField(
        label="File",
        help_text="CSV (any delimiter; UTF-8 or Windows-1252), XLSX or JSON Lines.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,.xlsx,.jsonl,.ndjson,.json"}),
    )

    def __init__(
        self, *args, kinds: list[ImportKind] | None = None, may_add_source: bool = True, **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        kinds = import_kinds() if kinds is None else kinds
        self.fields["kind"].choices = [(k.name, k.label) for k in kinds]
        self.fields["kind"].initial = "parties"  # customer files are the common case
        self.may_add_source = may_add_source
        if not may_add_source:
            for name in ("new_source", "new_source_region", "new_source_date_order"):
                del self.fields[name]

    def clean(self):
        data = super().clean()
        source, new_source = data.get("source"), (data.get("new_source") or "").strip()
        if not self.may_add_source and not source:
            self.add_error("source", "Choose the source system this file comes from.")
            return data
        if source and new_source:
            self.add_error("new_source", "Choose an existing source system or name a new one, not both.")
        elif not source and not new_source:
            self.add_error("source", "Choose the source system this file comes from (or name a new one).")
        elif new_source and SourceSystem.objects.filter(name__iexact=new_source).exists():
            self.add_error(
                "new_source", f"A source system named {new_source!r} already exists; choose it above."
            )
        data["new_source"] = new_source
        region = (data.get("new_source_region") or "").strip().upper()
        if new_source:
            import phonenumbers

            # asked, never assumed: a German list read as US numbers and Y/M/D dates goes wrong
            if not region:
                self.add_error(
                    "new_source_region",
                    "Say which country's phone numbers the new source holds (for example DE, FR, US).",
                )
            elif region not in phonenumbers.SUPPORTED_REGIONS:
                self.add_error(
                    "new_source_region",
                    f"{region!r} is not an ISO country code phone numbers know (for example US, DE, GB).",
                )
            if not data.get("new_source_date_order"):
                self.add_error(
                    "new_source_date_order", "Say how the new source writes dates (day/month/year, …)."
                )
        data["new_source_region"] = region
        return data

    def new_source_settings(self) -> dict | None:
        """The source system to register when the import starts, or None (an existing one)."""
        if not self.cleaned_data.get("new_source"):
            return None
        return {
            "name": self.cleaned_data["new_source"],
            "default_region": self.cleaned_data["new_source_region"],
            "date_order": self.cleaned_data["new_source_date_order"],
        }


IGNORE = ""


def target_label(target: str) -> str:
    """``"address_line1"`` → ``"Address line 1"``: a field as people read it."""
    text = target.replace("_", " ")
    if text[-1:].isdigit() and text[-2:-1] != " ":
        text = f"{text[:-1]} {text[-1]}"
    return text[:1].upper() + text[1:]


class ImportMappingForm(forms.Form):
    """One select per file column: the canonical field it feeds, or ignore. Columns sent to
    the same field are joined in file order (street number + street name)."""

    save_mapping = forms.BooleanField(
        required=False, initial=True, label="Remember this mapping for the next file from this source"
    )

    def __init__(self, *args, headers: list[str], kind: ImportKind, mapping: dict, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.headers = headers
        target_of = {column: target for target, columns in mapping.items() for column in columns}
        choices = [(IGNORE, "— ignore —")] + [(c, target_label(c)) for c in kind.columns]
        for index, header in enumerate(headers):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                choices=choices, required=False, label=header, initial=target_of.get(header, IGNORE)
            )

    def column_fields(self):
        return [(header, self[f"col_{index}"]) for index, header in enumerate(self.headers)]

    def columns_for_template(
        self,
        samples: list[dict[str, str]] | None = None,
        warnings: dict | None = None,
        confirmed: set[str] | None = None,
    ) -> list[dict]:
        """One row per file column: its header, field name, id, ``<option>`` elements, a few
        sample values, the warning if it is ignored but looks like customer data, and whether
        that was confirmed. The options differ only in which one is selected, so each variant
        is rendered once: the page takes time linear in the number of columns."""
        rendered: dict[str, str] = {}
        columns = []
        for index, (header, field) in enumerate(self.column_fields()):
            current = field.value() or IGNORE
            if current not in rendered:
                rendered[current] = format_html_join(
                    "",
                    '<option value="{}"{}>{}</option>',
                    (
                        (value, " selected" if value == current else "", label)
                        for value, label in field.field.choices
                    ),
                )
            values = [v for row in samples or () if (v := (row.get(header) or "").strip())]
            columns.append(
                {
                    "index": index,
                    "header": header,
                    "name": field.html_name,
                    "id": field.auto_id,
                    "options": rendered[current],
                    "ignored": current == IGNORE,
                    "samples": list(dict.fromkeys(values))[:3],
                    "warning": (warnings or {}).get(header),
                    "confirmed": header in (confirmed or set()),
                }
            )
        return columns

    def mapping(self) -> dict[str, list[str]]:
        mapping: dict[str, list[str]] = {}
        for index, header in enumerate(self.headers):
            target = self.cleaned_data.get(f"col_{index}") or IGNORE
            if target != IGNORE:
                mapping.setdefault(target, []).append(header)
        return mapping
