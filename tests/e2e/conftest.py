"""A real server process on a free port, seeded with the small demo city."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seeded_env(root: Path, **settings: str) -> dict[str, str]:
    """Environment for a server on a fresh SQLite file holding the small demo city; `settings`
    are extra PINGAN_* variables."""
    env = {
        **os.environ,
        "PINGAN_DATABASE_URL": f"sqlite:///{root}/pingan.db",
        "PINGAN_MEDIA_DIR": str(root / "media"),
        "PINGAN_MODEL_DIR": str(root / "models"),  # never the developer's own demo model
        **settings,
    }
    seeded = subprocess.run(
        [BIN / "pingan", "demo", "--small", "--no-serve"], env=env, capture_output=True, text=True
    )
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    return env


def start_server(
    env: dict[str, str], port: int | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """Start `pingan serve` and wait until it answers /readyz."""
    port = port or _free_port()
    server = subprocess.Popen(
        [BIN / "pingan", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return server, base
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    server.kill()
    raise RuntimeError("server did not become ready")


@contextmanager
def seeded_server(root: Path, **settings: str) -> Iterator[str]:
    """A server on its own freshly seeded small demo city; stopped (killed if need be) after."""
    server, base = start_server(seeded_env(root, **settings))
    try:
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with seeded_server(tmp_path_factory.mktemp("live")) as base:
        yield base


RING_TIMEOUT_S = 6
TILE_URL = "/vendor/images/layers.png?z={z}&x={x}&y={y}"


@pytest.fixture(scope="session")
def configured_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server whose settings differ from the defaults: short call rings, and a GCJ-02 tile
    layer (served by the server itself, so nothing leaves the machine)."""
    with seeded_server(
        tmp_path_factory.mktemp("configured"),
        PINGAN_CALL_RING_TIMEOUT_S=str(RING_TIMEOUT_S),
        PINGAN_TILE_URL=TILE_URL,
        PINGAN_TILE_CRS="gcj02",
        PINGAN_TILE_ATTRIBUTION="测试底图",
    ) as base:
        yield base


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Debian Chromium for every browser test of the session (Playwright's sync API
    allows one running instance per thread, so the fixture lives here, shared)."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                # video calls: a synthetic camera and microphone, granted without a prompt
                "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        try:
            yield b
        finally:
            b.close()
