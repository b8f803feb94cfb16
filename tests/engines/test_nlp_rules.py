"""engines/rules.py through extraction: negation scoping, leadership versus participation, proficiency."""

from __future__ import annotations

import pytest

from engines.extract import extract_features
from engines.rules import MentionContext


def skills(text: str) -> dict[str, tuple[str, bool]]:
    """skill id -> (involvement, negated) of the LAST mention of each skill."""
    return {m.skill_id: (m.involvement, m.negated) for m in extract_features(text).skills}


def negated(text: str) -> set[str]:
    return {m.skill_id for m in extract_features(text).skills if m.negated}


@pytest.mark.parametrize(
    ("text", "denied"),
    [
        ("熟悉Java，不熟悉Go", {"golang"}),
        ("熟悉Java不熟悉Go", {"golang"}),
        ("没有Docker和Kubernetes的使用经验，熟悉Linux", {"docker", "kubernetes"}),
        ("Go：不熟悉；Python：精通", {"golang"}),
        ("Docker没用过", {"docker"}),
        ("未接触过Spark", {"spark"}),
        ("Familiar with Java, not Go", {"golang"}),
        ("No experience with Kubernetes or Docker.", {"kubernetes", "docker"}),
        ("Built services without Kafka; used RabbitMQ instead", {"kafka"}),
        ("I have never used Rust", {"rust"}),
        ("Lack of SAP exposure", {"sap"}),
        ("I don't know Scala", {"scala"}),
        ("Kubernetes: none", {"kubernetes"}),
        ("不会Go但会Java", {"golang"}),
        ("No Docker, but Kubernetes yes", {"docker"}),
    ],
)
def test_negation_attaches_to_its_clause_only(text: str, denied: set[str]) -> None:
    assert negated(text) == denied


@pytest.mark.parametrize(
    "text",
    [
        "不仅熟悉Java，还熟悉Go",
        "not only Java but also Go",
        "including but not limited to Python and SQL",
        "未来计划深入学习Go",
        "不断优化MySQL慢查询",
        "Ranked No. 1 in Salesforce bookings",
        "非常熟悉Redis",
        "no matter the stack: Java, Go",
        "除了Java以外没有其他语言经验",
        "No experience except Java",
    ],
)
def test_false_negation_cues(text: str) -> None:
    assert negated(text) == set()


@pytest.mark.parametrize(
    ("text", "skill", "involvement"),
    [
        ("项目经验\n主导订单系统重构，使用Java和MySQL", "java", "led"),
        ("项目经验\n独立完成SolidWorks三维建模", "solidworks", "led"),
        ("项目经验\n负责客诉处理流程优化", "complaint_handling", "led"),
        ("项目经验\n带领团队完成Salesforce上线", "salesforce", "led"),
        ("Experience\nLed the migration to Kubernetes, Docker and Helm", "docker", "led"),
        ("Experience\nOwned the Kafka pipeline", "kafka", "led"),
        ("Experience\nArchitected the GraphQL gateway", "graphql", "led"),
        ("Experience\nDrove adoption of Terraform and AWS", "aws", "led"),
        ("项目经验\n参与了支付系统的Redis缓存改造", "redis", "participated"),
        ("项目经验\n协助完成Spark任务调优", "spark", "participated"),
        ("项目经验\n配合测试完成JMeter压测", "software_testing", "participated"),
        ("Experience\nAssisted the team with SQL tuning", "sql", "participated"),
        ("Experience\nHelped roll out Jenkins", "ci_cd", "participated"),
        ("Experience\nParticipated in the Flink rollout", "flink", "participated"),
        ("项目经验\n使用Vue开发管理后台", "vue", "used"),
        ("Experience\nBuilt dashboards in Tableau", "tableau", "used"),
        ("专业技能\nJava、Python、Go", "python", "listed"),
        ("Skills\nPython, SQL, Tableau", "sql", "listed"),
        ("参与了A项目，负责B模块的Python开发", "python", "led"),
        ("负责后端开发，参与了Kafka选型", "kafka", "participated"),
        ("Python项目负责人", "python", "led"),
        ("熟悉Spring Boot、MyBatis", "mybatis", "listed"),
        ("8年Java开发经验", "java", "used"),
        ("Go（了解）", "golang", "listed"),
        ("对Go有一定了解但不熟悉", "golang", "listed"),
        ("Proficient: Python, SQL. Familiar: Spark.", "spark", "listed"),
        ("Experience\nAcme 2020-2023\nTech stack: React, Node.js", "nodejs", "used"),
        ("Experience\nRan lead generation campaigns in Salesforce", "salesforce", "used"),
        ("Experience\nSupervised a team of four; managed a team of 12 engineers", "team_management", "led"),
    ],
)
def test_involvement(text: str, skill: str, involvement: str) -> None:
    found = skills(text)
    assert found[skill] == (involvement, False)


def test_skill_listed_only_under_skills_weighs_as_listed_but_project_use_wins() -> None:
    feats = extract_features("项目经验\n使用Redis做缓存\n专业技能\n熟悉Redis、Kafka")
    assert feats.best_involvement("redis") == "used"
    assert feats.best_involvement("kafka") == "listed"


def test_context_bounds() -> None:
    ctx = MentionContext("熟悉Java，不熟悉Go。Led X; helped Y")
    assert ctx.clause(2, 6) == (0, 6)
    assert ctx.sentence(10, 12) == (0, 12)
    assert ctx.is_negated(2, 6, (2, 10)) is False
    assert ctx.is_negated(10, 12, (2, 10)) is True
