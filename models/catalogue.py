"""Maintained lists the mini-program offers: occupations and platforms of (gig) workers, the
topics of workers' demands, and what a rest station (工会驿站) offers them.

Codes are stable identifiers stored on records; labels are what people read. `other` takes a
free-text description beside it.
"""

from __future__ import annotations

from models.errors import Invalid

OTHER = "other"

OCCUPATIONS: dict[str, str] = {
    "delivery_rider": "外卖骑手",
    "courier": "快递员",
    "ride_hailing_driver": "网约车司机",
    "truck_driver": "货车司机",
    "online_delivery": "网约配送员",
    "live_streamer": "互联网营销师/网络主播",
    "domestic_worker": "家政服务员",
    "designated_driver": "代驾司机",
    "warehouse_worker": "仓储分拣员",
    "factory_worker": "企业职工",
    OTHER: "其他",
}

GIG_OCCUPATIONS = {
    "delivery_rider",
    "courier",
    "ride_hailing_driver",
    "truck_driver",
    "online_delivery",
    "live_streamer",
    "domestic_worker",
    "designated_driver",
}

PLATFORMS: dict[str, str] = {
    "meituan": "美团",
    "eleme": "饿了么",
    "sf_express": "顺丰",
    "jd": "京东",
    "didi": "滴滴出行",
    "huolala": "货拉拉",
    "cainiao": "菜鸟",
    "dada": "达达",
    "douyin": "抖音",
    "none": "无平台",
    OTHER: "其他",
}

# What workers raise with their union. The first group is what platform enterprises negotiate with
# unions over (DOMAIN.md §6), so the tallies brought to the table use the same codes.
NEGOTIATION_TOPICS: dict[str, str] = {
    "order_allocation": "订单分配",
    "rewards_penalties": "奖惩制度",
    "order_price": "订单价格",
    "commission_rate": "抽成比例",
    "delivery_time": "配送时间",
    "rest": "休息",
    "occupational_protection": "职业保障",
}
APPEAL_TOPICS: dict[str, str] = {
    **NEGOTIATION_TOPICS,
    "pay": "劳动报酬",
    "working_hours": "工作时间",
    "labour_safety": "劳动安全",
    "social_insurance": "社会保险",
    "labour_contract": "劳动合同",
    "welfare": "福利待遇",
    OTHER: "其他",
}

# What rest stations commonly offer outdoor workers (DOMAIN.md, "Facts the services rely on").
STATION_AMENITIES: dict[str, str] = {
    "water": "饮水",
    "rest": "休息",
    "charging": "充电",
    "microwave": "热饭",
    "toilet": "如厕",
    "first_aid": "医药箱",
    "air_conditioning": "空调",
    "wifi": "无线网络",
    "ebike_parking": "电动车停放",
    "ebike_charging": "电动车充电",
}


def check_choice(kind: str, code: str, other_text: str, choices: dict[str, str]) -> tuple[str, str]:
    """The code and its free text, or `Invalid` naming the field."""
    label = {"occupation": "职业", "platform": "平台"}[kind]
    if code not in choices:
        raise Invalid(f"catalogue.unknown_{kind}", f"{label}不在可选列表中", {"field": kind, "choices": list(choices)})
    other_text = other_text.strip()
    if code == OTHER and not other_text:
        raise Invalid(f"catalogue.{kind}_other_required", f"选择“其他”时请填写具体{label}", {"field": f"{kind}_other"})
    return code, other_text if code == OTHER else ""


def label_of(choices: dict[str, str], code: str, other_text: str = "") -> str:
    return other_text if code == OTHER and other_text else choices.get(code, code)
