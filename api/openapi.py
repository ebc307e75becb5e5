"""The finishing pass over the generated OpenAPI document (D26), so a generated client is right.

Litestar documents each handler from its signature; two things it cannot know are added here, in
one place rather than on every handler:

* every error a route can answer uses the envelope `ErrorBody` (Litestar would document its own
  `{status_code, detail, extra}` for 400): the error statuses a handler declares, 400 wherever
  parameters or a body are read, 413 wherever a body is, and 401 / 429 on every authenticated
  route;
* request bodies reject unknown fields (`forbid_unknown_fields`), so their schemas say
  `additionalProperties: false`.
"""

from __future__ import annotations

from collections.abc import Iterator

import msgspec
from litestar import Litestar
from litestar.openapi.spec import OpenAPIMediaType as MediaType
from litestar.openapi.spec import OpenAPIResponse, OpenAPIType, Operation, Reference, Schema

from api.errors import ErrorBody

ERROR_SCHEMA = ErrorBody.__name__  # the component Litestar generates for the envelope
DESCRIPTIONS = {
    400: "Invalid request (bad_request and other validation codes)",
    401: "Missing, invalid or revoked API key",
    404: "Not found (or another organisation's)",
    409: "Conflict with the stored state",
    413: "Body larger than the configured limit",
    422: "The operation was refused (e.g. insufficient_funds)",
    429: "Rate limit exceeded (see Retry-After)",
}


def _operations(app: Litestar) -> Iterator[Operation]:
    for item in (app.openapi_schema.paths or {}).values():
        for method in ("get", "put", "post", "delete", "options", "head", "patch", "trace"):
            operation = getattr(item, method, None)
            if operation is not None:
                yield operation


def _strict_struct_names() -> set[str]:
    """Names of the request Structs that forbid unknown fields (and the bundle Structs they nest)."""
    from api.schemas.common import Request
    from engine.model.bundle import Struct as BundleStruct

    names: set[str] = set()
    stack: list[type] = [Request, BundleStruct]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if issubclass(cls, msgspec.Struct) and cls.__struct_config__.forbid_unknown_fields:
            names.add(cls.__name__)
    return names


def _error_response(status: int) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=DESCRIPTIONS.get(status, "Error"),
        content={"application/json": MediaType(schema=Reference(ref=f"#/components/schemas/{ERROR_SCHEMA}"))},
    )


def finalize_openapi(app: Litestar) -> None:
    """Apply the finishing pass to `app.openapi_schema` (call once, before it is first served)."""
    document = app.openapi_schema
    components = document.components
    schemas = components.schemas if components.schemas is not None else {}
    components.schemas = schemas
    if ERROR_SCHEMA not in schemas:
        schemas[ERROR_SCHEMA] = Schema(
            type=OpenAPIType.OBJECT,
            required=["code", "message"],
            properties={
                "code": Schema(type=OpenAPIType.STRING),
                "message": Schema(type=OpenAPIType.STRING),
                "details": Schema(type=OpenAPIType.OBJECT),
            },
        )
    for operation in _operations(app):
        public = operation.security == [{}]
        statuses = {int(code) for code in (operation.responses or {}) if code.isdigit() and int(code) >= 400}
        statuses |= {400} if operation.parameters or operation.request_body else set()
        statuses |= {413} if operation.request_body else set()
        statuses |= set() if public else {401, 429}
        responses = dict(operation.responses or {})
        for status in sorted(statuses):
            responses[str(status)] = _error_response(status)
        operation.responses = responses
    strict = _strict_struct_names()
    for name, schema in schemas.items():
        if isinstance(schema, Schema) and schema.type == OpenAPIType.OBJECT and name.split("_")[-1] in strict:
            schema.additional_properties = False
