"""The webhook sender: posts queued deliveries to departments' systems over HTTP (httpx).

It runs in its own thread, never on the API's event loop. Each due delivery is first leased (its
next try pushed past the request's timeout, committed), then posted with no transaction open,
then settled in a new transaction. A crash anywhere in between leaves the row pending, so it is
sent again once the lease runs out: at least once, never lost. Receivers dedupe on
`X-Pingan-Delivery`.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pingan import __version__
from pingan.adapters.db.uow import UnitOfWorkFactory
from pingan.domain.access import SYSTEM_ACTOR
from pingan.domain.webhooks import RetryPolicy, sign
from pingan.services import webhooks
from pingan.services.ports import Env

if TYPE_CHECKING:  # httpx (and the CLI stack it pulls in) loads with the first delivery
    import httpx

log = logging.getLogger(__name__)
SWEEP_EVERY_S = 600.0


class WebhookSender:
    def __init__(
        self,
        uows: UnitOfWorkFactory,
        env: Env,
        policy: RetryPolicy,
        *,
        timeout_s: float = 10.0,
        interval_s: float = 1.0,
        batch: int = 50,
        jitter: Callable[[], float] = random.random,
        transport: httpx.BaseTransport | None = None,
        nonce_window_s: int | None = None,
        concurrency: int = 8,
    ) -> None:
        self.uows = uows
        self.env = env
        self.policy = policy
        self.timeout_s = timeout_s
        self.interval_s = interval_s
        self.batch = batch
        self.jitter = jitter
        self.nonce_window_s = nonce_window_s
        self._swept_at = 0.0
        self._transport = transport
        self._client: httpx.Client | None = None
        self._client_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="webhook-post")
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> dict[str, int]:
        """Send what is due now; returns how many ended delivered, pending (retry) or dead."""
        now = self.env.now()
        lease_until = now + timedelta(seconds=self.timeout_s * 3 + 30)
        with self.uows(SYSTEM_ACTOR) as uow:
            due = uow.webhooks.due(now, self.batch)
            leased = []
            for d in due:
                if uow.webhooks.lease(d.id, d.next_attempt_at, lease_until):
                    sub = uow.webhooks.subscription(d.subscription_id)
                    if sub is not None:
                        leased.append((d, sub))
            uow.commit()
        outcome = {"delivered": 0, "pending": 0, "dead": 0}
        if not leased:
            return outcome
        # posts run side by side, so one slow receiver does not hold up every other department
        attempts = list(self._pool.map(self._attempt, leased))
        with self.uows(SYSTEM_ACTOR) as uow:
            for status in webhooks.settle(uow, attempts, self.env):
                outcome[status] = outcome.get(status, 0) + 1
        return outcome

    def _open_client(self) -> httpx.Client:
        """Made when the first delivery is due, not at start-up (most API processes never post)."""
        with self._client_lock:
            if self._client is None:
                import httpx

                self._client = httpx.Client(
                    timeout=self.timeout_s,
                    follow_redirects=False,
                    transport=self._transport,
                    headers={"User-Agent": f"Pingan-Webhooks/{__version__}"},
                )
            return self._client

    def _attempt(self, leased: tuple[Any, Any]) -> webhooks.Attempt:
        delivery, sub = leased
        if not sub.active:  # nobody to send to any more: straight to the dead letters
            return webhooks.Attempt(
                delivery.id, False, None, "subscription inactive", RetryPolicy(0, 0, 0), 0.0
            )
        ok, code, error = self._post(
            sub.url, sub.secret, delivery.id, delivery.event, delivery.body
        )
        return webhooks.Attempt(delivery.id, ok, code, error, self.policy, self.jitter())

    def _post(
        self, url: str, secret: str, delivery_id: str, event: str, body: str
    ) -> tuple[bool, int | None, str]:
        raw = body.encode()
        ts = int(self.env.now().timestamp())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Pingan-Event": event,
            "X-Pingan-Delivery": delivery_id,
            "X-Pingan-Timestamp": str(ts),
            "X-Pingan-Signature": sign(secret, ts, raw),
        }
        import httpx

        client = self._open_client()
        try:
            response = client.post(url, content=raw, headers=headers)
        except httpx.HTTPError as exc:
            return False, None, f"{type(exc).__name__}: {exc}"[:500]
        if 200 <= response.status_code < 300:
            return True, response.status_code, ""
        return False, response.status_code, f"HTTP {response.status_code}: {response.text[:300]}"

    def _sweep(self) -> None:
        """Every few minutes, drop incoming nonces the replay window already protects."""
        if self.nonce_window_s is None or time.monotonic() - self._swept_at < SWEEP_EVERY_S:
            return
        self._swept_at = time.monotonic()
        webhooks.forget_old_nonces(self.uows, self.env, self.nonce_window_s)

    def wake(self) -> None:
        """Look for due deliveries now rather than at the next poll."""
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="webhook-sender", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=self.timeout_s + 5)
        self._pool.shutdown(wait=True)
        with self._client_lock:
            if self._client is not None:
                self._client.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
                self._sweep()
            except Exception:
                log.exception("webhook sender pass failed")
            self._wake.wait(self.interval_s)
            self._wake.clear()
