"""The case classification: 数字城管 events (事件) and parts (部件) by 大类/小类 code, extended with
the social-governance types a command centre handles, each with a default department and limits.

Codes are the standard's two-digit major + two-digit minor, prefixed by kind so that event 0101 and
part 0101 never collide: `E0101` 私搭乱建, `P0101` 上水井盖, `S0501` 电信网络诈骗.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pingan.domain.errors import InvalidInput
from pingan.domain.sla import ClockKind, TimeLimit, Urgency


class CategoryKind(StrEnum):
    EVENT = "event"  # 事件
    PART = "part"  # 部件
    SOCIAL = "social"  # 社会治理


@dataclass(frozen=True, slots=True)
class DepartmentKind:
    """A line of government; each county (and the city) has its own office of each kind."""

    code: str
    name: str
    name_en: str


DEPARTMENT_KINDS: tuple[DepartmentKind, ...] = (
    DepartmentKind("gaj", "公安局", "Public Security Bureau"),
    DepartmentKind("cgj", "综合行政执法局(城管)", "Urban Management Bureau"),
    DepartmentKind("scj", "市场监督管理局", "Market Regulation Bureau"),
    DepartmentKind("yjj", "应急管理局", "Emergency Management Bureau"),
    DepartmentKind("zjj", "住房和城乡建设局", "Housing and Construction Bureau"),
    DepartmentKind("jtj", "交通运输局", "Transport Bureau"),
    DepartmentKind("sthj", "生态环境局", "Ecology and Environment Bureau"),
    DepartmentKind("wjj", "卫生健康局", "Health Commission"),
    DepartmentKind("jyj", "教育局", "Education Bureau"),
    DepartmentKind("mzj", "民政局", "Civil Affairs Bureau"),
    DepartmentKind("xfj", "信访局", "Letters and Visits Bureau"),
    DepartmentKind("sfj", "司法局", "Justice Bureau (mediation)"),
    DepartmentKind("slj", "水利局", "Water Resources Bureau"),
    DepartmentKind("zrj", "自然资源和规划局", "Natural Resources and Planning Bureau"),
)
DEPARTMENT_KIND_CODES = frozenset(k.code for k in DEPARTMENT_KINDS)


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    name: str
    name_en: str
    kind: CategoryKind
    department: str
    limits: tuple[tuple[Urgency, TimeLimit], ...]

    @property
    def major_code(self) -> str:
        return self.code[:3]

    def handling_limit(self, urgency: Urgency) -> TimeLimit:
        return dict(self.limits)[urgency]


W, N = ClockKind.WORKING, ClockKind.NATURAL


def _limits(
    routine: float, urgent: float, critical: float
) -> tuple[tuple[Urgency, TimeLimit], ...]:
    return (
        (Urgency.ROUTINE, TimeLimit(routine, W)),
        (Urgency.URGENT, TimeLimit(urgent, N)),
        (Urgency.CRITICAL, TimeLimit(critical, N)),
    )


FAST = _limits(4, 2, 1)  # 即时处置类: hazards to the public
DAY = _limits(8, 4, 2)
STANDARD = _limits(24, 8, 2)
LONG = _limits(72, 24, 4)
MEDIATION = _limits(120, 24, 4)

MAJORS: dict[str, tuple[str, str]] = {
    "E01": ("市容环境", "City appearance"),
    "E02": ("宣传广告", "Advertising"),
    "E03": ("施工管理", "Construction sites"),
    "E04": ("突发事件", "Emergencies"),
    "E05": ("街面秩序", "Street order"),
    "E06": ("其他事件", "Other events"),
    "P01": ("公用设施", "Public utilities"),
    "P02": ("道路交通", "Roads and traffic"),
    "P03": ("市容环境设施", "Sanitation facilities"),
    "P04": ("园林绿化", "Parks and greenery"),
    "P05": ("房屋土地", "Buildings and land"),
    "P06": ("其他设施", "Other facilities"),
    "S01": ("矛盾纠纷", "Disputes"),
    "S02": ("安全隐患", "Safety hazards"),
    "S03": ("道路交通安全", "Road safety"),
    "S04": ("禁毒", "Drugs"),
    "S05": ("反诈与网络风险", "Fraud and online risks"),
    "S06": ("食品药品安全", "Food and drug safety"),
    "S07": ("生态环境", "Environment"),
    "S08": ("民生服务", "Welfare and services"),
    "S09": ("信访诉求", "Petitions"),
}

_ROWS: tuple[tuple[str, str, str, str, tuple[tuple[Urgency, TimeLimit], ...]], ...] = (
    # 事件 events
    ("E0101", "私搭乱建", "Illegal structure", "cgj", LONG),
    ("E0102", "暴露垃圾", "Exposed rubbish", "cgj", DAY),
    ("E0103", "积存垃圾渣土", "Accumulated waste", "cgj", DAY),
    ("E0104", "道路不洁", "Dirty road", "cgj", DAY),
    ("E0105", "水域不洁", "Polluted waterway surface", "slj", STANDARD),
    ("E0106", "绿地脏乱", "Littered green space", "cgj", DAY),
    ("E0107", "废弃家具设备", "Dumped furniture", "cgj", STANDARD),
    ("E0108", "废弃车辆", "Abandoned vehicle", "gaj", LONG),
    ("E0109", "焚烧垃圾树叶", "Burning rubbish", "sthj", FAST),
    ("E0201", "非法小广告", "Illegal flyers", "cgj", DAY),
    ("E0202", "违章张贴悬挂广告", "Unauthorised posters or banners", "cgj", STANDARD),
    ("E0203", "占道广告牌", "Billboard blocking the road", "cgj", STANDARD),
    ("E0204", "街头散发广告", "Street leafleting", "cgj", DAY),
    ("E0301", "施工扰民", "Construction noise at night", "sthj", FAST),
    ("E0302", "工地扬尘", "Construction dust", "zjj", DAY),
    ("E0303", "道路遗撒", "Spillage from trucks", "cgj", FAST),
    ("E0304", "施工废弃料", "Construction waste", "zjj", STANDARD),
    ("E0305", "施工占道", "Construction occupying the road", "jtj", STANDARD),
    ("E0306", "无证掘路", "Unlicensed road digging", "jtj", FAST),
    ("E0401", "路面塌陷", "Road collapse", "jtj", FAST),
    ("E0402", "自来水管破裂", "Burst water main", "zjj", FAST),
    ("E0403", "燃气管道破裂", "Gas pipe rupture", "yjj", _limits(1, 1, 0.5)),
    ("E0404", "下水道堵塞或破损", "Blocked or broken sewer", "zjj", DAY),
    ("E0405", "道路积水", "Flooded road", "zjj", FAST),
    ("E0406", "道路积雪结冰", "Ice or snow on road", "cgj", FAST),
    ("E0407", "架空线缆损坏", "Damaged overhead cable", "zjj", FAST),
    ("E0501", "无照经营游商", "Unlicensed street vendor", "cgj", DAY),
    ("E0502", "流浪乞讨", "Homeless or begging person", "mzj", DAY),
    ("E0503", "占道废品收购", "Scrap collection on the road", "cgj", DAY),
    ("E0504", "店外经营", "Trading outside the shop", "cgj", DAY),
    ("E0505", "机动车乱停放", "Illegally parked car", "gaj", FAST),
    ("E0506", "非机动车乱停放", "Badly parked bicycles", "cgj", DAY),
    ("E0507", "黑车拉客", "Unlicensed taxi touting", "jtj", DAY),
    ("E0508", "占道堆物", "Goods piled on the road", "cgj", DAY),
    ("E0601", "露天烧烤", "Open-air barbecue", "cgj", FAST),
    ("E0602", "噪声扰民", "Noise nuisance", "sthj", DAY),
    ("E0603", "餐饮油烟", "Restaurant fumes", "sthj", STANDARD),
    # 部件 parts
    ("P0101", "上水井盖", "Water supply manhole cover", "zjj", FAST),
    ("P0102", "污水井盖", "Sewage manhole cover", "zjj", FAST),
    ("P0103", "雨水井盖", "Storm drain cover", "zjj", FAST),
    ("P0104", "雨水箅子", "Storm drain grate", "zjj", DAY),
    ("P0105", "电力井盖", "Power manhole cover", "zjj", FAST),
    ("P0106", "路灯井盖", "Street-light manhole cover", "cgj", FAST),
    ("P0107", "通信井盖", "Telecom manhole cover", "zjj", FAST),
    ("P0108", "燃气井盖", "Gas manhole cover", "yjj", FAST),
    ("P0109", "消防栓", "Fire hydrant", "yjj", DAY),
    ("P0110", "路灯", "Street light", "cgj", STANDARD),
    ("P0111", "变压器(箱)", "Transformer box", "zjj", DAY),
    ("P0201", "公交站亭", "Bus shelter", "jtj", STANDARD),
    ("P0202", "交通标志牌", "Traffic sign", "gaj", STANDARD),
    ("P0203", "交通信号灯", "Traffic light", "gaj", FAST),
    ("P0204", "道路护栏", "Road guardrail", "jtj", STANDARD),
    ("P0205", "人行道板", "Pavement slabs", "jtj", LONG),
    ("P0206", "盲道", "Tactile paving", "jtj", LONG),
    ("P0207", "过街天桥", "Footbridge", "jtj", STANDARD),
    ("P0208", "公共自行车停放点", "Public bike station", "jtj", STANDARD),
    ("P0301", "公共厕所", "Public toilet", "cgj", DAY),
    ("P0302", "垃圾箱", "Litter bin", "cgj", DAY),
    ("P0303", "垃圾中转站", "Waste transfer station", "cgj", STANDARD),
    ("P0304", "户外广告设施", "Outdoor advertising structure", "cgj", LONG),
    ("P0401", "古树名木", "Heritage tree", "zrj", STANDARD),
    ("P0402", "行道树", "Street tree", "cgj", STANDARD),
    ("P0403", "绿地", "Green space", "cgj", LONG),
    ("P0404", "护树设施", "Tree guard", "cgj", LONG),
    ("P0501", "危旧房屋", "Dilapidated building", "zjj", STANDARD),
    ("P0502", "工地围挡", "Site hoarding", "zjj", STANDARD),
    ("P0601", "河道护栏", "River railing", "slj", STANDARD),
    ("P0602", "监控电子眼", "CCTV camera", "gaj", STANDARD),
    # 社会治理 social governance
    ("S0101", "邻里纠纷", "Neighbour dispute", "sfj", MEDIATION),
    ("S0102", "婚姻家庭纠纷", "Family dispute", "sfj", MEDIATION),
    ("S0103", "劳资纠纷", "Unpaid wages dispute", "mzj", MEDIATION),
    ("S0104", "物业纠纷", "Property management dispute", "zjj", MEDIATION),
    ("S0105", "土地山林纠纷", "Land dispute", "zrj", MEDIATION),
    ("S0201", "消防安全隐患", "Fire hazard", "yjj", FAST),
    ("S0202", "燃气安全隐患", "Gas safety hazard", "yjj", FAST),
    ("S0203", "危险房屋隐患", "Unsafe building hazard", "zjj", DAY),
    ("S0204", "生产安全隐患", "Workplace safety hazard", "yjj", DAY),
    ("S0205", "电动自行车违规充电", "E-bike charging indoors", "yjj", FAST),
    ("S0206", "防汛防台隐患", "Flood or typhoon hazard", "slj", FAST),
    ("S0301", "交通事故", "Traffic accident", "gaj", _limits(2, 1, 0.5)),
    ("S0302", "交通安全隐患", "Road safety hazard", "gaj", DAY),
    ("S0401", "涉毒线索", "Drug-related lead", "gaj", DAY),
    ("S0501", "电信网络诈骗", "Telecom or online fraud", "gaj", FAST),
    ("S0502", "养老诈骗", "Fraud targeting the elderly", "gaj", DAY),
    ("S0503", "网络赌博", "Online gambling", "gaj", DAY),
    ("S0504", "非法集资与网贷风险", "Illegal fundraising or online lending", "gaj", STANDARD),
    ("S0601", "食品安全", "Food safety", "scj", DAY),
    ("S0602", "校园食堂安全(阳光厨房)", "School kitchen safety", "scj", FAST),
    ("S0603", "药品安全", "Drug (medicine) safety", "scj", DAY),
    ("S0701", "水体污染", "Water pollution", "sthj", DAY),
    ("S0702", "大气污染", "Air pollution", "sthj", DAY),
    ("S0801", "困难群众帮扶", "Help for families in hardship", "mzj", LONG),
    ("S0802", "特殊人群关爱", "Care for vulnerable people", "mzj", LONG),
    ("S0803", "公共卫生事件", "Public health incident", "wjj", FAST),
    ("S0804", "校园安全", "School safety", "jyj", DAY),
    ("S0901", "信访事项", "Petition", "xfj", _limits(120, 24, 8)),
)

_KIND_BY_PREFIX = {"E": CategoryKind.EVENT, "P": CategoryKind.PART, "S": CategoryKind.SOCIAL}

CATEGORIES: dict[str, Category] = {
    code: Category(code, name, name_en, _KIND_BY_PREFIX[code[0]], dept, limits)
    for code, name, name_en, dept, limits in _ROWS
}


def category(code: str) -> Category:
    try:
        return CATEGORIES[code]
    except KeyError:
        raise InvalidInput("category.unknown", code=code) from None
