"""Ratings: 1 to 5, a comment and tags, one per case per rater, belonging to the case and to the
person (or place) that served it. Figures roll up by union subtree, service kind and month.

A domain records a rating from the effects of its `rate` transition, so the rating, the case's
move to closed and its history commit together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise import fields
from tortoise.exceptions import IntegrityError
from tortoise.functions import Count, Sum
from tortoise.models import Model

from models.errors import Conflict, Invalid
from models.orgs import in_subtree
from models.scope import StaffScope
from models.scoping import Scoping
from server.clock import SHANGHAI

MAX_TAGS = 10
MAX_TAG_LENGTH = 16


class Rating(Model):
    SCOPING = Scoping(owner="rater_user_id")
    id = fields.BigIntField(primary_key=True)
    case_type = fields.CharField(max_length=32)
    case_id = fields.BigIntField()
    rater_user_id = fields.BigIntField()
    service_kind = fields.CharField(max_length=32)
    served_kind = fields.CharField(max_length=16, default="")  # staff, expert, station; "" when nobody
    served_id = fields.BigIntField(null=True)
    org_id = fields.BigIntField()
    score = fields.SmallIntField()
    comment = fields.CharField(max_length=500, default="")
    tags: list[str] = fields.JSONField(default=list)  # type: ignore[assignment]
    month = fields.CharField(max_length=7)  # YYYY-MM in Asia/Shanghai: grouped on both back ends alike
    created_at = fields.DatetimeField()

    class Meta:
        table = "ratings"
        unique_together = (("case_type", "case_id", "rater_user_id"),)
        indexes = (("org_id", "service_kind", "month"), ("served_kind", "served_id"))


@dataclass(frozen=True)
class Served:
    kind: str
    id: int | None


async def rate(
    *,
    case_type: str,
    case_id: int,
    rater_user_id: int,
    service_kind: str,
    served: Served,
    org_id: int,
    score: int,
    comment: str,
    tags: list[str],
    at: datetime,
) -> Rating:
    if not 1 <= score <= 5:
        raise Invalid("rating.score", "评分须为 1 至 5 分", {"field": "score"})
    tags = [tag.strip() for tag in tags if tag.strip()]
    if len(tags) > MAX_TAGS or any(len(tag) > MAX_TAG_LENGTH for tag in tags):
        raise Invalid("rating.tags", f"标签最多 {MAX_TAGS} 个，每个不超过 {MAX_TAG_LENGTH} 个字", {"field": "tags"})
    try:
        return await Rating.create(
            case_type=case_type,
            case_id=case_id,
            rater_user_id=rater_user_id,
            service_kind=service_kind,
            served_kind=served.kind,
            served_id=served.id,
            org_id=org_id,
            score=score,
            comment=comment.strip()[:500],
            tags=tags,
            month=at.astimezone(SHANGHAI).strftime("%Y-%m"),
            created_at=at,
        )
    except IntegrityError:
        raise Conflict("rating.already_rated", "您已评价过此项服务") from None


@dataclass(frozen=True)
class RatingFigure:
    service_kind: str
    month: str
    count: int
    average: float


async def rating_figures(scope: StaffScope, org_id: int | None = None, months: int = 12) -> list[RatingFigure]:
    """Average and count per service kind and month, for the staff member's subtree (or the part
    of it under `org_id`), newest month first."""
    query = scope.restrict(Rating.all())
    if org_id is not None:
        await scope.require(org_id)
        query = in_subtree(query, org_id)
    rows = (
        await query.annotate(count=Count("id"), total=Sum("score"))
        .group_by("service_kind", "month")
        .order_by("-month", "service_kind")
        .values("service_kind", "month", "count", "total")
    )
    # Sum and count rather than AVG, which Tortoise casts back to the column's integer type.
    found = [
        RatingFigure(row["service_kind"], row["month"], row["count"], round(row["total"] / row["count"], 2))
        for row in rows
    ]
    newest = sorted({figure.month for figure in found}, reverse=True)[:months]
    return [figure for figure in found if figure.month in newest]


async def served_average(served: Served) -> tuple[float | None, int]:
    """A person's (or place's) average score and how many ratings it rests on."""
    row = (
        await Rating.filter(served_kind=served.kind, served_id=served.id)
        .annotate(count=Count("id"), total=Sum("score"))
        .values("count", "total")
    )
    count = row[0]["count"] if row else 0
    return (round(row[0]["total"] / count, 2) if count else None, count)


@dataclass(frozen=True)
class Satisfaction:
    average: float | None
    count: int
    by_service: dict[str, dict[str, float | int]]


async def satisfaction(org_id: int) -> Satisfaction:
    """Every rating in the union's subtree: the average and count, overall and per service kind."""
    rows = (
        await in_subtree(Rating.all(), org_id)
        .annotate(count=Count("id"), total=Sum("score"))
        .group_by("service_kind")
        .values("service_kind", "count", "total")
    )
    count = sum(row["count"] for row in rows)
    total = sum(row["total"] for row in rows)
    return Satisfaction(
        round(total / count, 2) if count else None,
        count,
        {
            row["service_kind"]: {"average": round(row["total"] / row["count"], 2), "count": row["count"]}
            for row in rows
        },
    )
