"""`flask zsdx gen-load`: a realistic, repeatable (by seed) load of enterprises, projects, filings in every
status, their audit trail, pre-diagnoses and notifications, written with bulk inserts.

Used by scripts/bench_pages.py (issue 7, "Shared-layer speed") and by tests/test_loadgen.py at tiny sizes.

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
  zs_signing;
- notifications as the engine writes them: a 待办事项 (todo) for every reviewer of every step a filing
  entered (subject/step set, closed_at when the filing left the step), an 审核通知 (review) to the
  enterprise for every reviewer action, overdue reminders (todo, with their zs_review_reminder rows), and
  留言板 traffic (zs_message rows, todos to every 市工信 user and the enterprise) to reach the size.
  Most are read; open to-dos are mostly unread.

Rows are built in Python from one `random.Random(seed)` and written with PostgreSQL COPY (psycopg2), or
SQLAlchemy Core executemany `insert()` elsewhere (SQLite, for smoke tests). Times are relative to the
moment of the run; everything else is the same for the same seed and sizes. Run it once per database
(after `flask zsdx seed-demo`): a second run refuses.
"""

import bisect
import datetime as dt
import io
import itertools
import math
import random
import time
from decimal import Decimal

from sqlalchemy import func, insert, select, text
from werkzeug.security import generate_password_hash

from . import roles as R
from .creditcode import check_char
from .extensions import db

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


def _next_id(conn, table):
    return (conn.execute(select(func.max(db.metadata.tables[table].c.id))).scalar() or 0) + 1


# --- histories -----------------------------------------------------------------------------------------
def _dwell(rng):
    """Seconds a filing waits at a step: median ~1.2 days, ~8 % beyond the 5-day deadline."""
    return min(max(rng.lognormvariate(math.log(1.2 * DAY), 1.0), 300.0), 40 * DAY)


def _history(rng, final, step_at):
    """Events of one filing relative to its first submission (t=0).

    Returns (events, entries, state): events are (t, action, step, opinion, step_seconds); entries are
    [step, entered, left or None]; state holds current_step / return_step for the final status."""
    events = [(0.0, "submit", None, None, None)]
    entries = []
    t = 0.0
    i = 0
    returns = 0
    if final == "returned":
        stop = rng.choices(range(3), weights=(0.5, 0.3, 0.2))[0]
    elif final == "rejected":
        stop = rng.choices(range(3), weights=(0.1, 0.2, 0.7))[0]
    elif final == "reviewing":
        stop = STEPS.index(step_at)
    else:
        stop = None
    while True:
        step = STEPS[i]
        entry = [step, t, None]
        entries.append(entry)
        if final == "reviewing" and i == stop:
            return events, entries, {"current_step": step}
        wait = _dwell(rng)
        t += wait
        entry[2] = t
        if final == "returned" and i == stop:
            events.append((t, "return", step, rng.choice(RETURN_OPINIONS), int(wait)))
            return events, entries, {"return_step": step}
        if final == "rejected" and i == stop:
            events.append((t, "reject", step, rng.choice(REJECT_OPINIONS), int(wait)))
            return events, entries, {}
        if returns < 2 and rng.random() < RETURN_PROBABILITY[step]:
            returns += 1
            events.append((t, "return", step, rng.choice(RETURN_OPINIONS), int(wait)))
            t += min(max(rng.lognormvariate(math.log(3 * DAY), 0.8), 1800.0), 60 * DAY)
            events.append((t, "submit", None, None, None))
            continue  # re-enters at the step that returned it
        events.append((t, "approve", step, rng.choice(APPROVE_OPINIONS), int(wait)))
        i += 1
        if i == len(STEPS):
            return events, entries, {}


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
):
    """Write the load (see the module docstring) in one transaction; returns {table: rows written}."""
    from flask import current_app
    from flask_babel import force_locale
    from flask_babel import gettext as _

    from .data.reference import TOWNS
    from .security import placeholder_email
    from .seed import DEMO_PASSWORD
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
    for name in (R.ENTERPRISE, R.TOWN, R.THIRD_PARTY, R.CITY):
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
        }
        labels = {k: str(v) for k, v in labels.items()}
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
    user_cols = [
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
    w.write("ab_user", user_cols, itertools.chain(ent_users, rev_users))
    ur_id0 = _next_id(conn, "ab_user_role")
    ur_rows = [(user_id0 + i, roles[R.ENTERPRISE]) for i in range(enterprises)] + [
        (u[0], roles[u[3]]) for u in new_users
    ]
    w.write("ab_user_role", ["id", "user_id", "role_id"], ((ur_id0 + i, u, r) for i, (u, r) in enumerate(ur_rows)))

    def ent_user(f):
        return user_id0 + f["org"]

    def actor_of(f, step):
        if step == "town":
            tid = towns[orgs[f["org"]][3]].id
            pool, first = reviewers["town"][tid], primary["town"][tid]
        else:
            pool, first = reviewers[step], primary[step]
        if len(pool) == 1 or rng.random() < DEMO_SHARE:
            return first
        return rng.choice(pool[1:])

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
        for when, action, step, opinion, seconds in events:
            actor = ent_user(f) if action == "submit" else actor_of(f, step)
            action_rows.append(("filing", f["id"], step, actor, action, opinion, when, seconds))
            if action != "submit":
                f.setdefault("actors", {})[(step, when)] = actor
    w.write("zs_project", ["id", "organisation_id", "created_by_id", "created_at"], project_rows)
    w.write(
        "zs_filing",
        [
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
        ],
        filing_rows,
    )
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
    sg_id0 = _next_id(conn, "zs_signing")
    pd_rows, sg_rows = [], []
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
                institution = rng.choice(institutions)
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
        sg_rows.append((sg_id0 + i, f["project_id"], "pending", completed_at))
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
    w.write("zs_signing", ["id", "project_id", "status", "created_at"], sg_rows)
    del pd_rows, sg_rows

    # --- notifications ---------------------------------------------------------------------------------
    t0n = time.perf_counter()
    notes = []  # (user_id, kind, text, link, is_read, created_at, send_sms, delivered_at, subject_type, subject_id, step, closed_at)
    reminders = []
    week_ago = now - dt.timedelta(days=7)

    def read_p(created, base):
        return rng.random() < (base if created < week_ago else base * 0.6)

    def note(uid, kind, text_, link, is_read, created, sms=True, subject=(None, None, None, None)):
        """One zs_notification row: SMS-sent ones were delivered seconds later; a 待办 names its (record, step)."""
        delivered = created + dt.timedelta(seconds=rng.randint(1, 20)) if sms else None
        return (uid, kind, text_, link, is_read, created, sms, delivered, *subject)

    for f in fl:
        if not f["entries"]:
            continue
        title = T["title"].replace("\x00", f["project_name"])
        review_link = f"/review/filing/{f['id']}"
        tid = towns[orgs[f["org"]][3]].id
        actors = f.get("actors", {})
        for step, entered, left in f["entries"]:
            pool = reviewers["town"][tid] if step == "town" else reviewers[step]
            acted_by = actors.get((step, left)) if left else None
            text_ = T["todo"].replace("\x01", title).replace("\x02", labels[step])
            created = entered + dt.timedelta(milliseconds=rng.randint(5, 900))
            for uid in pool:
                is_read = (uid == acted_by or rng.random() < 0.85) if left else rng.random() < 0.35
                notes.append(
                    note(uid, "todo", text_, review_link, is_read, created, True, ("filing", f["id"], step, left))
                )
            lapse = entered + dt.timedelta(seconds=deadline[step])
            if (left or now) > lapse:
                when = lapse + dt.timedelta(seconds=rng.uniform(0, 3600))
                if when < now:
                    reminders.append(("filing", f["id"], step, entered, when))
                    text_ = T["overdue"].replace("\x01", title).replace("\x02", labels[step])
                    for uid in pool:
                        is_read = (rng.random() < 0.9) if left else rng.random() < 0.3
                        notes.append(
                            note(uid, "todo", text_, review_link, is_read, when, True, ("filing", f["id"], step, left))
                        )
        owner = ent_user(f)
        for when, action, step, opinion, _sec in f["events"]:
            if action == "submit":
                continue
            outcome = T[action].replace("\x02", labels[step]).replace("\x04", opinion or "")
            text_ = T["review"].replace("\x01", title).replace("\x03", outcome)
            created = when + dt.timedelta(milliseconds=rng.randint(5, 900))
            notes.append(note(owner, "review", text_[:500], f"/filing/{f['id']}", read_p(created, 0.92), created))
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
    # trimming (sizes below what the histories imply): drop read notes of non-demo users first
    if len(notes) > notifications:
        demo_ids = {primary["third_party"], primary["city"]} | set(primary["town"].values())
        drop = len(notes) - notifications
        keys = [(n[0] in demo_ids, not n[4], rng.random()) for n in notes]
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
    _write_products(w, conn, rng, now, products, towns)
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
        "zs_notification",
        "zs_review_reminder",
        "zs_message",
    ]
    w.bump_sequences(tables)
    t0 = time.perf_counter()
    session.commit()
    echo(f"commit: {_ms(t0)}")
    if vacuum and w.pg:
        t0 = time.perf_counter()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as ac:
            for table in tables + ["zs_filing_counter"]:
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
    """`count` products of count // 10 providers (new organisations), in every state, with codes for the
    ones approved once and prices in 万元 with up to 4 places (Decimal)."""
    if count <= 0:
        return
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
                rng.random() < 0.5,
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
