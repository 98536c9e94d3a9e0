// Starts ReDoc on /api/redoc/ (templates/api_docs/redoc.html) from data attributes instead of
// an inline script, which the Content-Security-Policy refuses.
(() => {
  const container = document.getElementById("redoc-container");
  const settings = JSON.parse(container.dataset.settings || "{}");
  Redoc.init(container.dataset.schemaUrl, settings, container);
})();
