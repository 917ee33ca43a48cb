from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from core.docs_views import RedocView, SchemaView, SwaggerView
from core.health import LivenessView, ReadinessView
from core.metrics_views import MetricsView

urlpatterns = [
    re_path(r"^health/?$", LivenessView.as_view(), name="health"),
    re_path(r"^health/ready/?$", ReadinessView.as_view(), name="health-ready"),
    path("api/v1/", include("config.api_router")),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", SwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", RedocView.as_view(url_name="schema"), name="redoc"),
    path(settings.DJANGO_ADMIN_URL, admin.site.urls),
    path("metrics", MetricsView.as_view(), name="metrics"),
]

handler400 = "core.errors.handler400"
handler403 = "core.errors.handler403"
handler404 = "core.errors.handler404"
handler500 = "core.errors.handler500"
