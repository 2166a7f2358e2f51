"""The worker's profile and the lists the mini-program offers."""

from __future__ import annotations

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from handlers.profiles.shapes import ProfileOut, profile_out
from models.catalogue import (
    APPEAL_TOPICS,
    EXPERT_TITLES,
    INDUSTRIES,
    NEGOTIATION_TOPICS,
    OCCUPATIONS,
    ORDER_CATEGORIES,
    PLATFORMS,
    SKILLS,
    STATION_AMENITIES,
    VISIT_PLACES,
)
from models.profiles.actions import ProfileInput, save_profile
from models.warm_requests.catalogue import REQUEST_TYPES
from server.auth.guards import worker_required
from server.http import Shape, documented, parse_body, respond

bp = Blueprint("profile", url_prefix="/api/v1")


class ProfileIn(Shape):
    real_name: str = Field(max_length=32)
    id_number: str = Field(max_length=32, description="18 位居民身份证号码，校验位按 GB 11643 校验")
    phone: str | None = Field(None, max_length=20, description="手机号；有 phone_code 时可不填")
    phone_code: str | None = Field(None, max_length=128, description="小程序手机号按钮返回的 code，优先使用")
    occupation: str = Field(max_length=32, description="职业代码，见 /api/v1/catalogue")
    occupation_other: str = Field("", max_length=32)
    platform: str = Field("none", max_length=32, description="平台代码，见 /api/v1/catalogue")
    platform_other: str = Field("", max_length=32)
    city: str = Field(max_length=32)
    district: str = Field("", max_length=32)


class Choice(Shape):
    code: str
    label: str


def choices(labelled: dict[str, str]) -> list[Choice]:
    return [Choice(code=code, label=label) for code, label in labelled.items()]


class FieldSpecOut(Shape):
    name: str
    label: str
    type: str = Field(description="text | number | integer | date | choice")
    required: bool
    choices: list[Choice]


class RequestTypeOut(Shape):
    code: str
    label: str
    fields: list[FieldSpecOut]


class TopicChoice(Choice):
    negotiation: bool = Field(description="是否为与平台企业集体协商的议题")


class CatalogueOut(Shape):
    occupations: list[Choice]
    platforms: list[Choice]
    warm_request_types: list[RequestTypeOut]
    appeal_topics: list[TopicChoice]
    station_amenities: list[Choice]
    order_categories: list[Choice]
    industries: list[Choice]
    skills: list[Choice]
    expert_titles: list[Choice]
    visit_places: list[Choice]


@bp.put("/me/profile")
@documented(
    "保存个人信息：身份证号加密保存，仅以脱敏形式返回", tag="me", body=ProfileIn, response=ProfileOut, secured="worker"
)
@worker_required
async def put_profile(request: Request) -> HTTPResponse:
    body = parse_body(request, ProfileIn)
    verified_phone = await request.app.ctx.wechat.phone_number(body.phone_code) if body.phone_code else None
    profile = await save_profile(
        request.ctx.user,
        ProfileInput(
            real_name=body.real_name,
            id_number=body.id_number,
            phone=body.phone,
            verified_phone=verified_phone,
            occupation=body.occupation,
            occupation_other=body.occupation_other,
            platform=body.platform,
            platform_other=body.platform_other,
            city=body.city,
            district=body.district,
        ),
        request.app.ctx.cipher,
        request.ctx.actor,
    )
    return respond(profile_out(profile))


@bp.get("/catalogue")
@documented(
    "可选列表：职业、平台、暖心服务求助类型及其信息项、诉求类别、驿站服务设施、点单服务类别、行业、专长、荣誉称号、走访地点",
    tag="me",
    response=CatalogueOut,
)
async def catalogue(request: Request) -> HTTPResponse:
    return respond(
        CatalogueOut(
            occupations=choices(OCCUPATIONS),
            platforms=choices(PLATFORMS),
            warm_request_types=[
                RequestTypeOut(
                    code=kind.code,
                    label=kind.label,
                    fields=[
                        FieldSpecOut(
                            name=spec.name,
                            label=spec.label,
                            type=spec.type,
                            required=spec.required,
                            choices=[Choice(code=code, label=label) for code, label in spec.choices],
                        )
                        for spec in kind.fields
                    ],
                )
                for kind in REQUEST_TYPES.values()
            ],
            appeal_topics=[
                TopicChoice(code=code, label=label, negotiation=code in NEGOTIATION_TOPICS)
                for code, label in APPEAL_TOPICS.items()
            ],
            station_amenities=choices(STATION_AMENITIES),
            order_categories=choices(ORDER_CATEGORIES),
            industries=choices(INDUSTRIES),
            skills=choices(SKILLS),
            expert_titles=choices(EXPERT_TITLES),
            visit_places=choices(VISIT_PLACES),
        )
    )
