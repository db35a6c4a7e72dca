"""micromall entry points. Routes live in blueprints under chalicelib/api; this file wires them,
and keeps Chalice's own error answers in the error body of API.md."""
from chalice import Chalice

from chalicelib import config
from chalicelib.api import (auth_routes, catalog_routes, errors, guard, inventory_routes, order_routes,
                            payment_routes, system_routes, ticket_routes)

app = Chalice(app_name="micromall")
app.experimental_feature_flags.update(["BLUEPRINTS"])

app.register_blueprint(guard.guard)
for blueprint in (system_routes.bp, auth_routes.bp, catalog_routes.bp, inventory_routes.bp, order_routes.bp,
                  payment_routes.bp, ticket_routes.bp):
    app.register_blueprint(blueprint)
if config.settings().is_local:
    from chalicelib.api import dev_routes
    app.register_blueprint(dev_routes.bp)


@app.middleware("http")
def error_bodies(event, get_response):  # type: ignore[no-untyped-def]
    return errors.normalize(get_response(event))
