"""Which WeChat template carries which event, and which notification value fills each field.

The defaults name the sandbox's templates; production sets `NOTIFICATION_TEMPLATES` to a JSON
object of the same shape with the template ids from the WeChat console. Keys may end in `.*` to
cover every event of a domain; an exact key wins over a wildcard.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from server.wechat.fields import fit_subscribe_value, fit_template_value


@dataclass(frozen=True)
class TemplateSpec:
    template_id: str
    fields: dict[str, str]  # WeChat key -> name of the value in Notification.values


@dataclass(frozen=True)
class EventTemplates:
    subscribe: TemplateSpec | None
    official: TemplateSpec | None


REVIEW_RESULT = EventTemplates(
    subscribe=TemplateSpec(
        "sbx-review-result", {"phrase1": "status", "thing2": "org", "time3": "time", "thing4": "note"}
    ),
    official=TemplateSpec(
        "sbx-oa-review-result", {"keyword1": "status", "keyword2": "org", "keyword3": "time", "keyword4": "note"}
    ),
)
UNION_NOTICE = EventTemplates(
    subscribe=TemplateSpec("sbx-union-notice", {"thing1": "title", "thing2": "org", "time3": "time", "thing4": "note"}),
    official=TemplateSpec(
        "sbx-oa-union-notice", {"keyword1": "title", "keyword2": "org", "keyword3": "time", "keyword4": "note"}
    ),
)

DEFAULT_TEMPLATES: dict[str, EventTemplates] = {
    "enrolment.*": REVIEW_RESULT,
    "membership.*": REVIEW_RESULT,
    "warm_request.*": REVIEW_RESULT,
    "service_order.*": REVIEW_RESULT,
    "appeal.*": REVIEW_RESULT,
    "broadcast.notice": UNION_NOTICE,
}


def _spec(raw: dict[str, Any] | None) -> TemplateSpec | None:
    return TemplateSpec(raw["template_id"], dict(raw["fields"])) if raw else None


def parse_templates(override: str) -> dict[str, EventTemplates]:
    if not override.strip():
        return dict(DEFAULT_TEMPLATES)
    raw = json.loads(override)
    return {
        event: EventTemplates(subscribe=_spec(entry.get("subscribe")), official=_spec(entry.get("official")))
        for event, entry in raw.items()
    }


class TemplateBook:
    def __init__(self, templates: dict[str, EventTemplates]) -> None:
        self._templates = templates

    def for_event(self, event: str) -> EventTemplates | None:
        if event in self._templates:
            return self._templates[event]
        return self._templates.get(event.split(".", 1)[0] + ".*")

    def subscribe_data(self, spec: TemplateSpec, values: dict[str, Any]) -> dict[str, dict[str, str]]:
        return {key: {"value": fit_subscribe_value(key, values.get(name, ""))} for key, name in spec.fields.items()}

    def official_data(self, spec: TemplateSpec, values: dict[str, Any]) -> dict[str, dict[str, str]]:
        return {key: {"value": fit_template_value(values.get(name, ""))} for key, name in spec.fields.items()}

    def consent_templates(self) -> dict[str, list[str]]:
        """Subscribe template id -> the events it carries: what the mini-program asks consent for."""
        found: dict[str, list[str]] = {}
        for event, templates in self._templates.items():
            if templates.subscribe:
                found.setdefault(templates.subscribe.template_id, []).append(event)
        return found
