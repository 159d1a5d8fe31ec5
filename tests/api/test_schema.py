"""The OpenAPI document is valid and documents every error; the docs work offline."""

import re

from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from merchant_api.errors import API_ERRORS


def _schema(db) -> dict:
    response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def test_schema_is_valid_openapi(db):
    schema = _schema(db)
    validate_schema(schema)  # raises on an invalid document
    assert schema["openapi"].startswith("3.")
    assert schema["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"


def test_every_operation_documents_its_errors(db):
    schema = _schema(db)
    paths = schema["paths"]
    single = paths["/api/v1/authorizers/{appid}/users/{openid}/tags"]["get"]["responses"]
    bulk = paths["/api/v1/authorizers/{appid}/users/tags"]["post"]["responses"]
    for responses in (single, bulk):
        assert {str(e.status) for e in API_ERRORS} <= set(responses)
        for status in ("429", "503"):
            assert "Retry-After" in responses[status]["headers"]
        for status, response in responses.items():
            if status != "200":
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/Error"
    text = str(single)
    for error in API_ERRORS:
        assert f"`{error.code}`" in text
    for path in ("/api/v1/authorizers/", "/api/v1/authorizers/{appid}/"):
        assert {"401", "429"} <= set(paths[path]["get"]["responses"])
    assert "404" in paths["/api/v1/authorizers/{appid}/"]["get"]["responses"]
    codes = schema["components"]["schemas"]["ErrorDetail"]["properties"]
    assert {"code", "message", "wechat_errcode", "rid"} <= set(codes)


def test_docs_are_served_without_a_cdn(db):
    client = APIClient()
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(not a.startswith(("http:", "https:", "//")) for a in assets), assets
    assert "/api/docs/assets/swagger-ui-bundle.js" in html
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js"):
        response = client.get(f"/api/docs/assets/{name}")
        assert response.status_code == 200
        assert b"".join(response.streaming_content)
    assert client.get("/api/docs/assets/..%2Fsettings.py").status_code == 404


def test_error_texts_and_examples_are_each_codes_own(db):
    """Descriptions are Markdown: the key's placeholder is escaped so the docs page shows it
    (tests/browser/test_api_docs.py reads the rendered page); each status's example bodies
    carry that status's own codes, not the first code of the enum."""
    responses = _schema(db)["paths"]["/api/v1/authorizers/{appid}/users/{openid}/tags"]["get"]
    responses = responses["responses"]
    assert "send 'Authorization: Bearer \\<api key\\>'." in responses["401"]["description"]
    for error in API_ERRORS:
        examples = responses[str(error.status)]["content"]["application/json"]["examples"]
        bodies = {
            example["value"]["error"]["code"]: example["value"] for example in examples.values()
        }
        assert bodies[error.code] == {"error": {"code": error.code, "message": error.message}}
    examples = responses["401"]["content"]["application/json"]["examples"].values()
    assert [e["value"]["error"]["code"] for e in examples] == ["unauthenticated"]
    examples = responses["429"]["content"]["application/json"]["examples"].values()
    assert [e["value"]["error"]["code"] for e in examples] == ["rate_limited"]
