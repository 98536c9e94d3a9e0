"""The data-quality dashboard: the home page of stewards and administrators.

``services`` computes the figures that need full scans (into ``c360.dashboard.models.DashboardSnapshot``
and its rows), ``selectors`` reads them together with the figures that are cheap to count
live, ``charts`` draws them as server-side SVG, ``views`` serves the pages."""
