from __future__ import annotations

from django import forms

from consents.models import PrivacyPreference


class PreferencesForm(forms.ModelForm):
    interests = forms.CharField(required=False, help_text="Comma-separated, e.g. running, cycling",
                                max_length=500)
    capture_source = forms.CharField(max_length=200, help_text="Where the customer said so.")

    class Meta:
        model = PrivacyPreference
        fields = ["do_not_process", "do_not_profile", "do_not_track", "do_not_solicit",
                  "preferred_channel", "preferred_language", "contact_frequency", "interests"]

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

    channel = forms.ChoiceField(choices=[("email", "Email"), ("sms", "SMS"), ("phone", "Phone"),
                                         ("mail", "Mail")])
    purpose = forms.ModelChoiceField(queryset=_Purpose.objects.filter(is_active=True), to_field_name="code",
                                     empty_label=None)
    on = forms.DateField(label="On", widget=forms.DateInput(attrs={"type": "date"}))
    lookup = forms.CharField(required=False, max_length=320, label="Why (not)? Email or phone",
                             widget=forms.TextInput(attrs={"placeholder": "e.g. ann@example.com"}))

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
        max_length=200, label="Request reference",
        help_text="Where the request came from, e.g. ticket PRIV-1234 (no personal data: it stays "
                  "in the audit trail).")
    confirm = forms.CharField(max_length=20, label="Type the party's id to confirm")

    def __init__(self, *args, party_id: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.party_id = party_id

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"].strip()
        if value != str(self.party_id):
            raise forms.ValidationError(
                f"type {self.party_id} to confirm the erasure of party {self.party_id}")
        return value
