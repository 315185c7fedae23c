"""Odd input the fuzzer found: each answers with a documented client error, never a 500."""

from __future__ import annotations

from tests.integration.conftest import World


def test_a_nul_byte_in_a_query_parameter_is_422_not_a_server_error(world: World) -> None:
    """PostgreSQL refuses NUL in text; that is the client's bad input, not the server's fault."""
    operator = world.client("op.330400")
    for path, params in [
        ("/api/v1/units", {"parent": "\x00"}),
        ("/api/v1/stats/summary", {"unit": "\x00"}),
        ("/api/v1/cases", {"q": "a\x00b"}),
    ]:
        r = operator.get(path, params=params)
        assert r.status_code in (200, 422), (path, r.status_code, r.text)
        if r.status_code == 422:
            assert r.json()["error"]["code"] == "request.invalid"


def test_a_malformed_multipart_upload_is_a_documented_400(world: World) -> None:
    operator = world.client("op.330400")
    boundary = "7c5156fb04a2177cf9e322ad31ebde44"
    r = operator.post(
        "/api/v1/attachments",
        content=f"--{boundary}\r\nNone--{boundary}--\r\n".encode(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert r.status_code == 400
    documented = world.app.openapi()["paths"]["/api/v1/attachments"]["post"]["responses"]
    assert "400" in documented
