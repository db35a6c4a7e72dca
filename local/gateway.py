"""Makes chalice's local API Gateway answer as the deployed one is configured to: the gateway
responses of chalicelib.api.gateway_responses, and a token authorizer that raises
"Unauthorized" giving 401 (chalice local would turn that into a 500)."""
from __future__ import annotations

import threading
from typing import Any

from chalice import local

from chalicelib.api.gateway_responses import GATEWAY_RESPONSES, body_of

_installed = False
_connection = threading.local()       # the client address of the request this server thread handles


def _gateway_error(response_type: str, headers: dict[str, Any]) -> local.LocalGatewayException:
    status = GATEWAY_RESPONSES[response_type][0]
    error = local.LocalGatewayException(dict(headers, **{"Content-Type": "application/json"}), body_of(response_type))
    error.CODE = status
    return error


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    authorize = local.LocalGatewayAuthorizer.authorize
    handle_request = local.LocalGateway.handle_request

    def authorize_like_api_gateway(self: Any, raw_path: str, lambda_event: Any, lambda_context: Any) -> Any:
        try:
            return authorize(self, raw_path, lambda_event, lambda_context)
        except local.LocalGatewayException:
            raise
        except Exception as error:
            if str(error) == "Unauthorized":
                raise local.NotAuthorizedError({}, b"") from None
            raise

    def handle_with_gateway_responses(self: Any, method: str, path: str, headers: Any, body: Any) -> Any:
        try:
            return handle_request(self, method, path, headers, body)
        except local.NotAuthorizedError as error:
            raise _gateway_error("UNAUTHORIZED", error.headers) from None
        except local.ForbiddenError as error:
            kind = "ACCESS_DENIED" if b"not authorized" in (error.body or b"") else "MISSING_AUTHENTICATION_TOKEN"
            raise _gateway_error(kind, error.headers) from None

    # requestContext.identity.sourceIp is the connection's address, as API Gateway's is the
    # caller's (chalice local writes 127.0.0.1 whoever calls; the test client has no connection).
    parse_payload = local.ChaliceRequestHandler._parse_payload
    create_lambda_event = local.LambdaEventConverter.create_lambda_event

    def parse_noting_the_address(self: Any) -> Any:
        _connection.address = self.client_address[0]
        return parse_payload(self)

    def event_from_the_connection(self: Any, *args: Any, **kwargs: Any) -> Any:
        event = create_lambda_event(self, *args, **kwargs)
        address = getattr(_connection, "address", None)
        if address:
            event["requestContext"]["identity"]["sourceIp"] = address
        return event

    local.ChaliceRequestHandler._parse_payload = parse_noting_the_address  # type: ignore[method-assign]
    local.LambdaEventConverter.create_lambda_event = event_from_the_connection  # type: ignore[method-assign]
    # API Gateway takes a burst of connections; socketserver's default backlog of 5 resets them.
    local.ThreadedHTTPServer.request_queue_size = 256
    # Methods http.server does not know (QUERY, TRACE) reach the app, which answers 405 with Allow,
    # instead of http.server's own 501.
    handler = local.ChaliceRequestHandler
    handler.do_QUERY = handler.do_TRACE = handler._generic_handle  # type: ignore[attr-defined]
    local.LocalGatewayAuthorizer.authorize = authorize_like_api_gateway  # type: ignore[method-assign]
    local.LocalGateway.handle_request = handle_with_gateway_responses  # type: ignore[method-assign]
