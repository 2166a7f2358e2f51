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


# Service orders (点单, DOMAIN.md §1): what an enterprise orders, the industries and skills that
# pair it with an expert, the titles on an expert's roster entry, and the places a visit covers.
ORDER_CATEGORIES: dict[str, str] = {
    "factory_audit": "验厂辅导",
    "quality_system": "质量体系",
    "technical_breakthrough": "技术攻关",
    "process_improvement": "工艺改进",
    "lean_production": "精益生产",
    "work_safety": "安全生产",
    "skills_training": "技能培训",
    OTHER: "其他",
}

INDUSTRIES: dict[str, str] = {
    "new_materials": "新材料",
    "chemicals": "化工",
    "coatings": "涂料",
    "electronics": "电子信息",
    "machinery": "装备制造",
    "automotive": "汽车及零部件",
    "metals": "金属制品",
    "textiles": "纺织服装",
    "furniture": "家具家居",
    "food": "食品饮料",
    "pharmaceuticals": "生物医药",
    "building_materials": "建筑材料",
    "logistics": "物流",
    "construction": "建筑施工",
    OTHER: "其他",
}

SKILLS: dict[str, str] = {
    "factory_audit": "验厂",
    "quality_system": "质量体系",
    "process_control": "过程控制",
    "standard_work": "标准作业",
    "pdca": "PDCA 循环",
    "lean": "精益生产",
    "traceability": "质量追溯",
    "rd_management": "研发管理",
    "equipment_maintenance": "设备维护",
    "welding": "焊接",
    "cnc": "数控加工",
    "mould_making": "模具制造",
    "work_safety": "安全生产",
    "energy_saving": "节能降耗",
    "automation": "自动化",
    "training": "技能培训",
}

EXPERT_TITLES: dict[str, str] = {
    "national_model_worker": "全国劳动模范",
    "provincial_model_worker": "省劳动模范",
    "city_model_worker": "市劳动模范",
    "national_craftsman": "大国工匠",
    "south_guangdong_craftsman": "南粤工匠",
    "foshan_engineer": "佛山卓越工程师",
    "may_day_medal": "五一劳动奖章",
    "chief_technician": "首席技师",
}

VISIT_PLACES: dict[str, str] = {
    "lab": "实验室",
    "workshop": "生产车间",
    "warehouse": "仓库",
    "office": "办公区",
    "production_line": "生产线",
    OTHER: "其他",
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


def check_codes(kind: str, label: str, field: str, given: list[str], choices: dict[str, str]) -> list[str]:
    """A multiple choice: the codes each once in catalogue order, or `Invalid` (`catalogue.unknown_<kind>`)
    naming the field and the codes it does not know."""
    unknown = [code for code in given if code not in choices][:10]
    if unknown:
        raise Invalid(
            f"catalogue.unknown_{kind}",
            f"{label}不在可选列表中：{'、'.join(unknown)}"[:200],
            {"field": field, "unknown": unknown, "choices": list(choices)},
        )
    return [code for code in choices if code in given]


def label_of(choices: dict[str, str], code: str, other_text: str = "") -> str:
    return other_text if code == OTHER and other_text else choices.get(code, code)
