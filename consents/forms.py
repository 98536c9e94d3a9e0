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
