"""The matching rules on their own: facts and an instant in, candidates out, no database."""

from __future__ import annotations

from datetime import date, datetime

from models.service_orders.matching import OrderFacts, Tie, rank
from server.clock import SHANGHAI

AT = datetime(2024, 4, 12, 10, 0, tzinfo=SHANGHAI)
GAOMING, FOSHAN, PROVINCE = 30, 20, 10
JIANPAI = 500
# 广东坚派新材料有限公司 orders help before its customer's factory audit.
ORDER = OrderFacts(
    order_id=1,
    enterprise_id=JIANPAI,
    industries=["new_materials"],
    skills=["factory_audit", "quality_system"],
    region_chain=[(GAOMING, "高明区总工会"), (FOSHAN, "佛山市总工会"), (PROVINCE, "广东省总工会")],
)


def expert(expert_id: int, name: str, **fields: object) -> dict[str, object]:
    return {
        "id": expert_id,
        "name": name,
        "org_id": FOSHAN,
        "titles": [],
        "industries": [],
        "skills": [],
        "regions": [],
        "years": 0,
        "patents_us_invention": 0,
        "patents_cn_invention": 0,
        "patents_utility_model": 0,
        "standards_national": 0,
        "standards_group": 0,
        "max_active_orders": 2,
        "employer_enterprise_id": None,
        "user_id": expert_id * 10,
        **fields,
    }


ZHANG = expert(
    1,
    "张国明",
    titles=["foshan_engineer"],
    industries=["new_materials", "coatings"],
    skills=["factory_audit", "quality_system", "process_control", "pdca"],
    regions=[FOSHAN],
    years=29,
    patents_us_invention=3,
    patents_cn_invention=12,
    patents_utility_model=4,
    standards_national=2,
    standards_group=10,
)
ROSTER = [
    # Long experience and many patents, but in machinery.
    expert(
        2,
        "李机械",
        industries=["machinery"],
        skills=["factory_audit", "cnc"],
        regions=[GAOMING],
        years=35,
        patents_cn_invention=20,
        standards_national=5,
    ),
    # The right industry and well rated, one skill, serving another city.
    expert(3, "王新材", industries=["new_materials"], skills=["quality_system"], regions=[99], years=10),
    # As good on paper as 张国明, but with no free place.
    expert(
        4,
        "陈满载",
        industries=["new_materials"],
        skills=["factory_audit", "quality_system"],
        regions=[GAOMING],
        years=30,
        patents_us_invention=5,
        standards_national=4,
        max_active_orders=1,
    ),
    # Employed by the enterprise that orders.
    expert(
        5,
        "赵内部",
        industries=["new_materials"],
        skills=["factory_audit"],
        regions=[GAOMING],
        years=12,
        employer_enterprise_id=JIANPAI,
    ),
    # Engaged by a competitor, and working on a competitor's order; not bound to WeChat.
    expert(
        6, "孙同行", industries=["new_materials"], skills=["quality_system"], regions=[FOSHAN], years=8, user_id=None
    ),
    ZHANG,
]
TIES = [
    Tie(6, "佛山某新材料公司", "engagement", None),
    Tie(6, "顺德某涂料公司", "order"),
    Tie(3, "已到期的同行", "engagement", date(2024, 3, 31)),
]


def ranked() -> list:
    return rank(
        ORDER,
        ROSTER,
        loads={4: 1, 2: 1},
        ratings={3: (5.0, 4), 2: (2.0, 1)},
        ties=TIES,
        declined=frozenset({2}),
        at=AT,
    )


def test_zhang_guoming_comes_first_and_the_reasons_say_why() -> None:
    found = ranked()
    assert found[0].name == "张国明"
    assert [(r.label, r.points) for r in found[0].reasons] == [
        ("行业匹配：新材料", 30),
        ("技能匹配：验厂", 15),
        ("技能匹配：质量体系", 15),
        ("从业 29 年", 14),
        ("专利：美国发明专利 3 项、中国发明专利 12 项、实用新型专利 4 项", 15),
        ("参与制定标准：国家标准 2 项、团体标准 10 项", 10),
        ("服务区域：佛山市总工会", 10),
        ("在办 0 单，还可接 2 单", 10),
    ]
    assert found[0].score == 119 and found[0].warnings == [] and not found[0].full


def test_the_order_of_the_roster() -> None:
    found = ranked()
    assert [c.name for c in found] == ["张国明", "赵内部", "王新材", "孙同行", "李机械", "陈满载"]
    assert [c.score for c in found[:-1]] == sorted((c.score for c in found[:-1]), reverse=True)
    # Full experts come last whatever their score, flagged.
    last = found[-1]
    assert last.full and last.score > found[1].score and last.active_orders == 1


def test_points_for_ratings_load_and_region() -> None:
    by_name = {c.name: c for c in ranked()}
    wang = {r.code: r for r in by_name["王新材"].reasons}
    assert wang["rating"].label == "历史评分 5.0（4 次）" and wang["rating"].points == 10
    assert "region" not in wang
    li = {r.code: r for r in by_name["李机械"].reasons}
    assert li["rating"].points == -5 and li["load"].label == "在办 1 单，还可接 1 单" and li["load"].points == 5
    assert li["region"].label == "服务区域：高明区总工会"
    assert "industry" not in li and li["years"].points == 15 and li["patents"].points == 15


def test_conflicts_of_interest_are_warnings_not_points() -> None:
    by_name = {c.name: c for c in ranked()}
    assert [w.code for w in by_name["赵内部"].warnings] == ["employed_by_enterprise"]
    assert [w.label for w in by_name["孙同行"].warnings] == [
        "利益冲突：正受聘于同行业企业佛山某新材料公司",
        "利益冲突：正在为同行业企业顺德某涂料公司服务",
        "该专家尚未绑定微信，无法接单",
    ]
    assert not by_name["孙同行"].bound
    # An engagement that ended before the instant is no conflict; an earlier refusal is shown.
    assert by_name["王新材"].warnings == []
    assert [w.code for w in by_name["李机械"].warnings] == ["declined_before"]
    employed = next(c for c in ranked() if c.name == "赵内部")
    unrelated = rank(
        ORDER,
        [{**ROSTER[3], "employer_enterprise_id": None}],
        loads={},
        ratings={},
        ties=[],
        declined=frozenset(),
        at=AT,
    )[0]
    assert employed.score == unrelated.score


def test_the_instant_decides_whether_an_engagement_still_runs() -> None:
    before_end = rank(
        ORDER,
        [ROSTER[1]],
        loads={},
        ratings={},
        ties=TIES,
        declined=frozenset(),
        at=datetime(2024, 3, 31, 23, 0, tzinfo=SHANGHAI),
    )[0]
    assert [w.code for w in before_end.warnings] == ["engaged_by_competitor"]
