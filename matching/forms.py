"""Forms of matching."""

from __future__ import annotations

from django import forms

from matching.models import MatchSettings
from matching.rules import RULES_BY_CODE, STANDARD_RULES


class ThresholdsForm(forms.ModelForm):
    class Meta:
        model = MatchSettings
        fields = ["review_threshold", "auto_merge_threshold"]
        widgets = {"review_threshold": forms.NumberInput(attrs={"step": "0.01", "min": "0.2",
                                                                "max": "0.99"}),
                   "auto_merge_threshold": forms.NumberInput(attrs={"step": "0.01", "min": "0.2",
                                                                    "max": "1"})}

    def clean_review_threshold(self) -> float:
        value = self.cleaned_data["review_threshold"]
        if not 0.2 <= value < 1:
            raise forms.ValidationError(
                "Must be at least 0.2 (lower scores are dropped before clustering) and below 1.")
        return value

    def clean(self) -> dict:
        data = super().clean()
        review, auto = data.get("review_threshold"), data.get("auto_merge_threshold")
        if auto is not None:
            if not 0 < auto <= 1:
                self.add_error("auto_merge_threshold", "Must be above 0 and at most 1, or empty.")
            elif review is not None and auto <= review:
                self.add_error("auto_merge_threshold",
                               f"Must be above the review threshold ({review}), or empty.")
        return data


class BlockingRulesForm(forms.Form):
    """The standard blocking rules to keep on (the boxes ticked). Codes are checked by the
    service (``match_settings_rules_set``), which names any it does not know."""

    rules_on = forms.Field(required=False, widget=forms.CheckboxSelectMultiple)

    def codes_off(self) -> list[str]:
        on = set(self.cleaned_data.get("rules_on") or [])
        unknown = sorted(on - set(RULES_BY_CODE))  # passed on: the service names them
        return [rule.code for rule in STANDARD_RULES if rule.code not in on] + unknown
