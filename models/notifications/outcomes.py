"""What a delivery's outcome means, in Chinese, for the caseworkers' delivery log, and whether
sending it again can help.

The dispatcher keeps WeChat's own answer (`last_errcode`, `last_error`: errmsg in English) or its
own reason (`no_consent: ...`); this module explains both. WeChat's codes are those of
shared/WECHAT.md; an unknown one is shown as a generic text with the raw code and message, so the
log never hides what WeChat said.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.notifications.tables import DeliveryStatus, NotificationDelivery


@dataclass(frozen=True)
class Explanation:
    text: str
    # False where a resend ends the same way (the worker refused or gave no consent, a bad
    # recipient): the log does not offer it and `resend` refuses it.
    resend_helps: bool


ERRCODES = {
    -1: Explanation("微信系统繁忙，多次重试后仍未成功", True),
    40001: Explanation("微信接口凭证无效，刷新后仍未成功", True),
    40003: Explanation("收件人无效：该职工不是本小程序的用户", False),
    40014: Explanation("微信接口凭证无效，刷新后仍未成功", True),
    40037: Explanation("消息模板编号无效，请管理员检查模板配置", True),
    41030: Explanation("消息跳转的小程序页面不存在，请管理员检查配置", True),
    42001: Explanation("微信接口凭证已过期，刷新后仍未成功", True),
    43101: Explanation("职工拒收该消息，或订阅次数已用完", False),
    45009: Explanation("超过微信每日发送上限，多次重试后仍未成功", True),
    45011: Explanation("发送过于频繁，多次重试后仍未成功", True),
    47003: Explanation("消息内容不符合微信模板的字段要求", False),
}

# The dispatcher's own reasons, written as "<code>: <text>".
REASONS = {
    "no_consent": Explanation("未发送：职工未授权接收这类订阅消息，或授权次数已用完；职工再次授权前无法发送", False),
    "not_following": Explanation("未发送：职工未关注工会公众号", False),
    "no_template": Explanation("未发送：该类消息尚未配置微信模板，配置后可重发", True),
    "bad_value": Explanation("消息内容不符合微信模板的字段要求", False),
    "internal": Explanation("系统内部错误，已记录在后台任务失败项中", True),
    "gave up": Explanation("多次重试后仍未成功", True),
}

# TEMPLATESENDJOBFINISH statuses for official-account template messages, written as "wechat: <status>".
TEMPLATE_RESULTS = {
    "failed:user block": Explanation("职工拒收公众号消息", False),
    "failed: system failed": Explanation("微信系统原因发送失败", True),
    "failed:freq limit": Explanation("微信限制发送频率，发送失败", True),
}

UNKNOWN = "微信返回了未知错误"


def explain(errcode: int | None, error: str) -> Explanation | None:
    """The outcome in Chinese; None when there is nothing to explain (delivered, or not yet sent)."""
    if errcode is not None and errcode != 0:
        known = ERRCODES.get(errcode)
        return known or Explanation(f"{UNKNOWN}（错误码 {errcode}：{error}）", True)
    if not error:
        return None
    if error.startswith("wechat: "):
        status = error.removeprefix("wechat: ")
        return TEMPLATE_RESULTS.get(status) or Explanation(f"{UNKNOWN}（{status}）", True)
    if error.startswith("gave up after"):
        return REASONS["gave up"]
    code = error.split(":", 1)[0]
    return REASONS.get(code) or Explanation(f"{UNKNOWN}（{error}）", True)


def resend_helps(delivery: NotificationDelivery) -> bool:
    """A failed or skipped delivery whose cause a resend can overcome."""
    if delivery.status not in (DeliveryStatus.FAILED, DeliveryStatus.SKIPPED):
        return False
    explained = explain(delivery.last_errcode, delivery.last_error)
    return explained is None or explained.resend_helps
