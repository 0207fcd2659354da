"""项目备案 end to end through the HTTP layer: fill, submit, 镇街 → 第三方 (returns) → resubmit → 市工信."""

import datetime as dt

import pytest
from conftest import csrf_from, login
from helpers_review import client_for

from zsdx.extensions import db
from zsdx.models import Filing, Notification, PreDiagnosis, ProductCategory, ReviewAction, Signing


def _leaf_category(app):
    with app.app_context():
        return db.session.query(ProductCategory.id).filter_by(level=3).first()[0]


def filing_form(app, **over):
    data = {
        "ent_name": "中山市测试制造有限公司",
        "ent_credit_code": "",
        "town_id": "",
        "ent_nature": "private",
        "ent_category": "above",
        "ent_scale": "small",
        "product_category_id": str(_leaf_category(app)),
        "industry_id": "1",
        "quality_levels": ["innovative"],
        "ent_address": "中山市小榄镇工业大道1号",
        "employees_total": "120",
        "employees_digital": "12",
        "ent_description": "主要生产五金制品。",
        "project_name": "数字化车间改造",
        "project_summary": "建设MES系统",
        "build_address": "中山市小榄镇工业大道1号",
        "planned_investment": "80.5",
        "start_date": "2026-01-01",
        "end_date": "2026-09-30",
        "target_level": "3",
        "diagnosis_method": "self",
        "intended_industry_provider": "中山市数智云服务有限公司",
        "intended_scenario_provider": "中山市数智云服务有限公司",
        "chain_leader": "0",
    }
    data.update(over)
    return data


def new_filing(client):
    page = client.get("/workbench/?group=projects&tab=filing").get_data(as_text=True)
    resp = client.post("/filing/new", data={"csrf_token": csrf_from(page)})
    assert resp.status_code == 302
    return int(resp.headers["Location"].rstrip("/").split("/")[-2])


def post_form(client, pk, action, data):
    page = client.get(f"/filing/{pk}/edit").get_data(as_text=True)
    body = dict(data, csrf_token=csrf_from(page), action=action)
    return client.post(f"/filing/{pk}/edit", data=body)


def fill_and_submit(app, client, user, **over):
    pk = new_filing(client)
    with app.app_context():
        f = db.session.get(Filing, pk)
        over.setdefault("ent_credit_code", f.ent_credit_code)
        over.setdefault("town_id", str(f.town_id))
    resp = post_form(client, pk, "submit", filing_form(app, **over))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    return pk


def review(client, pk, action, opinion=""):
    page = client.get(f"/review/filing/{pk}")
    assert page.status_code == 200
    return client.post(
        f"/review/filing/{pk}/act",
        data={"csrf_token": csrf_from(page.get_data(as_text=True)), "action": action, "opinion": opinion},
    )


def test_save_keeps_draft_without_validation(app, client, login_as):
    login_as("企业")
    pk = new_filing(client)
    resp = post_form(client, pk, "save", {"project_name": "只填了名称"})
    assert resp.status_code == 302
    with app.app_context():
        f = db.session.get(Filing, pk)
        assert f.project_name == "只填了名称" and f.status == "draft"


def test_submit_names_each_missing_field(app, client, login_as):
    login_as("企业")
    pk = new_filing(client)
    resp = post_form(client, pk, "submit", {"project_name": "缺项目"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert (
        'id="missing-list"' in html and 'data-field="ent_nature"' in html and 'data-field="planned_investment"' in html
    )
    with app.app_context():
        f = db.session.get(Filing, pk)
        assert f.status == "draft" and f.project_name == "缺项目"  # what was typed is kept


def test_full_chain_with_return_and_resubmission(app, client, factory):
    ent = factory.enterprise_user("2010")
    town = factory.user("镇街", town_code="2010")
    third = factory.user("第三方")
    city = factory.user("市工信")
    login(client, ent)
    pk = fill_and_submit(app, client, ent)
    with app.app_context():
        assert db.session.get(Filing, pk).current_step == "town"
    for reviewer, action, opinion in ((town, "approve", "同意"), (third, "return", "请补充项目简介")):
        c = client_for(app, reviewer)
        assert review(c, pk, action, opinion).status_code == 302
    with app.app_context():
        f = db.session.get(Filing, pk)
        assert f.status == "returned" and f.return_step == "third_party"
        texts = [n.text for n in db.session.query(Notification).filter_by(user_id=ent["id"], kind="review")]
        assert any("请补充项目简介" in t for t in texts)
    # the enterprise edits and resubmits: it re-enters at 第三方, not at 镇街
    resp = post_form(
        client,
        pk,
        "submit",
        filing_form(
            app, ent_credit_code=f.ent_credit_code, town_id=str(f.town_id), project_summary="建设MES系统并打通ERP"
        ),
    )
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.get(Filing, pk).current_step == "third_party"
    for reviewer in (third, city):
        c = client_for(app, reviewer)
        assert review(c, pk, "approve", "同意").status_code == 302
    with app.app_context():
        f = db.session.get(Filing, pk)
        assert f.status == "done"
        assert f.filing_no and len(f.filing_no) == 13 and f.filing_no[6:10] == "2010"
        assert f.filing_no[:6] == dt.date.today().strftime("%y%m%d")
        assert (
            db.session.query(PreDiagnosis).filter_by(project_id=f.project_id, status="draft", method="self").count()
            == 1
        )
        assert db.session.query(Signing).filter_by(project_id=f.project_id, status="pending").count() == 1
        actions = [a.action for a in db.session.query(ReviewAction).filter_by(subject_type="filing", subject_id=pk)]
        assert actions == ["submit", "approve", "return", "submit", "approve", "approve"]
    detail = client.get(f"/filing/{pk}").get_data(as_text=True)
    assert f.filing_no in detail and "请补充项目简介" in detail


@pytest.mark.parametrize(
    "field,value", [("employees_digital", "500"), ("end_date", "2025-01-01"), ("planned_investment", "0")]
)
def test_cross_field_rules_refuse_submission(app, client, login_as, field, value):
    login_as("企业")
    pk = new_filing(client)
    with app.app_context():
        f = db.session.get(Filing, pk)
        code, town = f.ent_credit_code, str(f.town_id)
    resp = post_form(client, pk, "submit", filing_form(app, ent_credit_code=code, town_id=town, **{field: value}))
    assert resp.status_code == 200
    assert f'id="{field}-error"></span>' not in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Filing, pk).status == "draft"
