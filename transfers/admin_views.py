"""The admin's import page and export links, on the patients and interactions change
lists. The page calls the same service as the API (``transfers.services.import_submit``);
the export links are the API's export endpoints (the admin session authenticates them).

The hook is additive and lives here: the ImportJob admin's ``get_urls`` serves
``/admin/transfers/importjob/import/<kind>/``, and the buttons come from
``templates/admin/{patients/patient,interactions/interaction}/change_list.html``, which
Django's admin picks up by name without touching the host apps' ModelAdmins.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from core.actors import actor_of
from core.errors import ApiError
from core.permissions import Role, role_of
from transfers.formats import FileRejected
from transfers.importing import ImportOptions
from transfers.models import ImportJob
from transfers.services import import_submit

KINDS = {"patients": "patients", "interactions": "interactions"}


class ImportForm(forms.Form):
    file = forms.FileField(help_text="CSV (header row), a JSON array or NDJSON.")
    mode = forms.ChoiceField(
        choices=[("create", "Create"), ("upsert", "Upsert (patients: update by MRN/external id)")]
    )
    on_error = forms.ChoiceField(
        choices=[("abort", "All or nothing"), ("skip", "Skip invalid rows")],
        label="On error",
    )
    dry_run = forms.BooleanField(required=False, label="Dry run (validate only)")
    ignore_unknown_columns = forms.BooleanField(required=False)
    keep_mrn = forms.BooleanField(required=False, label="Keep the file's MRNs")


def import_view(
    model_admin: admin.ModelAdmin[ImportJob], request: HttpRequest, kind: str
) -> HttpResponse:
    if kind not in KINDS:
        raise Http404
    if role_of(request.user) < Role.ADMIN:
        raise PermissionDenied
    form = ImportForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {
        **model_admin.admin_site.each_context(request),
        "title": f"Import {kind}",
        "kind": kind,
        "form": form,
        "opts": model_admin.model._meta,
        "export_url": reverse(f"api:{'patient' if kind == 'patients' else 'interaction'}-export"),
    }
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        options = ImportOptions(
            dry_run=form.cleaned_data["dry_run"],
            mode=form.cleaned_data["mode"],
            on_error=form.cleaned_data["on_error"],
            ignore_unknown_columns=form.cleaned_data["ignore_unknown_columns"],
            keep_mrn=form.cleaned_data["keep_mrn"],
        )
        try:
            outcome = import_submit(
                kind=kind,
                data=upload.read(),
                file_name=upload.name or "",
                options=options,
                actor=actor_of(request),
                request=request,
            )
        except FileRejected as exc:
            context["problem"] = f"{exc.code}: {exc.detail}"
        except ApiError as exc:
            context["problem"] = f"{exc.error_code}: {exc.detail}"
        else:
            if isinstance(outcome, ImportJob):
                context["job"] = outcome
                context["job_url"] = reverse("admin:transfers_importjob_change", args=[outcome.pk])
            else:
                context["report"] = outcome.as_dict()
    return TemplateResponse(request, "admin/transfers/import.html", context)


def import_urls(model_admin: admin.ModelAdmin[ImportJob]) -> list[URLPattern]:
    view = model_admin.admin_site.admin_view
    return [
        path(
            "import/<str:kind>/",
            view(lambda request, kind: import_view(model_admin, request, kind)),
            name="transfers_import",
        )
    ]
