"""Roles and permissions sync, reference data, the demo registry and the demo accounts. All idempotent."""

import csv
import logging
import os

from flask import current_app

from . import roles as R
from .creditcode import is_valid_credit_code, normalise
from .data.reference import COMPREHENSIVE_INSTITUTIONS, INDUSTRIES, PRODUCT_CATEGORIES, TOWNS
from .extensions import appbuilder, db
from .models import (
    Announcement,
    Industry,
    InstitutionType,
    Organisation,
    OrgKind,
    ProductCategory,
    RegistryEntry,
    Town,
    ZsdxUser,
)
from .roles import PUBLIC_MENUS, ROLES
from .security import placeholder_email

log = logging.getLogger(__name__)
DATA_DIR = os.path.join(os.path.dirname(__file__), "data")
DEMO_PASSWORD = "Zsdx@2026"


# --- roles and permissions --------------------------------------------------------------------------
def init_security():
    """FAB-NOTES P12: builtin roles and permissions are created here, after `flask db upgrade`."""
    sm = appbuilder.sm
    # Builtin roles (Admin, Public) and every view/menu permission, Admin getting them all.
    _fab_create_roles(sm)
    appbuilder.add_permissions(update_perms=True)
    all_pvs = db.session.query(sm.permissionview_model).all()
    admin = sm.find_role(current_app.config["AUTH_ROLE_ADMIN"])
    for pv in all_pvs:
        if pv not in admin.permissions:
            admin.permissions.append(pv)
    for role_name, spec in list(ROLES.items()) + [
        (current_app.config["AUTH_ROLE_PUBLIC"], {"views": [], "menus": PUBLIC_MENUS})
    ]:
        role = sm.find_role(role_name) or sm.add_role(role_name)
        whole = {v for v in spec["views"] if isinstance(v, str)}
        partial = {v[0]: set(v[1]) for v in spec["views"] if not isinstance(v, str)}
        wanted = [
            pv
            for pv in all_pvs
            if pv.view_menu.name in whole
            or pv.permission.name in partial.get(pv.view_menu.name, ())
            or (pv.permission.name == "menu_access" and pv.view_menu.name in spec["menus"])
        ]
        role.permissions = wanted
    db.session.commit()


def _fab_create_roles(sm):
    from flask_appbuilder.security.manager import BaseSecurityManager

    BaseSecurityManager.create_db(sm)


# --- reference data ---------------------------------------------------------------------------------
def seed_reference():
    towns = {t.code: t for t in db.session.query(Town)}
    for sort, (code, name) in enumerate(TOWNS, start=1):
        if code not in towns:
            db.session.add(Town(code=code, name=name, sort=sort))
    have = {i.name for i in db.session.query(Industry)}
    for sort, name in enumerate(INDUSTRIES, start=1):
        if name not in have:
            db.session.add(Industry(name=name, sort=sort))
    for l1, children in PRODUCT_CATEGORIES.items():
        p1 = _category(l1, 1, None)
        for l2, leaves in children.items():
            p2 = _category(l2, 2, p1)
            for l3 in leaves:
                _category(l3, 3, p2)
    for name in COMPREHENSIVE_INSTITUTIONS:
        if not db.session.query(Organisation).filter_by(kind=OrgKind.INSTITUTION, name=name).first():
            db.session.add(
                Organisation(kind=OrgKind.INSTITUTION, name=name, institution_type=InstitutionType.COMPREHENSIVE)
            )
    db.session.commit()


def _category(name, level, parent):
    row = db.session.query(ProductCategory).filter_by(name=name, parent_id=parent.id if parent else None).first()
    if row is None:
        row = ProductCategory(name=name, level=level, parent=parent)
        db.session.add(row)
        db.session.flush()
    return row


def load_registry(path):
    """Load (upsert by credit code) a registry CSV: name, credit_code, town_code[, legal_representative, address].

    Returns (loaded, rejected) where rejected lists (line, reason)."""
    towns = {t.code: t.id for t in db.session.query(Town)}
    loaded, rejected = 0, []
    with open(path, newline="", encoding="utf-8-sig") as fh:
        for lineno, row in enumerate(csv.DictReader(fh), start=2):
            code = normalise(row.get("credit_code"))
            name = (row.get("name") or "").strip()
            if not name or not is_valid_credit_code(code):
                rejected.append((lineno, "invalid name or credit code"))
                continue
            entry = db.session.query(RegistryEntry).filter_by(credit_code=code).first() or RegistryEntry(
                credit_code=code
            )
            entry.name = name
            entry.town_id = towns.get((row.get("town_code") or "").strip())
            entry.legal_representative = (row.get("legal_representative") or "").strip() or None
            entry.address = (row.get("address") or "").strip() or None
            db.session.add(entry)
            loaded += 1
    db.session.commit()
    return loaded, rejected


# --- demo accounts ----------------------------------------------------------------------------------
# (role, phone, display name, organisation or town)
DEMO_USERS = [
    (R.ADMIN, "13800000000", "平台管理员", None),
    (R.ENTERPRISE, "13800000001", "示例企业联系人", ("enterprise", "中山市示例智能制造有限公司")),
    (R.PROVIDER, "13800000002", "示例服务商联系人", ("provider", "中山市数智云服务有限公司")),
    (R.INSTITUTION, "13800000003", "信通院评估员", ("institution", "中国信息通信研究院")),
    (R.TOWN, "13800000004", "小榄镇审核员", ("town", "2010")),
    (R.TOWN, "13800000005", "石岐街道审核员", ("town", "2001")),
    (R.THIRD_PARTY, "13800000006", "第三方初审员", None),
    (R.EXPERT, "13800000007", "验收专家", None),
    # 项目入库's expert step is a countersign: 市工信 assigns one or more 验收专家 and each must agree
    (R.EXPERT, "13800000009", "验收专家二", None),
    (R.CITY, "13800000008", "中山市工信管理员01", ("government", "中山市工业和信息化局")),
]


def _demo_org(kind, name):
    if kind == "enterprise":
        reg = db.session.query(RegistryEntry).filter_by(name=name).first()
        org = db.session.query(Organisation).filter_by(credit_code=reg.credit_code).first() if reg else None
        if org is None:
            org = Organisation(
                kind=OrgKind.ENTERPRISE,
                name=name,
                credit_code=reg.credit_code if reg else None,
                town_id=reg.town_id if reg else None,
                industry=db.session.query(Industry).first(),
                contact_name="示例企业联系人",
                contact_phone="13800000001",
            )
            db.session.add(org)
        return org
    org = db.session.query(Organisation).filter_by(name=name).first()
    if org is None:
        org = Organisation(name=name, kind=OrgKind.PROVIDER if kind == "provider" else OrgKind.GOVERNMENT)
        if kind == "provider":
            org.credit_code = "91442000MA4UDEMX1" + _check("91442000MA4UDEMX1")
            org.is_industry_provider = org.is_scenario_provider = org.is_ecosystem_provider = True
            org.town = db.session.query(Town).filter_by(code="2001").first()
            org.contact_name, org.contact_phone = "示例服务商联系人", "13800000002"
        db.session.add(org)
    return org


def _check(first17):
    from .creditcode import check_char

    return check_char(first17)


def seed_demo(registry_csv=None):
    seed_reference()
    load_registry(registry_csv or os.path.join(DATA_DIR, "registry_demo.csv"))
    sm = appbuilder.sm
    created = []
    for role_name, phone, display, binding in DEMO_USERS:
        if db.session.query(ZsdxUser).filter((ZsdxUser.phone == phone) | (ZsdxUser.username == phone)).first():
            continue
        user = sm.add_user(
            username=phone,
            first_name=display,
            last_name="",
            email=placeholder_email(phone),
            role=sm.find_role(role_name),
            password=DEMO_PASSWORD,
            commit=False,
        )
        user.phone = phone
        if binding:
            kind, value = binding
            if kind == "town":
                user.town = db.session.query(Town).filter_by(code=value).first()
            else:
                user.organisation = _demo_org(kind, value)
        created.append(phone)
    _demo_products()
    if not db.session.query(Announcement).first():
        db.session.add(
            Announcement(
                title="关于开展中山市中小企业数字化转型城市试点项目备案工作的通知",
                body="各有关企业：中山市中小企业数字化转型城市试点项目管理平台已开放项目备案，"
                "请登录平台【我的工作台】-【项目管理】-【项目备案】发起备案。",
            )
        )
    db.session.commit()
    return created


def _demo_products():
    """The demo provider's catalog: two listed products and one waiting for 市工信 (make run shows them)."""
    import datetime as dt
    from decimal import Decimal

    from .models import Product, ReviewStatus

    provider = db.session.query(ZsdxUser).filter(ZsdxUser.phone == "13800000002").first()
    if provider is None or provider.organisation_id is None:
        return
    db.session.flush()
    if db.session.query(Product.id).filter(Product.organisation_id == provider.organisation_id).first():
        return
    now = dt.datetime.now()
    for code, name, scenarios, price, status in (
        ("P240901000001", "数智MES云平台", "S6,S7", Decimal("10.8000"), ReviewStatus.DONE),
        ("P240901000002", "设备联网与能耗管理系统", "S8,S10", Decimal("12.6000"), ReviewStatus.DONE),
        (None, "智能仓储WMS实施服务", "S12", Decimal("8.5000"), ReviewStatus.REVIEWING),
    ):
        db.session.add(
            Product(
                organisation_id=provider.organisation_id,
                code=code,
                name=name,
                category="software",
                scenarios=scenarios,
                max_price=price,
                listed_price=price if code else None,
                purchase_mode="yearly",
                price_note="不包含实施费、人工费、培训费、维保费",
                status=status,
                current_step="city" if status == ReviewStatus.REVIEWING else None,
                submitted_at=now,
                step_entered_at=now if status == ReviewStatus.REVIEWING else None,
                completed_at=now if code else None,
            )
        )


def sample_filing(org, user_id, step=None, project_name="示例项目", entered=None):
    """A complete filing of `org` (added to the session, not committed), waiting at `step` (None: a draft):
    the one shape of a realistic filing that tests, the query-count script and demos share."""
    import datetime as dt
    from decimal import Decimal

    from .models import Filing, ProductCategory, Project, ReviewStatus

    now = dt.datetime.now()
    leaf = db.session.query(ProductCategory.id).filter_by(level=3).order_by(ProductCategory.id).first()[0]
    project = Project(organisation_id=org.id, created_by_id=user_id)
    filing = Filing(
        project=project,
        organisation_id=org.id,
        ent_name=org.name,
        ent_credit_code=org.credit_code,
        town_id=org.town_id,
        industry_id=org.industry_id or 1,
        ent_nature="private",
        ent_category="above",
        ent_scale="small",
        product_category_id=leaf,
        quality_levels="innovative",
        ent_address="中山市示例路1号",
        employees_total=100,
        employees_digital=10,
        ent_description="五金制品",
        project_name=project_name,
        project_summary="建设MES",
        build_address="中山市示例路1号",
        planned_investment=Decimal(50),
        start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 6, 30),
        target_level="3",
        diagnosis_method="self",
        intended_industry_provider="服务商甲",
        intended_scenario_provider="服务商乙",
        chain_leader=False,
        status=ReviewStatus.DRAFT if step is None else ReviewStatus.REVIEWING,
        current_step=step,
        submitted_at=None if step is None else now,
        step_entered_at=None if step is None else (entered or now),
    )
    db.session.add_all([project, filing])
    return filing
