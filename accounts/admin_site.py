"""The admin console's site: sign-in with a TOTP second factor (django-otp).

* A staff account with a confirmed TOTP device signs in with username, password and
  the current 6-digit code, in one form. A wrong code counts as a failed sign-in for
  the lockout (accounts.lockout), exactly like a wrong password, with the same message.
* With ``ADMIN_REQUIRE_2FA`` (true under production settings) every staff account
  (Admin role, superusers) must have one: after the password, an account without a
  device is sent to ``<admin>/otp/enrol/`` and can open nothing else until it has
  scanned the QR code and confirmed a code. Without the setting, enrolling is optional
  but, once done, the code is always asked for.
* An Admin resets someone's second factor by deleting their device under "TOTP devices".
"""

from __future__ import annotations

import base64
import io
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils.decorators import method_decorator
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.qr import write_qrcode_image

BAD_SIGN_IN = (
    "Please enter the correct username, password and authenticator code for a staff "
    "account. Note that the fields may be case-sensitive."
)


def _has_device(user: Any) -> bool:
    """``user_has_device``, memoised on the request's user: the admin asks it several times
    per page (``has_permission`` runs for the view and again for the page context)."""
    cached = getattr(user, "_clinic_has_device", None)
    if cached is None:
        cached = user_has_device(user)
        user._clinic_has_device = cached
    return bool(cached)


def second_factor_required(user: Any) -> bool:
    """Whether ``user`` may only use the admin after a TOTP code."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    return bool(settings.ADMIN_REQUIRE_2FA) or _has_device(user)


def needs_enrolment(user: Any) -> bool:
    return (
        bool(settings.ADMIN_REQUIRE_2FA)
        and user.is_authenticated
        and user.is_active
        and user.is_staff
        and not _has_device(user)
    )


class ClinicAdminLoginForm(AdminAuthenticationForm):
    # One message for a wrong password and a wrong code: neither says which was wrong.
    error_messages = {**AdminAuthenticationForm.error_messages, "invalid_login": BAD_SIGN_IN}
    otp_token = forms.CharField(
        label="Authenticator code",
        required=False,
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text="The 6-digit code from your authenticator app, once you have enrolled one.",
    )

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean()
        user = self.get_user()
        if user is not None and user_has_device(user):
            code = (cleaned.get("otp_token") or "").strip()
            device = match_token(user, code) if code else None
            if device is None:
                # Counted by django-axes like a wrong password.
                user_login_failed.send(
                    sender=type(self),
                    credentials={"username": user.get_username()},
                    request=self.request,
                )
                raise self.get_invalid_login_error()
            # django-otp marks the session verified when login() sees this attribute.
            user.otp_device = device  # type: ignore[attr-defined]
        return cleaned


class TotpEnrolForm(forms.Form):
    otp_token = forms.CharField(
        label="Code shown by the app",
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def _qr_svg(url: str) -> str:
    out = io.BytesIO()
    write_qrcode_image(url, out)
    svg = out.getvalue().decode()
    return svg[svg.index("<svg") :]  # drop the XML prolog for inline use


class ClinicAdminSite(admin.AdminSite):
    login_form = ClinicAdminLoginForm
    login_template = "admin/clinic_login.html"

    def has_permission(self, request: HttpRequest) -> bool:
        if not super().has_permission(request):
            return False
        user = request.user
        return user.is_verified() or not second_factor_required(user)  # type: ignore[union-attr]

    @method_decorator(never_cache)
    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if request.method == "GET" and needs_enrolment(request.user):
            return HttpResponseRedirect(reverse("admin:otp_enrol", current_app=self.name))
        return super().login(request, extra_context)

    def get_urls(self) -> list[URLResolver | URLPattern]:
        enrol = never_cache(csrf_protect(self.otp_enrol))
        return [path("otp/enrol/", enrol, name="otp_enrol"), *super().get_urls()]

    def otp_enrol(self, request: HttpRequest) -> HttpResponse:
        """Add a TOTP device: show the QR code and secret, confirm with one code."""
        user = request.user
        if not (user.is_authenticated and user.is_active and user.is_staff):
            return HttpResponseRedirect(reverse("admin:login", current_app=self.name))
        if user_has_device(user):
            if user.is_verified():  # type: ignore[attr-defined]
                messages.info(request, "Your authenticator is already enrolled.")
                return HttpResponseRedirect(reverse("admin:index", current_app=self.name))
            # Enrolled but signed in without a code (an older session): sign in again.
            return HttpResponseRedirect(reverse("admin:logout", current_app=self.name))
        device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=False)
        form = TotpEnrolForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            if device.verify_token(form.cleaned_data["otp_token"].strip()):
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                otp_login(request, device)
                messages.success(request, "Authenticator enrolled: sign-in now asks for a code.")
                return HttpResponseRedirect(reverse("admin:index", current_app=self.name))
            form.add_error("otp_token", "That code is not valid; check the clock of your device.")
        context = {
            **self.each_context(request),
            "title": "Enrol an authenticator app",
            "form": form,
            "qr_svg": mark_safe(_qr_svg(device.config_url)),  # noqa: S308  # nosec B308 B703 (own SVG)
            "secret": base64.b32encode(device.bin_key).decode(),
            "required": bool(settings.ADMIN_REQUIRE_2FA),
        }
        return TemplateResponse(request, "admin/otp_enrol.html", context)
