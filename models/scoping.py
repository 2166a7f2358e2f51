"""How a record declares who may see it: the union it belongs to, the worker who owns it, the
enterprise whose contacts see it. A model sets `SCOPING = Scoping(...)`; the scopes in
`models.scope` (and the experts' scope in the kernel) read it, so no caller names the columns.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.models import Model


@dataclass(frozen=True)
class Scoping:
    """Which columns tie a record to a union, to a worker and to an enterprise."""

    org: str = "org_id"
    owner: str | None = None
    enterprise: str | None = None
    case_type: str | None = None  # experts see the cases of this type assigned to them


def scoping_of(model: type[Model]) -> Scoping:
    return getattr(model, "SCOPING", Scoping())
