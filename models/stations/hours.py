"""Opening hours: open round the clock, or daily from one time to another (past midnight when the
closing time is earlier than the opening time). Stored as `{"always": true}` or
`{"open": "08:00", "close": "20:00"}`; "24:00" closes at midnight."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from models.errors import Invalid
from models.profiles.identity import ascii_form
from server.clock import SHANGHAI

DAY_MINUTES = 24 * 60
_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$|^24:00$")  # ASCII digits only


@dataclass(frozen=True)
class Hours:
    always: bool
    open_minute: int = 0
    close_minute: int = DAY_MINUTES

    @classmethod
    def parse(cls, value: Mapping[str, object]) -> Hours:
        """Hours from their stored or submitted form, or `Invalid` naming the field."""
        if value.get("always") is True:
            if value.get("open") or value.get("close"):
                raise _invalid("全天开放的驿站无需填写开放和关闭时间")
            return cls(always=True)
        opening, closing = _minute(value.get("open"), "open"), _minute(value.get("close"), "close")
        if opening == DAY_MINUTES:
            raise _invalid("开放时间不能是 24:00", "open")
        if opening == closing % DAY_MINUTES:
            raise _invalid("开放时间与关闭时间相同；全天开放请选择“24小时”")
        return cls(always=False, open_minute=opening, close_minute=closing)

    def is_open(self, at: datetime) -> bool:
        if self.always:
            return True
        local = at.astimezone(SHANGHAI)
        minute = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
        if self.open_minute < self.close_minute:
            return self.open_minute <= minute < self.close_minute
        return minute >= self.open_minute or minute < self.close_minute  # open past midnight

    def as_dict(self) -> dict[str, object]:
        if self.always:
            return {"always": True}
        return {"open": _clock(self.open_minute), "close": _clock(self.close_minute)}

    @property
    def label(self) -> str:
        if self.always:
            return "24小时开放"
        overnight = "次日" if self.close_minute < self.open_minute else ""
        return f"每天 {_clock(self.open_minute)}-{overnight}{_clock(self.close_minute)}"


def _minute(value: object, field: str) -> int:
    if isinstance(value, str):
        value = ascii_form(value).strip()  # full-width digits from a Chinese input method
    if not isinstance(value, str) or not _CLOCK.match(value):
        raise _invalid("时间须为 HH:MM 格式（00:00 至 24:00），或选择“24小时”", field)
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _invalid(message: str, part: str | None = None) -> Invalid:
    return Invalid("station.hours_invalid", message, {"field": f"hours.{part}" if part else "hours"})
