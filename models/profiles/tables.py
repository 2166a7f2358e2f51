"""A worker's profile: who they are, with the ID number sealed, indexed and masked."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.accounts import User
from models.profiles.identity import mask_phone
from server.crypto import Sealed

ID_CONTEXT = "id_number"


class WorkerProfile(Model):
    id = fields.BigIntField(primary_key=True)
    user: fields.OneToOneRelation[User] = fields.OneToOneField(
        "models.User", related_name="profile", on_delete=fields.CASCADE
    )
    real_name = fields.CharField(max_length=32)
    phone = fields.CharField(max_length=11)
    phone_verified = fields.BooleanField(default=False)
    id_key_id = fields.CharField(max_length=16)
    id_ciphertext = fields.CharField(max_length=128)
    id_blind_index = fields.CharField(max_length=64, db_index=True)
    id_masked = fields.CharField(max_length=18)
    id_tail_key = fields.CharField(max_length=64, default="")  # blind index of the last 6 characters
    occupation = fields.CharField(max_length=32)
    occupation_other = fields.CharField(max_length=32, default="")
    platform = fields.CharField(max_length=32, default="none")
    platform_other = fields.CharField(max_length=32, default="")
    city = fields.CharField(max_length=32)
    district = fields.CharField(max_length=32, default="")
    updated_at = fields.DatetimeField(auto_now=True)

    user_id: int

    class Meta:
        table = "worker_profiles"

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    def sealed_id(self) -> Sealed:
        return Sealed(self.id_key_id, self.id_ciphertext)
