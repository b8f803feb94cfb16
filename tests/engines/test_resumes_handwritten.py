"""Extraction on ten resumes written by hand the way people write them: messy punctuation, bullets, mixed
languages, full-width characters, abbreviations. Each comes with what a careful reader finds in it.

``skills`` maps skill id -> expected best involvement for claimed skills; ``negated`` lists skills the
resume denies; ``absent`` lists skills that must NOT be found (traps). Dates resolve against TODAY.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pytest

from engines.extract import extract_features, extract_many
from engines.features import ResumeFeatures
from engines.sections import find_sections

TODAY = date(2026, 5, 1)


@dataclass(frozen=True)
class Handwritten:
    name: str
    text: str
    language: str
    skills: dict[str, str]
    negated: frozenset[str] = frozenset()
    absent: frozenset[str] = frozenset()
    years: float | None = None
    education: str | None = None
    sections: frozenset[str] = field(default_factory=frozenset)


ZH_JAVA = Handwritten(
    name="zh_java_backend",
    language="zh",
    text="""张伟 | 男 | 32岁 | 138-0000-1234 | zhangwei@example.com
求职意向：高级后端工程师    期望城市：上海

个人优势
8年后端开发经验，熟悉Spring Boot、MyBatis，熟悉MySQL、Redis；不熟悉Go。

工作经历
2018.03-至今  上海某某网络科技有限公司  高级工程师
- 负责订单中心的架构设计与开发，主导从单体到微服务的拆分，使用Spring Cloud + Nacos；
- 带领5人小组完成支付对账系统，日处理订单200万+；
- 参与Kubernetes容器化迁移，协助运维编写Helm chart。
2015年7月 - 2018年2月  杭州某软件公司  开发工程师
• 使用SSM框架开发C端用户中心；配合测试完成接口压测（JMeter）。

项目经验
【智能问答平台】 2020.06 - 2021.12
技术栈：Spring Boot、Elasticsearch、RabbitMQ
描述：独立完成知识库检索模块，QPS提升3倍。

专业技能
1. 精通Java，熟悉JVM调优；
2. 熟练使用Linux、Git、Docker；了解Python。
3. 没有Golang项目经验
""",
    skills={
        "spring_cloud": "led",
        "microservices": "led",
        "kubernetes": "participated",
        "spring": "used",
        "elasticsearch": "used",
        "rabbitmq": "used",
        "spring_boot": "used",
        "java": "listed",
        "linux": "listed",
        "docker": "listed",
        "python": "listed",
        "mysql": "listed",
        "redis": "listed",
        "mybatis": "listed",
        "git": "listed",
        "software_testing": "participated",
        "system_design": "led",
    },
    negated=frozenset({"golang"}),
    absent=frozenset({"c_lang", "customer_service"}),
    years=10.9,
    education=None,
    sections=frozenset({"summary", "experience", "projects", "skills"}),
)

ZH_MECHANICAL = Handwritten(
    name="zh_mechanical",
    language="zh",
    text="""李强　　机械结构工程师　　电话：１３９１２３４５６７８

【教育背景】
2013.09－2016.06　　苏州工业职业技术学院　　机电一体化　　大专

【工作经历】
2019.07－至今　苏州某精密机械有限公司　结构工程师
★ 独立完成3条自动化产线的非标设备设计，使用ＳＷ三维建模，出二维图用AutoCAD
★ 负责钣金件和机加件的图纸审核、BOM整理
★ 协助工艺部门做DFM评审
2016年7月 - 2019年6月　昆山某模具厂　绘图员
★ 用CAD画模具图，参与注塑模具设计

【技能】
熟练：SolidWorks / AutoCAD / 钣金展开
CATIA不会，UG只会简单建模
""",
    skills={
        "solidworks": "led",
        "autocad": "led",
        "sheet_metal": "led",
        "drawing_review": "led",
        "dfm": "participated",
        "mold_design": "participated",
        "mechanical_design": "led",
        "automation": "led",
        "ug_nx": "listed",
    },
    negated=frozenset({"catia"}),
    years=9.9,
    education="associate",
    sections=frozenset({"education", "experience", "skills"}),
)

ZH_SALES = Handwritten(
    name="zh_sales_free_text",
    language="zh",
    text=(
        "王芳，女，35岁，统招本科（市场营销），五年以上B2B销售经验。\n"
        "2020.04至今 某工业软件公司 大客户经理：负责华东区KA客户，主导年度框架合同商务谈判，"
        "用CRM系统管理销售漏斗，年销售额2000万+。\n"
        "2017.03-2020.03 某设备公司 销售代表：电话销售+陌拜，协助经理做招投标文件。\n"
        "会用Excel做数据透视表，英语六级。没有外贸经验。\n"
    ),
    skills={
        "key_account": "led",
        "negotiation": "led",
        "salesforce": "led",
        "sales_forecasting": "led",
        "telesales": "used",
        "bidding": "participated",
        "excel": "listed",
        "english": "listed",
        "b2b_sales": "used",
    },
    negated=frozenset({"foreign_trade"}),
    years=9.2,
    education="bachelor",
)

ZH_SERVICE = Handwritten(
    name="zh_service_short",
    language="zh",
    text="""赵敏 13800001111
中专学历。3年电商客服经验（天猫店铺），熟悉千牛工作台，日均接待200+咨询。
主要负责售后退换货和客诉处理，投诉处理及时率98%。会用Excel、Word。
不会PS。
""",
    skills={
        "online_support": "used",
        "after_sales": "led",
        "complaint_handling": "led",
        "excel": "listed",
        "ms_office": "listed",
    },
    negated=frozenset({"photoshop"}),
    years=3.0,
    education="none",
)

EN_SOFTWARE = Handwritten(
    name="en_software",
    language="en",
    text="""JANE DOE
Seattle, WA | jane.doe@mail.com | github.com/janedoe

SUMMARY
Backend engineer with 7+ years of experience building payment systems in Go and Python.

EXPERIENCE
Senior Software Engineer — Acme Payments            Mar 2019 – Present
• Led the migration of the ledger service from a PHP monolith to Go microservices on Kubernetes.
• Owned the Kafka event pipeline (2B events/day); cut p99 latency by 40%.
• Assisted the data team with Airflow DAGs.

Software Engineer — Widget Co.                       Jun 2016 - Feb 2019
• Built REST APIs in Python/Django backed by PostgreSQL.
• Helped set up CI/CD with Jenkins.

SKILLS
Languages: Go, Python, SQL, some JavaScript
Tools: Docker, Terraform, Git
Not familiar with Kubernetes operators; no experience with Rust.

EDUCATION
University of Washington — B.S. in Computer Science, 2016
""",
    skills={
        "golang": "led",
        "microservices": "led",
        "kubernetes": "led",
        "kafka": "led",
        "php": "led",
        "etl": "participated",
        "python": "used",
        "django": "used",
        "postgresql": "used",
        "rest_api": "used",
        "ci_cd": "participated",
        "sql": "listed",
        "javascript": "listed",
        "docker": "listed",
        "git": "listed",
    },
    negated=frozenset({"rust"}),
    years=10.0,
    education="bachelor",
    sections=frozenset({"summary", "experience", "skills", "education"}),
)

EN_DATA = Handwritten(
    name="en_data_scientist",
    language="en",
    text="""Priya Raman — Data Scientist
priya@example.org

Profile: 3+ years of applied machine learning in e-commerce. PhD in Statistics.

Work history
2022/09 - 2026/02  ShopCo, Data Scientist
 - Designed and ran A/B tests for the checkout funnel; built uplift models with XGBoost and pandas
 - Participated in building a recommendation system (PyTorch)
 - Dashboards in Tableau for the growth team

Education
2017 - 2022  PhD, Statistics, University of Michigan (thesis on Bayesian A/B testing)
2013 - 2017  BSc Mathematics, Peking University

Skills
Python, R, SQL; no experience with Spark or Hadoop.
""",
    skills={
        "ab_testing": "used",
        "machine_learning": "used",
        "pandas": "used",
        "pytorch": "participated",
        "tableau": "used",
        "python": "listed",
        "r_lang": "listed",
        "sql": "listed",
        "statistics": "used",
    },
    negated=frozenset({"spark", "hadoop"}),
    years=3.5,
    education="phd",
)

EN_FINANCE = Handwritten(
    name="en_finance",
    language="en",
    text="""MICHAEL CHEN, CPA
michael.chen@example.com · +1 415 555 0100

Finance professional with over 10 years in corporate accounting and FP&A.

PROFESSIONAL EXPERIENCE
Finance Manager | Northwind Foods | Jan 2018 - present
- Responsible for month-end close, consolidated statements under US GAAP, and the annual budget.
- Implemented SAP S/4HANA finance module together with IT (participated in blueprint workshops).
- Supervised a team of four accountants.

Senior Accountant | Contoso Ltd | 2013 - 2017
- General ledger, accounts payable and bank reconciliation; supported the external audit each year.

EDUCATION
MBA, University of Chicago Booth (2016)
B.A. in Economics, UC Davis
""",
    skills={
        "financial_reporting": "led",
        "ifrs_gaap": "led",
        "budgeting": "led",
        "sap": "used",
        "team_management": "led",
        "accounting": "used",
        "treasury": "used",
        "audit": "participated",
        "cpa": "listed",
        "financial_analysis": "listed",
    },
    years=12.4,
    education="master",
)

MIXED_FULLWIDTH = Handwritten(
    name="mixed_fullwidth",
    language="mixed",
    text="""刘洋 Liu Yang｜数据分析 Data Analyst
Ｅｍａｉｌ：ｌｉｕｙａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ

工作经历 Work Experience
２０１８．０３－至今　某零售集团　数据分析师
・使用ＳＱＬ和Ｐｙｔｈｏｎ搭建日报体系；主导会员RFM分析项目
・Built Power BI dashboards for 30 stores
・参与数据仓库建设（Hive）

Skills 技能
熟悉Ｅｘｃｅｌ、Tableau；不熟悉机器学习
教育 Education: 硕士 Master of Science in Statistics
""",
    skills={
        "sql": "used",
        "python": "used",
        "data_analysis": "used",
        "power_bi": "used",
        "data_warehouse": "participated",
        "hive": "participated",
        "excel": "listed",
        "tableau": "listed",
        "statistics": "listed",
    },
    negated=frozenset({"machine_learning"}),
    years=8.2,
    education="master",
)

ZH_HR = Handwritten(
    name="zh_hr",
    language="zh",
    text="""孙丽　人力资源经理
十年以上人事工作经验，人力资源管理师（二级）

■ 工作经验 ■
2016/05 ~ 至今　某制造集团　人力资源经理
① 搭建公司绩效考核体系（KPI+OKR），主导年度调薪方案
② 统筹校园招聘，每年招聘应届生100+
③ 处理劳动仲裁案件，熟悉劳动合同法
2012/07 ~ 2016/04　某物流公司　招聘专员
① 负责社会招聘渠道维护，协助完成薪资核算和社保公积金办理

■ 教育背景 ■
2009-2012 华东师范大学 硕士研究生 心理学
""",
    skills={
        "performance_management": "used",
        "compensation": "led",
        "campus_recruiting": "led",
        "recruiting": "led",
        "employee_relations": "used",
        "labor_law": "used",
        "payroll": "participated",
        "social_insurance": "participated",
        "hr_certificate": "listed",
    },
    absent=frozenset({"warehouse"}),
    years=13.9,
    education="master",
)

EN_MANUFACTURING = Handwritten(
    name="en_manufacturing",
    language="en",
    text="""Carlos Mendez
Production / Quality | carlos.m@example.com

Summary: Lean Six Sigma Green Belt. 8 years in automotive plants (IATF 16949).

Experience
* Production Supervisor, Apex Components — 2017 - 2020
  Ran 5S and TPM on two lines; OEE from 71% to 84%.
  Owned 8D reports for customer complaints.
* Quality Technician, Apex Components — Jan 2015 to Dec 2016
  Helped with SPC charts and PFMEA updates.
* Process Engineer (contract), Delta Motors — Mar 2019 – Present
  Drove kaizen events; value stream mapping for the paint shop.

Education: Associate degree in Industrial Technology, Lakeland Community College
""",
    skills={
        "lean": "led",
        "six_sigma": "used",
        "five_s": "used",
        "tpm": "used",
        "eight_d": "led",
        "spc": "participated",
        "fmea": "participated",
        "iatf16949": "used",
        "complaint_handling": "led",
    },
    years=11.4,
    education="associate",
)

ALL = (
    ZH_JAVA,
    ZH_MECHANICAL,
    ZH_SALES,
    ZH_SERVICE,
    EN_SOFTWARE,
    EN_DATA,
    EN_FINANCE,
    MIXED_FULLWIDTH,
    ZH_HR,
    EN_MANUFACTURING,
)


IDS = [h.name for h in ALL]


def features_of(resume: Handwritten) -> ResumeFeatures:
    return extract_features(resume.text, today=TODAY)


@pytest.mark.parametrize("resume", ALL, ids=IDS)
def test_every_finding_has_valid_evidence(resume: Handwritten) -> None:
    features = features_of(resume)
    for mention in features.skills:
        assert mention.evidence.is_valid_for(resume.text), mention
    for evidence in features.years_evidence:
        assert evidence.is_valid_for(resume.text), evidence
    if features.education_evidence is not None:
        assert features.education_evidence.is_valid_for(resume.text)


@pytest.mark.parametrize("resume", ALL, ids=IDS)
def test_claimed_skills_and_involvement(resume: Handwritten) -> None:
    features = features_of(resume)
    found = {s: features.best_involvement(s) for s in features.skill_ids() if features.has_skill(s)}
    assert found == resume.skills


@pytest.mark.parametrize("resume", ALL, ids=IDS)
def test_negations_and_traps(resume: Handwritten) -> None:
    features = features_of(resume)
    for skill_id in resume.negated:
        assert features.is_negated(skill_id), skill_id
    for skill_id in resume.absent:
        assert skill_id not in features.skill_ids(), skill_id


@pytest.mark.parametrize("resume", ALL, ids=IDS)
def test_years_education_language(resume: Handwritten) -> None:
    features = features_of(resume)
    assert features.years_experience == resume.years
    assert features.education == resume.education
    assert features.language == resume.language


@pytest.mark.parametrize("resume", [h for h in ALL if h.sections], ids=[h.name for h in ALL if h.sections])
def test_sections_found(resume: Handwritten) -> None:
    assert resume.sections <= find_sections(resume.text).kinds()


def test_batch_matches_single() -> None:
    texts = [h.text for h in ALL]
    assert extract_many(texts, today=TODAY) == [extract_features(t, today=TODAY) for t in texts]
