"""What a worker's profile looks like to them; also part of GET /api/v1/me."""

from __future__ import annotations

from pydantic import Field

from models.catalogue import OCCUPATIONS, PLATFORMS, label_of
from models.profiles.tables import WorkerProfile
from server.http import LocalTime, Shape


class ProfileOut(Shape):
    real_name: str
    id_number: str = Field(description="脱敏：4401**********1234")
    phone: str = Field(description="脱敏：138****1234")
    phone_verified: bool
    occupation: str
    occupation_label: str
    platform: str
    platform_label: str
    city: str
    district: str
    updated_at: LocalTime


def profile_out(profile: WorkerProfile) -> ProfileOut:
    return ProfileOut(
        real_name=profile.real_name,
        id_number=profile.id_masked,
        phone=profile.phone_masked,
        phone_verified=profile.phone_verified,
        occupation=profile.occupation,
        occupation_label=label_of(OCCUPATIONS, profile.occupation, profile.occupation_other),
        platform=profile.platform,
        platform_label=label_of(PLATFORMS, profile.platform, profile.platform_other),
        city=profile.city,
        district=profile.district,
        updated_at=profile.updated_at,
    )
