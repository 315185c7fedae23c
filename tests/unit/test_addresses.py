"""Parsing Chinese addresses into 省/市/区县/街道/社区/路/号/小区/幢/单元/室."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pingan.domain.addresses import normalise, parse_address


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "浙江省嘉兴市南湖区解放街道第1社区中山路88号",
            {"province": "浙江省", "city": "嘉兴市", "district": "南湖区", "town": "解放街道",
             "community": "第1社区", "road": "中山路", "number": "88"},
        ),
        (
            "嘉兴市南湖区中山东路１２３号阳光花园３幢２单元５０２室",
            {"city": "嘉兴市", "district": "南湖区", "road": "中山东路", "number": "123",
             "compound": "阳光花园", "building": "3", "unit": "2", "room": "502"},
        ),
        ("桐乡市乌镇镇虹桥村", {"city": "桐乡市", "town": "乌镇镇", "community": "虹桥村"}),
        ("嘉兴市海宁市硖石街道", {"city": "嘉兴市", "district": "海宁市", "town": "硖石街道"}),
        (
            "南湖区建设街道第3社区（模拟）幸福小区十二幢三单元1201",
            {"district": "南湖区", "town": "建设街道", "community": "第3社区",
             "compound": "幸福小区", "building": "12", "unit": "3", "room": "1201"},
        ),
        ("秀洲区王店镇 梅北路 1-3号", {"district": "秀洲区", "town": "王店镇", "road": "梅北路",
                                     "number": "1-3"}),
        ("阳光花园路1号", {"road": "阳光花园路", "number": "1"}),
        ("沈荡镇绿城花园7幢", {"town": "沈荡镇", "compound": "绿城花园", "building": "7"}),
        ("七星街道环城西路32号", {"town": "七星街道", "road": "环城西路", "number": "32"}),
        ("阳光小区中山路88号", {"compound": "阳光小区", "road": "中山路", "number": "88"}),
        ("平湖市当湖街道建设新村5幢", {"city": "平湖市", "town": "当湖街道",
                                      "compound": "建设新村", "building": "5"}),
        ("北京市朝阳区建国路88号", {"province": "北京市", "city": "北京市", "district": "朝阳区",
                                   "road": "建国路", "number": "88"}),
    ],
)  # fmt: skip
def test_address_is_split_into_its_parts(text: str, expected: dict[str, str]) -> None:
    parsed = parse_address(text)
    assert parsed.parts() == expected
    assert parsed.rest == ""


def test_chinese_numerals_and_full_width_digits_become_digits() -> None:
    assert normalise("二十一幢一百零五室") == "21幢105室"
    assert normalise("３幢 ２单元") == "3幢2单元"


def test_text_that_is_no_address_is_kept_as_rest() -> None:
    parsed = parse_address("hello world")
    assert parsed.parts() == {} and parsed.rest == "helloworld"


# Name characters that are no part's marker word, so a composed address has one reading.
NAME = st.text(
    alphabet="阳光幸福和平金桂明珠文昌禾兴友谊东方红星梅湾秀水南塘荷花", min_size=2, max_size=4
)
NUMBER = st.integers(min_value=1, max_value=999).map(str)


@given(
    district=NAME,
    town=NAME,
    road=NAME,
    number=NUMBER,
    compound=NAME,
    building=NUMBER,
    unit=st.integers(1, 9).map(str),
    room=NUMBER,
    full_width=st.booleans(),
)
def test_a_composed_address_parses_back_into_the_same_parts(
    district: str,
    town: str,
    road: str,
    number: str,
    compound: str,
    building: str,
    unit: str,
    room: str,
    full_width: bool,
) -> None:
    text = (
        f"嘉兴市{district}区{town}街道{road}路{number}号"
        f"{compound}小区{building}幢{unit}单元{room}室"
    )
    if full_width:
        text = text.translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})
    parsed = parse_address(text)
    assert parsed.parts() == {
        "city": "嘉兴市",
        "district": f"{district}区",
        "town": f"{town}街道",
        "road": f"{road}路",
        "number": number,
        "compound": f"{compound}小区",
        "building": building,
        "unit": unit,
        "room": room,
    }


@given(st.text(max_size=80))
def test_any_text_parses_without_error_into_pieces_of_itself(text: str) -> None:
    parsed = parse_address(text)
    clean = normalise(text)
    for value in parsed.parts().values():
        assert value in clean
    assert len(parsed.rest) <= len(clean)
