"""Small helpers every handler shares: parse a body or query into a pydantic shape, answer with
one, and the contract's paging and time conventions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer
from sanic import Request
from sanic.response import HTTPResponse, json
from sanic_ext.extensions.openapi import definitions, openapi
from sanic_ext.extensions.openapi.builders import SpecificationBuilder

from models.errors import Invalid, UnsupportedMediaType
from server.clock import SHANGHAI

ShapeT = TypeVar("ShapeT", bound=BaseModel)

MAX_PAGE_SIZE = 100
MAX_DB_ID = 2**63 - 1

# An id as the database can hold it: larger numbers are bad input (422), not a database error.
DbId = Annotated[int, Field(ge=1, le=MAX_DB_ID)]

# Times leave the server in ISO 8601 with the Asia/Shanghai offset, as the contract says.
LocalTime = Annotated[datetime, PlainSerializer(lambda value: value.astimezone(SHANGHAI).isoformat(), return_type=str)]


class Shape(BaseModel):
    """Base of every request and response shape: unknown fields in a request are refused."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)


class PageQuery(Shape):
    model_config = ConfigDict(extra="ignore")

    page: int = Field(1, ge=1, le=1_000_000)
    page_size: int = Field(20, ge=1, le=MAX_PAGE_SIZE)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


def require_json(request: Request) -> None:
    """A JSON route takes `application/json` (any charset) and nothing else: a `text/plain` or
    form body is what a cross-site HTML form can send without a preflight (login CSRF)."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaType(
            "request.unsupported_media_type",
            "请求内容须为 JSON（Content-Type: application/json）",
            {"content_type": media_type[:100]},
        )


def parse_body(request: Request, shape: type[ShapeT]) -> ShapeT:
    require_json(request)
    body = request.json  # Sanic raises BadRequest (400 request.malformed) for broken JSON.
    if not isinstance(body, dict):
        raise Invalid("request.body_not_object", "请求内容须为 JSON 对象")
    return shape.model_validate(body)


def parse_query(request: Request, shape: type[ShapeT]) -> ShapeT:
    values = {key: request.args.get(key) for key in request.args}
    return shape.model_validate(values)


def respond(
    payload: BaseModel | dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> HTTPResponse:
    body = payload.model_dump(mode="json") if isinstance(payload, BaseModel) else payload
    return json(body, status=status, headers=headers, ensure_ascii=False)


def page_of(items: list[Any], total: int) -> dict[str, Any]:
    return {"items": items, "total": total}


class ErrorBody(Shape):
    code: str
    message: str
    details: dict[str, Any] = {}


class ErrorEnvelope(Shape):
    error: ErrorBody


def documented(
    summary: str,
    *,
    tag: str,
    body: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    secured: str | None = None,
    query: type[BaseModel] | None = None,
    description: str | None = None,
) -> Any:
    """Describe a route in the OpenAPI document from the same pydantic shapes the handler uses."""
    responses = [
        definitions.Response({"application/json": schema_of(response) if response else {}}, status=status),
        definitions.Response(
            {"application/json": schema_of(ErrorEnvelope)},
            status="default",
            description="错误：{error: {code, message, details}}",
        ),
    ]
    parameters = [
        definitions.Parameter(name, _query_type(info.annotation), location="query", required=info.is_required())
        for name, info in (query.model_fields.items() if query else [])
    ]
    return openapi.definition(
        summary=summary,
        description=description,
        tag=tag,
        body={"application/json": schema_of(body)} if body else None,
        response=responses,
        parameter=parameters or None,
        secured={secured: []} if secured else None,
    )


def schema_of(shape: type[BaseModel]) -> dict[str, Any]:
    """The shape's JSON schema, its nested shapes registered as OpenAPI components."""
    schema = shape.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, nested in schema.pop("$defs", {}).items():
        SpecificationBuilder().add_component("schemas", name, nested)
    return schema


def _query_type(annotation: Any) -> type:
    candidates = [arg for arg in get_args(annotation) if arg is not type(None)] or [annotation]
    kind = candidates[0]
    return kind if kind in (int, float, bool) else str
