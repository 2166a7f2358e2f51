"""Stored answers to requests sent with an `Idempotency-Key`, so that a retry from a flaky
mobile network gets the first answer instead of doing the work twice."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class IdempotencyRecord(Model):
    id = fields.BigIntField(primary_key=True)
    principal = fields.CharField(max_length=64)
    key = fields.CharField(max_length=128)
    method = fields.CharField(max_length=8)
    path = fields.CharField(max_length=255)
    body_hash = fields.CharField(max_length=64)
    status = fields.IntField(null=True)  # NULL while the first request is still being handled
    response = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "idempotency_records"
        unique_together = (("principal", "key"),)
