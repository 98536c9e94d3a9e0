"""The API's documentation pages under the site's Content-Security-Policy.

drf-spectacular's own templates put Swagger UI's start-up code and ReDoc's in inline <script>
elements, and their styles in inline <style> elements, which the policy refuses. These views
serve the same pages from templates/api_docs/, with the start-up code in static files:
Swagger UI's comes from the split view (``?script``), ReDoc's from static/js/redoc-init.js.
Scripts stay as strict as everywhere else. What the two bundles need beyond the site's policy
is allowed on their own pages only: both draw their icons from data: images, ReDoc's bundle
(styled-components) injects <style> elements, and its search runs in a worker started from a
blob: URL. ReDoc's footer logo from its makers' CDN stays refused: the site works offline.
"""

from __future__ import annotations

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.utils.decorators import method_decorator
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView


@method_decorator(csp_update({"img-src": ["data:"]}), name="dispatch")
class SwaggerView(SpectacularSwaggerSplitView):
    template_name = "api_docs/swagger_ui.html"


@method_decorator(
    csp_update({"img-src": ["data:"], "style-src": [UNSAFE_INLINE], "worker-src": ["blob:"]}), name="dispatch"
)
class RedocView(SpectacularRedocView):
    template_name = "api_docs/redoc.html"
