"""OpenAPI post-processing: the error answers every endpoint can give, documented once.

Views document their success answers; the error shapes are the same everywhere (see
apps/common/errors.py): 400 with per-field messages, 401 without valid credentials, 403 for a
role that may not, 404 for an unknown or invisible object, 409 when a rule of the dispatch model
refuses, 429 for a locked-out login. Schemathesis (tests/security) holds answers to the schema.
"""

from __future__ import annotations

from typing import Any

TOKEN_PATH = "/api/auth/token/"

ERROR_SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": {
        "type": "object",
        "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
        "required": ["detail"],
        "additionalProperties": True,
    },
    "ValidationErrors": {
        "type": "object",
        "description": "Messages per field (`non_field_errors` for the whole input).",
        "additionalProperties": True,
    },
}

DESCRIPTIONS = {
    "400": "Invalid input: messages per field.",
    "401": "No valid credentials (missing, expired or revoked token).",
    "403": "The user's role may not do this.",
    "404": "Unknown, or not visible to the user.",
    "409": "Refused by a rule of the dispatch model (e.g. an illegal transition).",
    "429": "Too many failed logins: locked out for the cool-off time.",
}


def _response(code: str) -> dict[str, Any]:
    name = "ValidationErrors" if code == "400" else "Error"
    return {
        "description": DESCRIPTIONS[code],
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
    }


def error_codes(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    if path == TOKEN_PATH:
        return ["400", "429"]
    codes = ["401", "403"]
    has_input = "requestBody" in operation or any(
        p.get("in") == "query" for p in operation.get("parameters", [])
    )
    if has_input or method == "post":
        codes.append("400")
    if "{" in path or path.startswith("/api/me/"):
        codes.append("404")
    if method == "post":
        codes.append("409")
    return codes


def add_error_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular POSTPROCESSING_HOOKS entry."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in ERROR_SCHEMAS.items():
        schemas.setdefault(name, schema)
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for code in error_codes(path, method, operation):
                operation["responses"].setdefault(code, _response(code))
    return result
