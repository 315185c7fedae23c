"""Stateful API fuzzing: Schemathesis follows the OpenAPI links of the case workflow — report a
case, read it, take an action on the ETag just read, take another on the next — with every check
on, including the stateful ones (a resource that was created can be read; nothing answers for a
case that does not exist).

Each example starts from a clean copy of the seeded city with the clock stopped, so a sequence of
requests always gets the same answers (Hypothesis replays sequences to shrink them).

Generated reports land nowhere: a random point is outside every grid and a random category does
not exist, so every sequence would stop at its first step. Before a report is sent its point and
category are moved into the city, and a dispatch names a real office; everything else in a report,
and every action and the rest of its body, stays generated. The stateless fuzz (test_api_fuzz.py)
is where reports are fuzzed whole.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from pingan.api.app import create_app
from pingan.api.runtime import Runtime
from pingan.demo.seed import DEMO_PASSWORD
from pingan.domain.geo import UnitLevel
from tests.conftest import FakeClock
from tests.integration.conftest import CITY
from tests.reliability.conftest import Template, budget

WORKFLOW = r"^/api/v1/cases(/\{case_id\}(/(timeline|deadlines|actions/\{action\}))?)?$"
# As in the stateless run: a schema-valid action may still be refused by the state it finds (409),
# which is the contract, not leniency to be judged (see test_api_fuzz.py).
EXCLUDED_CHECKS = [positive_data_acceptance, negative_data_rejection]
USER = "op.330400"


class Switch:
    """The ASGI app Schemathesis talks to, handing each request to the current example's city."""

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Callable[..., Any], send: Any) -> None:
        await self.app(scope, receive, send)


class City:
    """A clean clone of the seeded city, its API, and a signed-in operator's headers."""

    def __init__(self, template: Template) -> None:
        self.url, self._drop = template.clone()
        self.rt = Runtime.build(template.settings(self.url), FakeClock())
        self.app = create_app(runtime=self.rt, start_workers=False)
        token = TestClient(self.app).post(
            "/api/v1/auth/token", data={"username": USER, "password": DEMO_PASSWORD}
        )
        assert token.status_code == 200, token.text
        self.headers = {
            "Authorization": f"Bearer {token.json()['access_token']}",
            "Accept-Language": "en",
        }

    def close(self) -> None:
        self.rt.engine.dispose()
        self._drop()


def _machine(template: Template, seen: Counter[str]) -> Any:
    switch = Switch()
    first = City(template)
    switch.app = first.app
    schema = schemathesis.openapi.from_asgi("/openapi.json", switch)
    first.close()
    schema.config.phases.stateful.inference.algorithms = []  # only the links the document defines
    schema.config.phases.stateful.link_calibration = False
    workflow = schema.include(path_regex=WORKFLOW, method=["GET", "POST"])
    grid = CITY.at_level(UnitLevel.GRID)[0]
    office = f"{grid.unit.code[:6]}-cgj"

    class CaseWorkflow(workflow.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            self.city = City(template)
            switch.app = self.city.app

        def teardown(self) -> None:
            self.city.close()

        def before_call(self, case: Any) -> None:
            if not isinstance(case.body, dict):
                return
            if case.method.upper() == "POST" and case.operation.path == "/api/v1/cases":
                case.body.update(category_code="E0102", lng=grid.lng, lat=grid.lat, crs="wgs84")
            elif case.operation.path.endswith("/actions/{action}") and "department_id" in case.body:
                case.body["department_id"] = office

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": self.city.headers}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            seen[f"{case.method.upper()} {case.operation.path} {response.status_code}"] += 1
            case.validate_response(
                response, excluded_checks=EXCLUDED_CHECKS, transport_kwargs=kwargs
            )

    return CaseWorkflow


def test_the_case_workflow_followed_link_by_link_answers_as_documented(
    template: Template,
) -> None:
    seen: Counter[str] = Counter()
    _machine(template, seen).run(
        settings=settings(
            max_examples=budget("STATEFUL_API_EXAMPLES", 25),
            stateful_step_count=8,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            derandomize=True,
        )
    )
    print(f"\n{template.kind}: {seen.total()} requests: {sorted(seen.items())}")
    # the links were followed: cases were reported, read back and moved on, not only refused
    assert seen["POST /api/v1/cases 201"] > 0
    assert seen["GET /api/v1/cases/{case_id} 200"] > 0
    assert seen["POST /api/v1/cases/{case_id}/actions/{action} 200"] > 0
