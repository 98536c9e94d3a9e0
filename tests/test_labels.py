"""People's words instead of field names and codes (issue 18, item 9): c360.kernel.labels and the
``labels`` template filters, and the pages that use them."""

from __future__ import annotations

import pytest
from django.template import Context, Template

from c360.kernel.labels import field_label, humanize, value_label


def test_field_names_read_as_words():
    assert field_label("given_name") == "Given name"
    assert field_label("address_line1") == "Street address"
    assert field_label("trust_rank") == "Trust rank"
    assert field_label("landing_page") == "Landing page"  # not listed: turned into words
    assert humanize("address_line2") == "Address line 2"


@pytest.mark.django_db
def test_stored_codes_read_as_their_choice_labels():
    assert value_label("non_binary") == "Non-binary"
    assert value_label("opt_in") == "Opted in"
    assert value_label("trust_rank") == "Source trust rank"  # the survivorship rule
    assert value_label("no_show") == "No show"
    assert value_label("Anna Maria") == "Anna Maria"  # a value that is no code stays as it is
    assert value_label("anna@example.com") == "anna@example.com"
    assert value_label(None) == ""


@pytest.mark.django_db
def test_the_template_filters():
    template = Template('{% load labels %}{{ "address_line1"|field_label }}|{{ "non_binary"|value_label }}')
    html = template.render(Context())
    assert html == "Street address|Non-binary"
