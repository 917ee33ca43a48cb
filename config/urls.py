from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from config.api_index import ApiIndexView
from core.api_index import ApiNotFoundView
from core.docs_views import RedocView, SchemaView, SwaggerView
from core.health import LivenessView, ReadinessView
from core.metrics_views import MetricsView

urlpatterns = [
    re_path(r"^health/?$", LivenessView.as_view(), name="health"),
    re_path(r"^health/ready/?$", ReadinessView.as_view(), name="health-ready"),
    re_path(r"^api/v1/?$", ApiIndexView.as_view(), name="api-index"),
    path("api/v1/", include("config.api_router")),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", SwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", RedocView.as_view(url_name="schema"), name="redoc"),
    path(settings.DJANGO_ADMIN_URL, admin.site.urls),
    path("metrics", MetricsView.as_view(), name="metrics"),
    # Last: any other path under /api/ is a JSON 404, in DEBUG too (see core.api_index).
    re_path(r"^api(?:/.*)?$", ApiNotFoundView.as_view(), name="api-not-found"),
]

handler400 = "core.errors.handler400"
handler403 = "core.errors.handler403"
handler404 = "core.errors.handler404"
handler500 = "core.errors.handler500"
