"""Operational alerts in DynamoDB, kept for the back office (they also go to the SNS topic)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from pynamodb.attributes import TTLAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from ..domain import timeutil
from ..domain.back_office import Alert
from ..service_layer.ports import Page
from ..service_layer.tags import Tag
from .dynamo import page_of, stamp, stored_time, table_meta
from .unit_of_work import UnitOfWork


class RecentAlertsIndex(GlobalSecondaryIndex["AlertRecord"]):
    class Meta:
        index_name = "recent-index"
        projection = AllProjection()
    feed = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class AlertRecord(Model):
    """Operational alerts for the back office (they also go to the SNS topic)."""
    Meta = table_meta("alerts")
    alert_id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()                        # low_stock | refund_failed | scan_conflict | ...
    severity = UnicodeAttribute()
    message = UnicodeAttribute()
    details = UnicodeAttribute(default="{}")
    created_at = UnicodeAttribute()
    feed = UnicodeAttribute(default="alerts")
    expires = TTLAttribute(null=True)
    recent_index = RecentAlertsIndex()


def _alert_from(r: AlertRecord) -> Alert:
    return Alert(alert_id=r.alert_id, kind=r.kind, severity=r.severity, message=r.message,
                 details=json.loads(r.details or "{}"), created_at=timeutil.from_storage(r.created_at))


class AlertLog:
    RETENTION = timedelta(days=90)

    @staticmethod
    def new_id(at: datetime) -> str:
        return "A" + stamp(at)

    def _record(self, alert: Alert) -> AlertRecord:
        return AlertRecord(alert_id=alert.alert_id, kind=alert.kind, severity=alert.severity, message=alert.message,
                           details=json.dumps(alert.details, ensure_ascii=False, default=str),
                           created_at=stored_time(alert.created_at), expires=alert.created_at + self.RETENTION)

    def add(self, uow: UnitOfWork, alert: Alert) -> None:
        uow.put(self._record(alert), condition=AlertRecord.alert_id.does_not_exist(), tag=Tag.ALERT)

    def add_once(self, alert: Alert) -> bool:
        """Stores the alert unless one with its id is there already (a redelivered message)."""
        try:
            self._record(alert).save(condition=AlertRecord.alert_id.does_not_exist())
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def page(self, limit: int, cursor: str | None) -> Page:
        return page_of(lambda start: AlertRecord.recent_index.query(
            "alerts", scan_index_forward=False, limit=limit, last_evaluated_key=start),
            cursor, {"alert_id", "feed", "created_at"}, _alert_from)
