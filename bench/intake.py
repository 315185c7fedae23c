"""Cases created per second over HTTP, on SQLite and PostgreSQL, next to a bare one-row insert."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.load import LoadResult, run_load

BIN = Path(sys.executable).parent
PG_ADMIN = os.environ.get(
    "PINGAN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(base: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{base} did not start")


def _serve(args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = _port()
    proc = subprocess.Popen(
        [*args, "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    _wait(base, proc)
    return proc, base


def _pg_database() -> tuple[str, Any]:
    import psycopg

    raw = PG_ADMIN.replace("+psycopg", "")
    name = f"pingan_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(raw, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}", drop


def bench_backend(kind: str, concurrency: int, seconds: float) -> dict[str, LoadResult]:
    tmp = Path(tempfile.mkdtemp(prefix=f"pingan-bench-{kind}-"))
    drop = None
    if kind == "sqlite":
        url, bare_url = f"sqlite:///{tmp}/pingan.db", f"sqlite:///{tmp}/bare.db"
    else:
        url, drop = _pg_database()
        bare_url = url
    env = {**os.environ, "PINGAN_DATABASE_URL": url, "PINGAN_MEDIA_DIR": str(tmp / "media")}
    seeded = subprocess.run(
        [BIN / "pingan", "demo", "--small", "--no-serve", "--weeks", "1", "--per-day", "5"],
        env=env,
        capture_output=True,
        text=True,
    )
    if seeded.returncode != 0:
        raise RuntimeError(seeded.stdout + seeded.stderr)
    results: dict[str, LoadResult] = {}
    try:
        proc, base = _serve([str(BIN / "pingan"), "serve"], env)
        try:
            token = httpx.post(
                f"{base}/api/v1/auth/token",
                data={"username": "op.330402007", "password": "Pingan@2019"},
            ).json()["access_token"]
            lng, lat = httpx.get(
                f"{base}/api/v1/units/330402007001001", headers={"Authorization": f"Bearer {token}"}
            ).json()["center"]
            run_id = uuid.uuid4().hex[:6]

            def body(n: int) -> dict[str, Any]:
                return {"category_code": "E0102", "title": f"bench {n}", "lng": lng, "lat": lat}

            def headers(n: int) -> dict[str, str]:
                return {"Authorization": f"Bearer {token}", "Idempotency-Key": f"b-{run_id}-{n}"}

            run_load(base, "/api/v1/cases", body, headers, concurrency, 2)  # warm up
            results["pingan POST /api/v1/cases"] = run_load(
                base, "/api/v1/cases", body, headers, concurrency, seconds
            )
        finally:
            proc.terminate()
            proc.wait()
        bare_env = {
            **env,
            "PINGAN_DATABASE_URL": bare_url,
            "PYTHONPATH": str(Path(__file__).parents[1]),
        }
        proc, base = _serve(
            [str(BIN / "uvicorn"), "bench.bare_app:app", "--log-level", "warning"], bare_env
        )
        try:

            def row(n: int) -> dict[str, Any]:
                return {"title": f"bench {n}", "lng": 120.7, "lat": 30.7}

            run_load(base, "/rows", row, lambda n: {}, concurrency, 2)
            results["bare FastAPI one-row insert"] = run_load(
                base, "/rows", row, lambda n: {}, concurrency, seconds
            )
        finally:
            proc.terminate()
            proc.wait()
    finally:
        if drop:
            drop()
    return results
