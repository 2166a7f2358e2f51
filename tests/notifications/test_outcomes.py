"""The delivery log explains every outcome in Chinese: each WeChat errcode the dispatcher acts on,
each reason the dispatcher writes itself, each template-send result; anything else shows a
generic text with WeChat's own code and words."""

from __future__ import annotations

import re
from pathlib import Path

from models.notifications.delivery import RETRYABLE_ERRCODES, SKIP_ERRCODES
from models.notifications.outcomes import ERRCODES, REASONS, TEMPLATE_RESULTS, UNKNOWN, explain, resend_helps
from models.notifications.tables import DeliveryStatus, NotificationDelivery

DISPATCHER = Path(__file__).resolve().parents[2] / "server" / "dispatcher.py"
# shared/WECHAT.md: the subscribe message's errors and the token's.
DOCUMENTED = {40003, 40037, 43101, 47003, 41030, 45009, -1, 40001, 40014, 42001}


def _is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_every_errcode_the_dispatcher_knows_is_explained() -> None:
    codes = (RETRYABLE_ERRCODES | SKIP_ERRCODES | DOCUMENTED) - {None}
    assert sorted(code for code in codes if code not in ERRCODES) == []
    assert all(_is_chinese(explain(code, "english errmsg").text) for code in codes)  # type: ignore[union-attr]


def test_every_reason_the_dispatcher_writes_is_explained() -> None:
    written = set(re.findall(r'Result\(Outcome\.\w+, None, f?"(\w+):', DISPATCHER.read_text()))
    assert {"no_consent", "not_following", "no_template", "bad_value", "internal"} <= written
    assert sorted(written - REASONS.keys()) == []
    assert explain(None, "gave up after 4 attempts: system error") == REASONS["gave up"]


def test_template_results_and_the_unknown() -> None:
    assert explain(None, "wechat: failed:user block") == TEMPLATE_RESULTS["failed:user block"]
    odd = explain(48001, "api unauthorized rid: 1")
    assert odd is not None and odd.text == f"{UNKNOWN}（错误码 48001：api unauthorized rid: 1）" and odd.resend_helps
    assert explain(None, "wechat: failed:new thing").text.endswith("（failed:new thing）")  # type: ignore[union-attr]
    assert explain(0, "") is None and explain(None, "") is None


def test_resend_is_offered_only_where_it_can_help() -> None:
    def delivery(status: DeliveryStatus, errcode: int | None, error: str) -> NotificationDelivery:
        return NotificationDelivery(status=status, last_errcode=errcode, last_error=error)

    assert not resend_helps(delivery(DeliveryStatus.SKIPPED, None, "no_consent: 用户未授权该订阅消息或次数已用完"))
    assert not resend_helps(delivery(DeliveryStatus.SKIPPED, 43101, "user refuse to accept the msg"))
    assert not resend_helps(delivery(DeliveryStatus.FAILED, 40003, "invalid openid"))
    assert resend_helps(delivery(DeliveryStatus.FAILED, 45009, "gave up after 4 attempts: reach max api daily quota"))
    assert resend_helps(delivery(DeliveryStatus.SKIPPED, None, "no_template: 该事件未配置模板"))
    assert not resend_helps(delivery(DeliveryStatus.DELIVERED, 0, ""))
