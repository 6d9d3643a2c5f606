from __future__ import annotations

from django.urls import include, path

from dynassign.api.router import api

urlpatterns = [
    path("api/", api.urls),
    path("", include("dynassign.web.urls")),
]
