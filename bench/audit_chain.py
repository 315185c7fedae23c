"""`python -m bench.audit_chain`: what the audit chain and field encryption cost.

Prints appends per second (one writer, and eight writers contending for the chain's head),
verification speed, and the time to seal/open one value and compute a blind index. Figures only.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime

from rich.console import Console
from rich.table import Table
from tests.conftest import PG_ADMIN_URL, fresh_database_url

from pingan.adapters.crypto import keyring_from
from pingan.adapters.db.engine import make_engine
from pingan.adapters.db.migrate import upgrade
from pingan.adapters.db.uow import UnitOfWorkFactory
from pingan.config import Settings
from pingan.domain.access import Actor, Role

CLERK = Actor(user_id=7, username="clerk", role=Role.OPERATOR, jurisdiction="330400")


def _appends(uows: UnitOfWorkFactory, n: int) -> None:
    for i in range(n):
        with uows(CLERK) as uow:
            uow.audit.append(CLERK, "pii.reveal", datetime.now(UTC), f"case:{i}", {"n": i})
            uow.commit()


def bench_chain(kind: str, n: int = 400, writers: int = 8) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        url, drop = fresh_database_url(kind, tmp, PG_ADMIN_URL if kind == "postgres" else None)
        try:
            upgrade(url)
            engine = make_engine(url)
            uows = UnitOfWorkFactory(engine)
            start = time.perf_counter()
            _appends(uows, n)
            one = n / (time.perf_counter() - start)
            threads = [
                threading.Thread(target=_appends, args=(uows, n // writers)) for _ in range(writers)
            ]
            start = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            many = n / (time.perf_counter() - start)
            start = time.perf_counter()
            with uows(readonly=True) as uow:
                checked, broken = uow.audit.verify()
            assert broken is None and checked == 2 * n
            verify = checked / (time.perf_counter() - start)
            engine.dispose()
        finally:
            drop()  # type: ignore[operator]
    return {"one writer": one, f"{writers} writers": many, "verify entries/s": verify}


def bench_crypto(n: int = 5000) -> dict[str, float]:
    keys = keyring_from(Settings().data_keys)
    timings: dict[str, list[float]] = {"seal µs": [], "open µs": [], "blind index µs": []}
    for _ in range(n):
        t0 = time.perf_counter()
        sealed = keys.encrypt("13812345678", "contact.phone")
        t1 = time.perf_counter()
        keys.decrypt(sealed, "contact.phone")
        t2 = time.perf_counter()
        keys.blind_index("13812345678", "contact.phone")
        t3 = time.perf_counter()
        timings["seal µs"].append((t1 - t0) * 1e6)
        timings["open µs"].append((t2 - t1) * 1e6)
        timings["blind index µs"].append((t3 - t2) * 1e6)
    return {k: statistics.median(v) for k, v in timings.items()}


def main() -> None:
    console = Console()
    table = Table(title=f"Audit chain (appends/s), {os.cpu_count()} CPU")
    for col in ("database", "one writer", "8 writers", "verify entries/s"):
        table.add_column(col)
    kinds = sys.argv[1:] or ["sqlite", "postgres"]
    for kind in kinds:
        r = bench_chain(kind)
        table.add_row(kind, *(f"{v:,.0f}" for v in r.values()))
    console.print(table)
    c = bench_crypto()
    console.print("field encryption, median: " + ", ".join(f"{k} {v:.1f}" for k, v in c.items()))


if __name__ == "__main__":
    main()
