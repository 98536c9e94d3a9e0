"""c360.kernel.params: the one way ids and free text are read from requests."""

from __future__ import annotations

import pytest

from c360.kernel.params import ID_MAX, BadParameter, IdConverter, parse_id, parse_ids, parse_text


@pytest.mark.parametrize(
    "value",
    [
        "²",
        "٣",
        "1²",
        "-1",
        "+1",
        "1.0",
        "0x10",
        "1_000",
        "one",
        str(ID_MAX + 1),
        str(10**30),
        "0",
        0,
        10**30,
        True,
        1.5,
    ],
)
def test_parse_id_refuses_what_is_not_an_id_a_column_can_hold(value):
    with pytest.raises(BadParameter) as refused:
        parse_id(value, name="source")
    assert str(refused.value).startswith("source: ")


@pytest.mark.parametrize(
    ("value", "expected"), [("12", 12), (" 7 ", 7), (12, 12), (str(ID_MAX), ID_MAX), ("", None), (None, None)]
)
def test_parse_id_reads_ids(value, expected):
    assert parse_id(value, name="source") == expected


def test_parse_id_required_says_so():
    with pytest.raises(BadParameter, match="pair: this parameter is required"):
        parse_id("", name="pair", required=True)


def test_parse_ids_keeps_order_skips_empty_and_refuses_the_list_for_one_bad_id():
    assert parse_ids(["3", "", "1", "3"], name="records") == [3, 1]
    with pytest.raises(BadParameter, match="records: '²'"):
        parse_ids(["3", "²"], name="records")


def test_parse_text_refuses_nul_and_overlong_text():
    assert parse_text("  ann  ", name="q") == "ann"
    assert parse_text(None, name="q") == ""
    with pytest.raises(BadParameter, match="q: contains a NUL character"):
        parse_text("ann\x00", name="q")
    with pytest.raises(BadParameter, match="q: is 10,000 characters long; at most 2,000"):
        parse_text("x" * 10_000, name="q")
    assert len(parse_text("x" * 10_000, name="q", max_length=None)) == 10_000


def test_id_converter_refuses_ids_no_column_holds():
    converter = IdConverter()
    assert converter.to_python(str(ID_MAX)) == ID_MAX
    with pytest.raises(ValueError):
        converter.to_python("9" * 19)


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/parties/search/?q=%00", "/dashboard/issues/?source=%C2%B2"])
def test_a_bad_parameter_gets_the_400_page_naming_it_with_debug_on_too(client, settings, url):
    # make run serves with DEBUG on: a mistyped address must not show Django's technical page
    # (whose inline scripts the Content-Security-Policy blocks)
    from tests.factories import UserFactory

    settings.DEBUG = True
    client.force_login(UserFactory(is_superuser=True))

    response = client.get(url)

    assert response.status_code == 400
    assert response.templates and response.templates[0].name == "errors/400.html"
    assert "This request cannot be used" in response.content.decode()
