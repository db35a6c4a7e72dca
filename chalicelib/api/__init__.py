"""The HTTP edge: Chalice blueprints, the access table, error bodies, views and OpenAPI."""
