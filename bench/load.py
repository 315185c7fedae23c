"""A closed-loop HTTP load generator: N concurrent clients for a fixed time, latencies kept."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class LoadResult:
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


async def _run(
    base: str,
    path: str,
    body: Callable[[int], dict[str, Any]],
    headers: Callable[[int], dict[str, str]],
    concurrency: int,
    seconds: float,
) -> LoadResult:
    latencies: list[float] = []
    errors = 0
    counter = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as http:

        async def worker() -> None:
            nonlocal errors, counter
            while time.perf_counter() < deadline:
                counter += 1
                n = counter
                t0 = time.perf_counter()
                r = await http.post(path, json=body(n), headers=headers(n))
                latencies.append(time.perf_counter() - t0)
                if r.status_code >= 300:
                    errors += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return LoadResult(
        len(latencies), errors, elapsed, statistics.median(latencies) * 1e3, p99 * 1e3
    )


def run_load(
    base: str,
    path: str,
    body: Callable[[int], dict[str, Any]],
    headers: Callable[[int], dict[str, str]],
    concurrency: int = 16,
    seconds: float = 10.0,
) -> LoadResult:
    return asyncio.run(_run(base, path, body, headers, concurrency, seconds))
