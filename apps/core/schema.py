"""The error answers every API operation really gives, added to its OpenAPI entry once, here
(a drf-spectacular post-processing hook, SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]).

They follow from how the API is built, not from each view: one exception handler answers every
error as {"message", "extra"} (apps/core/errors.py); session authentication comes first, so a
caller who is not signed in gets 403 like a caller whose role may not (DRF answers 401 only when
the first authenticator names a WWW-Authenticate scheme); objects an agent may not see are 404s
as missing ones are (apps/inbox/visibility.py); a malformed body or query parameter is a 400,
and a tampered keyset cursor is a 404 "Invalid cursor" (apps/core/keyset.py).
tests/security/test_api_schema_fuzz.py holds every operation to what its entry documents.
"""
ERROR_SCHEMA = {
    "type": "object",
    "properties": {"message": {"type": "string"}, "extra": {"type": "object", "additionalProperties": True}},
    "required": ["message", "extra"],
}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def document_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            parameters = operation.get("parameters", [])
            responses = operation["responses"]
            if operation.get("security") != [{}]:  # [{}]: open to anyone (the inbound API checks its own token)
                responses.setdefault("403", _error("Not signed in, or the user's role may not do this"))
            if "requestBody" in operation or any(p["in"] == "query" for p in parameters):
                responses.setdefault("400", _error("Invalid input: the message says which field or parameter"))
            if any(p["in"] == "path" for p in parameters) or any(p["name"] == "cursor" for p in parameters):
                responses.setdefault("404", _error("No such object, one the user may not see, or an invalid cursor"))
    return result
