from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularSwaggerSplitView,
)

from apps.stats import views as stats_views

admin.site.site_header = _("Simao 110 dispatch")
admin.site.site_title = _("Simao 110 dispatch")
admin.site.index_title = _("Command and administration")
admin.site.site_url = "/"  # "view site": each role to its own screen (frontend.views.home)

# Unknown /api/ URLs are answered in JSON (apps/common/errors.py).
handler404 = "apps.common.errors.not_found"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI from the sidecar's static files (no CDN); the split view serves its start-up
    # script as a file, so the page needs no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("frontend.api")),  # /api/me/, device health, map layers
    path("api/", include("cad_project.api_urls")),
    path("command/stats/", stats_views.dashboard_page, name="command-stats"),
    path("", include("frontend.tiles")),  # /tiles/z/x/y from MAP_TILES_FILE
    path("", include("frontend.views")),  # /app/ (patrol PWA), /command/ (map)
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
