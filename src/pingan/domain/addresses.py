"""Splitting a Chinese address into its parts: 省/市/区县/街道乡镇/社区村/路街/号/小区/楼栋/单元/室.

People write addresses with parts missing ("南湖区中山路88号"), with full-width digits
("３幢"), with Chinese numerals ("三单元"), with spaces and commas, or with a city in front
("嘉兴市南湖区..."). The parser reads left to right, taking each part where its marker word
(省, 市, 区, 街道, 镇, 社区, 路, 号, 小区, 幢, 单元, 室, ...) ends it, and never fails: what it
cannot place is kept in `rest`. Nothing here knows real place names; matching them against the
registry happens in `services/geocoding.py`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, fields

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
              "七": 7, "八": 8, "九": 9}  # fmt: skip
_CN_NUMBER = re.compile(r"[零〇一二两三四五六七八九十百]+(?=[号幢栋座单元室楼层#])")
_BRACKETS = re.compile(r"[（(][^）)]*[）)]")
_SPACING = re.compile(r"[\s,，、;；:：.。·\x00-\x1f\x7f]+")

_BOUND = r"省市区县号\d"  # never inside a name of the parts below
_PROVINCE = re.compile(r"(?:北京|上海|天津|重庆)市|[^" + _BOUND + r"]{2,7}?(?:省|自治区)")
_CITY = re.compile(r"[^" + _BOUND + r"]{2,6}?(?:市|自治州|地区|盟)")
_DISTRICT = re.compile(r"[^" + _BOUND + r"路街]{1,7}?(?:(?<![小社园校])区|县|市|旗)")
_TOWN = re.compile(r"[^" + _BOUND + r"路街]{1,8}?(?:街道|镇镇|乡镇|镇|乡)")
_COMMUNITY = re.compile(r"[^省市区县号路街幢栋]{1,12}?(?:社区|(?<!新)村)(?![路街道巷弄])")
_ROAD = re.compile(r"[^\d号幢栋单元室]{1,12}?(?:大道|大街|路|街(?!道)|巷|弄)")
_NUMBER = re.compile(r"(\d+(?:[-之]\d+)?)(?:号|弄)")
# A one-character ending (苑, 园, 城...) ends a compound name only where a building number or the
# end follows, so 绿城花园 is not 绿城 and 环城西路 is a road.
_COMPOUND = re.compile(
    r"[^\d号幢栋单元室路]{1,12}?"
    r"(?:(?:小区|花园|公寓|家园|新村|新苑|嘉苑|名苑|大厦|广场|名邸|公馆)(?![路街巷弄大])"
    r"|(?:苑|府|庭|园|城|里|坊)(?=\d|[幢栋]|$))"
)
_BUILDING = re.compile(r"(\d+)(?:幢|栋|号楼|座|#楼|#)")
_UNIT = re.compile(r"(\d+)单元")
_ROOM = re.compile(r"(\d+)(?:室|房|号房)?$|(\d+)(?:室|房)")


def _cn_to_int(text: str) -> int:
    """一 .. 九百九十九 written with 十/百 (三, 十二, 二十, 一百零五)."""
    total, current = 0, 0
    for ch in text:
        if ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = current * 10 + _CN_DIGITS[ch]
    return total + current


def normalise(text: str) -> str:
    """NFKC (full-width to ASCII), Chinese numerals before 号/幢/单元/室 to digits, no spacing,
    no bracketed notes (such as the demo's （模拟）)."""
    text = unicodedata.normalize("NFKC", text)
    text = _BRACKETS.sub("", text)
    text = _SPACING.sub("", text)
    return _CN_NUMBER.sub(lambda m: str(_cn_to_int(m.group(0))), text)


@dataclass(frozen=True, slots=True)
class ParsedAddress:
    province: str | None = None  # 省
    city: str | None = None  # 市
    district: str | None = None  # 区/县/县级市
    town: str | None = None  # 街道/镇/乡
    community: str | None = None  # 社区/村
    road: str | None = None  # 路/街/巷
    number: str | None = None  # 门牌号
    compound: str | None = None  # 小区
    building: str | None = None  # 楼栋 (幢)
    unit: str | None = None  # 单元
    room: str | None = None  # 室
    rest: str = ""  # what could not be placed

    def parts(self) -> dict[str, str]:
        """The parts found, in order from largest to smallest."""
        return {
            f.name: v
            for f in fields(self)
            if f.name != "rest" and (v := getattr(self, f.name)) is not None
        }


def parse_address(text: str) -> ParsedAddress:
    s = normalise(text)
    found: dict[str, str] = {}
    pos = 0

    def take(name: str, pattern: re.Pattern[str], group: int = 0) -> bool:
        nonlocal pos
        m = pattern.match(s, pos)
        if not m:
            return False
        found[name] = m.group(group) if group else m.group(0)
        pos = m.end()
        return True

    take("province", _PROVINCE)
    if "province" in found and found["province"] in ("北京市", "上海市", "天津市", "重庆市"):
        found["city"] = found["province"]
    else:
        take("city", _CITY)
    take("district", _DISTRICT)
    take("town", _TOWN)
    take("community", _COMMUNITY)
    rest: list[str] = []
    while pos < len(s):
        road = _ROAD.match(s, pos) if "road" not in found else None
        compound = _COMPOUND.match(s, pos) if "compound" not in found else None
        if road and (not compound or len(road.group(0)) <= len(compound.group(0))):
            found["road"] = road.group(0)
            pos = road.end()
            take("number", _NUMBER, 1)
            continue
        if compound:
            found["compound"] = compound.group(0)
            pos = compound.end()
            continue
        if "number" not in found and "road" in found and take("number", _NUMBER, 1):
            continue
        if "building" not in found and take("building", _BUILDING, 1):
            continue
        if "unit" not in found and take("unit", _UNIT, 1):
            continue
        if "room" not in found and "building" in found:
            m = _ROOM.match(s, pos)
            if m:
                found["room"] = m.group(1) or m.group(2)
                pos = m.end()
                continue
        rest.append(s[pos])
        pos += 1
    return ParsedAddress(**found, rest="".join(rest))
