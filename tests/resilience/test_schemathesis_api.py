"""The merchant API fuzzed from its own contract: schemathesis reads /api/schema/ and
generates requests for every operation (positive and negative data), each sent with a valid
API key, an unknown one and none, in WSGI mode (in-process, the real Django stack). Counted:
inputs tried, 5xx (must be 0), answers the schema does not allow (must be 0), and errors
outside the documented shape {"error": {"code", "message", ...}} (must be 0)."""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from requests.structures import CaseInsensitiveDict
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS

from authorizers.services.api_keys import api_key_create
from sandbox.demo import COFFEE_APPID

from .contract import ContractViolation, check_api_response

# Schemathesis's own checks that judge an answer against the document.
CHECK_NAMES = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
)
SHORT_EXAMPLES, LONG_EXAMPLES = 15, 300


def _headers(response) -> CaseInsensitiveDict:
    """schemathesis keeps headers as name -> [values]; the contract check reads one each."""
    return CaseInsensitiveDict(
        {k: v[0] if isinstance(v, list) else v for k, v in response.headers.items()}
    )


def _checks():
    return [CHECKS.get_one(name) for name in CHECK_NAMES]


@pytest.fixture(params=["short", pytest.param("long", marks=pytest.mark.slow)])
def examples(request) -> int:
    return SHORT_EXAMPLES if request.param == "short" else LONG_EXAMPLES


@pytest.mark.django_db(transaction=True)
def test_api_conforms_to_its_schema_under_fuzzing(
    examples, wechat_api, settings, authorizer_factory, resilience_figures
):
    from django.core.handlers.wsgi import WSGIHandler

    settings.API_RATE_LIMIT_BURST = 10_000_000
    settings.API_RATE_LIMIT_PER_MINUTE = 600_000_000
    authorizer = authorizer_factory(appid=COFFEE_APPID)
    _, raw_key = api_key_create(merchant=authorizer.merchant, name="schemathesis")
    auths = {
        "valid key": {"Authorization": f"Bearer {raw_key}"},
        "unknown key": {"Authorization": "Bearer wk_not-a-real-key-0000000000"},
        "no key": {},
    }
    schema = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the schema lists no operation"
    checks = _checks()
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    tried = 0

    def fuzz(operation, mode, auth_name, headers):
        @hsettings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=examples == SHORT_EXAMPLES,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case):
            nonlocal tried
            tried += 1
            response = case.call(headers=headers)
            statuses[response.status_code] += 1
            where = f"{operation.label} [{mode.value}, {auth_name}] {case.formatted_path}"
            try:
                case.validate_response(response, checks=checks, headers=headers)
            except AssertionError as exc:
                failures.append(f"{where}: schema: {str(exc)[:400]}")
            if response.status_code >= 400:
                try:
                    check_api_response(response.status_code, _headers(response), response.content)
                except ContractViolation as exc:
                    failures.append(f"{where}: shape: {exc}")

        run()

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for auth_name, headers in auths.items():
                fuzz(operation, mode, auth_name, headers)

    server_errors = sum(n for status, n in statuses.items() if status >= 500)
    resilience_figures.record(
        f"fuzz: schemathesis /api/schema/ ({examples} per operation x mode x key)",
        kind="schemathesis",
        inputs_tried=tried,
        operations=len(operations),
        http_5xx=server_errors,
        schema_violations=sum(": schema: " in f for f in failures),
        shape_violations=sum(": shape: " in f for f in failures),
        statuses=dict(sorted(statuses.items())),
    )
    assert tried >= len(operations) * 6
    assert server_errors == 0, failures[:5]
    assert not failures, "\n".join(failures[:10])
