"""Forms of the import pages: upload a file, map its columns."""

from __future__ import annotations

from django import forms
from django.utils.html import format_html_join

from parties.extensions import ImportKind, import_kinds
from parties.models import SourceSystem
from parties.models.sources import DateOrder


class ImportUploadForm(forms.Form):
    source = forms.ModelChoiceField(
        queryset=SourceSystem.objects.filter(is_active=True), required=False,
        empty_label="— choose —", label="Source system")
    new_source = forms.CharField(
        max_length=100, required=False, label="…or a new source system",
        help_text="Registered with default settings; adjust its trust rank and phone region later.")
    new_source_region = forms.CharField(
        max_length=2, required=False, initial="US", label="Phone region of the new source",
        help_text="ISO country code used to read phone numbers written without +country.")
    new_source_date_order = forms.ChoiceField(
        choices=DateOrder.choices, initial=DateOrder.YMD, required=False,
        label="Date order of the new source")
    kind = forms.ChoiceField(label="File kind")
    file = forms.FileField(
        label="File", help_text="CSV (any delimiter; UTF-8 or Windows-1252), XLSX or JSON Lines.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,.xlsx,.jsonl,.ndjson,.json"}))

    def __init__(self, *args, kinds: list[ImportKind] | None = None, may_add_source: bool = True,
                 **kwargs) -> None:
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
            self.add_error("new_source",
                           f"A source system named {new_source!r} already exists; choose it above.")
        data["new_source"] = new_source
        region = (data.get("new_source_region") or "US").strip().upper()
        if new_source:
            import phonenumbers

            if region not in phonenumbers.SUPPORTED_REGIONS:
                self.add_error("new_source_region", f"{region!r} is not an ISO country code phone "
                                                    "numbers know (for example US, DE, GB).")
        data["new_source_region"] = region
        data["new_source_date_order"] = data.get("new_source_date_order") or DateOrder.YMD
        return data


IGNORE = ""


class ImportMappingForm(forms.Form):
    """One select per file column: the canonical field it feeds, or ignore. Columns sent to
    the same field are joined in file order (street number + street name)."""

    save_mapping = forms.BooleanField(
        required=False, initial=True, label="Remember this mapping for the next file from this source")

    def __init__(self, *args, headers: list[str], kind: ImportKind, mapping: dict, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.headers = headers
        target_of = {column: target for target, columns in mapping.items() for column in columns}
        choices = [(IGNORE, "— ignore —")] + [(c, c) for c in kind.columns]
        for index, header in enumerate(headers):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                choices=choices, required=False, label=header, initial=target_of.get(header, IGNORE))

    def column_fields(self):
        return [(header, self[f"col_{index}"]) for index, header in enumerate(self.headers)]

    def columns_for_template(self) -> list[tuple[str, str, str, str]]:
        """``(header, field name, field id, its <option> elements)`` per column. The options
        differ only in which one is selected, so each variant is rendered once: the page takes
        time linear in the number of columns, and little of it per column."""
        rendered: dict[str, str] = {}
        columns = []
        for header, field in self.column_fields():
            current = field.value() or IGNORE
            if current not in rendered:
                rendered[current] = format_html_join(
                    "", '<option value="{}"{}>{}</option>',
                    ((value, " selected" if value == current else "", label)
                     for value, label in field.field.choices))
            columns.append((header, field.html_name, field.auto_id, rendered[current]))
        return columns

    def mapping(self) -> dict[str, list[str]]:
        mapping: dict[str, list[str]] = {}
        for index, header in enumerate(self.headers):
            target = self.cleaned_data.get(f"col_{index}") or IGNORE
            if target != IGNORE:
                mapping.setdefault(target, []).append(header)
        return mapping
