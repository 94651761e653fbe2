"""Checking real responses against the server's own /openapi.json (jsonschema, the 2020-12 dialect
that OpenAPI 3.1 uses): the status must be declared for the operation, and a JSON body must match."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec


def check_spec(spec: dict[str, Any]) -> None:
    validate_spec(spec)  # raises when the document is not valid OpenAPI


def check_response(spec: dict[str, Any], method: str, template: str, response: Any) -> None:
    operation = spec["paths"][template][method.lower()]
    declared = operation["responses"].get(str(response.status_code))
    assert declared is not None, f"{method} {template} answered {response.status_code}, not declared in the schema"
    content = declared.get("content", {})
    if "application/json" in content:
        assert response.headers["content-type"].startswith("application/json")
        schema = {**content["application/json"]["schema"], "components": spec.get("components", {})}
        Draft202012Validator(schema).validate(response.json())
    else:
        assert content, f"{method} {template} {response.status_code}: no content declared"
