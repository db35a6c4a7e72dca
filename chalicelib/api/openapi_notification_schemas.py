"""The bodies and answers of API.md's Notifications (订阅消息), beside the others of openapi_schemas."""
from __future__ import annotations

from ..domain.notifications import MAX_ACCEPTED, MAX_TEMPLATE_ID, Event, FieldKind, MessageStatus
from ..domain.subscription_prompts import PromptPoint
from .openapi_schemas import INT, STR, Schema, array, obj, text



def subscriptions(template_ids: list[str]) -> Schema:
    """The stage's templates are the only ones a customer subscribes to (none configured: none)."""
    ids = sorted({t for t in template_ids if t})
    items = {"enum": ids} if ids else text(MAX_TEMPLATE_ID)
    return obj(["accepted"], accepted=array(items, max_items=MAX_ACCEPTED if ids else 0))


NOTIFICATION_REQUESTS: dict[str, Schema] = {
    "SandboxMessageOutcomes": obj(["outcomes"], outcomes=array({"enum": ["ok", "43101", "47003", "ERROR"]},
                                                                max_items=100)),
}

NOTIFICATION_ANSWERS: dict[str, Schema] = {
    "SubscriptionCredits": obj(["credits"], credits={"type": "object", "additionalProperties": INT}),
    "OrderMessages": obj(["items"], items=array(obj(
        ["event", "template_id", "status", "at"], event={"enum": [e.value for e in Event]}, template_id=STR,
        status={"enum": [s.value for s in MessageStatus]}, at=STR, error=STR))),
    "TemplatesToAsk": obj(["items"], items=array(obj(
        ["event", "template_id", "ask_at"], event={"enum": [e.value for e in Event]}, template_id=STR,
        ask_at={"enum": [p.value for p in PromptPoint]}))),
    "StageTemplates": obj(["miniprogram_state", "items"], miniprogram_state={"enum": ["developer", "trial", "formal"]},
                          items=array(obj(
        ["event", "template_id", "configured", "page", "ask_at", "fields"], event={"enum": [e.value for e in Event]},
        template_id=STR, configured={"type": "boolean"}, page=STR, ask_at={"enum": [p.value for p in PromptPoint]},
        fields=array(obj(["key", "kind"], key=STR, kind={"enum": [k.value for k in FieldKind]}))))),
    "ResendAccepted": obj(["order_id", "key"], order_id=STR, key=STR),
    "SandboxMessages": obj(["items"], items=array(obj(
        ["touser", "template_id", "page", "data", "at"], touser=STR, template_id=STR, page=STR,
        data={"type": "object"}, at=STR))),
}
