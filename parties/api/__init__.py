"""The parties part of the REST API (``/api/v1/``): parties, contact points, source systems,
imports, merges. Views are thin: they validate input with serializers and call the same
services and selectors as the pages."""
