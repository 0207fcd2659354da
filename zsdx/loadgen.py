"""`flask zsdx gen-load`: a realistic, repeatable (by seed) load of enterprises, projects, filings in every
status, their audit trail, pre-diagnoses and notifications, written with bulk inserts.

Used by bench/run.py (the benchmark, docs/performance.md) and by tests/test_loadgen.py at tiny sizes.

What one run writes (sizes are options; defaults 10,000 / 100,000 / 955,700):
- enterprises (zs_organisation) spread over every reference town, one 企业 user each (ab_user +
  ab_user_role, one precomputed password hash: every generated account logs in with the demo password);
- reviewer colleagues of the demo accounts: 镇街 reviewers so that every town has some, more 第三方 and
  市工信 users (their number is chosen so that the to-dos the chain fans out reach the notification size);
- projects and filings (zs_project, zs_filing) in every status: draft, reviewing at town / third_party /
  city, returned, done (unique 13-character 备案号, zs_filing_counter kept in step) and rejected, with
  submitted_at / step_entered_at / completed_at spread over the past year as the engine would leave them;
- the audit rows each history implies (zs_review_action: submit, approve, return with an opinion, reject),
  mostly by the demo reviewers (镇街 13800000004/13800000005 for their towns, 第三方 13800000006,
  市工信 13800000008), with step_seconds;
- for done filings the records completion creates: zs_pre_diagnosis (in every diagnosis state) and
  zs_signing (项目基本信息 carried from the filing);
- 上架产品: providers (organisations, the first a 行业型服务商) and their zs_product rows in every state;
- the 项目签约 chapter (--signings, default on; its own random stream): the signings in every state
  (SIGNING_STATES: untouched, contracts partly filled, page 3 with a 行业型服务商 (协助填写中), filled by it
  (待企业确认), the assistance withdrawn, 已签约 with page 3 by the enterprise or by the provider); 已签约 ones
  with 1–3 complete zs_contract rows (万元, 4 places, 纳入奖补 ≤ 合同总金额, one shared PDF zs_file row),
  1–2 needs, 1–3 picked listed products (none when --products 0) (their 改造中: below); the
  zs_assist_request of each assisted one (one 服务商 user, 1371xxxxxxx, per generated 行业型服务商 fills it);
  and for ~60 % of the signed a zs_pre_subsidy (镇街 → 市工信) in every status with 1+ of the signing's own
  contracts, its three files and its audit rows;
- the implementation chapter (--implementation, default on; its own random streams): the zs_implementation of
  every 已签约 project with its eight zs_implementation_indicator rows, in every state (IMPLEMENTATION_STATES:
  untouched, partly filled, with the 行业型服务商 (协助填写中, 待企业确认), 已提交 by the enterprise or after the
  provider); for each submitted one the zs_post_assessment in every state (POST_ASSESSMENT_STATES: not
  started, waiting for 市工信局分配, assigned to one of the 综合型服务机构 (one 评估机构 user, 1372xxxxxxx, for
  each that has none), report uploaded (待企业确认), 退回修改, confirmed) with its audit rows, and the
  zs_completion (COMPLETION_STATES: untouched, partly filled, with the provider, 已提交 (when the 事前诊断 gave
  the 改造前 level before 改造中 was submitted and 事后评估 is confirmed) by the enterprise or after the
  provider): results carried from 改造中, a zs_provider_rating per provider (1–5 stars), the files, 1–3
  zs_invoice each (numbers distinct within the project, dated from the signing's day to the submission) with
  1–3 zs_invoice_line (元, exact: 价税合计 = 金额 + 税额) and 1–2 zs_payment_voucher covering it, and the
  zs_warehousing (项目入库) it opens; the zs_assist_request of 改造中 and 数字化改造成效 pages handed over;
- the 项目入库 chapter (--warehousing, default on; its own random stream): the zs_warehousing of every submitted
  改造完成 in every state (WAREHOUSING_STATES: 待提交 never saved or saved (every record has its copy, as the app gives it at creation), 待审核 at 镇街, at 验收专家
  待分配 (市工信's to-do) or with 1–3 assigned experts some of whom approved (zs_review_assignment; 1373xxxxxxx
  专家 users when the world has fewer than it needs), at 市工信, 退回修改 by each step (opinion, return_step),
  resubmitted after a return, 已入库 with level_after / subsidy_cap / proposed_subsidy from zsdx.subsidy.compute:
  the 改造后 level an institution's 事后评估 confirmed and the signing's contracts' 纳入资金奖补项目金额), its audit
  rows (submit, assign, approve, return), its 佐证材料 (zs_warehousing_file), and a 申报窗口 of the chain open now
  (zs_submission_window) when there is none;
- notifications as the engine writes them: a 待办事项 (todo) for every reviewer of every step a filing
  entered (subject/step set, closed_at when the filing left the step), an 审核通知 (review) to the
  enterprise for every reviewer action (of filings, 预奖补申请 and 协助填写 alike; of a 事后评估 report to the
  institution's users), the institutions' new-task to-dos, overdue reminders (todo, with their
  zs_review_reminder rows), and 留言板 traffic (zs_message rows, todos to every 市工信 user and the
  enterprise) to reach the size. Most are read; open to-dos are mostly unread. When the histories imply more
  than the size, read notes of non-demo users are dropped first and open to-dos last (those of every user
  after every other note). (The number of reviewer
  colleagues is set before the implementation chapter, so that it changes nothing above it.)

Rows are built in Python from `random.Random(seed)` (the signing chapter from a second stream of the same
seed: enterprises, filings and their audit rows do not depend on --signings; the implementation chapter from
a third, and each of its projects from a stream of its own; the 项目入库 chapter from a fourth) and written with PostgreSQL
COPY (psycopg2), or SQLAlchemy Core executemany `insert()` elsewhere (SQLite, for smoke tests). Times are relative to the
moment of the run; everything else is the same for the same seed and sizes. Run it once per database
(after `flask zsdx seed-demo`): a second run refuses.
"""

import bisect
import datetime as dt
import hashlib
import io
import itertools
import json
import math
import random
import time
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from types import SimpleNamespace

from sqlalchemy import func, insert, select, text
from werkzeug.routing import BuildError
from werkzeug.security import generate_password_hash

from . import roles as R
from .creditcode import check_char
from .extensions import db
from .models import DIMENSIONS

DEFAULTS = {"enterprises": 10_000, "filings": 100_000, "notifications": 955_700}
STEPS = ("town", "third_party", "city")
# final state of a filing -> weight
STATUS_WEIGHTS = [
    (("draft", None), 0.08),
    (("reviewing", "town"), 0.09),
    (("reviewing", "third_party"), 0.08),
    (("reviewing", "city"), 0.08),
    (("returned", None), 0.08),
    (("done", None), 0.57),
    (("rejected", None), 0.02),
]
RETURN_PROBABILITY = {"town": 0.06, "third_party": 0.08, "city": 0.05}
DEMO_SHARE = 0.8  # share of a step's actions taken by the demo reviewer where there is one
ENTERPRISE_PHONE_PREFIX = "150"  # 150xxxxxxxx: generated enterprise users
REVIEWER_PHONE_PREFIX = "1370"  # 1370xxxxxxx: generated reviewer colleagues
DEMO_REVIEWERS = {
    "town": {"2010": "13800000004", "2001": "13800000005"},
    "third_party": "13800000006",
    "city": "13800000008",
}
STEP_ROLES = {"town": R.TOWN, "third_party": R.THIRD_PARTY, "city": R.CITY}
DAY = 86400.0

# --- vocabulary ----------------------------------------------------------------------------------------
BRANDS = list("华盛德宏利达美嘉泰新科源恒信丰隆瑞海明豪鸿腾骏凯威裕祥兴安荣昌富通力创志远")
SUFFIXES = ["有限公司", "有限公司", "有限公司", "股份有限公司", "实业有限公司"]
TRADES = {
    "五金制品": ["五金制品", "精密五金", "锁具"],
    "家用电器": ["电器", "厨具电器", "小家电"],
    "灯饰照明": ["灯饰", "照明科技", "光电"],
    "纺织服装": ["服装", "制衣", "纺织"],
    "家具制造": ["家具", "红木家具", "办公家具"],
    "电子信息": ["电子科技", "电路板", "智能科技"],
    "智能装备": ["智能装备", "机械设备", "自动化科技"],
    "健康医药": ["医疗器械", "生物科技", "制药"],
    "食品饮料": ["食品", "饮料", "调味品"],
    "包装印刷": ["包装印刷", "彩印包装", "纸品"],
    "新材料": ["新材料", "高分子材料", "复合材料"],
    "汽车零部件": ["汽车配件", "车用电子", "摩托车配件"],
    "化工制品": ["化工", "涂料", "胶粘剂"],
    "美妆日化": ["日化", "化妆品", "洗涤用品"],
    "建材卫浴": ["卫浴", "建材", "陶瓷"],
    "其他制造业": ["制造", "工艺品", "塑胶制品"],
}
SCENARIOS = [
    "生产车间MES系统建设",
    "设备联网与数据采集",
    "仓储物流智能化改造",
    "ERP与财务一体化",
    "质量追溯平台建设",
    "供应链协同平台",
    "智能排产与计划管理",
    "能耗在线监测",
    "研发设计协同（PLM）",
    "客户关系管理数字化",
    "数字化车间改造",
    "智能仓储（WMS）建设",
    "产品全生命周期管理",
    "工业互联网平台应用",
    "销售与订单管理数字化",
]
SURNAMES = list("陈李黄张梁何刘吴林郑杨周罗谢冯郭叶苏")
GIVEN = [
    "伟",
    "芳",
    "敏",
    "静",
    "强",
    "磊",
    "洋",
    "婷",
    "杰",
    "军",
    "丽",
    "超",
    "志明",
    "嘉欣",
    "子豪",
    "晓琳",
    "国华",
    "建业",
    "少芬",
    "锦荣",
    "伟强",
    "美玲",
    "永康",
    "家俊",
]
STREETS = ["兴业路", "创业路", "工业大道", "富华道", "民科东路", "永安路", "沙口路", "东明路", "港口大道", "岐关路"]
APPROVE_OPINIONS = ["同意", "同意", "同意。", "同意，材料齐全", "同意备案", "情况属实，同意", None]
RETURN_OPINIONS = [
    "请补充授权委托书",
    "项目简介过于简略，请补充建设内容",
    "计划投资额与建设内容不匹配，请核实",
    "数字化人员数量有误，请核实后重新提交",
    "请上传链主带动证明材料",
    "主营产品分类请选择至第三级",
    "项目起止日期不合理，请调整",
    "意向服务商名称不完整，请补充",
    "企业地址与营业执照不一致，请核实",
]
REJECT_OPINIONS = ["项目不属于试点支持范围", "企业不符合中小企业划型标准", "同一改造内容已在其他项目中申报"]
MESSAGES = [
    "请问项目备案需要上传哪些附件？",
    "备案提交后一般多久能审核完成？",
    "请问事前诊断如何选择诊断机构？",
    "授权委托书模板在哪里下载？",
    "项目计划投资是否包含软件订阅费用？",
]
REPLIES = [
    "您好，请参阅平台首页的备案通知及附件模板。",
    "您好，各环节办理时限为5个工作日，请留意审核通知。",
    "您好，可在【我的工作台】-【诊断评估】中选择诊断机构。",
]

# 项目签约: the state of each 已备案 project's signing -> weight (the first ones take every state in turn)
SIGNING_STATES = [
    ("untouched", 0.14),  # 待签约, nothing filled since 已备案
    ("partial", 0.12),  # 待签约, contracts partly filled
    ("assist_filling", 0.06),  # page 3 with the 行业型服务商 (协助填写中)
    ("assist_to_confirm", 0.05),  # the provider submitted page 3 (待企业确认)
    ("assist_withdrawn", 0.02),  # the enterprise took the page back (the request is a draft again)
    ("signed", 0.41),  # 已签约, page 3 by the enterprise
    ("signed_assisted", 0.20),  # 已签约 after the provider filled page 3 (已确认)
]
PRE_SUBSIDY_SHARE = 0.6  # of the 已签约 signings
PS_STEPS = ("town", "city")
PS_STATUS_WEIGHTS = [
    (("draft", None), 0.12),
    (("reviewing", "town"), 0.14),
    (("reviewing", "city"), 0.12),
    (("returned", None), 0.10),
    (("done", None), 0.46),
    (("rejected", None), 0.06),
]
PS_RETURN_OPINIONS = [
    "入库申报表未加盖公章，请重新上传",
    "承诺书签署日期缺失，请补充",
    "信用报告已超过有效期，请重新下载",
    "所选合同纳入奖补金额与合同附件不一致，请核实",
]
PS_REJECT_OPINIONS = ["项目合同签订时间早于备案时间，不符合奖补条件", "企业存在严重失信记录"]
PROVIDER_PHONE_PREFIX = "1371"  # 1371xxxxxxx: one user of each generated 行业型服务商
NEED_TEXTS = [
    ("生产过程依赖人工记录，数据滞后", "生产数据无法实时采集，计划与实际脱节，需要实现设备联网和报工自动化。"),
    ("仓库账实不符，盘点耗时", "库存信息分散在多个表格中，需要统一的仓储管理与条码追溯。"),
    ("订单交付周期长", "订单、计划、采购之间协同靠电话和表格，需要打通订单到生产的全流程。"),
    ("质量问题难以追溯", "质检记录为纸质单据，出现客诉时无法快速定位批次，需要建设质量追溯体系。"),
    ("能耗成本高且不透明", "主要设备能耗无计量，需要分项计量和能耗分析。"),
]
CONTENTS = [
    "部署云端系统并完成与现有ERP的数据对接",
    "实施车间设备联网与数据采集",
    "上线移动端报工与看板",
    "开展系统实施培训与运维服务",
]
OVER_PRICE_REASONS = ["含定制开发及三年运维服务", "增加了设备接口数量", "含硬件采购及安装调试"]
MONEY_PLACES = Decimal("0.0001")
LINK_PK = 987654321  # stands for a record id while a stage's link is built once (see _link)
FILE_KEYS = ("application", "commitment", "credit")  # the 预奖补申请's three files
SIGNING_COLUMNS = [
    "id",
    "project_id",
    "organisation_id",
    "town_id",
    "status",
    "project_name",
    "summary",
    "start_date",
    "end_date",
    "acceptance_date",
    "target_level",
    "chain_leader",
    "assisted",
    "submitted_at",
    "created_at",
    "updated_at",
]
SIGNING_PRODUCT_COLUMNS = [
    "id",
    "signing_id",
    "contract_id",
    "product_id",
    "position",
    "code",
    "name",
    "provider_credit_code",
    "supplier_name",
    "max_price",
    "cloud",
    "content",
    "start_date",
    "end_date",
    "price",
    "over_price_reason",
    "scenario",
    "scenario_desc",
]

# 项目实施 (--implementation, default on; its own random stream): the state of each 已签约 project's records ->
# weight (the first ones take every state in turn)
IMPLEMENTATION_STATES = [  # 改造中
    ("untouched", 0.14),  # 待提交, the eight dimensions as 已签约 left them
    ("partial", 0.12),  # 待提交, dimensions partly ticked and filled
    ("assist_filling", 0.05),  # with the 行业型服务商 (协助填写中)
    ("assist_to_confirm", 0.04),  # the provider submitted it (待企业确认)
    ("submitted", 0.45),  # 已提交 by the enterprise: 事后评估 and 改造完成 are open
    ("submitted_assisted", 0.20),  # 已提交 after the provider filled it (已确认)
]
POST_ASSESSMENT_STATES = [  # 事后评估 of the submitted ones
    ("not_started", 0.10),  # 待评估: no 评估方式 chosen
    ("city_waiting", 0.06),  # 市工信局分配 asked, no institution assigned yet
    ("assigned", 0.14),  # a 综合型服务机构 is assessing (评估中)
    ("reviewing", 0.12),  # report uploaded: 待企业确认
    ("returned", 0.06),  # 退回修改 by the enterprise
    ("confirmed", 0.52),  # 已评估: the 改造后 level is the project's
]
# 改造完成 of the submitted ones; 已提交 needs the 改造前 level (the 事前诊断 done before 改造中 was submitted) and
# the confirmed 事后评估: a project without them draws 待提交 (partly filled / 待企业确认) instead
COMPLETION_STATES = [
    ("untouched", 0.14),
    ("partial", 0.24),  # results, ratings, files or an invoice partly there
    ("assist_filling", 0.06),  # 数字化改造成效 with the 行业型服务商
    ("assist_to_confirm", 0.05),
    ("submitted", 0.36),
    ("submitted_assisted", 0.15),
]
PA_STEPS = ("enterprise_confirm",)
PA_RETURN_OPINIONS = [
    "报告中企业名称有误，请修改",
    "改造后评估得分与报告正文不一致，请核实",
    "报告未体现已上线的设备联网系统，请补充",
    "报告缺少评估机构盖章页，请重新上传",
]
INSTITUTION_PHONE_PREFIX = "1372"  # 1372xxxxxxx: a 评估机构 user of a 综合型服务机构 that has none
# 维度指标 data: dimension -> (indicator, unit, low, high, higher is better)
DIMENSION_METRICS = {
    "innovation": ("关键工序数控化率", "%", 20, 60, True),
    "market": ("人均营业收入", "万元", 40, 120, True),
    "quality": ("产品一次合格率", "%", 85, 97, True),
    "cost": ("单位产品制造成本", "元", 30, 300, False),
    "efficiency": ("订单准时交付率", "%", 65, 92, True),
    "green": ("单位产值综合能耗", "吨标准煤/万元", 1, 9, False),
    "safety": ("病毒拦截率", "%", 80, 97, True),
    "other": ("员工数字化技能培训覆盖率", "%", 10, 50, True),
}
RATING_TEXTS = {
    5: ["非常满意，系统运行稳定，响应及时", "实施团队专业，交付超出预期", "服务到位，问题当天解决"],
    4: ["整体满意，个别功能还需优化", "服务态度好，交付基本按期", "产品好用，培训可以再细一些"],
    3: ["基本满足需求，实施周期偏长", "售后响应一般，需要多次催促"],
    2: ["部分功能未达到合同约定", "沟通不够顺畅，问题处理较慢"],
    1: ["交付严重延期，问题长期未解决"],
}
INVOICE_ITEMS = [
    ("*信息技术服务*软件实施服务", Decimal("0.06")),
    ("*信息技术服务*系统运维服务", Decimal("0.06")),
    ("*信息技术服务*云服务费", Decimal("0.06")),
    ("*软件*工业软件", Decimal("0.13")),
    ("*计算机外部设备*工业网关", Decimal("0.13")),
    ("*计算机配套产品*数据采集终端", Decimal("0.13")),
]
CENT = Decimal("0.01")
IMPLEMENTATION_FILES = {  # shared zs_file rows of the chapter
    "report": "改造后评估报告.pdf",
    "evidence": "佐证材料.pdf",
    "quotation": "项目合同报价单.pdf",
    "invoice": "项目合同发票.pdf",
    "payment": "项目合同付款凭证.pdf",
    "other": "其他材料.pdf",
    "voucher": "银行付款凭证.pdf",
}


# 项目入库 (--warehousing, default on; its own random stream): the state of each record opened by a submitted
# 改造完成 -> weight (the first ones take every state in turn)
WH_STEPS = ("town", "expert", "city")
WAREHOUSING_STATES = [
    ("draft_unsaved", 0.06),  # 待提交, never saved (updated_at = created_at): the copy made at creation
    ("draft", 0.08),  # 待提交, saved once (a small copy)
    ("town", 0.08),  # 待审核 at 镇街
    ("expert_unassigned", 0.05),  # at 验收专家 with nobody assigned (待分配: 市工信's to-do)
    ("expert", 0.09),  # 2–3 experts assigned, some of them approved
    ("city", 0.07),  # at 市工信
    ("returned_town", 0.04),  # 退回修改 by 镇街
    ("returned_expert", 0.04),  # by an expert (the assignments stay, reset by the resubmission)
    ("returned_city", 0.03),  # by 市工信
    ("resubmitted", 0.05),  # after a return, waiting again at the step that returned it
    ("done", 0.41),  # 已入库: level, cap and proposed subsidy fixed (zsdx.subsidy)
]
WH_RETURN_PROBABILITY = {"town": 0.06, "expert": 0.08, "city": 0.05}  # on the way through a step
WH_RETURN_OPINIONS = [
    "佐证材料中发票与改造完成所填发票不一致，请核实",
    "项目合同未加盖公章，请重新上传",
    "系统截图不能体现改造内容，请补充",
    "改造后评估报告与项目不对应，请核实",
    "数字化改造成效指标数据缺少佐证，请补充",
    "云服务使用报告缺失，请补充",
]
WH_APPROVE_OPINIONS = ["同意", "同意入库", "材料齐全，同意", "改造成效明显，同意入库", "情况属实，同意", None]
WH_EVIDENCE = [  # (kind, required) of the 佐证材料 checklist when neither config nor zsdx.warehousing declares it
    ("contracts", True),
    ("post_assessment", True),
    ("invoices", True),
    ("screenshots", True),
    ("cloud", False),
    ("other", False),
]
EXPERT_PHONE_PREFIX = "1373"  # 1373xxxxxxx: generated 验收专家 (when the world has too few to assign)


class GenLoadError(Exception):
    pass


def _ms(start):
    return f"{(time.perf_counter() - start):.1f} s"


# --- writing -------------------------------------------------------------------------------------------
def _copy_value(v):
    if v is None:
        return ""
    if v is True:
        return "t"
    if v is False:
        return "f"
    if isinstance(v, str):
        return '"' + v.replace('"', '""') + '"'
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, dict | list):  # a JSON column
        return _copy_value(json.dumps(v, ensure_ascii=False))
    return str(v)


# the ReviewableMixin columns, in the order every reviewable table is written with
REVIEW_COLUMNS = ["status", "current_step", "return_step", "submitted_at", "step_entered_at", "completed_at", "version"]

ORG_COLUMNS = [
    "id",
    "kind",
    "name",
    "credit_code",
    "town_id",
    "industry_id",
    "contact_name",
    "contact_phone",
    "is_industry_provider",
    "is_scenario_provider",
    "is_ecosystem_provider",
    "created_on",
]

FILING_COLUMNS = [
    "id",
    "project_id",
    "organisation_id",
    "ent_name",
    "ent_credit_code",
    "town_id",
    "ent_nature",
    "ent_category",
    "ent_scale",
    "product_category_id",
    "industry_id",
    "quality_levels",
    "ent_address",
    "employees_total",
    "employees_digital",
    "ent_description",
    "project_name",
    "project_summary",
    "build_address",
    "planned_investment",
    "start_date",
    "end_date",
    "target_level",
    "diagnosis_method",
    "intended_industry_provider",
    "intended_scenario_provider",
    "chain_leader",
    "filing_no",
    "created_at",
    "updated_at",
    *REVIEW_COLUMNS,
]
USER_COLUMNS = [
    "id",
    "first_name",
    "last_name",
    "username",
    "password",
    "active",
    "email",
    "login_count",
    "fail_login_count",
    "created_on",
    "changed_on",
    "phone",
    "organisation_id",
    "town_id",
]


class Writer:
    """Bulk rows into a table: PostgreSQL COPY when on psycopg2, else Core insert() executemany."""

    def __init__(self, conn, echo):
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"
        self.echo = echo
        self.counts = {}

    def write(self, table, columns, rows, chunk=100_000):
        start = time.perf_counter()
        n = 0
        rows = iter(rows)
        while True:
            batch = list(itertools.islice(rows, chunk))
            if not batch:
                break
            n += len(batch)
            if self.pg:
                buf = io.StringIO()
                buf.writelines(",".join(map(_copy_value, row)) + "\n" for row in batch)
                buf.seek(0)
                cur = self.conn.connection.cursor()
                cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", buf)
                cur.close()
            else:
                tbl = db.metadata.tables[table]
                self.conn.execute(insert(tbl), [dict(zip(columns, row)) for row in batch])
        self.counts[table] = self.counts.get(table, 0) + n
        self.echo(f"  {table:<22} {n:>9,} rows  {_ms(start)}")

    def bump_sequences(self, tables):
        if not self.pg:
            return
        for table in tables:
            seq = self.conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table}).scalar()
            if seq:
                self.conn.execute(text(f"SELECT setval('{seq}', (SELECT COALESCE(MAX(id), 1) FROM {table}))"))


def _link(make, record, fallback):
    """A stage's link for `record`; `fallback` while its view is not registered (yet)."""
    try:
        return make(record)
    except BuildError:
        return fallback


def _next_id(conn, table):
    return (conn.execute(select(func.max(db.metadata.tables[table].c.id))).scalar() or 0) + 1


# --- histories -----------------------------------------------------------------------------------------
def _dwell(rng):
    """Seconds a filing waits at a step: median ~1.2 days, ~8 % beyond the 5-day deadline."""
    return min(max(rng.lognormvariate(math.log(1.2 * DAY), 1.0), 300.0), 40 * DAY)


def _history(rng, final, step_at, steps=STEPS, opinions=None):
    """Events of one filing (or another record of a chain of `steps`) relative to its first submission (t=0).

    Returns (events, entries, state): events are (t, action, step, opinion, step_seconds); entries are
    [step, entered, left or None]; state holds current_step / return_step for the final status.
    `opinions`: (return opinions, reject opinions), the filing's by default."""
    return_opinions, reject_opinions = opinions or (RETURN_OPINIONS, REJECT_OPINIONS)
    events = [(0.0, "submit", None, None, None)]
    entries = []
    t = 0.0
    i = 0
    returns = 0
    if final == "returned":
        stop = rng.choices(range(len(steps)), weights=(0.5, 0.3, 0.2)[: len(steps)])[0]
    elif final == "rejected":
        stop = rng.choices(range(len(steps)), weights=(0.1, 0.2, 0.7)[-len(steps) :])[0]
    elif final == "reviewing":
        stop = steps.index(step_at)
    else:
        stop = None
    while True:
        step = steps[i]
        entry = [step, t, None]
        entries.append(entry)
        if final == "reviewing" and i == stop:
            return events, entries, {"current_step": step}
        wait = _dwell(rng)
        t += wait
        entry[2] = t
        if final == "returned" and i == stop:
            events.append((t, "return", step, rng.choice(return_opinions), int(wait)))
            return events, entries, {"return_step": step}
        if final == "rejected" and i == stop:
            events.append((t, "reject", step, rng.choice(reject_opinions), int(wait)))
            return events, entries, {}
        if returns < 2 and rng.random() < RETURN_PROBABILITY.get(step, 0.06):
            returns += 1
            events.append((t, "return", step, rng.choice(return_opinions), int(wait)))
            t += min(max(rng.lognormvariate(math.log(3 * DAY), 0.8), 1800.0), 60 * DAY)
            events.append((t, "submit", None, None, None))
            continue  # re-enters at the step that returned it
        events.append((t, "approve", step, rng.choice(APPROVE_OPINIONS), int(wait)))
        i += 1
        if i == len(steps):
            return events, entries, {}


# --- 项目签约 ----------------------------------------------------------------------------------------------
def _plan_signings(rng, completions, now, enabled=True):
    """The timeline of the signing of each 已备案 project (`completions`: [(filing, completed_at)]): its state
    (SIGNING_STATES), the 行业型服务商 round trip, 已签约, and for a share of the signed ones the 预奖补申请 with
    its history; absolute times, all before `now`. One dict per completion (all untouched unless `enabled`)."""
    states = [k for k, _w in SIGNING_STATES]
    weights = [w_ for _k, w_ in SIGNING_STATES]

    def between(lo, a, b):
        """A moment after `lo`, at a fraction in [a, b] of the time left until now."""
        return lo + (now - lo) * rng.uniform(a, b)

    plans = []
    for n, (_f, completed) in enumerate(completions):
        if not enabled:
            plans.append({"state": "untouched", "updated": completed, "assist": None, "signed": None, "ps": None})
            continue
        state = states[n] if n < len(states) else rng.choices(states, weights=weights)[0]
        p = {"state": state, "updated": completed, "assist": None, "signed": None, "ps": None}
        if state == "partial":
            p["updated"] = between(completed, 0.05, 0.9)
        if state.startswith("assist") or state == "signed_assisted":
            asked = between(completed, 0.05, 0.5)
            left = None
            if state != "assist_filling":  # the provider submitted (or the enterprise took the page back)
                left = asked + dt.timedelta(seconds=min(_dwell(rng), 0.8 * (now - asked).total_seconds()))
            status = {"assist_filling": "reviewing", "assist_withdrawn": "draft"}.get(state, "done")
            p["assist"] = {"status": status, "asked": asked, "left": left}
            p["updated"] = left or asked
        if state in ("signed", "signed_assisted"):
            p["signed"] = p["updated"] = between(p["updated"], 0.02, 0.5)
        plans.append(p)
    # 预奖补申请: the signings of the oldest 备案 first, so that every status fits in a small load. (The number
    # of draws never depends on the time of the run: times are relative to now, the filings' to midnight.)
    finals = [k for k, _w in PS_STATUS_WEIGHTS]
    ps_weights = [w_ for _k, w_ in PS_STATUS_WEIGHTS]
    k = 0
    order = sorted(range(len(plans)), key=lambda n: (completions[n][1], n))
    for p in (plans[n] for n in order if plans[n]["signed"]):
        if k >= len(finals) and rng.random() >= PRE_SUBSIDY_SHARE:
            continue
        final, step_at = finals[k] if k < len(finals) else rng.choices(finals, weights=ps_weights)[0]
        k += 1
        signed = p["signed"]
        created = signed + dt.timedelta(seconds=min(rng.uniform(3600, 20 * DAY), 0.3 * (now - signed).total_seconds()))
        ps = {"status": "draft", "created": created, "updated": created, "events": [], "entries": [], "state": {}}
        p["ps"] = ps
        if final == "draft":
            continue
        events, entries, state = _history(rng, final, step_at, PS_STEPS, (PS_RETURN_OPINIONS, PS_REJECT_OPINIONS))
        end = events[-1][0] if final != "reviewing" else entries[-1][1]
        lo = created + dt.timedelta(seconds=600 + end)
        hi = now - dt.timedelta(seconds=60)
        waited = min(max(rng.expovariate(1 / (2.5 * DAY)), 60.0), 60 * DAY)  # at the step it waits at now
        u = rng.random()
        if lo > hi:
            continue  # no time for its history: still a draft
        end_abs = max(lo, now - dt.timedelta(seconds=waited)) if final == "reviewing" else lo + (hi - lo) * u
        base = end_abs - dt.timedelta(seconds=end)
        ps["status"] = final
        ps["events"] = [(base + dt.timedelta(seconds=t), a, st, o, sec) for t, a, st, o, sec in events]
        ps["entries"] = [
            (st, base + dt.timedelta(seconds=a), None if b is None else base + dt.timedelta(seconds=b))
            for st, a, b in entries
        ]
        ps["state"] = state
        ps["updated"] = ps["events"][-1][0]
    return plans


def _money(rng, lo, hi):
    """万元 with 4 places, from lo to hi (in units of 0.0001)."""
    return (Decimal(rng.randint(lo, hi)) / 10_000).quantize(MONEY_PLACES)


def _share(amount, rng, lo, hi):
    """amount × a fraction in [lo, hi] ten-thousandths, rounded down to 4 places (≤ amount when hi ≤ 10,000)."""
    return (amount * rng.randint(lo, hi) / 10_000).quantize(MONEY_PLACES, rounding=ROUND_DOWN)


def _write_signings(w, conn, rng, now, done, plans, orgs, towns, user_id0, providers, products, ctx):
    """The rows of the signing chapter: every 已备案 project's zs_signing (项目基本信息 carried from its filing
    as zsdx.signing.new_signing does) and, as each plan says, contracts (shared PDF rows for all files), needs, picked
    listed products, the 行业型服务商 round trip (zs_assist_request; one user per generated 行业型服务商 fills
    the pages) and the 预奖补申请 (its contracts, files and audit rows). `ctx`: pw_hash, provider_role,
    actor_of; the signed signings (what their 改造中 records need: ctx["signed"]) and the providers' users
    (ctx["provider_user"]) are left in it for the implementation chapter. Returns (subjects, tally): the records
    whose to-dos and outcome notifications the notification pass writes, and counts by state for the summary."""
    from .security import placeholder_email

    industry = [p for p in providers if p[8]]
    by_org = {p[0]: p for p in providers}
    tally = {"signings": {}, "assist requests": {}, "pre-subsidies": {}}  # by state
    provider_user = {}
    if industry and any(p["assist"] for p in plans):
        uid0 = _next_id(conn, "ab_user")
        rows = []
        for i, p in enumerate(industry):
            phone = f"{PROVIDER_PHONE_PREFIX}{i:07d}"
            provider_user[p[0]] = uid0 + i
            rows.append(
                (uid0 + i, p[6], "", phone, ctx["pw_hash"], True, placeholder_email(phone), 0, 0, p[11], p[11], phone)
                + (p[0], None)
            )
        w.write("ab_user", USER_COLUMNS, rows)
        ur_id0 = _next_id(conn, "ab_user_role")
        w.write(
            "ab_user_role",
            ["id", "user_id", "role_id"],
            ((ur_id0 + i, u[0], ctx["provider_role"]) for i, u in enumerate(rows)),
        )
    ctx["provider_user"] = provider_user
    ctx["signed"] = []
    files = {}
    if any(p["state"] != "untouched" for p in plans):
        file_id0 = _next_id(conn, "zs_file")
        names = {
            "contract": "项目合同.pdf",
            "application": "入库申报表.pdf",
            "commitment": "承诺书.pdf",
            "credit": "信用报告.pdf",
        }
        rows = []
        for i, (key, name) in enumerate(names.items()):
            files[key] = file_id0 + i
            digest = hashlib.sha256(f"zsdx gen-load {name}".encode()).hexdigest()
            rows.append((file_id0 + i, digest, name, "application/pdf", 48_213 + i, None, now - dt.timedelta(days=400)))
        w.write("zs_file", ["id", "sha256", "original_name", "mime", "size", "uploaded_by_id", "uploaded_at"], rows)
    ctx["contract_file"] = files.get("contract")
    listed = sorted((p for p in products if p[7] is not None and p[11] is None), key=lambda p: p[12])
    listed_since = [p[12] for p in listed]

    sg_id0 = _next_id(conn, "zs_signing")
    ct_ids = itertools.count(_next_id(conn, "zs_contract"))
    nd_ids = itertools.count(_next_id(conn, "zs_signing_need"))
    sp_ids = itertools.count(_next_id(conn, "zs_signing_product"))
    ar_ids = itertools.count(_next_id(conn, "zs_assist_request"))
    ps_ids = itertools.count(_next_id(conn, "zs_pre_subsidy"))
    sg_rows, ct_rows, nd_rows, sp_rows, ar_rows, ps_rows, psc_rows, action_rows = ([] for _ in range(8))
    subjects = []
    for i, ((f, completed), p) in enumerate(zip(done, plans)):
        sid = sg_id0 + i
        e = f["org"]
        o = orgs[e]
        owner = user_id0 + e
        carried = dict(zip(FILING_COLUMNS, f["row"]))
        state, assist, signed = p["state"], p["assist"], p["signed"]
        if assist and not industry:  # no 行业型服务商 to ask (--products 0): filled by the enterprise
            state, assist = ("signed" if signed else "partial"), None
        tally["signings"][state] = tally["signings"].get(state, 0) + 1
        name = carried["project_name"]
        start, end = carried["start_date"], carried["end_date"]
        acceptance = None
        if state != "untouched" and (state != "partial" or rng.random() < 0.5):
            acceptance = end + dt.timedelta(days=rng.choice([30, 60, 90, 120]))
        if state == "untouched":
            assisted = None
        elif state == "partial":
            assisted = rng.choice([None, False])
        else:
            assisted = state != "signed"
        sg_rows.append(
            (sid, f["project_id"], o[0], towns[o[3]].id, "signed" if signed else "pending", name)
            + (carried["project_summary"], start, end, acceptance, carried["target_level"], carried["chain_leader"])
            + (assisted, signed, completed, p["updated"])
        )
        # 项目合同: complete ones (with an industry provider, or 无牵引单位) but for the partly filled
        contracts = []
        count = 0 if state == "untouched" else rng.randint(1, 2) if state == "partial" else rng.randint(1, 3)
        for k in range(count):
            cid = next(ct_ids)
            total = _money(rng, 50_000, 3_000_000)  # 5 … 300 万元
            subsidy = _share(total, rng, 3_000, 10_000)
            provider = None
            if industry and ((assist and k == 0) or rng.random() < 0.75):
                provider = rng.choice(industry)[0]
            number, file_id, no_provider = f"HT{completed:%Y}{sid:07d}-{k + 1}", files["contract"], provider is None
            if state == "partial":  # one to three of the five fields still empty
                holes = rng.sample(["number", "total", "subsidy", "provider", "file"], rng.randint(1, 3))
                number = None if "number" in holes else number
                total = None if "total" in holes else total
                subsidy = None if "subsidy" in holes else subsidy
                file_id = None if "file" in holes else file_id
                if "provider" in holes:
                    provider, no_provider = None, False
            created = completed + (p["updated"] - completed) * rng.uniform(0.05, 0.9)
            ct_rows.append((cid, sid, k, number, total, subsidy, provider, no_provider, file_id, created))
            contracts.append((cid, provider, subsidy))
        # page 3: needs and picked products, by the enterprise or (assisted) by the provider
        suppliers = set()
        if signed or state == "assist_to_confirm":
            for k in range(rng.randint(1, 2)):
                desc, analysis = rng.choice(NEED_TEXTS)
                nd_rows.append((next(nd_ids), sid, k, f"S{rng.randint(1, 16)}", desc, analysis))
            filled_at = assist["left"] if assist else p["updated"]
            pool = listed[: bisect.bisect(listed_since, filled_at)] or listed  # listed by then
            picks = sorted({int(rng.random() * len(pool)) for _ in range(rng.randint(1, 3))}) if pool else []
            for k, pr in enumerate(pool[n] for n in picks):
                supplier = by_org[pr[1]]
                suppliers.add(pr[1])
                top = pr[7]
                over = rng.random() < 0.1  # above the listed price: explained
                price = _share(top, rng, 11_000, 13_000) if over else _share(top, rng, 5_000, 10_000)
                scenario = rng.choice(pr[5].split(","))
                sp_rows.append(
                    (next(sp_ids), sid, rng.choice(contracts)[0], pr[0], k, pr[2], pr[3], supplier[3], supplier[2], top)
                    + (rng.choice(["public", "private", "hybrid", "none"]), rng.choice(CONTENTS), start, end, price)
                    + (rng.choice(OVER_PRICE_REASONS) if price > top else None, scenario)
                    + (f"{rng.choice(SCENARIOS)}：{rng.choice(NEED_TEXTS)[1]}",)
                )
        if assist:
            arid = next(ar_ids)
            provider = contracts[0][1]  # the page goes to the first contract's 已签约行业服务商
            asked, left, status = assist["asked"], assist["left"], assist["status"]
            events = [(asked, "submit", None, None, None)]
            actors = {}
            if status == "done":
                actor = provider_user[provider]
                events.append((left, "approve", "provider_fill", None, int((left - asked).total_seconds())))
                actors[("provider_fill", left)] = actor
            elif status == "draft":
                events.append((left, "withdraw", None, None, None))
            tally["assist requests"][status] = tally["assist requests"].get(status, 0) + 1
            ar_rows.append(
                (arid, "signing", sid, o[0], provider, name[:200], signed if status == "done" else None, asked)
                + (status, "provider_fill" if status == "reviewing" else None, None, asked, asked)
                + (left if status == "done" else None, len(events))
            )
            for when, action, step, opinion, seconds in events:
                actor = actors.get((step, when), owner)
                action_rows.append(("assist", arid, step, actor, action, opinion, when, seconds))
            subjects.append(
                {
                    "type": "assist",
                    "id": arid,
                    "host_id": sid,
                    "name": name,
                    "org": e,
                    "entries": [("provider_fill", asked, left)],
                    "events": events,
                    "actors": actors,
                    "pool": [provider_user[provider]],
                }
            )
        if signed:  # its 改造中 record: the implementation chapter
            ctx["signed"].append(
                {
                    "project_id": f["project_id"],
                    "org": e,
                    "org_id": o[0],
                    "town_id": towns[o[3]].id,
                    "name": name,
                    "signed": signed,
                    "providers": [c[1] for c in contracts],  # each contract's 已签约行业服务商 (or None)
                    "suppliers": sorted(suppliers),  # of the picked products
                    "subsidies": [c[2] for c in contracts],  # each contract's 纳入资金奖补项目金额 (项目入库)
                    "carried": carried,  # the filing's fields (a 项目入库 draft's saved copy)
                    "dates": (start, end, acceptance),
                }
            )
        ps = p["ps"]
        if ps:
            psid = next(ps_ids)
            status = ps["status"]
            key = " ".join(filter(None, (status, ps["state"].get("current_step"))))
            tally["pre-subsidies"][key] = tally["pre-subsidies"].get(key, 0) + 1
            for cid, _provider, _subsidy in sorted(rng.sample(contracts, rng.randint(1, len(contracts)))):
                psc_rows.append((psid, cid))
            kept = [files[k] if status != "draft" or rng.random() < 0.5 else None for k in FILE_KEYS]
            events, entries = ps["events"], ps["entries"]
            actors = {}
            for when, action, step, opinion, seconds in events:
                actor = owner if action == "submit" else ctx["actor_of"](f, step, rng)
                if action != "submit":
                    actors[(step, when)] = actor
                action_rows.append(("pre_subsidy", psid, step, actor, action, opinion, when, seconds))
            ps_rows.append(
                (psid, sid, o[0], towns[o[3]].id, *kept, ps["created"], ps["updated"], status)
                + (ps["state"].get("current_step"), ps["state"].get("return_step"))
                + (max((ev[0] for ev in events if ev[1] == "submit"), default=None),)
                + (entries[-1][1] if entries else None,)
                + (events[-1][0] if status in ("done", "rejected") else None, len(events))
            )
            if entries:
                subjects.append(
                    {
                        "type": "pre_subsidy",
                        "id": psid,
                        "host_id": sid,
                        "name": name,
                        "org": e,
                        "entries": entries,
                        "events": events,
                        "actors": actors,
                        "pool": None,
                    }
                )
    w.write("zs_signing", SIGNING_COLUMNS, sg_rows)
    w.write(
        "zs_contract",
        ["id", "signing_id", "position", "number", "total_amount", "subsidy_amount"]
        + ["industry_provider_id", "no_industry_provider", "file_id", "created_at"],
        ct_rows,
    )
    w.write("zs_signing_need", ["id", "signing_id", "position", "scenario", "description", "analysis"], nd_rows)
    w.write("zs_signing_product", SIGNING_PRODUCT_COLUMNS, sp_rows)
    w.write(
        "zs_assist_request",
        ["id", "host_type", "host_id", "organisation_id", "provider_id", "item_name", "confirmed_at", "created_at"]
        + REVIEW_COLUMNS,
        ar_rows,
    )
    w.write(
        "zs_pre_subsidy",
        ["id", "signing_id", "organisation_id", "town_id"]
        + [f"{k}_file_id" for k in FILE_KEYS]
        + ["created_at", "updated_at"]
        + REVIEW_COLUMNS,
        ps_rows,
    )
    w.write("zs_pre_subsidy_contract", ["pre_subsidy_id", "contract_id"], psc_rows)
    ra_id0 = _next_id(conn, "zs_review_action")
    w.write(
        "zs_review_action",
        ["id", "subject_type", "subject_id", "step", "actor_id", "action", "opinion", "created_at", "step_seconds"],
        ((ra_id0 + i,) + row for i, row in enumerate(action_rows)),
    )
    return subjects, tally


# --- 项目实施: 改造中, 事后评估, 改造完成 -----------------------------------------------------------------------------
def _metric(r, dimension):
    """(改造前, 改造后) texts of one 维度指标: the indicator improved by the transformation."""
    label, unit, lo, hi, higher = DIMENSION_METRICS[dimension]
    before = Decimal(r.randint(lo * 10, hi * 10)) / 10
    if unit == "%":
        after = min(before + Decimal(r.randint(10, 150)) / 10, Decimal("99.9"))
    else:
        factor = Decimal(r.randint(105, 140)) / 100 if higher else Decimal(r.randint(65, 95)) / 100
        after = (before * factor).quantize(Decimal("0.1"))
    return f"{label}{before}{unit}", f"{label}{after}{unit}"


def _institutions(w, conn, now, ctx):
    """The 综合型服务机构 (written as `flask zsdx init` does when there are none) and {id: [its users' ids]}: one
    评估机构 user (1372xxxxxxx) is written for an institution that has none (the engine tells its users)."""
    from .data.reference import COMPREHENSIVE_INSTITUTIONS
    from .security import placeholder_email

    orgs, users = db.metadata.tables["zs_organisation"], db.metadata.tables["ab_user"]
    insts = conn.execute(
        select(orgs.c.id, orgs.c.name)
        .where(orgs.c.kind == "institution", orgs.c.institution_type == "comprehensive")
        .order_by(orgs.c.id)
    ).all()
    if not insts:
        org_id0 = _next_id(conn, "zs_organisation")
        insts = [(org_id0 + i, name) for i, name in enumerate(COMPREHENSIVE_INSTITUTIONS)]
        w.write(
            "zs_organisation",
            [*ORG_COLUMNS, "institution_type"],
            [
                (i, "institution", name, None, None, None, None, None, False, False, False, now, "comprehensive")
                for i, name in insts
            ],
        )
    members = {}
    for r in conn.execute(
        select(users.c.id, users.c.organisation_id)
        .where(users.c.organisation_id.in_([i for i, _name in insts]), users.c.active.is_(True))
        .order_by(users.c.id)
    ):
        members.setdefault(r.organisation_id, []).append(r.id)
    missing = [(i, name) for i, name in insts if i not in members]
    if missing:
        uid0 = _next_id(conn, "ab_user")
        rows = []
        for k, (i, name) in enumerate(missing):
            phone = f"{INSTITUTION_PHONE_PREFIX}{k:07d}"
            created = now - dt.timedelta(days=400)
            members[i] = [uid0 + k]
            rows.append(
                (uid0 + k, f"{name[:50]}评估员", "", phone, ctx["pw_hash"], True, placeholder_email(phone), 0, 0)
                + (created, created, phone, i, None)
            )
        w.write("ab_user", USER_COLUMNS, rows)
        ur_id0 = _next_id(conn, "ab_user_role")
        w.write(
            "ab_user_role",
            ["id", "user_id", "role_id"],
            ((ur_id0 + k, u[0], ctx["institution_role"]) for k, u in enumerate(rows)),
        )
    return [i for i, _name in insts], members


def _write_implementation(w, conn, rng, now, signed, ctx):
    """The implementation chapter: the 改造中 record of every 已签约 project with its eight dimensions (as
    zsdx.implementation.new_implementation makes it; all untouched unless ctx["enabled"]), and, as the states
    say, the 行业型服务商 round trip of 改造中 and of 数字化改造成效 (zs_assist_request, hosts "implementation" and
    "completion"), the 事后评估 of each submitted one (with a 综合型服务机构, its report, the enterprise's 确认 /
    退回修改 as audit rows) and its 改造完成 (results, provider ratings, files, invoices with lines and payment
    vouchers in exact 元; a submitted one opens its 项目入库 record: ctx["warehousing"], for the next chapter).

    `rng` draws the states (three draws per project, whatever is used); the rest of a project comes from a
    stream of its own (seed, project), so that no project depends on another. `ctx`: enabled, seed, pd
    ({project id: (level, diagnosed_at, institution id)} of the done 事前诊断), provider_user, provider_names,
    user_id0, pw_hash, institution_role, warehousing (a list it fills); it leaves the chapter's shared PDF rows in
    ctx["files"]. Returns (subjects, tasks, tally): the records whose to-dos and outcome notifications the
    notification pass writes, the institutions' new-task to-dos, counts by state."""
    enabled = ctx["enabled"]
    provider_user, names = ctx["provider_user"], ctx["provider_names"]
    tally = {"implementations": {}, "post-assessments": {}, "completions": {}, "assist requests (改造中, 改造完成)": {}}

    def count(what, key):
        tally[what][key] = tally[what].get(key, 0) + 1

    def later(r, lo, a, b):
        """A moment after `lo`, at a fraction in [a, b] of the time left until now."""
        return lo + (now - lo) * r.uniform(a, b)

    signed = sorted(signed, key=lambda s: (s["signed"], s["project_id"]))
    insts, members = _institutions(w, conn, now, ctx) if enabled and signed else ([], {})
    files = {}
    if enabled and signed:
        file_id0 = _next_id(conn, "zs_file")
        rows = []
        for i, (key, name) in enumerate(IMPLEMENTATION_FILES.items()):
            files[key] = file_id0 + i
            digest = hashlib.sha256(f"zsdx gen-load {name}".encode()).hexdigest()
            rows.append((file_id0 + i, digest, name, "application/pdf", 61_440 + i, None, now - dt.timedelta(days=400)))
        w.write("zs_file", ["id", "sha256", "original_name", "mime", "size", "uploaded_by_id", "uploaded_at"], rows)
    ids = {
        t: itertools.count(_next_id(conn, t))
        for t in (
            "zs_implementation",
            "zs_implementation_indicator",
            "zs_assist_request",
            "zs_post_assessment",
            "zs_completion",
            "zs_completion_indicator",
            "zs_provider_rating",
            "zs_invoice",
            "zs_invoice_line",
            "zs_payment_voucher",
        )
    }
    rows = {t: [] for t in ids}
    action_rows, subjects, tasks = [], [], []
    ctx["files"] = files

    def assist_request(host, host_id, s, a, confirmed):
        """The page handed to the project's 行业型服务商 (`a`: asked, left), as zsdx.assist does it."""
        arid = next(ids["zs_assist_request"])
        provider, owner = s["lead"], ctx["user_id0"] + s["org"]
        asked, left = a["asked"], a["left"]
        events, actors = [(asked, "submit", None, None, None)], {}
        if left:
            events.append((left, "approve", "provider_fill", None, int((left - asked).total_seconds())))
            actors[("provider_fill", left)] = provider_user[provider]
        status = "done" if left else "reviewing"
        rows["zs_assist_request"].append(
            (arid, host, host_id, s["org_id"], provider, s["name"][:200], confirmed, asked)
            + (status, None if left else "provider_fill", None, asked, asked, left, len(events))
        )
        for when, action, step, opinion, seconds in events:
            action_rows.append(("assist", arid, step, actors.get((step, when), owner), action, opinion, when, seconds))
        subjects.append(
            {
                "type": "assist",
                "kind": f"assist_{host}",
                "id": arid,
                "host_id": host_id,
                "name": s["name"],
                "org": s["org"],
                "entries": [("provider_fill", asked, left)],
                "events": events,
                "actors": actors,
                "pool": [provider_user[provider]],
            }
        )
        count(
            "assist requests (改造中, 改造完成)",
            f"{host} {'confirmed' if confirmed else 'to confirm' if left else 'filling'}",
        )

    def assist_times(r, lo, filled):
        asked = later(r, lo, 0.02, 0.4)
        left = asked + dt.timedelta(seconds=min(_dwell(r), 0.8 * (now - asked).total_seconds())) if filled else None
        return {"asked": asked, "left": left}

    no_lead = {"assist_filling": "partial", "assist_to_confirm": "partial", "submitted_assisted": "submitted"}

    def pick(queue, s, drawn):
        """The first state of `queue` (the states still to take once) that the project can take, else `drawn`."""
        for k in queue:
            if s["lead"] is not None or k not in no_lead:
                queue.remove(k)
                return k
        return drawn

    keys = [[k for k, _w in states] for states in (IMPLEMENTATION_STATES, POST_ASSESSMENT_STATES, COMPLETION_STATES)]
    weights = [
        [w_ for _k, w_ in states] for states in (IMPLEMENTATION_STATES, POST_ASSESSMENT_STATES, COMPLETION_STATES)
    ]
    # --- 改造中 -------------------------------------------------------------------------------------------------
    first = list(keys[0]) if enabled else []
    for s in signed:
        drawn = [rng.choices(k, weights=w_)[0] for k, w_ in zip(keys, weights)]
        s["drawn"] = drawn
        s["lead"] = next((p for p in s["providers"] if p in provider_user), None)  # the 行业型服务商 it may ask
        state = pick(first, s, drawn[0]) if enabled else "untouched"
        if s["lead"] is None:
            state = no_lead.get(state, state)
        count("implementations", state)
        s["state"] = state
        pid, signed_at = s["project_id"], s["signed"]
        # seeded by the project's place in this generation, not its id: the ids depend on what the database held
        # before, and the data generated must not (the same seed gives the same projects in any database)
        r = s["r"] = random.Random(f"{ctx['seed']}:implementation:{pid - ctx['project_id0']}")
        updated, submitted, assist = signed_at, None, None
        if state == "partial":
            updated = later(r, signed_at, 0.05, 0.9)
        if state in ("assist_filling", "assist_to_confirm", "submitted_assisted"):
            assist = assist_times(r, signed_at, state != "assist_filling")
            updated = assist["left"] or assist["asked"]
        if state in ("submitted", "submitted_assisted"):
            submitted = updated = later(r, updated, 0.05, 0.5)
        s["submitted"] = submitted
        assisted = {"untouched": None, "partial": r.choice([None, False]), "submitted": False}.get(state, True)
        im_id = s["im_id"] = next(ids["zs_implementation"])
        rows["zs_implementation"].append(
            (im_id, pid, s["org_id"], s["town_id"], s["name"], "submitted" if submitted else "pending", assisted)
            + (submitted, signed_at, updated)
        )
        s["metrics"] = {d: _metric(r, d) for d in DIMENSIONS} if state != "untouched" else {}
        ticked = {d: state == "untouched" or r.random() < (0.2 if d == "other" else 0.8) for d in DIMENSIONS}
        if not any(ticked.values()):
            ticked["efficiency"] = True
        complete = state in ("assist_to_confirm", "submitted", "submitted_assisted")
        filled = {d: ticked[d] and state != "untouched" and (complete or r.random() < 0.5) for d in DIMENSIONS}
        if state in ("partial", "assist_filling") and not any(filled.values()):
            filled[next(d for d in DIMENSIONS if ticked[d])] = True
        s["before"] = {d: s["metrics"][d][0] if filled[d] else None for d in DIMENSIONS if ticked[d]}
        for d in DIMENSIONS:
            rows["zs_implementation_indicator"].append(
                (next(ids["zs_implementation_indicator"]), im_id, d, ticked[d], s["before"].get(d))
            )
        if assist:
            assist_request("implementation", im_id, s, assist, submitted)

    # --- 事后评估 and 改造完成 of the submitted ones: those with the 改造前 level first (the first ones take every state
    # in turn: 已评估 twice, for a submitted 改造完成 with and without the provider's help) ---------------------------
    done_pd = ctx["pd"]
    for s in signed:
        pd = done_pd.get(s["project_id"])
        s["pd"] = pd
        s["level_before"] = pd[0] if pd and s["submitted"] and pd[1] <= s["submitted"] else None
    order = sorted(
        (s for s in signed if s["submitted"]), key=lambda s: (s["level_before"] is None, s["signed"], s["project_id"])
    )
    pa_first = ["confirmed", "confirmed", "reviewing", "returned", "assigned", "city_waiting", "not_started"]
    cp_first = {
        True: ["submitted", "submitted_assisted"],  # (eligible: 已评估, with the 改造前 level)
        False: ["untouched", "partial", "assist_filling", "assist_to_confirm"],
    }
    for k, s in enumerate(order):
        r, pid, org_id, owner = s["r"], s["project_id"], s["org_id"], ctx["user_id0"] + s["org"]
        created = s["submitted"]
        state = pa_first[k] if k < len(pa_first) else s["drawn"][1]
        method = started = assigned = inst = confirmed_at = None
        claims, status, events, entries, at = 0, "draft", [], [], {}
        if state != "not_started":
            method = "city" if state == "city_waiting" or r.random() < 0.3 else "institution"
            started = later(r, created, 0.01, 0.15)
            claims = 1  # 【发起评估】: the institution chosen, or 市工信局分配 asked
            if state != "city_waiting":
                assigned = started
                if method == "city":  # 市工信 assigns a 综合型服务机构
                    assigned += dt.timedelta(
                        seconds=min(r.uniform(0.2 * DAY, 6 * DAY), 0.3 * (now - started).total_seconds())
                    )
                    claims += 1
                pre = s["pd"][2] if s["pd"] else None  # the 事前诊断's institution is the default when 综合型
                inst = pre if pre in insts and r.random() < 0.7 else r.choice(insts)
        if state in ("reviewing", "returned", "confirmed"):
            final = {"confirmed": "done"}.get(state, state)
            ev, en, at = _history(r, final, PA_STEPS[0], PA_STEPS, (PA_RETURN_OPINIONS, PA_RETURN_OPINIONS))
            end = ev[-1][0] if final != "reviewing" else en[-1][1]
            work = min(r.uniform(2 * DAY, 25 * DAY), 0.4 * (now - assigned).total_seconds())  # before the 1st upload
            lo, hi = assigned + dt.timedelta(seconds=work + end), now - dt.timedelta(seconds=60)
            waited = min(max(r.expovariate(1 / (3 * DAY)), 60.0), 30 * DAY)  # at the step it waits at now
            u = r.uniform(0.0, 0.8)
            if lo <= hi:
                end_abs = max(lo, now - dt.timedelta(seconds=waited)) if final == "reviewing" else lo + (hi - lo) * u
                base = end_abs - dt.timedelta(seconds=end)
                events = [  # 确认 carries no opinion
                    (base + dt.timedelta(seconds=t), a, st, None if a == "approve" else o, sec)
                    for t, a, st, o, sec in ev
                ]
                entries = [
                    (st, base + dt.timedelta(seconds=a), None if b is None else base + dt.timedelta(seconds=b))
                    for st, a, b in en
                ]
                status = final
            else:  # no time for the report yet
                state, at = "assigned", {}
        count("post-assessments", state)
        base_level = s["level_before"] or (s["pd"][0] if s["pd"] else r.choice([1, 2, 2, 3]))
        level = min(4, base_level + r.choice([0, 1, 1, 1, 2]))
        score = (Decimal(r.randint(4000, 9500)) / 100).quantize(CENT)
        uploaded = status != "draft"
        if status == "done":
            confirmed_at = events[-1][0]
        pa_id = next(ids["zs_post_assessment"])
        rows["zs_post_assessment"].append(
            (pa_id, pid, org_id, s["town_id"], method, started, inst, assigned, files["report"] if uploaded else None)
            + ((level, score) if uploaded else (None, None))
            + ((level, score) if confirmed_at else (None, None))
            + (confirmed_at, created, status, at.get("current_step"), at.get("return_step"))
            + (max((ev[0] for ev in events if ev[1] == "submit"), default=None), entries[-1][1] if entries else None)
            + (confirmed_at, claims + len(events))
        )
        if inst:
            tasks.append((members[inst], s["name"], assigned, 0.95 if uploaded else 0.5))
        actors = {}
        for when, action, step, opinion, seconds in events:
            actor = members[inst][0] if action == "submit" else owner  # the institution uploads, the owner 确认s
            if action != "submit":
                actors[(step, when)] = actor
            action_rows.append(("post_assessment_report", pa_id, step, actor, action, opinion, when, seconds))
        if entries:
            subjects.append(
                {
                    "type": "post_assessment_report",
                    "id": pa_id,
                    "name": s["name"],
                    "org": s["org"],
                    "entries": entries,
                    "events": events,
                    "actors": actors,
                    "pool": [owner],  # the step's scope is the owner
                    "owner": members[inst],  # the submitters told of the outcome: the institution's users
                }
            )

        # 改造完成, opened with 事后评估 when 改造中 was submitted
        eligible = confirmed_at is not None and s["level_before"] is not None
        cstate = pick(cp_first[eligible], s, s["drawn"][2])
        if not eligible:
            cstate = {"submitted": "partial", "submitted_assisted": "assist_to_confirm"}.get(cstate, cstate)
        if s["lead"] is None:
            cstate = no_lead.get(cstate, cstate)
        count("completions", cstate)
        complete = cstate in ("submitted", "submitted_assisted")
        updated, submitted, assist = created, None, None
        if cstate == "partial":
            updated = later(r, created, 0.05, 0.9)
        if cstate in ("assist_filling", "assist_to_confirm", "submitted_assisted"):
            assist = assist_times(r, created, cstate != "assist_filling")
            updated = assist["left"] or assist["asked"]
        if complete:
            submitted = updated = later(r, max(updated, confirmed_at), 0.05, 0.6)
        assisted = {"untouched": None, "partial": r.choice([None, False]), "submitted": False}.get(cstate, True)
        touched = cstate != "untouched"
        cid = next(ids["zs_completion"])
        # 数字化改造成效: the dimensions ticked in 改造中, 改造前 carried
        results_done = complete or cstate == "assist_to_confirm"
        for d, before in s["before"].items():
            after = evidence = None
            if results_done or (touched and r.random() < 0.5):
                after = s["metrics"][d][1]
                evidence = files["evidence"] if results_done or r.random() < 0.6 else None
            rows["zs_completion_indicator"].append(
                (next(ids["zs_completion_indicator"]), cid, d, True, before, after, evidence)
            )
        # 服务商评价: a row per provider of the contracts and supplier of the picked products (opening the page)
        providers = sorted({p for p in s["providers"] if p is not None} | set(s["suppliers"]))
        if complete or (touched and r.random() < 0.6):
            for p in providers:
                values = []
                for _aspect in range(4):
                    stars = r.choices((1, 2, 3, 4, 5), weights=(2, 4, 14, 40, 40))[0]
                    text_ = r.choice(RATING_TEXTS[stars])
                    values += [None if not complete and r.random() < 0.35 else stars]
                    values += [None if not complete and r.random() < 0.45 else text_]
                rows["zs_provider_rating"].append((next(ids["zs_provider_rating"]), cid, p, *values))
        # 佐证材料: the files, and invoices (their numbers distinct within the project) dated from the signing's day
        evidence_files = [
            files[key] if complete or (touched and r.random() < 0.4) else None for key in ("quotation", "invoice")
        ]
        evidence_files.append(files["payment"] if complete or (touched and r.random() < 0.4) else None)
        evidence_files.append(files["other"] if touched and r.random() < 0.4 else None)
        first_day, last_day = s["signed"].date(), updated.date()
        invoices = r.randint(1, 3) if complete else 1 if touched and r.random() < 0.35 else 0
        numbers = r.sample(range(10_000_000, 100_000_000), invoices)
        sellers = [names[p] for p in providers if p in names]
        for position in range(invoices):
            inv_id = next(ids["zs_invoice"])
            issued = first_day + dt.timedelta(days=r.randint(0, (last_day - first_day).days))
            fields = [
                f"0440{r.randint(0, 10**8 - 1):08d}",
                f"{numbers[position]:08d}",
                issued,
                r.choice(sellers) if sellers else f"中山市{r.choice(BRANDS)}{r.choice(BRANDS)}数字科技有限公司",
            ]
            if not complete:  # being typed: some fields still empty
                fields = [None if r.random() < 0.3 else v for v in fields]
            created_inv = created + (updated - created) * r.random()
            rows["zs_invoice"].append((inv_id, cid, position, *fields, created_inv))
            invoice_total = Decimal(0)
            for line in range(r.randint(1, 3) if complete else 1):
                item, rate = r.choice(INVOICE_ITEMS)
                amount = (Decimal(r.randint(500_000, 30_000_000)) / 100).quantize(CENT)
                tax = (amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)
                if not complete:
                    item = None if r.random() < 0.2 else item
                    amount = None if r.random() < 0.2 else amount
                    tax = None if r.random() < 0.4 else tax
                total = None if amount is None and tax is None else (amount or Decimal(0)) + (tax or Decimal(0))
                invoice_total += total or Decimal(0)
                rows["zs_invoice_line"].append((next(ids["zs_invoice_line"]), inv_id, line, item, amount, tax, total))
            parts = [invoice_total]
            if complete and r.random() < 0.35:  # paid in two instalments
                first = (invoice_total * r.randint(30, 70) / 100).quantize(CENT, rounding=ROUND_DOWN)
                parts = [first, invoice_total - first]
            paid_from = issued or first_day
            for v, amount in enumerate(parts):
                paid = paid_from + dt.timedelta(days=r.randint(0, (last_day - paid_from).days))
                values = [paid, amount, files["voucher"]]
                if not complete:
                    values = [None if r.random() < 0.4 else x for x in values]
                rows["zs_payment_voucher"].append((next(ids["zs_payment_voucher"]), inv_id, v, *values))
        rows["zs_completion"].append(
            (cid, pid, org_id, s["town_id"], s["name"], "submitted" if complete else "pending", assisted)
            + (s["level_before"], level if confirmed_at else None, *evidence_files, submitted, created, updated)
        )
        if complete:  # 项目入库, opened by the submission (written by the warehousing chapter)
            ctx["warehousing"].append(
                {"s": s, "created": submitted, "level": level if confirmed_at else None, "institution": inst}
            )
        if assist:
            assist_request("completion", cid, s, assist, submitted)

    common = ["id", "project_id", "organisation_id", "town_id"]
    w.write(
        "zs_implementation",
        [*common, "project_name", "status", "assisted", "submitted_at", "created_at", "updated_at"],
        rows["zs_implementation"],
    )
    w.write(
        "zs_implementation_indicator",
        ["id", "implementation_id", "dimension", "ticked", "before"],
        rows["zs_implementation_indicator"],
    )
    w.write(
        "zs_assist_request",
        ["id", "host_type", "host_id", "organisation_id", "provider_id", "item_name", "confirmed_at", "created_at"]
        + REVIEW_COLUMNS,
        rows["zs_assist_request"],
    )
    w.write(
        "zs_post_assessment",
        [*common, "method", "started_at", "institution_id", "assigned_at", "report_file_id", "reported_level"]
        + ["reported_score", "level", "score", "assessed_at", "created_at", *REVIEW_COLUMNS],
        rows["zs_post_assessment"],
    )
    w.write(
        "zs_completion",
        [*common, "project_name", "status", "assisted", "level_before", "level_after", "quotation_file_id"]
        + ["invoice_file_id", "payment_file_id", "other_file_id", "submitted_at", "created_at", "updated_at"],
        rows["zs_completion"],
    )
    w.write(
        "zs_completion_indicator",
        ["id", "completion_id", "dimension", "ticked", "before", "after", "evidence_file_id"],
        rows["zs_completion_indicator"],
    )
    w.write(
        "zs_provider_rating",
        ["id", "completion_id", "provider_id", "product_stars", "product_text", "overall_stars", "overall_text"]
        + ["attitude_stars", "attitude_text", "after_sales_stars", "after_sales_text"],
        rows["zs_provider_rating"],
    )
    w.write(
        "zs_invoice",
        ["id", "completion_id", "position", "code", "number", "issued_on", "seller", "created_at"],
        rows["zs_invoice"],
    )
    w.write(
        "zs_invoice_line", ["id", "invoice_id", "position", "name", "amount", "tax", "total"], rows["zs_invoice_line"]
    )
    w.write(
        "zs_payment_voucher",
        ["id", "invoice_id", "position", "paid_on", "amount", "file_id"],
        rows["zs_payment_voucher"],
    )
    ra_id0 = _next_id(conn, "zs_review_action")
    w.write(
        "zs_review_action",
        ["id", "subject_type", "subject_id", "step", "actor_id", "action", "opinion", "created_at", "step_seconds"],
        ((ra_id0 + i,) + row for i, row in enumerate(action_rows)),
    )
    return subjects, tasks, tally


# --- 项目入库 -------------------------------------------------------------------------------------------------
def _wh_history(r, state, experts):
    """Events of one 项目入库 record relative to its first submission (t=0), as the engine leaves them along
    镇街 → 验收专家 (scope assigned: on the first entry 市工信 assigns `experts` of them, who must all approve; a
    return resets their approvals when the record re-enters) → 市工信; a resubmission re-enters at the step that
    returned it.

    Returns (events, windows, final). events: (t, action, step, opinion, actor, tells the owner, step entered),
    actor "owner", "town", "city" or an expert's index; windows: the to-dos (step, entered, who, start, end,
    acted), who "town", "city", "assigners" (市工信, while nobody is assigned) or an expert's index, acted
    whether it was closed by that one's own action; final: status, current_step, return_step, the last
    entry, whether experts were assigned and their approvals {index: t}."""
    stop = {"returned_town": "town", "returned_expert": "expert", "returned_city": "city"}.get(state, state)
    stop = r.choice(WH_STEPS) if state == "resubmitted" else stop.removesuffix("_unassigned")
    forced = state == "resubmitted"  # its return at the step it now waits at is still to come
    events, windows = [(0.0, "submit", None, None, "owner", False, None)], []
    approvals, assigned, extra = {}, False, 0
    i, entered = 0, 0.0

    def final(status, step=None):
        return {
            "status": status,
            "current_step": step if status == "reviewing" else None,
            "return_step": step if status == "returned" else None,
            "entered": entered,
            "assigned": assigned,
            "approvals": approvals,
        }

    while True:
        step = WH_STEPS[i]
        here = step == stop
        returning = here and (state.startswith("returned") or forced)
        if not here and extra < 1 and r.random() < WH_RETURN_PROBABILITY[step]:
            returning, extra = True, extra + 1  # on the way: returned, revised, resubmitted
        waiting = here and not returning
        opinion = r.choice(WH_RETURN_OPINIONS) if returning else None
        if step == "expert":
            start = entered
            if not assigned:  # 待分配: 市工信 has the to-do until it assigns the experts
                if state == "expert_unassigned":
                    windows.append((step, entered, "assigners", entered, None, False))
                    return events, windows, final("reviewing", step)
                start = entered + min(max(r.lognormvariate(math.log(0.8 * DAY), 0.8), 600.0), 8 * DAY)
                windows.append((step, entered, "assigners", entered, start, True))
                events.append((start, "assign", step, None, "city", False, None))
                assigned = True
            approvals = {}  # (re-)entered: every assigned expert approves again
            acts = sorted((start + _dwell(r), k) for k in range(experts))
            if waiting:
                for t, k in acts[: r.randint(1, experts - 1) if state == "expert" and experts > 1 else 0]:
                    approvals[k] = t
                    events.append((t, "approve", step, r.choice(WH_APPROVE_OPINIONS), k, False, entered))
                for _t, k in acts:
                    windows.append((step, entered, k, start, approvals.get(k), k in approvals))
                return events, windows, final("reviewing", step)
            if returning:  # the first expert to act returns it: the others' to-dos close with it
                t, who = acts[0]
                windows += [(step, entered, k, start, t, k == who) for _t, k in acts]
                events.append((t, "return", step, opinion, who, True, entered))
            else:  # the last approval moves it on (and tells the owner)
                for n, (t, k) in enumerate(acts):
                    approvals[k] = t
                    windows.append((step, entered, k, start, t, True))
                    last = n == len(acts) - 1
                    events.append((t, "approve", step, r.choice(WH_APPROVE_OPINIONS), k, last, entered))
                t = acts[-1][0]
        else:
            if waiting:
                windows.append((step, entered, step, entered, None, False))
                return events, windows, final("reviewing", step)
            t = entered + _dwell(r)
            windows.append((step, entered, step, entered, t, True))
            action = "return" if returning else "approve"
            events.append((t, action, step, opinion or r.choice(WH_APPROVE_OPINIONS), step, True, entered))
        if returning:
            if state.startswith("returned") and here:
                return events, windows, final("returned", step)
            forced = forced and not here
            t += min(max(r.lognormvariate(math.log(3 * DAY), 0.8), 1800.0), 60 * DAY)
            events.append((t, "submit", None, None, "owner", False, None))
            entered = t
            continue  # re-enters at the step that returned it
        i += 1
        if i == len(WH_STEPS):
            return events, windows, final("done")  # (step_entered_at stays the 市工信 step's entry)
        entered = t


def _evidence_kinds():
    """[(kind, required)] of the 佐证材料 checklist: config WAREHOUSING_EVIDENCE, else zsdx.warehousing's, else
    WH_EVIDENCE."""
    import sys

    from flask import current_app

    declared = current_app.config.get("WAREHOUSING_EVIDENCE")
    if declared:
        out = []
        for item in declared:
            if isinstance(item, str):
                out.append((item, item not in ("cloud", "other")))
            elif isinstance(item, dict):
                kind = item.get("kind") or item.get("key")
                out.append((kind, bool(item.get("required", kind not in ("cloud", "other")))))
            else:
                kind = item[0]
                flags = [x for x in item[1:] if isinstance(x, bool)]
                out.append((kind, flags[0] if flags else kind not in ("cloud", "other")))
        return out
    module = sys.modules.get(__package__ + ".warehousing")
    evidence = getattr(module, "EVIDENCE", None)
    if evidence:
        return [(e[0], next((x for x in e[1:] if isinstance(x, bool)), True)) for e in evidence]
    return list(WH_EVIDENCE)


def _saved_copy(s):
    """The copy a record keeps (content): its enterprise's and project's own fields (the row sections stay empty)."""

    def text_(v):
        return "" if v is None else v.isoformat() if isinstance(v, dt.date) else str(v)

    f = s["carried"]
    start, end, acceptance = s["dates"]
    enterprise = ["ent_name", "ent_credit_code", "ent_nature", "ent_category", "ent_scale", "quality_levels"]
    enterprise += ["ent_address", "employees_total", "employees_digital", "ent_description"]
    return {
        "enterprise": {k: text_(f[k]) for k in enterprise},
        "project": {
            "project_name": s["name"],
            "summary": text_(f["project_summary"]),
            "build_address": text_(f["build_address"]),
            "start_date": text_(start),
            "end_date": text_(end),
            "acceptance_date": text_(acceptance),
            "target_level": text_(f["target_level"]),
        },
    }


def _write_warehousing(w, conn, rng, now, items, ctx):
    """The 项目入库 chapter: the record each submitted 改造完成 opened (`items`: the project, its submission,
    the 改造后 level an institution's 事后评估 confirmed), in every state (WAREHOUSING_STATES; all 待提交, never
    saved, unless ctx["enabled"]): the audit rows (submit, 市工信's assign, each expert's approve, return with an
    opinion), the zs_review_assignment rows (1–3 验收专家, their approvals; generated 1373xxxxxxx ones when the
    world has too few), the 佐证材料 (zs_warehousing_file, the chapter's shared PDF rows), the subsidy of the 已入库
    ones (zsdx.subsidy.compute) and an open 申报窗口 (zs_submission_window) when none is. `ctx`: enabled,
    actor_of, town_reviewers ({town id: [user ids]}), city_reviewers, user_id0, pw_hash, expert_role, files
    ({key: zs_file id}). Returns (subjects, tally): the records whose to-dos and outcome notifications the
    notification pass writes (with their to-do windows), and counts by state."""
    from .security import placeholder_email
    from .subsidy import compute

    enabled = ctx["enabled"]
    tally = {"warehousing": {}}
    items = sorted(items, key=lambda it: (it["created"], it["s"]["project_id"]))
    md = db.metadata.tables
    # 验收专家: the world's, and generated ones up to what the assignments ask
    experts = []
    if enabled and items:
        users, user_roles = md["ab_user"], md["ab_user_role"]
        experts = [
            (r.id, (r.first_name or "") + (r.last_name or "") or r.username)
            for r in conn.execute(
                select(users.c.id, users.c.first_name, users.c.last_name, users.c.username)
                .join(user_roles, user_roles.c.user_id == users.c.id)
                .where(user_roles.c.role_id == ctx["expert_role"], users.c.active.is_(True))
                .order_by(users.c.id)
            )
        ]
        want = max(3, min(12, len(items) // 100))
        if len(experts) < want:
            uid0 = _next_id(conn, "ab_user")
            created = now - dt.timedelta(days=400)
            rows = []
            for k in range(want - len(experts)):
                phone = f"{EXPERT_PHONE_PREFIX}{k:07d}"
                name = f"验收专家{k + 1:02d}"
                rows.append(
                    (uid0 + k, name, "", phone, ctx["pw_hash"], True, placeholder_email(phone), 0, 0, created, created)
                    + (phone, None, None)
                )
            w.write("ab_user", USER_COLUMNS, rows)
            ur_id0 = _next_id(conn, "ab_user_role")
            w.write(
                "ab_user_role",
                ["id", "user_id", "role_id"],
                ((ur_id0 + k, u[0], ctx["expert_role"]) for k, u in enumerate(rows)),
            )
            experts += [(u[0], u[1]) for u in rows]
    files = ctx["files"]

    def file_of(kind):
        for part, key in (("contract", "contract"), ("assess", "report"), ("invoice", "invoice")):
            if part in kind:
                return files.get(key) or files["evidence"]
        return files.get({"payment": "voucher", "other": "other"}.get(kind, "evidence")) or files["evidence"]

    kinds = _evidence_kinds() if enabled and items else []
    states = [k for k, _w in WAREHOUSING_STATES]
    weights = [w_ for _k, w_ in WAREHOUSING_STATES]
    wh_ids = itertools.count(_next_id(conn, "zs_warehousing"))
    wf_ids = itertools.count(_next_id(conn, "zs_warehousing_file"))
    wa_ids = itertools.count(_next_id(conn, "zs_review_assignment"))
    wh_rows, wf_rows, wa_rows, action_rows, subjects = [], [], [], [], []
    for n, it in enumerate(items):
        s, created = it["s"], it["created"]
        wid = next(wh_ids)
        owner = ctx["user_id0"] + s["org"]
        state = (states[n] if n < len(states) else rng.choices(states, weights=weights)[0]) if enabled else None
        # 1–3 experts (2–3 where some have approved and one is still to)
        wanted = rng.randint(1 + (state == "expert"), 3) if enabled else 0
        # experts: the database's, so picked with a stream of their own (rng.sample's draws vary with their number)
        picked = random.Random(f"{n}:{len(experts)}").sample(experts, min(len(experts), wanted)) if enabled else []
        events, windows, fin = [], [], {"status": "draft"}
        if state not in (None, "draft_unsaved", "draft"):
            events, windows, fin = _wh_history(rng, state, len(picked))
            # the history placed between the submission of 改造完成 and now (compressed when it does not fit)
            reviewing = fin["status"] == "reviewing"
            end = events[-1][0] if not reviewing else max(events[-1][0], fin["entered"])
            waited = min(max(rng.expovariate(1 / (2.5 * DAY)), 60.0), 45 * DAY) if reviewing else 0.0
            room = (now - created).total_seconds() - 660.0
            if room <= 0:
                events, windows, fin, state = [], [], {"status": "draft"}, "draft"
            else:
                scale = min(1.0, room / (end + waited)) if end + waited > 0 else 1.0
                end, waited = end * scale, waited * scale
                lo = created + dt.timedelta(seconds=600)
                base = lo + dt.timedelta(seconds=(room - end - waited) * (1.0 if reviewing else rng.random()))

                def at(t, base=base, scale=scale):
                    return None if t is None else base + dt.timedelta(seconds=t * scale)

                events = [(at(t), a, st, o, who, tell, at(en)) for t, a, st, o, who, tell, en in events]
                windows = [(st, at(en), who, at(a), at(b), acted) for st, en, who, a, b, acted in windows]
                fin["entered"] = at(fin["entered"])
                fin["approvals"] = {k: at(t) for k, t in fin["approvals"].items()}
        status = fin["status"]
        if state is None:
            state = "draft_unsaved"
        key = {
            "draft_unsaved": "draft (never saved)",
            "expert_unassigned": "reviewing expert (unassigned)",
            "resubmitted": f"resubmitted, reviewing {fin.get('current_step')}",
        }.get(state, state.replace("_", " ") if status != "reviewing" else f"reviewing {state}")
        tally["warehousing"][key] = tally["warehousing"].get(key, 0) + 1
        # who acted: the town's and 市工信's reviewers as for the other chains, the assigned experts
        actor_of = {}
        for when, action, step, _o, who, _tell, _en in events:
            if who == "owner":
                actor_of[(step, when)] = owner
            elif isinstance(who, int):
                actor_of[(step, when)] = picked[who][0]
            else:
                actor_of[(step, when)] = ctx["actor_of"]({"org": s["org"]}, who, rng)
        tid = s["town_id"]
        pools = {"town": ctx["town_reviewers"][tid], "city": ctx["city_reviewers"]}
        pools["assigners"] = pools["city"]
        for when, action, step, opinion, _who, _tell, entered in events:
            seconds = int((when - entered).total_seconds()) if entered is not None else None
            if action == "assign":
                opinion = "、".join(name for _uid, name in picked)
            action_rows.append(("warehousing", wid, step, actor_of[(step, when)], action, opinion, when, seconds))
        if fin.get("assigned"):
            for k, (uid, _name) in enumerate(picked):
                wa_rows.append((next(wa_ids), "warehousing", wid, "expert", uid, fin["approvals"].get(k)))
        # the record
        submitted = max((ev[0] for ev in events if ev[1] == "submit"), default=None)
        completed = events[-1][0] if status == "done" else None
        level_after = cap = proposed = None
        if status == "done":
            level = it["level"] if it["institution"] is not None else None  # an institution's confirmed level
            _by_level, cap, proposed = compute(level, s["subsidies"])
            level_after = level
        # every record has its copy from creation on (zsdx.warehousing prefills it when 改造完成 creates it), so no
        # page ever builds one on the fly
        content = _saved_copy(s)
        updated = events[-1][0] if events else created
        if state == "draft":
            updated = created + (now - created) * rng.uniform(0.05, 0.9)
        wh_rows.append(
            (wid, s["project_id"], s["org_id"], tid, s["name"], content, created, updated, level_after, cap, proposed)
            + (status, fin.get("current_step"), fin.get("return_step"), submitted)
            + (fin.get("entered") if events else None, completed, len(events))
        )
        # 佐证材料: the required ones of a submitted record (and some of the rest), some of a saved draft's
        for kind, required in kinds:
            if (submitted and (required or rng.random() < 0.5)) or (state == "draft" and rng.random() < 0.4):
                wf_rows.append((next(wf_ids), wid, kind, file_of(kind)))
        if events:
            who_of = {"town": pools["town"], "city": pools["city"], "assigners": pools["assigners"]}
            subjects.append(
                {
                    "id": wid,
                    "name": s["name"],
                    "owner": owner,
                    "windows": [
                        (
                            step,
                            entered,
                            who_of[who] if isinstance(who, str) else [picked[who][0]],
                            start,
                            left,
                            actor_of.get((step, left)) if acted else None,
                        )
                        for step, entered, who, start, left, acted in windows
                    ],
                    "events": [(when, a, step, o) for when, a, step, o, _who, tell, _en in events if tell],
                }
            )
    w.write(
        "zs_warehousing",
        ["id", "project_id", "organisation_id", "town_id", "project_name", "content", "created_at", "updated_at"]
        + ["level_after", "subsidy_cap", "proposed_subsidy", *REVIEW_COLUMNS],
        wh_rows,
    )
    w.write("zs_warehousing_file", ["id", "warehousing_id", "kind", "file_id"], wf_rows)
    w.write("zs_review_assignment", ["id", "subject_type", "subject_id", "step", "user_id", "approved_at"], wa_rows)
    ra_id0 = _next_id(conn, "zs_review_action")
    w.write(
        "zs_review_action",
        ["id", "subject_type", "subject_id", "step", "actor_id", "action", "opinion", "created_at", "step_seconds"],
        ((ra_id0 + i,) + row for i, row in enumerate(action_rows)),
    )
    # 申报窗口: open now (the drafts can be submitted), since before the first generated submission (a window
    # opened later, e.g. today's, does not cover the generated history)
    windows_t = md["zs_submission_window"]
    first = min((row[6] for row in action_rows if row[4] == "submit"), default=now)
    covering = conn.execute(
        select(windows_t.c.id)
        .where(windows_t.c.chain_name == "warehousing", windows_t.c.opens_at <= first, windows_t.c.closes_at > now)
        .limit(1)
    ).first()
    if enabled and items and not covering:
        opens = dt.datetime.combine(min(first, now - dt.timedelta(days=30)).date(), dt.time())
        closes = dt.datetime.combine((now + dt.timedelta(days=90)).date(), dt.time(23, 59, 59))
        w.write(
            "zs_submission_window",
            ["id", "chain_name", "name", "opens_at", "closes_at", "created_at", "notice", "announcement_id"],
            [
                (
                    _next_id(conn, "zs_submission_window"),
                    "warehousing",
                    f"{now:%Y}年度项目入库申报",
                    opens,
                    closes,
                    opens,
                    None,
                    None,
                )
            ],
        )
    return subjects, tally


# --- the generator -------------------------------------------------------------------------------------
def generate(
    enterprises=DEFAULTS["enterprises"],
    filings=DEFAULTS["filings"],
    notifications=DEFAULTS["notifications"],
    seed=1,
    town_codes=None,
    echo=print,
    vacuum=True,
    products=2_000,
    signings=True,
    implementation=True,
    warehousing=True,
):
    """Write the load (see the module docstring) in one transaction; returns {table: rows written}."""
    from flask import current_app
    from flask_babel import force_locale
    from flask_babel import gettext as _

    from .assist import HOSTS as ASSIST_HOSTS
    from .data.reference import TOWNS
    from .security import placeholder_email
    from .seed import DEMO_PASSWORD
    from .stages import STAGES
    from .workflow import chain

    t_all = time.perf_counter()
    rng = random.Random(seed)
    now = dt.datetime.now().replace(microsecond=0)
    midnight = dt.datetime.combine(now.date(), dt.time())
    if enterprises < 1 or filings < 0 or notifications < 0:
        raise GenLoadError("sizes must be positive")

    session = db.session
    conn = session.connection()
    w = Writer(conn, echo)
    md = db.metadata.tables

    # --- reference data and the demo accounts ----------------------------------------------------------
    t0 = time.perf_counter()
    if conn.execute(
        select(md["ab_user"].c.id).where(md["ab_user"].c.username.like(ENTERPRISE_PHONE_PREFIX + "%")).limit(1)
    ).first():
        raise GenLoadError("this database already holds a gen-load (users 150…): use a fresh database")
    town_rows = conn.execute(select(md["zs_town"].c.id, md["zs_town"].c.code, md["zs_town"].c.name)).all()
    wanted = set(town_codes) if town_codes else {code for code, _name in TOWNS}
    towns = sorted((r for r in town_rows if r.code in wanted), key=lambda r: r.code)
    if not towns:
        raise GenLoadError("no towns: run `flask zsdx init` first (or check --town-codes)")
    roles = dict(conn.execute(select(md["ab_role"].c.name, md["ab_role"].c.id)).all())
    for name in (R.ENTERPRISE, R.TOWN, R.THIRD_PARTY, R.CITY, R.PROVIDER, R.INSTITUTION, R.EXPERT):
        if name not in roles:
            raise GenLoadError(f"role {name} missing: run `flask zsdx init` first")
    users = md["ab_user"]
    demo = {
        r.username: r for r in conn.execute(select(users.c.id, users.c.username, users.c.town_id, users.c.first_name))
    }
    missing = [p for p in ("13800000006", "13800000008") if p not in demo]
    if missing:
        raise GenLoadError(f"demo reviewers {missing} missing: run `flask zsdx seed-demo` first")
    industries = conn.execute(select(md["zs_industry"].c.id, md["zs_industry"].c.name).order_by("id")).all()
    leaves = [
        r.id
        for r in conn.execute(
            select(md["zs_product_category"].c.id).where(md["zs_product_category"].c.level == 3).order_by("id")
        )
    ]
    institutions = [
        r.id
        for r in conn.execute(
            select(md["zs_organisation"].c.id).where(md["zs_organisation"].c.kind == "institution").order_by("id")
        )
    ]
    if not industries or not leaves:
        raise GenLoadError("reference data missing: run `flask zsdx init` first")
    deadline = {s.key: s.deadline_days * DAY for s in chain("filing")}
    labels = {s.key: s.label for s in chain("filing")}
    ps_labels = {s.key: s.label for s in chain("pre_subsidy")}
    as_labels = {s.key: s.label for s in chain("assist")}
    pa_labels = {s.key: s.label for s in chain("post_assessment_report")}
    wh_labels = {s.key: s.label for s in chain("warehousing")}
    wh_deadline = {s.key: s.deadline_days * DAY for s in chain("warehousing")}
    with current_app.test_request_context("/"), force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh")):
        T = {
            "title": _("%(name)s project filing review", name="\x00"),
            "todo": _("You have a %(title)s to handle (%(step)s)", title="\x01", step="\x02"),
            "review": _("Hello, your %(title)s: %(outcome)s", title="\x01", outcome="\x03"),
            "approve": _("%(step)s approved", step="\x02"),
            "return": _("%(step)s returned: %(opinion)s", step="\x02", opinion="\x04"),
            "reject": _("%(step)s not approved: %(opinion)s", step="\x02", opinion="\x04"),
            "overdue": _(
                "Overdue: %(title)s has waited at %(step)s beyond the deadline, please handle it soon",
                title="\x01",
                step="\x02",
            ),
            "new_message": _("New message from %(org)s on the message board", org="\x05"),
            "replied": _("The platform has replied to your message"),
            "ps_title": _("%(name)s pre-subsidy application", name="\x00"),
            "as_title": _("%(name)s %(page)s assisted filling", name="\x00", page=ASSIST_HOSTS["signing"].page_label),
            # the implementation chapter (改造中's host may not be registered yet: its tab's label)
            "pa_title": _("%(name)s post-assessment report", name="\x00"),
            "pa_task": _("New post-assessment task: %(project)s", project="\x00"),
            "im_as_title": _(
                "%(name)s %(page)s assisted filling",
                name="\x00",
                page=ASSIST_HOSTS["implementation"].page_label
                if "implementation" in ASSIST_HOSTS
                else _("Implementation - in progress"),
            ),
            "cp_as_title": _(
                "%(name)s %(page)s assisted filling",
                name="\x00",
                page=ASSIST_HOSTS["completion"].page_label
                if "completion" in ASSIST_HOSTS
                else _("Digital transformation results"),
            ),
        }
        labels = {k: str(v) for k, v in labels.items()}
        ps_labels = {k: str(v) for k, v in ps_labels.items()}
        as_labels = {k: str(v) for k, v in as_labels.items()}
        pa_labels = {k: str(v) for k, v in pa_labels.items()}
        wh_labels = {k: str(v) for k, v in wh_labels.items()}
        # the stages' own links (the reviewer's, the owner's), with LINK standing for the id
        LINK = str(LINK_PK)
        ps_stage, as_stage = STAGES["pre_subsidy"], STAGES["assist"]
        stub = SimpleNamespace(id=LINK_PK, signing_id=LINK_PK, host_type="signing", host_id=LINK_PK)
        links_ps = (
            _link(ps_stage.link_for_review, stub, f"/review/pre_subsidy/{LINK}"),
            _link(ps_stage.owner_link, stub, f"/signing/{LINK}/pre-subsidy"),
        )
        links_as = (
            _link(as_stage.link_for_review, stub, f"/signing/{LINK}/assist"),
            _link(as_stage.owner_link, stub, f"/signing/{LINK}/edit?page=2"),
        )

        def assist_links(host, fill, own):
            """The provider's and the enterprise's links of a page of `host` (these when it is not registered)."""
            if host not in ASSIST_HOSTS:
                return fill, own
            record = SimpleNamespace(id=LINK_PK, host_type=host, host_id=LINK_PK)
            return _link(as_stage.link_for_review, record, fill), _link(as_stage.owner_link, record, own)

        links_im = assist_links("implementation", f"/implementation/{LINK}/assist", f"/implementation/{LINK}/edit")
        links_cp = assist_links("completion", f"/completion/{LINK}/assist", f"/completion/{LINK}/edit?page=1")
        pa_stage = STAGES.get("post_assessment_report")
        links_pa = (  # the enterprise's 确认 page, the institution's task list
            _link(pa_stage.link_for_review, stub, f"/post-assessment/{LINK}/report")
            if pa_stage
            else f"/post-assessment/{LINK}/report",
            _link(pa_stage.owner_link, stub, "/institution/") if pa_stage else "/institution/",
        )
        # 项目入库: the stage's title and links once it is registered (its kind's label and paths until then)
        wh_stage = STAGES.get("warehousing")
        T["wh_title"] = "\x00" + _("Project warehousing")
        links_wh = (f"/review/warehousing/{LINK}", f"/warehousing/{LINK}")
        if wh_stage:
            try:
                T["wh_title"] = str(wh_stage.title(SimpleNamespace(id=LINK_PK, project_name="\x00")))
            except (AttributeError, KeyError, TypeError):
                pass
            links_wh = (
                _link(wh_stage.link_for_review, stub, links_wh[0]),
                _link(wh_stage.owner_link, stub, links_wh[1]),
            )
    pw_hash = generate_password_hash(
        DEMO_PASSWORD,
        method=current_app.config.get("FAB_PASSWORD_HASH_METHOD", "scrypt"),
        salt_length=current_app.config.get("FAB_PASSWORD_HASH_SALT_LENGTH", 16),
    )
    echo(f"reference data, demo accounts, password hash: {_ms(t0)}")

    # --- enterprises (rows built now, written after the reviewers are known) ---------------------------
    t0 = time.perf_counter()
    org_id0 = _next_id(conn, "zs_organisation")
    user_id0 = _next_id(conn, "ab_user")
    town_weight = [3.0 if t.code in ("2010", "2011", "2001", "2006") else 1.0 + rng.random() for t in towns]
    orgs = []  # (id, name, credit_code, town index, industry index, contact_name, contact_phone, created_on, short name)
    for i in range(enterprises):
        ti = i if i < len(towns) else rng.choices(range(len(towns)), weights=town_weight)[0]
        ii = rng.randrange(len(industries))
        trade = rng.choice(TRADES.get(industries[ii].name, ["制造"]))
        town_name = towns[ti].name.split("（")[0]
        brand = rng.choice(BRANDS) + rng.choice(BRANDS)
        name = f"中山市{town_name if rng.random() < 0.3 else ''}{brand}{trade}{rng.choice(SUFFIXES)}"
        body = f"91442000L{i:08d}"
        contact = rng.choice(SURNAMES) + rng.choice(GIVEN)
        phone = f"{ENTERPRISE_PHONE_PREFIX}{i:08d}"
        created = now - dt.timedelta(seconds=rng.uniform(380 * DAY, 1000 * DAY))
        orgs.append((org_id0 + i, name, body + check_char(body), ti, ii, contact, phone, created, brand + trade[:2]))

    # --- filings and their histories ------------------------------------------------------------------
    ent_weight = [rng.paretovariate(1.5) for _ in range(enterprises)]
    cum = list(itertools.accumulate(ent_weight))
    finals = [k for k, _w in STATUS_WEIGHTS]
    weights = [w_ for _k, w_ in STATUS_WEIGHTS]
    filing_id0 = _next_id(conn, "zs_filing")
    project_id0 = _next_id(conn, "zs_project")
    fl = []  # per filing: dict
    entries_per_step = {s: 0 for s in STEPS}
    lapses_per_step = {s: 0 for s in STEPS}
    review_notes = 0
    for n in range(filings):
        final, step_at = finals[n] if n < len(finals) else rng.choices(finals, weights=weights)[0]
        e = (n % enterprises) if n < enterprises and n < len(finals) else bisect.bisect(cum, rng.random() * cum[-1])
        e = min(e, enterprises - 1)
        f = {"id": filing_id0 + n, "project_id": project_id0 + n, "org": e, "status": final}
        if final == "draft":
            f["created_at"] = now - dt.timedelta(seconds=rng.uniform(600, 365 * DAY))
            f["events"], f["entries"], f["state"] = [], [], {}
        else:
            events, entries, state = _history(rng, final, step_at)
            end = events[-1][0] if final != "reviewing" else entries[-1][1]
            if final == "reviewing":
                end_abs = now - dt.timedelta(seconds=min(max(rng.expovariate(1 / (2.5 * DAY)), 60.0), 60 * DAY))
            elif final == "returned":
                end_abs = now - dt.timedelta(seconds=rng.uniform(1800, 90 * DAY))
            else:
                end_abs = midnight - dt.timedelta(seconds=rng.uniform(60, 365 * DAY))
            base = end_abs - dt.timedelta(seconds=end)
            f["events"] = [(base + dt.timedelta(seconds=t), a, s, o, sec) for t, a, s, o, sec in events]
            f["entries"] = [
                (s, base + dt.timedelta(seconds=a), None if b is None else base + dt.timedelta(seconds=b))
                for s, a, b in entries
            ]
            f["state"] = state
            f["created_at"] = f["events"][0][0] - dt.timedelta(seconds=rng.uniform(0.1 * DAY, 15 * DAY))
            for s, a, b in f["entries"]:
                entries_per_step[s] += 1
                if (b or now) - a > dt.timedelta(seconds=deadline[s]):
                    lapses_per_step[s] += 1
            review_notes += sum(1 for ev in events if ev[1] != "submit")
        fl.append(f)
    echo(f"histories of {filings:,} filings: {_ms(t0)}")

    # --- the signings of the 已备案 projects: their timelines (a random stream of their own, so that the
    # rows above do not depend on --signings), counted in with the to-dos the reviewers' number is set by
    srng = random.Random(f"{seed}:signings")
    plans = _plan_signings(srng, [(f, f["events"][-1][0]) for f in fl if f["status"] == "done"], now, signings)
    ps_deadline = {s.key: s.deadline_days * DAY for s in chain("pre_subsidy")}
    as_deadline = {s.key: s.deadline_days * DAY for s in chain("assist")}
    for p in plans:
        for step, entered, left in p["ps"]["entries"] if p["ps"] else ():
            entries_per_step[step] += 1
            lapses_per_step[step] += (left or now) - entered > dt.timedelta(seconds=ps_deadline[step])
        if p["ps"]:
            review_notes += sum(1 for ev in p["ps"]["events"] if ev[1] != "submit")
        if p["assist"]:  # the provider's one user: a to-do (and a reminder); the enterprise: the outcome
            a = p["assist"]
            review_notes += 1 + (a["status"] == "done")
            review_notes += (a["left"] or now) - a["asked"] > dt.timedelta(seconds=as_deadline["provider_fill"])

    # --- reviewers: the demo accounts and as many colleagues as the notification size asks ------------
    t0 = time.perf_counter()
    existing_town = {}
    for r in conn.execute(
        select(users.c.id, users.c.town_id)
        .join(md["ab_user_role"], md["ab_user_role"].c.user_id == users.c.id)
        .where(md["ab_user_role"].c.role_id == roles[R.TOWN], users.c.town_id.isnot(None))
    ):
        existing_town.setdefault(r.town_id, []).append(r.id)
    per_town = 2 if filings >= 20_000 else 1
    town_units = entries_per_step["town"] + lapses_per_step["town"]
    city_units = sum(entries_per_step[s] + lapses_per_step[s] for s in ("third_party", "city"))
    fan = 1
    if city_units:
        fan = int((notifications - review_notes - per_town * town_units) // city_units)
        fan = max(1, min(fan, 12))
    new_users = []  # (id, name, phone, role, town_id)
    next_uid = itertools.count(user_id0 + enterprises)
    reviewers = {"town": {}, "third_party": [], "city": []}
    primary = {"town": {}}
    rc = itertools.count(1)
    for t in towns:
        demo_phone = DEMO_REVIEWERS["town"].get(t.code)
        have = []
        if demo_phone in demo and demo[demo_phone].town_id == t.id:
            have.append(demo[demo_phone].id)
        have += [u for u in existing_town.get(t.id, []) if u not in have and len(have) < per_town]
        while len(have) < per_town:
            uid = next(next_uid)
            new_users.append(
                (
                    uid,
                    f"{t.name.split('（')[0]}审核员{len(have) + 1:02d}",
                    f"{REVIEWER_PHONE_PREFIX}{next(rc):07d}",
                    R.TOWN,
                    t.id,
                )
            )
            have.append(uid)
        reviewers["town"][t.id] = have
        primary["town"][t.id] = have[0]
    for step, role, title in (("third_party", R.THIRD_PARTY, "第三方审核员"), ("city", R.CITY, "市工信管理员")):
        have = [demo[DEMO_REVIEWERS[step]].id]
        while len(have) < fan:
            uid = next(next_uid)
            new_users.append((uid, f"{title}{len(have) + 1:02d}", f"{REVIEWER_PHONE_PREFIX}{next(rc):07d}", role, None))
            have.append(uid)
        reviewers[step] = have
        primary[step] = have[0]
    echo(f"reviewers: {per_town} per town, {fan} 第三方 and {fan} 市工信 (demo accounts included): {_ms(t0)}")

    # --- write: organisations, users, roles -----------------------------------------------------------
    t0 = time.perf_counter()
    echo("writing:")
    w.write(
        "zs_organisation",
        ORG_COLUMNS,
        (
            (o[0], "enterprise", o[1], o[2], towns[o[3]].id, industries[o[4]].id, o[5], o[6], False, False, False, o[7])
            for o in orgs
        ),
    )
    ent_users = (
        (user_id0 + i, o[5], "", o[6], pw_hash, True, placeholder_email(o[6]), 0, 0, o[7], o[7], o[6], o[0], None)
        for i, o in enumerate(orgs)
    )
    rev_users = (
        (
            u[0],
            u[1],
            "",
            u[2],
            pw_hash,
            True,
            placeholder_email(u[2]),
            0,
            0,
            now - dt.timedelta(days=400),
            now - dt.timedelta(days=400),
            u[2],
            None,
            u[4],
        )
        for u in new_users
    )
    w.write("ab_user", USER_COLUMNS, itertools.chain(ent_users, rev_users))
    ur_id0 = _next_id(conn, "ab_user_role")
    ur_rows = [(user_id0 + i, roles[R.ENTERPRISE]) for i in range(enterprises)] + [
        (u[0], roles[u[3]]) for u in new_users
    ]
    w.write("ab_user_role", ["id", "user_id", "role_id"], ((ur_id0 + i, u, r) for i, (u, r) in enumerate(ur_rows)))

    def ent_user(f):
        return user_id0 + f["org"]

    def actor_of(f, step, r=rng):
        if step == "town":
            tid = towns[orgs[f["org"]][3]].id
            pool, first = reviewers["town"][tid], primary["town"][tid]
        else:
            pool, first = reviewers[step], primary[step]
        if len(pool) == 1 or r.random() < DEMO_SHARE:
            return first
        return r.choice(pool[1:])

    # --- projects and filings --------------------------------------------------------------------------
    counters = {}  # (day, town code) -> last
    project_rows, filing_rows, action_rows, done = [], [], [], []
    for f in fl:
        o = orgs[f["org"]]
        town = towns[o[3]]
        industry = industries[o[4]]
        events = f["events"]
        submitted_at = max((ev[0] for ev in events if ev[1] == "submit"), default=None)
        last_entry = f["entries"][-1][1] if f["entries"] else None
        completed_at = events[-1][0] if f["status"] in ("done", "rejected") else None
        filing_no = None
        if f["status"] == "done":
            day = completed_at.strftime("%y%m%d")
            last = counters.get((day, town.code), 0) + 1
            counters[(day, town.code)] = last
            filing_no = f"{day}{town.code}{last:03d}"
            done.append((f, completed_at))
        updated = events[-1][0] if events else f["created_at"]
        draft = f["status"] == "draft"
        total = rng.choice([30, 45, 60, 80, 120, 150, 200, 260, 350, 500])
        start = (f["created_at"] + dt.timedelta(days=rng.randint(20, 90))).date()
        scenario = rng.choice(SCENARIOS)
        project_name = f"{o[8]}{scenario}项目"
        f["project_name"] = project_name
        method = rng.choices(["self", "institution", "city"], weights=(0.5, 0.3, 0.2))[0]
        f["method"] = method
        address = f"中山市{town.name.split('（')[0]}{rng.choice(STREETS)}{rng.randint(1, 300)}号"
        project_rows.append((f["project_id"], o[0], ent_user(f), f["created_at"]))
        filing_rows.append(
            (
                f["id"],
                f["project_id"],
                o[0],
                o[1],
                o[2],
                town.id,
                rng.choice(["private", "private", "private", "state", "foreign", "mixed", "other"]),
                rng.choice(["above", "above", "below"]),
                rng.choice(["medium", "small", "small", "micro"]),
                None if draft and rng.random() < 0.3 else rng.choice(leaves),
                industry.id,
                rng.choice(["innovative", "specialised", "innovative,specialised", "little_giant", "none", "none"]),
                address,
                total,
                max(1, total // rng.randint(5, 20)),
                f"{o[1]}主要从事{industry.name}的研发、生产和销售，已通过ISO9001质量管理体系认证。",
                None if draft and rng.random() < 0.5 else project_name,
                f"围绕{scenario}，部署相关系统并与现有业务系统打通，提升生产效率和管理水平。",
                address,
                Decimal(rng.choice([20, 35, 50, 80, 100, 150, 200, 300])) + Decimal(rng.randint(0, 99)) / 100,
                start,
                start + dt.timedelta(days=rng.choice([90, 180, 270, 365])),
                rng.choice(["2", "3", "3", "4"]),
                method,
                f"中山市{rng.choice(BRANDS)}{rng.choice(BRANDS)}工业软件有限公司",
                f"中山市{rng.choice(BRANDS)}{rng.choice(BRANDS)}数字科技有限公司",
                rng.random() < 0.1,
                filing_no,
                f["created_at"],
                updated,
                f["status"],
                f["state"].get("current_step"),
                f["state"].get("return_step"),
                submitted_at,
                last_entry,
                completed_at,
                len(events),
            )
        )
        if f["status"] == "done":
            f["row"] = filing_rows[-1]  # what its signing carries
        for when, action, step, opinion, seconds in events:
            actor = ent_user(f) if action == "submit" else actor_of(f, step)
            action_rows.append(("filing", f["id"], step, actor, action, opinion, when, seconds))
            if action != "submit":
                f.setdefault("actors", {})[(step, when)] = actor
    w.write("zs_project", ["id", "organisation_id", "created_by_id", "created_at"], project_rows)
    w.write("zs_filing", FILING_COLUMNS, filing_rows)
    del project_rows, filing_rows
    ra_id0 = _next_id(conn, "zs_review_action")
    w.write(
        "zs_review_action",
        ["id", "subject_type", "subject_id", "step", "actor_id", "action", "opinion", "created_at", "step_seconds"],
        ((ra_id0 + i,) + row for i, row in enumerate(action_rows)),
    )
    del action_rows

    # --- the records completion creates: 备案号 counters, 事前诊断, 项目签约 ---------------------------
    have_counters = {(r.day, r.town_code): r.last for r in conn.execute(select(md["zs_filing_counter"]))}
    new_counters = []
    for key, last in sorted(counters.items()):
        if key in have_counters:
            if have_counters[key] < last:
                conn.execute(
                    md["zs_filing_counter"]
                    .update()
                    .where(md["zs_filing_counter"].c.day == key[0], md["zs_filing_counter"].c.town_code == key[1])
                    .values(last=last)
                )
        else:
            new_counters.append((key[0], key[1], last))
    w.write("zs_filing_counter", ["day", "town_code", "last"], new_counters)
    pd_id0 = _next_id(conn, "zs_pre_diagnosis")
    pd_rows = []
    for i, (f, completed_at) in enumerate(done):
        o = orgs[f["org"]]
        method = f["method"]
        age = (now - completed_at).total_seconds()
        r = rng.random()
        started = assigned = institution = diagnosed = None
        status, level, score, rlevel, rscore, source = "draft", None, None, None, None, None
        if method != "self" and age > 3 * DAY and r < 0.8:
            started = completed_at + dt.timedelta(seconds=rng.uniform(600, 10 * DAY))
            if institutions and (method == "institution" or r < 0.65):
                # one draw whatever the number of institutions (rng.choice draws more or fewer bits with the
                # list's length, and the list holds the database's institutions: the rest of the stream, and so
                # the data generated, would depend on what the database held before)
                institution = institutions[int(rng.random() * len(institutions))]
                assigned = started + dt.timedelta(seconds=rng.uniform(0, 3 * DAY))
                if age > 30 * DAY and r < 0.55:
                    rlevel = rng.choice([1, 2, 2, 3])
                    rscore = Decimal(rng.randint(3000, 8500)) / 100
                    diagnosed = assigned + dt.timedelta(seconds=rng.uniform(3 * DAY, 25 * DAY))
                    status, level, score, source = "done", rlevel, rscore, "institution"
        pd_rows.append(
            (
                pd_id0 + i,
                f["project_id"],
                o[0],
                towns[o[3]].id,
                method,
                started,
                institution,
                assigned,
                rlevel,
                rscore,
                level,
                score,
                source,
                diagnosed,
                completed_at,
                status,
                diagnosed,
                1 if status == "done" else 0,
            )
        )
    w.write(
        "zs_pre_diagnosis",
        [
            "id",
            "project_id",
            "organisation_id",
            "town_id",
            "method",
            "started_at",
            "institution_id",
            "assigned_at",
            "reported_level",
            "reported_score",
            "level",
            "score",
            "level_source",
            "diagnosed_at",
            "created_at",
            "status",
            "completed_at",
            "version",
        ],
        pd_rows,
    )
    pd_done = {row[1]: (row[10], row[13], row[6]) for row in pd_rows if row[15] == "done"}  # level, when, by whom
    del pd_rows
    providers, product_rows = _write_products(w, conn, rng, now, products, towns)
    t0 = time.perf_counter()
    ctx = {"pw_hash": pw_hash, "provider_role": roles[R.PROVIDER], "actor_of": actor_of}
    subjects, tally = _write_signings(
        w, conn, srng, now, done, plans, orgs, towns, user_id0, providers, product_rows, ctx
    )
    del product_rows
    for what, counts in tally.items():
        echo(f"  {what}: {', '.join(f'{k} {n:,}' for k, n in sorted(counts.items())) or 'none'}")
    echo(f"signings of {len(done):,} 已备案 projects: {_ms(t0)}")
    # --- 项目实施: 改造中, 事后评估, 改造完成 (a random stream of their own: the rows above do not depend on them)
    t0 = time.perf_counter()
    irng = random.Random(f"{seed}:implementation")
    ictx = {
        "enabled": implementation,
        "seed": seed,
        "project_id0": project_id0,
        "pd": pd_done,
        "provider_user": ctx["provider_user"],
        "provider_names": {p[0]: p[2] for p in providers},
        "user_id0": user_id0,
        "pw_hash": pw_hash,
        "institution_role": roles[R.INSTITUTION],
        "warehousing": [],  # the 项目入库 records the submitted 改造完成 open (the next chapter)
    }
    isubjects, tasks, tally = _write_implementation(w, conn, irng, now, ctx["signed"], ictx)
    del pd_done
    for what, counts in tally.items():
        echo(f"  {what}: {', '.join(f'{k} {n:,}' for k, n in sorted(counts.items())) or 'none'}")
    echo(f"implementation (改造中, 事后评估, 改造完成) of {len(ctx['signed']):,} 已签约 projects: {_ms(t0)}")
    # --- 项目入库 (a random stream of its own: the rows above do not depend on it) ---------------------------
    t0 = time.perf_counter()
    wrng = random.Random(f"{seed}:warehousing")
    wsubjects, tally = _write_warehousing(
        w,
        conn,
        wrng,
        now,
        ictx["warehousing"],
        {
            "enabled": warehousing,
            "actor_of": actor_of,
            "town_reviewers": reviewers["town"],
            "city_reviewers": reviewers["city"],
            "user_id0": user_id0,
            "pw_hash": pw_hash,
            "expert_role": roles[R.EXPERT],
            "files": {**ictx.get("files", {}), "contract": ctx.get("contract_file")},
        },
    )
    for what, counts in tally.items():
        echo(f"  {what}: {', '.join(f'{k} {n:,}' for k, n in sorted(counts.items())) or 'none'}")
    echo(f"项目入库 of {len(ictx['warehousing']):,} submitted 改造完成: {_ms(t0)}")
    del ictx

    # --- notifications ---------------------------------------------------------------------------------
    t0n = time.perf_counter()
    notes = []  # (user_id, kind, text, link, is_read, created_at, send_sms, delivered_at, subject_type, subject_id, step, closed_at)
    reminders = []
    week_ago = now - dt.timedelta(days=7)

    def read_p(created, base, r=rng):
        return r.random() < (base if created < week_ago else base * 0.6)

    def note(uid, kind, text_, link, is_read, created, sms=True, subject=(None, None, None, None), r=rng):
        """One zs_notification row: SMS-sent ones were delivered seconds later; a 待办 names its (record, step)."""
        delivered = created + dt.timedelta(seconds=r.randint(1, 20)) if sms else None
        return (uid, kind, text_, link, is_read, created, sms, delivered, *subject)

    add = notes.append  # (history_notes runs before the trimming replaces the list)

    def history_notes(r, subject, title, review_link, owner_link, entries, events, pool_of, actors, owner, chain_):
        """What the engine wrote along one record's history: a 待办 to every reviewer of every step it entered
        (closed when it left), the overdue reminders, and an 审核通知 to the submitter for every outcome.
        `subject`: (type, id); `chain_`: (deadline, labels) of its steps; `owner`: the submitter (or a list)."""
        limit, step_labels = chain_
        for step, entered, left in entries:
            pool = pool_of(step)
            acted_by = actors.get((step, left)) if left else None
            text_ = T["todo"].replace("\x01", title).replace("\x02", step_labels[step])
            created = entered + dt.timedelta(milliseconds=r.randint(5, 900))
            for uid in pool:
                is_read = (uid == acted_by or r.random() < 0.85) if left else r.random() < 0.35
                add(note(uid, "todo", text_, review_link, is_read, created, True, (*subject, step, left), r))
            lapse = entered + dt.timedelta(seconds=limit[step])
            if (left or now) > lapse:
                when = lapse + dt.timedelta(seconds=r.uniform(0, 3600))
                if when < now:
                    reminders.append((*subject, step, entered, when))
                    text_ = T["overdue"].replace("\x01", title).replace("\x02", step_labels[step])
                    for uid in pool:
                        is_read = (r.random() < 0.9) if left else r.random() < 0.3
                        add(note(uid, "todo", text_, review_link, is_read, when, True, (*subject, step, left), r))
        for when, action, step, opinion, _sec in events:
            if action in ("submit", "withdraw"):  # a withdrawal tells nobody
                continue
            outcome = T[action].replace("\x02", step_labels[step]).replace("\x04", opinion or "")
            text_ = T["review"].replace("\x01", title).replace("\x03", outcome)
            created = when + dt.timedelta(milliseconds=r.randint(5, 900))
            for uid in owner if isinstance(owner, list) else (owner,):
                add(note(uid, "review", text_[:500], owner_link, read_p(created, 0.92, r), created, r=r))

    for f in fl:
        if not f["entries"]:
            continue
        tid = towns[orgs[f["org"]][3]].id
        history_notes(
            rng,
            ("filing", f["id"]),
            T["title"].replace("\x00", f["project_name"]),
            f"/review/filing/{f['id']}",
            f"/filing/{f['id']}",
            f["entries"],
            f["events"],
            lambda step, tid=tid: reviewers["town"][tid] if step == "town" else reviewers[step],
            f.get("actors", {}),
            ent_user(f),
            (deadline, labels),
        )
    # the signing chapter's records: 预奖补申请 (镇街, 市工信) and the pages handed to a 行业型服务商
    # and the implementation chapter's: the 事后评估 report the enterprise 确认s, the pages of 改造中 and 改造完成
    pa_deadline = {s.key: s.deadline_days * DAY for s in chain("post_assessment_report")}
    kinds = {  # title; (the reviewer's link, the owner's link) and the ids they take; (deadlines, step labels)
        "pre_subsidy": (T["ps_title"], links_ps, ("id", "host_id"), (ps_deadline, ps_labels)),
        "assist": (T["as_title"], links_as, ("host_id", "host_id"), (as_deadline, as_labels)),
        "post_assessment_report": (T["pa_title"], links_pa, ("id", "id"), (pa_deadline, pa_labels)),
        "assist_implementation": (T["im_as_title"], links_im, ("host_id", "host_id"), (as_deadline, as_labels)),
        "assist_completion": (T["cp_as_title"], links_cp, ("host_id", "host_id"), (as_deadline, as_labels)),
    }
    for r_, subs in ((srng, subjects), (irng, isubjects)):
        for sub in subs:
            title, links, keys, chain_ = kinds[sub.get("kind", sub["type"])]
            links = [link.replace(LINK, str(sub[key])) for link, key in zip(links, keys)]
            tid = towns[orgs[sub["org"]][3]].id
            history_notes(
                r_,
                (sub["type"], sub["id"]),
                title.replace("\x00", sub["name"]),
                *links,
                sub["entries"],
                sub["events"],
                lambda step, sub=sub, tid=tid: (
                    sub["pool"] or (reviewers["town"][tid] if step == "town" else reviewers[step])
                ),
                sub["actors"],
                sub.get("owner", user_id0 + sub["org"]),
                chain_,
            )
    del subjects, isubjects
    # 项目入库: the to-dos of each window of its history (市工信's while an expert step waits 待分配, each
    # assigned expert's until that one approves), the overdue reminders (to whoever the step waited for then)
    # and an 审核通知 to the enterprise for every outcome (an expert's approval tells it only when the last one)
    for sub in wsubjects:
        title = T["wh_title"].replace("\x00", sub["name"])
        review_link, owner_link = (link.replace(LINK, str(sub["id"])) for link in links_wh)
        subject = ("warehousing", sub["id"])
        windows = sub["windows"]
        for step, _entered, uids, start, left, acted in windows:
            text_ = T["todo"].replace("\x01", title).replace("\x02", wh_labels[step])
            created = start + dt.timedelta(milliseconds=wrng.randint(5, 900))
            for uid in uids:
                is_read = (uid == acted or wrng.random() < 0.85) if left else wrng.random() < 0.35
                add(note(uid, "todo", text_, review_link, is_read, created, True, (*subject, step, left), wrng))
        for step, entered in dict.fromkeys((w_[0], w_[1]) for w_ in windows):
            left = max((w_[4] or now for w_ in windows if (w_[0], w_[1]) == (step, entered)), default=now)
            when = entered + dt.timedelta(seconds=wh_deadline[step] + wrng.uniform(0, 3600))
            if when >= min(left, now):
                continue
            reminders.append((*subject, step, entered, when))
            text_ = T["overdue"].replace("\x01", title).replace("\x02", wh_labels[step])
            for st, en, uids, start, end, _acted in windows:
                if (st, en) == (step, entered) and start <= when and (end is None or when < end):
                    for uid in uids:
                        is_read = wrng.random() < 0.9 if end else wrng.random() < 0.3
                        add(note(uid, "todo", text_, review_link, is_read, when, True, (*subject, step, end), wrng))
        for when, action, step, opinion in sub["events"]:
            outcome = T[action].replace("\x02", wh_labels[step]).replace("\x04", opinion or "")
            text_ = T["review"].replace("\x01", title).replace("\x03", outcome)
            created = when + dt.timedelta(milliseconds=wrng.randint(5, 900))
            add(note(sub["owner"], "review", text_[:500], owner_link, read_p(created, 0.92, wrng), created, r=wrng))
    del wsubjects
    # the institution's 待办 when a 事后评估 is assigned to it (not a step's: the engine gives it no subject)
    for uids, name, when, read in tasks:
        text_ = T["pa_task"].replace("\x00", name)
        created = when + dt.timedelta(milliseconds=irng.randint(5, 900))
        for uid in uids:
            add(note(uid, "todo", text_, links_pa[1], irng.random() < read, created, r=irng))
    del tasks
    implied = len(notes)
    # 留言板 traffic makes up the rest: a message to every 市工信 user, the reply to the enterprise
    messages = []
    while len(notes) + len(reviewers["city"]) + 1 <= notifications:
        e = bisect.bisect(cum, rng.random() * cum[-1])
        e = min(e, enterprises - 1)
        o = orgs[e]
        asked = now - dt.timedelta(seconds=rng.uniform(3600, 365 * DAY))
        answered = asked + dt.timedelta(seconds=rng.uniform(1800, 3 * DAY))
        messages.append((o[0], user_id0 + e, False, rng.choice(MESSAGES), asked, True, True))
        text_ = T["new_message"].replace("\x05", o[1])
        for uid in reviewers["city"]:
            notes.append(note(uid, "todo", text_, f"/message-replies/{o[0]}", rng.random() < 0.9, asked, False))
        if answered < now:
            messages.append((o[0], primary["city"], True, rng.choice(REPLIES), answered, True, True))
            notes.append(note(user_id0 + e, "todo", T["replied"], "/messages/", read_p(answered, 0.9), answered, False))
    while len(notes) < notifications:  # the last few: replies in threads that already exist
        e = bisect.bisect(cum, rng.random() * cum[-1])
        e = min(e, enterprises - 1)
        answered = now - dt.timedelta(seconds=rng.uniform(3600, 300 * DAY))
        messages.append((orgs[e][0], primary["city"], True, rng.choice(REPLIES), answered, True, True))
        notes.append(note(user_id0 + e, "todo", T["replied"], "/messages/", read_p(answered, 0.9), answered, False))
    # trimming (sizes below what the histories imply): drop read notes of non-demo users first, and open to-dos
    # (what queues and workbenches show) last
    if len(notes) > notifications:
        demo_ids = {primary["third_party"], primary["city"]} | set(primary["town"].values())
        drop = len(notes) - notifications
        keys = [(n[8] is not None and n[11] is None, n[0] in demo_ids, not n[4], rng.random()) for n in notes]
        gone = set(sorted(range(len(notes)), key=keys.__getitem__)[:drop])
        notes = [n for k, n in enumerate(notes) if k not in gone]
    notes.sort(key=lambda n: n[5])  # ids grow with time, as in production
    echo(f"notifications built ({implied:,} implied by the histories, {len(messages):,} messages): {_ms(t0n)}")
    nt_id0 = _next_id(conn, "zs_notification")
    w.write(
        "zs_notification",
        [
            "id",
            "user_id",
            "kind",
            "text",
            "link",
            "is_read",
            "created_at",
            "send_sms",
            "delivered_at",
            "delivery_attempts",
            "subject_type",
            "subject_id",
            "step",
            "closed_at",
        ],
        ((nt_id0 + i,) + n[:8] + (1 if n[7] else 0,) + n[8:] for i, n in enumerate(notes)),
    )
    del notes
    rm_id0 = _next_id(conn, "zs_review_reminder")
    w.write(
        "zs_review_reminder",
        ["id", "subject_type", "subject_id", "step", "step_entered_at", "created_at"],
        ((rm_id0 + i,) + r for i, r in enumerate(reminders)),
    )
    ms_id0 = _next_id(conn, "zs_message")
    messages.sort(key=lambda m: m[4])
    w.write(
        "zs_message",
        [
            "id",
            "organisation_id",
            "author_id",
            "from_platform",
            "body",
            "created_at",
            "read_by_enterprise",
            "read_by_platform",
        ],
        ((ms_id0 + i,) + m for i, m in enumerate(messages)),
    )
    tables = [
        "zs_product",
        "zs_organisation",
        "ab_user",
        "ab_user_role",
        "zs_project",
        "zs_filing",
        "zs_review_action",
        "zs_pre_diagnosis",
        "zs_signing",
        "zs_file",
        "zs_contract",
        "zs_signing_need",
        "zs_signing_product",
        "zs_assist_request",
        "zs_implementation",
        "zs_implementation_indicator",
        "zs_pre_subsidy",
        "zs_post_assessment",
        "zs_completion",
        "zs_completion_indicator",
        "zs_provider_rating",
        "zs_invoice",
        "zs_invoice_line",
        "zs_payment_voucher",
        "zs_warehousing",
        "zs_warehousing_file",
        "zs_review_assignment",
        "zs_submission_window",
        "zs_notification",
        "zs_review_reminder",
        "zs_message",
    ]
    w.bump_sequences(tables)
    from .completion import refresh_rating_totals

    refresh_rating_totals(connection=session.connection())  # 服务商评价 per provider, from the ratings written above
    tables.append("zs_provider_rating_total")
    t0 = time.perf_counter()
    session.commit()
    echo(f"commit: {_ms(t0)}")
    if vacuum and w.pg:
        t0 = time.perf_counter()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as ac:
            for table in tables + ["zs_filing_counter", "zs_pre_subsidy_contract"]:
                ac.execute(text(f"VACUUM ANALYZE {table}"))
        echo(f"VACUUM ANALYZE: {_ms(t0)}")
    echo(f"gen-load total: {_ms(t_all)}")
    return dict(w.counts)


# 上架产品: providers and their products in every state of the 产品上架 chain
PRODUCT_STATES = [
    # (weight, status, listed, withdrawn): listed = approved once (has a code and a listed price)
    (60, "done", True, False),
    (8, "reviewing", False, False),
    (5, "reviewing", True, False),  # a price change of a listed product, under review again
    (8, "draft", False, False),
    (5, "returned", False, False),
    (2, "rejected", False, False),
    (12, "done", True, True),  # 下架
]
PRODUCT_WORDS = ["MES", "ERP", "WMS", "QMS", "SRM", "CRM", "PLM", "APS", "EAM", "能耗管理", "设备联网", "数字孪生"]


def _write_products(w, conn, rng, now, count, towns):
    """`count` products of count // 10 providers (new organisations; the first a 行业型服务商), in every state,
    with codes for the ones approved once and prices in 万元 with up to 4 places (Decimal). Returns the rows
    written (providers, products)."""
    if count <= 0:
        return [], []
    providers = max(1, count // 10)
    org_id0 = _next_id(conn, "zs_organisation")
    rows = []
    for i in range(providers):
        body = f"91442000P{i:08d}"
        rows.append(
            (
                org_id0 + i,
                "provider",
                f"中山市{rng.choice(BRANDS)}{rng.choice(BRANDS)}数字科技有限公司{i}",
                body + check_char(body),
                towns[i % len(towns)].id,
                None,
                rng.choice(SURNAMES) + rng.choice(GIVEN),
                f"13{i:09d}"[:11],
                rng.random() < 0.5 or i == 0,
                True,
                rng.random() < 0.3,
                now - dt.timedelta(days=400),
            )
        )
    w.write(
        "zs_organisation",
        ORG_COLUMNS,
        rows,
    )
    product_id0 = _next_id(conn, "zs_product")
    weights = [s[0] for s in PRODUCT_STATES]
    out = []
    for n in range(count):
        _w, status, listed, withdrawn = (
            PRODUCT_STATES[n] if n < len(PRODUCT_STATES) else rng.choices(PRODUCT_STATES, weights=weights)[0]
        )
        pid = product_id0 + n
        created = now - dt.timedelta(seconds=rng.uniform(3600, 300 * DAY))
        price = Decimal(rng.randint(5_000, 2_000_000)) / Decimal(10_000)  # 0.5 … 200 万元, 4 places
        submitted = None if status == "draft" else created + dt.timedelta(hours=rng.uniform(1, 48))
        reviewing = status == "reviewing"
        scenarios = ",".join(
            sorted(rng.sample([f"S{k}" for k in range(1, 17)], rng.randint(1, 3)), key=lambda x: int(x[1:]))
        )
        out.append(
            (
                pid,
                org_id0 + n % providers,
                f"P{created:%y%m%d}{pid:05d}" if listed else None,
                f"{rng.choice(PRODUCT_WORDS)}{rng.choice(['云平台', '系统', '解决方案', '实施服务'])}{n}",
                rng.choice(["software", "hardware", "service"]),
                scenarios,
                price,
                price if listed else None,
                None,
                rng.choice(["one_time", "on_demand", "yearly", "other"]),
                None,
                now - dt.timedelta(days=rng.uniform(1, 30)) if withdrawn else None,
                created,
                created,
                status,
                "city" if reviewing else None,
                "city" if status == "returned" else None,
                submitted,
                submitted if reviewing else None,
                submitted + dt.timedelta(days=rng.uniform(0.1, 5)) if status in ("done", "rejected") else None,
                1,
            )
        )
    w.write(
        "zs_product",
        [
            "id",
            "organisation_id",
            "code",
            "name",
            "category",
            "scenarios",
            "max_price",
            "listed_price",
            "price_note",
            "purchase_mode",
            "description",
            "withdrawn_at",
            "created_at",
            "updated_at",
            *REVIEW_COLUMNS,
        ],
        out,
    )
    return rows, out
