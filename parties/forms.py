from __future__ import annotations

from django import forms

from parties.models import SourceSystem


class SourceSystemForm(forms.ModelForm):
    class Meta:
        model = SourceSystem
        fields = [
            "name",
            "kind",
            "data_category",
            "trust_rank",
            "default_region",
            "date_order",
            "description",
            "is_active",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def clean_default_region(self) -> str:
        import phonenumbers

        region = self.cleaned_data["default_region"].strip().upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise forms.ValidationError(
                f"{region!r} is not an ISO 3166 alpha-2 region that phone numbers know "
                "(for example US, DE, GB)."
            )
        return region


class SurvivorshipRulesForm(forms.Form):
    """One rule per golden attribute."""

    def __init__(self, *args, **kwargs) -> None:
        from parties.models import GOLDEN_ATTRIBUTE_CHOICES, Rule, SurvivorshipRule

        super().__init__(*args, **kwargs)
        current = dict(SurvivorshipRule.objects.values_list("attribute", "rule"))
        for attribute, label in GOLDEN_ATTRIBUTE_CHOICES:
            self.fields[attribute] = forms.ChoiceField(
                label=label, choices=Rule.choices, initial=current.get(attribute, Rule.TRUST_RANK)
            )
