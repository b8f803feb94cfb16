"""Word lists the seeded data is drawn from: bilingual names, companies, places, schools and job families.

Chinese names carry their pinyin so emails stay ASCII, as real ones do. Every value is invented.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "CITIES",
    "COMPANIES_EN",
    "COMPANIES_ZH",
    "DEPARTMENTS",
    "EDUCATION",
    "EN_FIRST",
    "EN_LAST",
    "FAMILIES",
    "MAJORS",
    "MOBILE_PREFIXES",
    "OFFICES",
    "REJECT_REASONS",
    "SCHOOLS",
    "SKILL_EN",
    "SOURCES",
    "STAGES",
    "ZH_GIVEN",
    "ZH_SURNAMES",
    "Family",
]

# fmt: off
ZH_SURNAMES = [
    ("张", "zhang"), ("王", "wang"), ("李", "li"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"), ("黄", "huang"),
    ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"), ("马", "ma"), ("朱", "zhu"),
    ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("林", "lin"), ("罗", "luo"), ("高", "gao"), ("郑", "zheng"),
    ("梁", "liang"), ("谢", "xie"), ("宋", "song"), ("唐", "tang"), ("韩", "han"), ("冯", "feng"), ("邓", "deng"),
    ("曹", "cao"), ("彭", "peng"),
]
ZH_GIVEN = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"), ("强", "qiang"),
    ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"), ("杰", "jie"), ("涛", "tao"),
    ("明", "ming"), ("超", "chao"), ("秀英", "xiuying"), ("霞", "xia"), ("子涵", "zihan"), ("浩然", "haoran"),
    ("雨桐", "yutong"), ("思远", "siyuan"), ("欣怡", "xinyi"), ("一鸣", "yiming"), ("佳琪", "jiaqi"),
    ("俊杰", "junjie"), ("梓萱", "zixuan"), ("宇航", "yuhang"), ("晓东", "xiaodong"), ("文博", "wenbo"),
    ("婷婷", "tingting"), ("志强", "zhiqiang"),
]
EN_FIRST = [
    "James", "Emily", "Michael", "Sarah", "David", "Olivia", "Daniel", "Sophia", "Kevin", "Grace", "Ryan", "Chloe",
    "Jason", "Emma", "Eric", "Hannah", "Andrew", "Lily", "Brian", "Zoe",
]
EN_LAST = [
    "Smith", "Johnson", "Lee", "Brown", "Wang", "Chen", "Miller", "Davis", "Wilson", "Taylor", "Anderson", "Thomas",
    "Martin", "Clark", "Lewis", "Walker", "Young", "King",
]
COMPANIES_ZH = [
    "示例机器人", "星河科技", "蓝鲸数据", "云帆软件", "鼎新智能", "华瑞金融科技", "极光互娱", "启明医疗",
    "远景汽车科技", "知行教育", "海川物流", "青禾电商",
]
COMPANIES_EN = [
    "Acme Robotics", "Northwind Analytics", "Bluefin Software", "Summit Cloud", "Lumen Health", "Orbit Logistics",
    "Vertex Fintech", "Harbor Games",
]
CITIES = [
    ("北京", "Beijing"), ("上海", "Shanghai"), ("深圳", "Shenzhen"), ("杭州", "Hangzhou"), ("广州", "Guangzhou"),
    ("成都", "Chengdu"), ("南京", "Nanjing"), ("武汉", "Wuhan"), ("苏州", "Suzhou"), ("西安", "Xi'an"),
]
SCHOOLS = [
    ("清华大学", "Tsinghua University"), ("北京大学", "Peking University"), ("浙江大学", "Zhejiang University"),
    ("复旦大学", "Fudan University"), ("上海交通大学", "Shanghai Jiao Tong University"),
    ("华中科技大学", "Huazhong University of Science and Technology"), ("武汉大学", "Wuhan University"),
    ("中山大学", "Sun Yat-sen University"), ("电子科技大学", "UESTC"), ("南京大学", "Nanjing University"),
]
MAJORS = [
    ("计算机科学与技术", "Computer Science"), ("软件工程", "Software Engineering"), ("统计学", "Statistics"),
    ("电子信息工程", "Electronic Engineering"), ("人力资源管理", "Human Resource Management"),
    ("市场营销", "Marketing"), ("工业设计", "Industrial Design"),
]
# (key, Chinese, English), from lowest to highest
EDUCATION = [
    ("associate", "大专", "Associate"), ("bachelor", "本科", "Bachelor"), ("master", "硕士", "Master"),
    ("phd", "博士", "PhD"),
]
MOBILE_PREFIXES = [
    "130", "131", "132", "135", "136", "137", "138", "139", "150", "151", "155", "158", "159", "176", "177", "186",
    "187", "188", "189",
]
DEPARTMENTS = [
    ("技术研发中心", "Engineering"), ("数据智能部", "Data Intelligence"), ("产品部", "Product"),
    ("人力资源部", "Human Resources"), ("销售部", "Sales"), ("设计中心", "Design"),
]
OFFICES = [
    ("北京总部", "Beijing", "北京市朝阳区望京SOHO T1 12层"),
    ("上海分公司", "Shanghai", "上海市浦东新区世纪大道100号"),
    ("深圳分公司", "Shenzhen", "深圳市南山区科技园南区 8 栋"),
    ("杭州研发中心", "Hangzhou", "杭州市西湖区文三路 90 号"),
]
# (English name, Chinese stageName); a job's interview process in order
STAGES = [
    ("Resume Screen", "简历筛选"), ("Phone Screen", "电话初筛"), ("First Interview", "一面"),
    ("Second Interview", "二面"), ("HR Interview", "HR面"), ("Offer", "Offer沟通"), ("Hired", "已入职"),
]
SOURCES = [
    "Boss直聘", "猎聘", "LinkedIn", "内推 Referral", "官网 Careers site", "校园招聘 Campus fair", "拉勾",
]
REJECT_REASONS = [
    "经验不匹配 Experience mismatch", "薪资期望过高 Salary expectation", "候选人放弃 Withdrew",
    "技能不符 Skills gap", "岗位已关闭 Position closed",
]
# English names of the Chinese skill words, for English resumes
SKILL_EN = {
    "微服务": "microservices", "高并发": "high concurrency", "分布式系统": "distributed systems",
    "小程序": "WeChat mini-programs", "性能优化": "performance tuning", "数据分析": "data analysis",
    "A/B测试": "A/B testing", "统计建模": "statistical modeling", "机器学习": "machine learning",
    "推荐系统": "recommender systems", "自然语言处理": "NLP", "大模型": "LLMs", "需求分析": "requirements analysis",
    "产品设计": "product design", "项目管理": "project management", "B端产品": "B2B products",
    "用户研究": "user research", "自动化测试": "test automation", "持续集成": "CI", "接口测试": "API testing",
    "招聘": "recruiting", "沟通能力": "communication", "人才寻访": "sourcing", "雇主品牌": "employer branding",
    "校园招聘": "campus recruiting", "劳动法": "labor law", "大客户销售": "key account sales",
    "商务谈判": "negotiation", "SaaS销售": "SaaS sales", "渠道管理": "channel management", "英语": "English",
}
# fmt: on


class Family(NamedTuple):
    """A job family: titles, the department it sits in, skills and what its work looks like."""

    key: str
    title_zh: str
    title_en: str
    department: int
    must: tuple[str, ...]
    nice: tuple[str, ...]
    areas_zh: tuple[str, ...]
    areas_en: tuple[str, ...]


# fmt: off
FAMILIES = [
    Family("backend", "后端工程师", "Backend Engineer", 0,
           ("Java", "Go", "Python", "MySQL"),
           ("Kafka", "Redis", "Kubernetes", "微服务", "高并发", "分布式系统"),
           ("订单系统", "支付网关", "消息中台", "用户中心"),
           ("order service", "payment gateway", "messaging platform")),
    Family("frontend", "前端工程师", "Frontend Engineer", 0,
           ("TypeScript", "React", "Vue"),
           ("Webpack", "Node.js", "小程序", "性能优化", "Figma"),
           ("管理后台", "营销活动页", "小程序商城"),
           ("admin console", "campaign pages", "mini-program store")),
    Family("data", "数据分析师", "Data Analyst", 1,
           ("SQL", "Python", "数据分析"),
           ("Spark", "Tableau", "A/B测试", "统计建模", "Hive"),
           ("经营分析看板", "用户增长分析", "风控报表"),
           ("business dashboards", "growth analysis", "risk reports")),
    Family("algorithm", "算法工程师", "Machine Learning Engineer", 1,
           ("Python", "机器学习", "PyTorch"),
           ("推荐系统", "自然语言处理", "TensorFlow", "Spark", "大模型"),
           ("推荐排序模型", "搜索召回", "智能客服"),
           ("ranking models", "search retrieval", "support chatbot")),
    Family("product", "产品经理", "Product Manager", 2,
           ("需求分析", "产品设计", "项目管理"),
           ("Axure", "数据分析", "B端产品", "用户研究"),
           ("招聘SaaS", "会员体系", "交易链路"),
           ("recruiting SaaS", "membership program", "checkout flow")),
    Family("qa", "测试工程师", "QA Engineer", 0,
           ("自动化测试", "Python", "Linux"),
           ("Selenium", "JMeter", "持续集成", "接口测试"),
           ("回归测试平台", "性能压测"),
           ("regression platform", "load testing")),
    Family("hr", "招聘专员", "Recruiter", 3,
           ("招聘", "沟通能力", "人才寻访"),
           ("雇主品牌", "校园招聘", "劳动法"),
           ("技术岗位招聘", "校招项目"),
           ("tech hiring", "campus program")),
    Family("sales", "销售经理", "Sales Manager", 4,
           ("大客户销售", "商务谈判", "CRM"),
           ("SaaS销售", "渠道管理", "英语"),
           ("华东大客户", "渠道拓展"),
           ("key accounts in East China", "channel partners")),
]
# fmt: on
