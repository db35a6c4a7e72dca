"""micromall entry points. Routes live in blueprints under chalicelib/api; this file wires them,
and keeps Chalice's own error answers in the error body of API.md."""
from chalice import Chalice, Rate

from chalicelib import bootstrap, config, observability
from chalicelib.api import (auth_routes, back_office_routes, catalog_routes, console_routes, errors, guard,
                            inventory_routes, order_routes, payment_routes, promotion_routes, report_routes,
                            session_routes, system_routes, ticket_change_routes, ticket_routes, after_sale_routes,
                            notification_routes, shop_routes)
from chalicelib.lazy import LazyModule

# The SQS, stream and schedule plumbing (Powertools' batch utilities, the adapters) loads with the
# first event that needs it, not on every cold start (chalicelib/lazy.py).
events = LazyModule("chalicelib.api.events")

app = Chalice(app_name="micromall")
app.experimental_feature_flags.update(["BLUEPRINTS"])

app.register_blueprint(guard.guard)
for blueprint in (system_routes.bp, auth_routes.bp, catalog_routes.bp, inventory_routes.bp, order_routes.bp,
                  payment_routes.bp, ticket_routes.bp, back_office_routes.bp, report_routes.bp,
                  promotion_routes.bp, console_routes.bp, ticket_change_routes.bp, session_routes.bp,
                  after_sale_routes.bp, notification_routes.bp, shop_routes.bp):
    app.register_blueprint(blueprint)
if config.settings().is_local:
    from chalicelib.api import dev_routes
    app.register_blueprint(dev_routes.bp)


@app.middleware("http")
def error_bodies(event, get_response):  # type: ignore[no-untyped-def]
    return errors.normalize(get_response(event))


@app.middleware("all")
def observe(event, get_response):  # type: ignore[no-untyped-def]
    """Correlation ids for the JSON logs, a trace segment per invocation, the cold-start metric."""
    context = getattr(event, "lambda_context", None) or getattr(event, "context", None)
    request_id = getattr(context, "aws_request_id", None)
    observability.start_invocation(type(event).__name__, request_id, bootstrap.metrics())
    if hasattr(event, "uri_params"):
        observability.correlate(route=f"{event.method} {event.context.get('resourcePath')}",
                                request_id=event.context.get("requestId") or request_id,
                                order_id=(event.uri_params or {}).get("order_id"))
    with observability.tracer().provider.in_subsegment("## " + type(event).__name__):
        return get_response(event)


@app.on_sqs_message(queue=config.settings().refunds_queue, batch_size=10)
def refunds_worker(event):  # type: ignore[no-untyped-def]
    return events.refunds_batch(event.to_dict(), event.context)


@app.on_sqs_message(queue=config.settings().expiry_queue, batch_size=10)
def expiry_worker(event):  # type: ignore[no-untyped-def]
    return events.expiry_batch(event.to_dict(), event.context)


@app.on_sqs_message(queue=config.settings().notifications_queue, batch_size=10)
def notifications_worker(event):  # type: ignore[no-untyped-def]
    return events.notifications_batch(event.to_dict(), event.context)


@app.on_sqs_message(queue=config.settings().alerts_queue, batch_size=10)
def alerts_worker(event):  # type: ignore[no-untyped-def]
    return events.alerts_batch(event.to_dict(), event.context)


# The back office's figures follow the orders, refunds, tickets, SKUs, user coupons and after-sales
# as they change. The ARN is the table's name here; `make synth` puts the stream's real ARN in the template.
# A handler is named after its table (`user-coupons` -> user_coupons_stream: local/streams.py).
@app.on_dynamodb_record(stream_arn=config.stream_source("orders"), batch_size=100)
def orders_stream(event):  # type: ignore[no-untyped-def]
    return events.stream_batch(event.to_dict())


@app.on_dynamodb_record(stream_arn=config.stream_source("refunds"), batch_size=100)
def refunds_stream(event):  # type: ignore[no-untyped-def]
    return events.stream_batch(event.to_dict())


@app.on_dynamodb_record(stream_arn=config.stream_source("tickets"), batch_size=100)
def tickets_stream(event):  # type: ignore[no-untyped-def]
    return events.stream_batch(event.to_dict())


@app.on_dynamodb_record(stream_arn=config.stream_source("skus"), batch_size=100)
def skus_stream(event):  # type: ignore[no-untyped-def]
    return events.stream_batch(event.to_dict())


@app.on_dynamodb_record(stream_arn=config.stream_source("user-coupons"), batch_size=100)
def user_coupons_stream(event):  # type: ignore[no-untyped-def]
    return events.stream_batch(event.to_dict())


@app.on_dynamodb_record(stream_arn=config.stream_source("after-sales"), batch_size=100)
def after_sales_stream(event):  # type: ignore[no-untyped-def]
    return events.stream_batch(event.to_dict())


@app.schedule(Rate(1, unit=Rate.MINUTES))
def every_minute(event):  # type: ignore[no-untyped-def]
    return events.every_minute()
