"""Forms of the webhook pages. They read the input; the services judge it (their errors are
put on the field they name)."""

from __future__ import annotations

from django import forms

from c360.webhooks.models import DeliveryStatus
from c360.webhooks.selectors import EVENT_TYPE_GROUPS


class SubscriberForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Which system listens, e.g. “CRM sync”.")
    # a plain text field: the service says what is wrong with a URL (scheme, host, credentials)
    url = forms.CharField(
        label="URL",
        max_length=500,
        help_text="Where deliveries are POSTed: http:// or https://, no user name or password in it.",
        widget=forms.URLInput(attrs={"placeholder": "https://crm.example.com/c360-hooks"}),
    )
    event_types = forms.MultipleChoiceField(
        label="Event types",
        choices=EVENT_TYPE_GROUPS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every type, including types added later.",
    )

    def apply_errors(self, exc) -> None:
        """A service's ValidationError on the fields it names (anything else above the form)."""
        for field, messages in exc.message_dict.items():
            self.add_error(field if field in self.fields else None, messages)


class DeliveryFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", "Any status"), *DeliveryStatus.choices], required=False, label="Status"
    )
    type = forms.ChoiceField(
        choices=[("", "Any type"), *EVENT_TYPE_GROUPS], required=False, label="Event type"
    )
