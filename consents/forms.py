from __future__ import annotations

from django import forms

from consents.models import PrivacyPreference, Segment


class PreferencesForm(forms.ModelForm):
    interests = forms.CharField(
        required=False, help_text="Comma-separated, e.g. running, cycling", max_length=500
    )
    capture_source = forms.CharField(max_length=200, help_text="Where the customer said so.")

    class Meta:
        model = PrivacyPreference
        fields = [
            "do_not_process",
            "do_not_profile",
            "do_not_track",
            "do_not_solicit",
            "preferred_channel",
            "preferred_language",
            "contact_frequency",
            "interests",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance and self.instance.pk:
            self.initial["interests"] = ", ".join(self.instance.interests or [])

    def clean_interests(self) -> list[str]:
        return [w.strip() for w in self.cleaned_data["interests"].split(",") if w.strip()]

    def clean_preferred_language(self) -> str:
        value = self.cleaned_data["preferred_language"].strip()
        if value and not all(part.isalnum() for part in value.split("-")):
            raise forms.ValidationError(f"{value!r} is not a language tag like de or de-AT")
        return value


class EligibilityForm(forms.Form):
    from consents.models import DataUsePurpose as _Purpose

    channel = forms.ChoiceField(
        choices=[("email", "Email"), ("sms", "SMS"), ("phone", "Phone"), ("mail", "Mail")]
    )
    purpose = forms.ModelChoiceField(
        queryset=_Purpose.objects.filter(is_active=True), to_field_name="code", empty_label=None
    )
    on = forms.DateField(label="On", widget=forms.DateInput(attrs={"type": "date"}))
    lookup = forms.CharField(
        required=False,
        max_length=320,
        label="Why (not)? Email or phone",
        widget=forms.TextInput(attrs={"placeholder": "e.g. ann@example.com"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        from django.utils import timezone

        super().__init__(*args, **kwargs)
        self.fields["on"].initial = timezone.localdate()

    def points_for(self, text: str) -> list:
        from parties.models import ContactPointAddress, ContactPointEmail, ContactPointPhone

        channel = self.cleaned_data["channel"]
        text = text.strip()
        if channel == "email":
            return list(ContactPointEmail.objects.filter(normalized=text.lower()).select_related("party"))
        if channel in ("sms", "phone"):
            condition = ContactPointPhone.matching_digits(text)
            if condition is None:
                return []
            phones = ContactPointPhone.with_last9().filter(condition)
            return list(phones.select_related("party")[:20])
        return list(ContactPointAddress.objects.filter(postal_code=text.upper()).select_related("party")[:20])


class ErasureForm(forms.Form):
    """The erasure confirmation: the request's reference and the party's id typed again."""

    request_reference = forms.CharField(
        max_length=200,
        label="Request reference",
        help_text="Where the request came from, e.g. ticket PRIV-1234 (no personal data: it stays "
        "in the audit trail).",
    )
    confirm = forms.CharField(max_length=20, label="Type the party's id to confirm")

    def __init__(self, *args, party_id: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.party_id = party_id

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"].strip()
        if value != str(self.party_id):
            raise forms.ValidationError(
                f"type {self.party_id} to confirm the erasure of party {self.party_id}"
            )
        return value


class SegmentForm(forms.ModelForm):
    """A segment's name and filters. The rules between fields (min ≤ max, a purpose with a
    channel, after before before) are the model's, so the service enforces the same."""

    tier = forms.ChoiceField(
        required=False, label="Membership tier", help_text="Has an active membership of this tier."
    )

    class Meta:
        model = Segment
        fields = ["name", "description", *Segment.FILTER_FIELDS]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "country": forms.TextInput(
                attrs={"placeholder": "e.g. DE", "size": 4, "maxlength": 2, "autocapitalize": "characters"}
            ),
            "ltv_min": forms.NumberInput(attrs={"step": "0.01", "placeholder": "e.g. 500"}),
            "ltv_max": forms.NumberInput(attrs={"step": "0.01"}),
            "orders_min": forms.NumberInput(attrs={"placeholder": "e.g. 3"}),
            "last_engagement_after": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "last_engagement_before": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }
        labels = {
            "country": "Country",
            "source_system": "Source system",
            "valid_email": "Email",
            "consent_channel": "Opted in on",
            "consent_purpose": "for the purpose",
            "ltv_min": "Lifetime value ≥",
            "ltv_max": "Lifetime value ≤",
            "orders_min": "Orders ≥",
            "orders_max": "Orders ≤",
            "last_engagement_after": "Last engagement on or after",
            "last_engagement_before": "Last engagement before",
        }
        help_texts = {"source_system": "", "country": "Of an active postal address."}

    def __init__(self, *args, **kwargs) -> None:
        from parties.models import Membership

        super().__init__(*args, **kwargs)
        tiers = sorted(
            set(Membership.objects.exclude(tier="").order_by().values_list("tier", flat=True).distinct())
            | ({self.instance.tier} - {""}),
            key=str.lower,
        )
        self.fields["tier"].choices = [("", "Any tier"), *((t, t) for t in tiers)]
        self.fields["source_system"].empty_label = "Any source system"
        self.fields["consent_purpose"].empty_label = "Any purpose"
        purpose = self.fields["consent_purpose"]
        purpose.queryset = purpose.queryset.filter(is_active=True)
        for name, anything in (("consent_channel", "Any channel"), ("valid_email", "Any")):
            self.fields[name].choices = [("", anything), *self.fields[name].choices[1:]]

    def clean_country(self) -> str:
        return self.cleaned_data["country"].strip().upper()

    @property
    def filter_errors(self) -> dict:
        """The errors that concern the filters (the preview ignores a missing or taken name)."""
        return {k: v for k, v in self.errors.items() if k not in ("name", "description")}

    def filters(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in Segment.FILTER_FIELDS}


class SegmentExportForm(EligibilityForm):
    """Which eligibility list to draw from the segment: channel, purpose, date."""

    lookup = None
