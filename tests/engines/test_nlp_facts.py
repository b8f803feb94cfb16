"""engines/years.py, engines/education.py and engines/language.py."""

from __future__ import annotations

from datetime import date

import pytest

from engines.education import extract_education
from engines.language import detect_language
from engines.years import extract_years, merged_months, parse_date

TODAY = date(2026, 5, 1)


def years(text: str) -> float | None:
    return extract_years(text, today=TODAY).years


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5年工作经验", 5.0),
        ("五年Java开发经验", 5.0),
        ("十年以上销售经验", 10.0),
        ("二十三年从业经历", 23.0),
        ("一年半工作经验", 1.5),
        ("5年半相关经验", 5.5),
        ("工作年限：8年", 8.0),
        ("工作经验：十年", 10.0),
        ("3+ years of Java development", 3.0),
        ("over 5 years in sales", 5.0),
        ("Five years of experience in HR", 5.0),
        ("Years of experience: 7", 7.0),
        ("Java 8年 | Python 3年", 8.0),
    ],
)
def test_stated_years(text: str, expected: float) -> None:
    assert years(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2019年3月入职，5年内完成上市",
        "2015年毕业",
        "预计3年后",
        "Led a 5-year roadmap",
        "Graduated 2018",
        "Windows 10年度升级",
        "22年年底完成",
    ],
)
def test_not_a_years_claim(text: str) -> None:
    assert years(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2018.03-至今 某公司", 8.2),  # Mar 2018 .. May 2026 inclusive = 99 months
        ("2016年7月 - 2019年6月 某公司", 3.0),
        ("Mar 2019 – Present", 7.2),
        ("2019/03 - 2021/12", 2.8),
        ("Jan 2015 to Dec 2016", 2.0),
        ("2016 - 2019 Acme", 3.0),
        ("2018.3~2020.5", 2.2),
        ("２０１８．０３－２０２０．０２", 2.0),
        ("March 2020 - June 2021", 1.3),
        ("2020-01-15 - 2021-01-15", 1.1),
        ("07/2019 – 03/2021", 1.8),
        ("工作经历\n2019.07 ~ now ACME", 6.9),
        ("2019.07-2021.03（1年8个月）某公司", 1.8),
    ],
)
def test_date_ranges(text: str, expected: float) -> None:
    assert years(text) == expected


def test_overlapping_ranges_are_not_double_counted() -> None:
    text = "2018.03-2020.02 A公司\n2019.01-2021.01 B公司\n2019.06-2019.12 项目X"
    # Union: Mar 2018 .. Jan 2021 = 35 months.
    assert years(text) == 2.9
    fact = extract_years(text, today=TODAY)
    assert [e.text for e in fact.evidence] == ["2018.03-2020.02", "2019.01-2021.01", "2019.06-2019.12"]
    for evidence in fact.evidence:
        assert evidence.is_valid_for(text)


def test_present_resolves_against_today() -> None:
    assert extract_years("2020.01-至今", today=date(2021, 12, 31)).years == 2.0
    assert extract_years("2020.01-至今", today=date(2022, 12, 31)).years == 3.0


def test_larger_of_claim_and_ranges_wins() -> None:
    assert years("10年以上经验\n2020.01-2021.01 某公司") == 10.0
    assert years("2年经验\n2015.01-2021.01 某公司") == 6.1


def test_education_ranges_do_not_count() -> None:
    text = "教育背景\n2012.09-2016.06 浙江大学 本科\n工作经历\n2016.07-2018.06 某公司"
    assert years(text) == 2.0
    assert years("2012.09-2016.06 浙江大学 本科") is None  # a school line outside any heading


def test_future_and_backwards_ranges_are_ignored() -> None:
    assert years("2030.01-2031.01") is None
    assert years("2020.05-2019.01") is None


def test_parse_date() -> None:
    assert parse_date("2018.03") == (2018, 3)
    assert parse_date("2016年7月") == (2016, 7)
    assert parse_date("Mar 2019") == (2019, 3)
    assert parse_date("September 2019") == (2019, 9)
    assert parse_date("03/2019") == (2019, 3)
    assert parse_date("2016") == (2016, 1)
    assert parse_date("yesterday") is None


def test_merged_months() -> None:
    assert merged_months([]) == 0
    assert merged_months([(0, 10), (5, 15), (20, 22)]) == 17


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("2012-2016 浙江大学 本科\n2016-2019 清华大学 硕士", "master"),
        ("博士研究生", "phd"),
        ("研究生学历", "master"),
        ("大专", "associate"),
        ("专科", "associate"),
        ("学士学位", "bachelor"),
        ("中专", "none"),
        ("MBA, Wharton", "master"),
        ("BSc Computer Science", "bachelor"),
        ("B.A. in Economics", "bachelor"),
        ("MS in Computer Science", "master"),
        ("MSc Data Science", "master"),
        ("Ph.D. in Physics", "phd"),
        ("Doctorate in Education", "phd"),
        ("Bachelor of Engineering", "bachelor"),
        ("Associate degree in Nursing", "associate"),
        ("High school diploma", "none"),
        ("PhD candidate, MIT\nMaster of Science", "master"),
    ],
)
def test_education(text: str, level: str) -> None:
    fact = extract_education(text)
    assert fact.level == level
    assert fact.evidence is not None and fact.evidence.is_valid_for(text)


@pytest.mark.parametrize("text", ["MS Office熟练", "Scrum Master certified", "本科在读", "Master data management"])
def test_not_a_degree(text: str) -> None:
    assert extract_education(text).level is None


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("熟悉Java、Spring Boot、MySQL，负责订单系统的设计与开发", "zh"),
        ("Led a team of five engineers building payment systems", "en"),
        ("Experience\nLed the team that built the payment platform\n工作经历\n负责订单系统", "mixed"),
        ("", "en"),
    ],
)
def test_language(text: str, language: str) -> None:
    assert detect_language(text) == language
