"""Small helpers every handler shares: parse a body or query into a pydantic shape, answer with
one, and the contract's paging and time conventions."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, TypeAdapter
from sanic import Request, Sanic
from sanic.response import HTTPResponse, json
from sanic_ext.extensions.openapi import definitions, openapi
from sanic_ext.extensions.openapi.builders import SpecificationBuilder
from sanic_ext.extensions.openapi.types import Schema

from models.errors import Invalid, UnsupportedMediaType
from server.clock import SHANGHAI

ShapeT = TypeVar("ShapeT", bound=BaseModel)
HandlerT = TypeVar("HandlerT", bound=Callable[..., Any])

MAX_PAGE_SIZE = 100
MAX_DB_ID = 2**63 - 1

# An id as the database can hold it: larger numbers are bad input (422), not a database error.
DbId = Annotated[int, Field(ge=1, le=MAX_DB_ID, json_schema_extra={"format": "int64"})]

# The times PostgreSQL and Python can both hold with room to spare; outside them a date is a typo
# (0001-01-01 cannot even be moved to UTC), answered 422 rather than a database error.
EARLIEST = datetime(1900, 1, 1, tzinfo=SHANGHAI)
LATEST = datetime(2999, 12, 31, 23, 59, 59, tzinfo=SHANGHAI)


def _within_range(value: datetime) -> datetime:
    local = value if value.tzinfo else value.replace(tzinfo=SHANGHAI)
    if not EARLIEST <= local <= LATEST:
        raise ValueError("时间须在 1900-01-01 至 2999-12-31 之间")
    # Moved to Beijing time, the zone the database holds: SQLite compares times as text, so a
    # filter given as 00:00Z would otherwise miss rows stored as 08:00+08:00.
    return local.astimezone(SHANGHAI)


# A time coming in (a filter or a field of a body): ISO 8601, without an offset read as Beijing time.
BoundedDateTime = Annotated[
    datetime,
    AfterValidator(_within_range),
    Field(description="ISO 8601 时间，1900 至 2999 年；不带时区时按北京时间"),
]


def _day_within_range(value: date) -> date:
    if not EARLIEST.date() <= value <= LATEST.date():
        raise ValueError("日期须在 1900-01-01 至 2999-12-31 之间")
    return value


# A day coming in (a filter's bound): a calendar day in Asia/Shanghai, within the same years.
BoundedDate = Annotated[
    date, AfterValidator(_day_within_range), Field(description="日期（YYYY-MM-DD，北京时间），1900 至 2999 年")
]

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


_JSON = "application/json"


def respond(
    payload: BaseModel | dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> HTTPResponse:
    if isinstance(payload, BaseModel):
        # pydantic writes the JSON itself (compact, UTF-8 as it is), without a dict in between.
        return HTTPResponse(payload.model_dump_json(), status=status, headers=headers, content_type=_JSON)
    return json(payload, status=status, headers=headers, ensure_ascii=False)


def page_of(items: list[Any], total: int) -> dict[str, Any]:
    return {"items": items, "total": total}


class ErrorBody(Shape):
    code: str
    message: str
    details: dict[str, Any] = {}


class ErrorEnvelope(Shape):
    error: ErrorBody


ERROR_STATUSES = "400 / 401 / 403 / 404 / 409 / 413 / 415 / 422 / 429（带 Retry-After）/ 5xx"


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
    plain_text: bool = False,
    file_body: str | None = None,
    file_response: str | None = None,
) -> Callable[[HandlerT], HandlerT]:
    """Describe a route in the OpenAPI document from the same pydantic shapes the handler uses:
    the body (required), the query parameters with their types and bounds, the path parameters
    (from the handler's signature: an int is a database id) and the answers, errors included.
    `file_body` / `file_response` name the media type of a file sent or answered as is (an .xlsx)."""
    if file_response:
        answer = {file_response: {"type": "string", "format": "binary"}}
    elif plain_text:
        answer = {"text/plain": {"type": "string"}}
    else:
        answer = {"application/json": schema_of(response) if response else {}}
    if file_body:
        request_body = definitions.RequestBody({file_body: {"type": "string", "format": "binary"}}, required=True)
    else:
        request_body = definitions.RequestBody({"application/json": schema_of(body)}, required=True) if body else None
    responses = [
        definitions.Response(answer, status=status),
        definitions.Response(
            {"application/json": schema_of(ErrorEnvelope)},
            status="default",
            description=f"错误（{ERROR_STATUSES}）：{{error: {{code, message, details}}}}",
        ),
    ]

    def decorate(handler: HandlerT) -> HandlerT:
        parameters = _path_parameters(handler) + (_query_parameters(query) if query else [])
        return openapi.definition(
            summary=summary,
            description=description,
            tag=tag,
            body=request_body,
            response=responses,
            parameter=parameters or None,
            secured={secured: []} if secured else None,
        )(handler)

    return decorate


def add_security_schemes(app: Sanic) -> None:
    """The bearer tokens that `documented(secured=...)` names."""
    app.ext.openapi.add_security_scheme(
        "worker", "http", bearer_format="JWT", description="职工/专家：POST /api/v1/auth/wechat-login 返回的 token"
    )
    app.ext.openapi.add_security_scheme(
        "staff",
        "http",
        bearer_format="JWT",
        description="工作人员：POST /api/v1/admin/auth/login 返回的 token（管理后台页面用会话 Cookie，不在本文档中）",
    )


def schema_of(shape: type[BaseModel]) -> dict[str, Any]:
    """The shape's JSON schema, its nested shapes registered as OpenAPI components."""
    schema = shape.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, nested in schema.pop("$defs", {}).items():
        SpecificationBuilder().add_component("schemas", name, nested)
    return schema


class _JsonSchema(Schema):
    """A JSON schema written by pydantic, passed through sanic-ext untouched (its own `Schema`
    keeps only the keys it knows, and reads a plain dict as an object's properties)."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self._fields = schema

    def serialize(self) -> dict[str, Any]:
        return self._fields


def _path_parameters(handler: Callable[..., Any]) -> list[definitions.Parameter]:
    """The handler's arguments after the request are its path parameters."""
    arguments = list(inspect.signature(handler, eval_str=True).parameters.values())[1:]
    return [
        definitions.Parameter(
            argument.name,
            _JsonSchema(_ID_SCHEMA if argument.annotation is int else TypeAdapter(argument.annotation).json_schema()),
            location="path",
            required=True,
        )
        for argument in arguments
    ]


def _query_parameters(query: type[BaseModel]) -> list[definitions.Parameter]:
    schema = schema_of(query)
    required = set(schema.get("required", []))
    parameters = []
    for name, field in schema["properties"].items():
        field.pop("title", None)
        description = field.pop("description", None)
        parameters.append(
            definitions.Parameter(
                name,
                _JsonSchema(_without_null(field)),
                location="query",
                required=name in required,
                description=description,
            )
        )
    return parameters


def _without_null(field: dict[str, Any]) -> dict[str, Any]:
    """An optional query parameter is one that is left out, not one sent as `null`."""
    options = [option for option in field.get("anyOf", []) if option != {"type": "null"}]
    if len(options) != 1:
        return field
    rest = {key: value for key, value in field.items() if key != "anyOf" and not (key == "default" and value is None)}
    return {**options[0], **rest}


_ID_SCHEMA = TypeAdapter(DbId).json_schema()
