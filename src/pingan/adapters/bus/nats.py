"""The NATS JetStream event bus, for when one process is outgrown.

- Publishing waits for JetStream's acknowledgement, and sends the event id as `Nats-Msg-Id`, so a
  relay that republishes after a crash is deduplicated by the server within the stream's
  duplicate window.
- Durable consumers are JetStream pull consumers named after the consumer: a consumer restarted
  after a crash resumes at its first unacknowledged event. A message is acknowledged only after
  the handler returned (and the server confirmed the ack); a failing handler gets the message
  again after a delay. Handlers are idempotent, so redelivery is harmless.
- Non-durable consumers (per-process browser push) see only new events while subscribed.

The NATS client is asyncio; this adapter runs it on its own event-loop thread and offers the
synchronous `EventBus` port that the relay and services use.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any, TypeVar

import nats
from nats.aio.client import Client
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import BadRequestError, NotFoundError

from pingan.domain.events import DomainEvent
from pingan.services.ports import DeliveryFailed

log = logging.getLogger(__name__)
T = TypeVar("T")

DUPLICATE_WINDOW_S = 600.0
ACK_WAIT_S = 30.0
REDELIVERY_DELAY_S = 1.0


def encode(event: DomainEvent) -> bytes:
    return json.dumps(
        {
            "event_id": event.event_id,
            "type": event.type,
            "aggregate_id": event.aggregate_id,
            "unit_path": event.unit_path,
            "occurred_at": event.occurred_at.isoformat(),
            "payload": event.payload,
        },
        ensure_ascii=False,
        default=str,
    ).encode()


def decode(data: bytes) -> DomainEvent:
    raw = json.loads(data)
    return DomainEvent(
        type=raw["type"],
        aggregate_id=int(raw["aggregate_id"]),
        unit_path=raw["unit_path"],
        occurred_at=datetime.fromisoformat(raw["occurred_at"]),
        payload=raw["payload"],
        event_id=raw["event_id"],
    )


class JetStreamBus:
    def __init__(
        self,
        url: str,
        stream: str = "PINGAN_EVENTS",
        subject_prefix: str = "pingan.events",
        *,
        timeout_s: float = 10.0,
        ack_wait_s: float = ACK_WAIT_S,
    ) -> None:
        self.url = url
        self.ack_wait_s = ack_wait_s
        self.stream = stream
        self.prefix = subject_prefix
        # plain NATS, outside the stream's subjects: nothing of it is stored
        self.direct_subject = f"_pingan.direct.{stream}"
        self.timeout_s = timeout_s
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="nats-bus", daemon=True)
        self._thread.start()
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._run(self._connect())

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(self.timeout_s)

    async def _connect(self) -> None:
        self._nc = await nats.connect(
            self.url,
            name="pingan",
            max_reconnect_attempts=-1,  # keep trying: the broker restarting is not fatal
            reconnect_time_wait=0.5,
            connect_timeout=self.timeout_s,
        )
        self._js = self._nc.jetstream(timeout=self.timeout_s)
        config = StreamConfig(
            name=self.stream,
            subjects=[f"{self.prefix}.>"],
            storage=StorageType.FILE,
            retention=RetentionPolicy.LIMITS,
            duplicate_window=DUPLICATE_WINDOW_S,
            max_age=30 * 24 * 3600.0,
        )
        try:
            await self._js.add_stream(config)
        except BadRequestError:
            await self._js.update_stream(config)

    @property
    def js(self) -> JetStreamContext:
        assert self._js is not None
        return self._js

    def subject(self, event_type: str) -> str:
        return f"{self.prefix}.{event_type}"

    def publish(self, event: DomainEvent) -> None:
        try:
            self._run(
                self.js.publish(
                    self.subject(event.type),
                    encode(event),
                    stream=self.stream,
                    headers={"Nats-Msg-Id": event.event_id},
                )
            )
        except Exception as exc:  # timeouts, no responders, connection loss: retry later
            raise DeliveryFailed(event.event_id, f"{type(exc).__name__}: {exc}") from exc

    def subscribe(
        self, consumer: str, handler: Callable[[DomainEvent], None], *, durable: bool = True
    ) -> None:
        task = self._run(self._start(consumer, handler, durable))
        self._tasks.append(task)

    async def _start(
        self, consumer: str, handler: Callable[[DomainEvent], None], durable: bool
    ) -> asyncio.Task[None]:
        config = ConsumerConfig(
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self.ack_wait_s,
            max_deliver=-1,
            deliver_policy=DeliverPolicy.ALL if durable else DeliverPolicy.NEW,
            inactive_threshold=None if durable else 60.0,
        )
        sub = await self.js.pull_subscribe(
            f"{self.prefix}.>",
            durable=consumer if durable else None,
            stream=self.stream,
            config=config,
        )
        return asyncio.ensure_future(self._consume(consumer, sub, handler))

    async def _consume(
        self,
        consumer: str,
        sub: JetStreamContext.PullSubscription,
        handler: Callable[[DomainEvent], None],
    ) -> None:
        loop = asyncio.get_running_loop()
        while not self._closing:
            try:
                messages = await sub.fetch(batch=64, timeout=1.0)
            except NatsTimeout:
                continue
            except Exception:
                if self._closing:
                    return
                log.warning("consumer %s: fetch failed; retrying", consumer, exc_info=True)
                await asyncio.sleep(0.5)
                continue
            for msg in messages:
                try:
                    event = decode(msg.data)
                except (ValueError, KeyError, TypeError):
                    log.error(
                        "consumer %s: undecodable message dropped: %r", consumer, msg.data[:200]
                    )
                    await msg.term()
                    continue
                try:
                    await loop.run_in_executor(None, handler, event)
                except Exception:
                    log.exception(
                        "consumer %s failed on %s; redelivering", consumer, event.event_id
                    )
                    await msg.nak(delay=REDELIVERY_DELAY_S)
                    continue
                await msg.ack_sync()

    def broadcast(self, message: dict[str, Any]) -> None:
        """Publish to every process listening (itself included); fire and forget."""
        data = json.dumps(message, ensure_ascii=False, default=str).encode()
        client = self._nc
        if client is not None and not self._closing:
            asyncio.run_coroutine_threadsafe(client.publish(self.direct_subject, data), self._loop)

    def on_broadcast(self, handler: Callable[[dict[str, Any]], None]) -> None:
        async def deliver(msg: Any) -> None:
            try:
                handler(json.loads(msg.data))
            except Exception:  # one bad message must not stop the subscription
                log.exception("broadcast handler failed on %r", msg.data[:200])

        assert self._nc is not None, "connected in __init__"
        self._run(self._nc.subscribe(self.direct_subject, cb=deliver))

    def delete_stream(self) -> None:
        """Remove the stream and its consumers (tests and resets only)."""
        with contextlib.suppress(NotFoundError):
            self._run(self.js.delete_stream(self.stream))

    def close(self) -> None:
        self._closing = True

        async def shutdown() -> None:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            if self._nc is not None and not self._nc.is_closed:
                await self._nc.close()  # every ack was confirmed already: nothing to drain

        try:
            self._run(shutdown())
        except Exception:
            log.warning("NATS bus did not close cleanly", exc_info=True)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
