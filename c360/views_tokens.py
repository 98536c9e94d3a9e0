"""The administrators' page of API tokens: create one (shown once), revoke one."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from c360.api_tokens import api_token_create, api_token_revoke
from c360.kernel.roles import ROLE_NAMES
from c360.kernel.text import sentence, validation_text
from c360.models import ApiToken


class TokenForm(forms.Form):
    name = forms.SlugField(
        max_length=60, label="Client system", help_text="e.g. crm-sync, webshop, email-platform"
    )
    role = forms.ChoiceField(choices=[(r, r) for r in ROLE_NAMES], label="Acts with the role")


@permission_required("c360.view_apitoken", raise_exception=True)
def api_tokens(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    new_key = None
    if request.method == "POST":
        if not request.user.has_perm("c360.add_apitoken"):
            return render(request, "errors/403.html", status=403)
        if form.is_valid():
            try:
                token, new_key = api_token_create(
                    created_by=request.user, request=request, **form.cleaned_data
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(
                    request, f"Token for {token.name} created. Copy it now: it is not shown again."
                )
                form = TokenForm()
    return render(
        request,
        "api_tokens.html",
        {
            "form": form,
            "new_key": new_key,
            "tokens": ApiToken.objects.select_related("created_by", "revoked_by"),
            "can_change": request.user.has_perm("c360.change_apitoken"),
        },
    )


@require_POST
@permission_required("c360.change_apitoken", raise_exception=True)
def api_token_revoke_view(request: HttpRequest, name: str) -> HttpResponse:
    try:
        api_token_revoke(name=name, revoked_by=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, sentence(validation_text(exc)))
    else:
        messages.success(request, f"The token of {name} is revoked: its requests are refused from now on.")
    return redirect("api_tokens")
