"""The OpenAPI document is the contract: complete, served, and documenting every error."""

from __future__ import annotations

from tests.integration.conftest import World


def test_openapi_is_served_and_every_operation_documents_its_errors(world: World) -> None:
    doc = world.client().get("/openapi.json").json()
    assert doc["info"]["title"].startswith("Pingan")
    missing = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            codes = set(op.get("responses", {}))
            if not any(c[0] in "45" for c in codes) and path not in (
                "/api/v1/categories",
                "/api/v1/transitions",
                "/api/v1/map/config",
            ):
                missing.append(f"{method.upper()} {path}")
    assert missing == []
    case_ops = doc["paths"]["/api/v1/cases/{case_id}/actions/{action}"]["post"]["responses"]
    assert {"409", "412", "428", "422", "404", "403"} <= set(case_ops)


def test_interactive_docs_are_served(world: World) -> None:
    assert world.client().get("/docs").status_code == 200
