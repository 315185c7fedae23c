"""API fuzzing: Schemathesis generates requests from Pingan's own OpenAPI document and checks every
response against it — no server errors, documented status codes, content types, headers and
bodies that match their schemas — signed in as a city operator (who can see and do the most).

Each operation gets a small number of positive and negative examples for `make test`;
`PINGAN_SOAK=1` (or `PINGAN_RELIABILITY_FUZZ_EXAMPLES`) runs many more.
"""

from __future__ import annotations

import traceback
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from tests.integration.conftest import World
from tests.reliability.conftest import budget

# Two checks judge leniency, not correctness, and are off (see docs/reliability.md):
# - positive_data_acceptance: a schema-valid request may still break a business rule the schema
#   cannot state (an unknown category, a point outside every grid, an action the state forbids);
#   those are 409/422 by the contract in docs/api.md.
# - negative_data_rejection: FastAPI ignores unknown query parameters and takes the last of a
#   repeated scalar one, as most HTTP APIs do; and since the bearer token is added to every
#   request, "drop the required Authorization header" mutations arrive signed in.
# Negative examples are still generated: they must get a documented status, never a 5xx.
EXCLUDED_CHECKS = [positive_data_acceptance, negative_data_rejection]

SKIPPED_OPERATIONS = {
    # signs in with a password; fuzzing it only throttles the account, it has its own tests
    "POST /api/v1/auth/token",
    # revokes the very token the fuzzer signs in with; sign-out has its own tests
    "POST /api/v1/auth/logout",
}


def _operations(world: World) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", world.app)
    ops = [result.ok() for result in schema.get_all_operations()]
    return [op for op in ops if f"{op.method.upper()} {op.path}" not in SKIPPED_OPERATIONS]


def fuzz(world: World, username: str, examples: int) -> tuple[int, list[str]]:
    """Run every operation; return how many requests were made and every distinct failure."""
    headers = {"Authorization": f"Bearer {world.token(username)}", "Accept-Language": "en"}
    failures: dict[str, str] = {}
    calls = 0
    for op in _operations(world):
        name = f"{op.method.upper()} {op.path}"
        strategy = st.one_of(
            op.as_strategy(generation_mode=GenerationMode.POSITIVE),
            op.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        )

        @settings(
            max_examples=examples,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            derandomize=True,
        )
        @given(case=strategy)
        def run(case: Any) -> None:
            nonlocal calls
            calls += 1
            case.call_and_validate(headers=headers, excluded_checks=EXCLUDED_CHECKS)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # collect: report every operation at once
            failures[name] = "".join(traceback.format_exception_only(exc))[-3000:]
    return calls, [f"{name}:\n{text}" for name, text in failures.items()]


def test_every_core_operation_answers_as_its_openapi_document_says(world: World) -> None:
    calls, failures = fuzz(world, "op.330400", budget("FUZZ_EXAMPLES", 10))
    print(f"\n{world.rt.engine.dialect.name}: {calls} requests, {len(failures)} failing operations")
    assert not failures, "\n\n".join(failures)
