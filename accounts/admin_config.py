"""``django.contrib.admin`` whose ``admin.site`` is the clinic's (TOTP sign-in).

Its own module: INSTALLED_APPS imports it before any model can be loaded.
"""

from django.contrib.admin.apps import AdminConfig


class ClinicAdminConfig(AdminConfig):
    default_site = "accounts.admin_site.ClinicAdminSite"
