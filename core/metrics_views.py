"""``GET /metrics``: Prometheus exposition, for allowed networks or a token holder."""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views import View

from core.metrics import render


def _client_allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip(), token):
            return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in settings.METRICS_ALLOWED_NETWORKS)


class MetricsView(View):
    """Not part of the API: no session, no DRF. Allowed when the caller's address is in
    ``METRICS_ALLOWED_NETWORKS`` or it sends ``Authorization: Bearer <METRICS_TOKEN>``."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if not _client_allowed(request):
            return HttpResponse("Forbidden\n", status=403, content_type="text/plain")
        body, content_type = render()
        return HttpResponse(body, content_type=content_type)
