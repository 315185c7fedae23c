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


def test_an_id_beyond_64_bits_anywhere_is_422_not_a_server_error(world: World) -> None:
    """SQLite's driver raises on an integer it cannot hold; every integer id or offset in a path,
    a query or a body is bounded in the contract and refused before any database sees it."""
    operator = world.client("op.330400")
    huge = 2**63
    paths = world.app.openapi()["paths"]
    probed = 0
    for path, ops in paths.items():
        for method, op in ops.items():
            ints = [
                p["name"]
                for p in op.get("parameters", [])
                if p["in"] == "path" and p["schema"].get("type") == "integer"
            ]
            if not ints:
                continue
            url = path
            for name in ints:
                url = url.replace(f"{{{name}}}", str(huge))
            url = url.replace("{action}", "file")  # the one non-integer placeholder among them
            r = operator.request(method.upper(), url, json={})
            assert r.status_code == 422, (method, url, r.status_code, r.text)
            probed += 1
    assert probed >= 20
    for url, params in [
        ("/api/v1/devices", {"offset": huge}),
        ("/api/v1/alarms", {"offset": huge}),
        ("/api/v1/audit", {"after": huge}),
        ("/api/v1/calls", {"case_id": huge}),
    ]:
        r = operator.get(url, params=params)
        assert r.status_code == 422, (url, r.status_code, r.text)
    grid = world.grids()[0]
    for url, body in [
        (
            "/api/v1/cases",
            {
                "category_code": "E0102",
                "title": "t",
                "lng": grid.lng,
                "lat": grid.lat,
                "photo_ids": [huge],
            },
        ),
    ]:
        r = operator.post(url, json=body)
        assert r.status_code == 422, (url, r.status_code, r.text)
    r = world.client().get("/open311/v2/requests.json", params={"page": huge})
    assert r.status_code == 400 and r.json()[0]["code"] == 400, r.text
