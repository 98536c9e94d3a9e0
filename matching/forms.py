"""Forms of matching."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from matching.models import MatchSettings
from matching.rules import RULES_BY_CODE, STANDARD_RULES
from matching.services.thresholds import match_settings_validate


class ThresholdsForm(forms.ModelForm):
    class Meta:
        model = MatchSettings
        fields = ["review_threshold", "auto_merge_threshold"]
        widgets = {
            "review_threshold": forms.NumberInput(attrs={"step": "0.01", "min": "0.2", "max": "0.99"}),
            "auto_merge_threshold": forms.NumberInput(attrs={"step": "0.01", "min": "0.2", "max": "1"}),
        }

    def clean(self) -> dict:
        """The thresholds' rules are the service's (``match_settings_validate``); the form
        shows what it refuses next to each field (the page and the admin)."""
        data = super().clean()
        try:
            match_settings_validate(
                review_threshold=data.get("review_threshold"),
                auto_merge_threshold=data.get("auto_merge_threshold"),
            )
        except ValidationError as exc:
            self.add_error(None, exc)
        return data


class BlockingRulesForm(forms.Form):
    """The standard blocking rules to keep on (the boxes ticked). Codes are checked by the
    service (``match_settings_rules_set``), which names any it does not know."""

    rules_on = forms.Field(required=False, widget=forms.CheckboxSelectMultiple)

    def codes_off(self) -> list[str]:
        on = set(self.cleaned_data.get("rules_on") or [])
        unknown = sorted(on - set(RULES_BY_CODE))  # passed on: the service names them
        return [rule.code for rule in STANDARD_RULES if rule.code not in on] + unknown
