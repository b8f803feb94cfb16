"""The demo tenant: realistic bilingual jobs, candidates with resumes, applications and
interviews, seeded deterministically so every quick start looks the same.

Every demo job has screening requirements and an interview rubric (three shipped ones and a custom
one), and the AI interviews come with transcribed answers (some candidates consented to AI scoring,
some did not), so ``startScreeningRun``, ``scoreInterviewSession`` and ``generateInterviewOutline``
work from GraphQL right away.

Writes go through :class:`~hub.services.store.SqlStore`, the same path as the API, so the
demo data is sealed per policy and emits the same events.
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from engines.rubric import default_rubrics
from hub.db import Database
from hub.db import models as m
from hub.services.store import SqlStore
from hub.services.vault import Vault
from schema.context import Viewer

__all__ = ["DEMO_SLUG", "seed_demo"]

DEMO_SLUG = "demo"

JOBS: list[dict[str, Any]] = [
    {
        "title": "高级后端工程师",
        "code": "J-2025-017",
        "language": "zh",
        "department": "平台研发部",
        "description": "负责交易系统后端服务的设计与开发，要求熟悉 Java、Spring Boot、Kafka 与 MySQL。",
        "requirements": {
            "must_have": ["Java", "Spring Boot"],
            "nice_to_have": [
                {"skill": "Kafka", "weight": 15},
                {"skill": "Redis", "weight": 10},
                {"skill": "Kubernetes", "weight": 5},
            ],
            "min_years": 3,
            "min_education": "bachelor",
            "knockouts": [],
            "pass_threshold": 60,
        },
    },
    {
        "title": "机械结构设计工程师",
        "code": "J-2025-021",
        "language": "zh",
        "department": "硬件研发部",
        "description": "负责产品结构设计、三维建模与工程图输出，熟练使用 SolidWorks。",
        "requirements": {
            "must_have": ["SolidWorks"],
            "nice_to_have": [{"skill": "AutoCAD", "weight": 10}, {"skill": "钣金设计", "weight": 10}],
            "min_years": 2,
            "min_education": "associate",
            "knockouts": [],
            "pass_threshold": 60,
        },
    },
    {
        "title": "Customer Success Lead",
        "code": "J-2025-030",
        "language": "en",
        "department": "Customer Success",
        "description": "Lead a team of six handling enterprise accounts; Salesforce and complaint handling.",
        "requirements": {
            "must_have": ["Salesforce"],
            "nice_to_have": [{"skill": "客诉处理", "weight": 15}, {"skill": "team management", "weight": 10}],
            "min_years": 4,
            "min_education": "bachelor",
            "knockouts": [],
            "pass_threshold": 60,
        },
    },
    {
        "title": "数据分析师（校招）",
        "code": "J-2025-033",
        "language": "zh",
        "department": "商业分析部",
        "mode": "campus",
        "description": "校园招聘：使用 SQL、Python 做经营分析与报表。",
        "requirements": {
            "must_have": ["SQL", "Python"],
            "nice_to_have": [{"skill": "Tableau", "weight": 10}],
            "min_years": 0,
            "min_education": "bachelor",
            "knockouts": [],
            "pass_threshold": 55,
        },
    },
]

#: The rubric each demo job's interviews are scored on: a shipped one, or (the campus analyst job) a
#: custom rubric showing how HR writes its own behaviour anchors.
DEMO_RUBRICS: dict[str, str] = {
    "J-2025-017": "backend_engineer",
    "J-2025-021": "mechanical_designer",
    "J-2025-030": "customer_service_lead",
}
ANALYST_RUBRIC: dict[str, Any] = {
    "rubric_id": "campus_data_analyst",
    "version": "1.0.0",
    "name": "数据分析师（校招）/ Data analyst (campus)",
    "dimensions": [
        {
            "key": "data_analysis",
            "name": "数据分析 / Data analysis",
            "weight": 3,
            "kind": "hard",
            "must_have": True,
            "keywords": ["SQL", "Python", "pandas", "数据分析", "报表", "指标", "analysis", "dashboard"],
            "levels": [
                {
                    "score": 5,
                    "anchor": "独立完成过完整的数据分析项目并推动了业务决策 / Ran an analysis that drove a decision",
                },
                {
                    "score": 4,
                    "anchor": "能独立用 SQL 和 Python 完成取数与分析 / Analyses data alone with SQL and Python",
                },
                {"score": 3, "anchor": "参与过分析项目但未主导 / Took part in analysis projects without leading"},
                {"score": 2, "anchor": "只在课程中学过数据分析 / Learned data analysis in courses only"},
                {"score": 1, "anchor": "没有数据分析经验 / No data analysis experience"},
            ],
        },
        {
            "key": "business_sense",
            "name": "业务理解 / Business sense",
            "weight": 2,
            "kind": "hard",
            "must_have": False,
            "keywords": ["业务", "增长", "转化率", "用户", "business", "conversion", "growth"],
            "levels": [
                {
                    "score": 5,
                    "anchor": "能把分析结论转化为业务建议并跟进落地 / Turns findings into business advice",
                },
                {"score": 3, "anchor": "能解释指标背后的业务含义 / Explains what metrics mean for the business"},
                {"score": 1, "anchor": "不了解业务指标 / Does not know the business metrics"},
            ],
        },
        {
            "key": "communication",
            "name": "沟通表达 / Communication",
            "weight": 1,
            "kind": "soft",
            "must_have": False,
            "levels": [
                {
                    "score": 5,
                    "anchor": "能向非技术同事清楚讲解分析结论 / Explains findings clearly to non-technical colleagues",
                },
                {"score": 3, "anchor": "表达基本清楚 / Mostly clear"},
                {"score": 1, "anchor": "表达混乱 / Unclear"},
            ],
        },
    ],
}

#: Transcribed answers of the demo's AI interviews (backend job), a stronger and a weaker candidate.
DEMO_ANSWERS: list[list[dict[str, Any]]] = [
    [
        {
            "question_id": "q1",
            "dimension_keys": ["backend_development"],
            "question": "请讲一个你做过的后端服务。",
            "transcript": "我主导了订单服务的重构，用 Java 和 Spring Boot 重新设计了接口，上线后延迟降低了百分之四十。",
        },
        {
            "question_id": "q2",
            "dimension_keys": ["databases"],
            "question": "讲讲你做过的数据库优化。",
            "transcript": "库存系统的 MySQL 表结构是我独立设计的，也做过慢查询优化，核心查询从两秒降到两百毫秒。",
        },
        {
            "question_id": "q3",
            "dimension_keys": ["system_design"],
            "question": "你参与过哪些架构设计？",
            "transcript": "我们引入了 Redis 缓存和 Kafka 消息队列，我参与了架构讨论，但最终方案是架构师定的。",
        },
        {
            "question_id": "q4",
            "dimension_keys": ["communication", "teamwork"],
            "question": "和其他团队意见不一致时怎么办？",
            "transcript": "我会先把方案写成文档，和产品、测试一起评审，有分歧就拉会对齐，最后按数据做决定。",
        },
    ],
    [
        {
            "question_id": "q1",
            "dimension_keys": ["backend_development"],
            "question": "请讲一个你做过的后端服务。",
            "transcript": "嗯，我参与过后端项目，主要是协助同事写一些接口，不是我主导的。",
        },
        {
            "question_id": "q2",
            "dimension_keys": ["databases"],
            "question": "讲讲你做过的数据库优化。",
            "transcript": "SQL 我只了解基础的增删改查，没有做过优化。",
        },
        {
            "question_id": "q3",
            "dimension_keys": ["system_design"],
            "question": "你参与过哪些架构设计？",
            "transcript": "系统设计方面我没有什么经验。",
        },
    ],
]

SURNAMES = ["张", "王", "李", "赵", "陈", "刘", "杨", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡", "林"]
GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "婷", "强", "涛", "明", "慧"]
EN_FIRST = ["Emily", "Daniel", "Sophia", "Michael", "Olivia", "James", "Grace", "Lucas"]
EN_LAST = ["Chen", "Wong", "Smith", "Garcia", "Lee", "Patel", "Nguyen", "Brown"]
COMPANIES = ["示例机器人", "星河科技", "蓝海电商", "北辰制造", "Acme Cloud", "Northwind Trading"]

RESUME_ZH = """{name}  |  {title}
工作经历
{start}-至今  {company}  {title}
- 主导订单服务重构，使用 Java 与 Spring Boot，接口延迟降低 40%。
- 参与 Kafka 消息平台建设，协助完成灰度发布。
项目经验
- 独立完成库存系统的 Redis 缓存设计，支撑日均 300 万请求。
专业技能
熟悉 MySQL、Linux；不熟悉 Go。
教育背景
2012.09-2016.06  华中科技大学  本科  计算机科学与技术
"""

RESUME_EN = """{name} — {title}
Experience
{company}, {title} ({start_en} – Present)
- Led a team of 6 handling enterprise accounts in Salesforce; reduced churn by 15%.
- Assisted with the rollout of a complaint-handling playbook.
Skills
Salesforce, Excel, SQL. No Tableau experience.
Education
Bachelor of Business Administration, University of Manchester, 2015
"""


def _rubric(job: dict[str, Any]) -> dict[str, Any]:
    rubric_id = DEMO_RUBRICS.get(job["code"])
    return default_rubrics()[rubric_id].to_dict() if rubric_id else ANALYST_RUBRIC


def _system_viewer(tenant_id: uuid.UUID) -> Viewer:
    return Viewer(
        principal_id=uuid.UUID(int=0), tenant_id=tenant_id, kind="system", name="demo seed", roles=frozenset({"admin"})
    )


async def seed_demo(db: Database, vault: Vault, *, candidates: int = 40, seed: int = 7) -> tuple[uuid.UUID, bool]:
    """Create the demo tenant once; answer (tenant id, whether it was created now)."""
    async with db.system_session() as session:
        existing = (await session.scalars(select(m.Tenant).where(m.Tenant.slug == DEMO_SLUG))).first()
        if existing is not None:
            return existing.id, False
        tenant = m.Tenant(slug=DEMO_SLUG, name="示例科技 Demo Co.")
        session.add(tenant)
        await session.commit()
    await vault.prepare(tenant.id)
    rng = random.Random(seed)  # noqa: S311  (deterministic demo data, not secrets)
    viewer = _system_viewer(tenant.id)
    async with db.session(tenant.id) as session:
        store = SqlStore(session, viewer, vault)
        jobs = [
            await store.create(
                "job",
                {
                    **j,
                    "stages": ["APPLIED", "SCREENING", "AI_INTERVIEW", "SECOND_ROUND", "OFFER"],
                    "rubric": _rubric(j),
                },
            )
            for j in JOBS
        ]
        start = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
        seeded_at = datetime.now(UTC)
        for i in range(candidates):
            english = i % 4 == 3
            if english:
                first, last = rng.choice(EN_FIRST), rng.choice(EN_LAST)
                name = f"{first} {last}"
                email = f"{first.lower()}.{last.lower()}{i}@example.com"
            else:
                last, first = rng.choice(SURNAMES), rng.choice(GIVEN) + rng.choice(["", *GIVEN])
                name = last + first
                email = f"candidate{i:03d}@example.cn"
            job = jobs[3 if english and i % 8 == 7 else (2 if english else i % 3 if i % 3 != 2 else 0)]
            company = rng.choice(COMPANIES)
            candidate = await store.create(
                "candidate",
                {
                    "first_name": first,
                    "last_name": last,
                    "company": company,
                    "title": job.title,
                    "emails": [email],
                    "phones": [f"+86-13{rng.randint(0, 9)}-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}"],
                    "locations": [rng.choice(["上海", "深圳", "杭州", "北京", "Singapore"])],
                    "tags": ["campus-2025"] if job.mode == "campus" else [],
                    "consent": [
                        {
                            "purpose": "ai_scoring",
                            "granted": i % 5 != 0,
                            "granted_at": (start + timedelta(days=i)).isoformat(),
                        }
                    ],
                },
            )
            year = rng.randint(2016, 2021)
            template = RESUME_EN if english else RESUME_ZH
            text = template.format(
                name=name,
                title=job.title,
                company=company,
                start=f"{year}.0{rng.randint(1, 9)}",
                start_en=f"Mar {year}",
            )
            await store.create(
                "resume",
                {
                    "candidate_id": candidate.id,
                    "file_name": f"resume-{i:03d}.txt",
                    "text": text,
                    "language": "en" if english else "zh",
                },
            )
            application = await store.create(
                "application",
                {
                    "candidate_id": candidate.id,
                    "job_id": job.id,
                    "source": rng.choice(["官网", "BOSS直聘", "LinkedIn", "内推"]),
                },
            )
            if i % 3 == 0:
                await store.move_stage(application.id, "SCREENING", "简历初筛通过")
            if i % 6 == 0:
                await store.move_stage(application.id, "AI_INTERVIEW", "invited to AI interview")
                await store.create(
                    "interview",
                    {
                        "application_id": application.id,
                        "round": 1,
                        "mode": "AI_MOBILE",
                        "interviewers": [],
                        "start_at": start + timedelta(days=i, hours=2),
                        "end_at": start + timedelta(days=i, hours=3),
                        "location": "移动端 AI 面试",
                    },
                )
                answers = DEMO_ANSWERS[(i // 6) % len(DEMO_ANSWERS)]
                await store.create(
                    "interview_session",
                    {
                        "application_id": application.id,
                        "candidate_id": candidate.id,
                        "status": "SUBMITTED",
                        "channel": "ios",
                        # Given with the interview, dated when the demo is seeded: the tenant policy's
                        # max_age_days would otherwise expire a fixed date's consent some day.
                        "consent": [
                            {"purpose": "ai_scoring", "granted": i % 5 != 0, "granted_at": seeded_at.isoformat()}
                        ],
                        "questions": [
                            {
                                "question_id": a["question_id"],
                                "question": a["question"],
                                "dimension_keys": a["dimension_keys"],
                            }
                            for a in answers
                        ],
                        "answers": json.dumps(
                            [{k: a[k] for k in ("question_id", "question", "transcript")} for a in answers],
                            ensure_ascii=False,
                        ),
                        "submitted_at": start + timedelta(days=i, hours=3),
                    },
                )
    return tenant.id, True
