"""The local event pump: long-polls the local SQS queues, reads the tables' streams and ticks
the schedule, calling the same handler functions that Lambda calls, and delivers the payment
sandbox's notices over HTTP as WeChat Pay calls a merchant's notify URL. A failing handler is
logged; the pump goes on."""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from local.aws_resources import QueuePoller
from local.streams import StreamReader

log = logging.getLogger("micromall.pump")


class EventPump:
    def __init__(self, queues: dict[str, Callable[..., Any]], scheduled: Callable[..., Any] | None, every_seconds: float,
                 region: str, notices: Callable[[], int] | None = None, streams: StreamReader | None = None,
                 workers: dict[str, int] | None = None) -> None:
        self._queues, self._scheduled, self._every, self._region = queues, scheduled, every_seconds, region
        self._workers = workers or {}      # queue -> how many pollers (Lambda's concurrent batches)
        self._notices, self._streams = notices, streams
        self._stop = threading.Event()

    def start(self) -> None:
        for name, handler in self._queues.items():
            for n in range(self._workers.get(name, 1)):
                threading.Thread(target=self._poll, args=(name, handler), name=f"pump-{name}-{n}", daemon=True).start()
        if self._scheduled is not None:
            threading.Thread(target=self._tick, name="pump-schedule", daemon=True).start()
        if self._notices is not None:
            threading.Thread(target=self._deliver, name="pump-notices", daemon=True).start()
        if self._streams is not None:
            threading.Thread(target=self._read_streams, name="pump-streams", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _poll(self, queue: str, handler: Callable[..., Any]) -> None:
        poller: QueuePoller | None = None
        while not self._stop.is_set():
            try:
                poller = poller or QueuePoller(queue, handler, self._region)
                # A long poll answers as soon as a message comes; a longer one only costs less idling.
                poller.deliver_once(wait_seconds=5)
            except Exception:
                log.exception("handler for %s failed; its messages will be retried", queue)
                time.sleep(0.5)

    def _tick(self) -> None:
        while not self._stop.wait(self._every):
            try:
                self._scheduled({"version": "0", "id": "local", "detail-type": "Scheduled Event", "account": "000000000000",
                                 "region": self._region,
                                 "source": "aws.events", "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                 "resources": ["local-schedule"], "detail": {}}, None)
            except Exception:
                log.exception("scheduled handler failed; next tick in %ss", self._every)

    def _deliver(self) -> None:
        assert self._notices is not None
        while not self._stop.is_set():
            try:
                if not self._notices():
                    self._stop.wait(0.2)
            except Exception:
                log.exception("delivering payment notices failed; trying again")
                self._stop.wait(1)

    def _read_streams(self) -> None:
        assert self._streams is not None
        idle = 0
        while not self._stop.is_set():
            try:
                idle = 0 if self._streams.deliver_once() else idle + 1
                if idle:     # quiet streams are read less often: a read is a request per table
                    self._stop.wait(0.2 if idle < 10 else 0.5)
            except Exception:
                log.exception("reading the tables' streams failed; trying again")
                self._stop.wait(1)
