"""Issue 8, "filing & review input" and "Scope": bad input to 项目备案, the review opinion and the institution's
score ends in a Chinese message beside the field (or a flash), never a 500, and nothing typed is lost; the
enterprise's identity (name, credit code, town) comes from its organisation, never from the filing form."""

import io
import re

import pytest
from conftest import csrf_from, login
from helpers import error_of, page
from helpers_review import (
    PDF_BYTES,
    actions_of,
    client_for,
    filing_state,
    flashes,
    make_filing,
    notes_of,
    post_info_change,
)
from test_filing import filing_form, new_filing, post_form

from zsdx.extensions import db
from zsdx.models import Filing, FilingRevision, InfoChangeRequest, Organisation, PreDiagnosis, Project, Town

CJK = re.compile(r"[\u4e00-\u9fff]")


def _cjk(text):
    return bool(text and CJK.search(text))


def _filing(app, pk):
    with app.app_context():
        return db.session.get(Filing, pk)


def _town_id(app, code):
    with app.app_context():
        return db.session.query(Town.id).filter_by(code=code).scalar()


# --- 1. numbers that do not fit their columns, control characters in text ------------------------------
@pytest.mark.parametrize(
    "field,value",
    [
        ("employees_total", "99999999999"),
        ("employees_total", "2147483648"),
        ("employees_digital", "-2147483649"),
        ("employees_total", "１２０"),  # full-width digits: int() would take them
        ("employees_total", "1_000"),
        ("planned_investment", "1e20"),
        ("planned_investment", "9999999999999.99"),
        ("planned_investment", "1000000000000"),
        ("planned_investment", "NaN"),
        ("planned_investment", "sNaN"),
        ("planned_investment", "Infinity"),
        ("planned_investment", "-Infinity"),
        ("planned_investment", "1e999999"),
        ("planned_investment", "80.555"),
    ],
)
@pytest.mark.parametrize("action", ["save", "submit"])
def test_out_of_column_numbers_are_refused_beside_the_field_and_the_rest_is_saved(
    app, client, login_as, field, value, action
):
    login_as("企业")
    pk = new_filing(client)
    resp = post_form(client, pk, action, filing_form(app, project_name="保存其余字段", **{field: value}))
    assert resp.status_code == 200
    assert _cjk(error_of(resp, field)), error_of(resp, field)
    f = _filing(app, pk)
    assert f.status == "draft" and getattr(f, field) is None
    assert f.project_name == "保存其余字段" and f.ent_address == "中山市小榄镇工业大道1号"  # the rest was saved
    assert value in resp.get_data(as_text=True)  # what was typed is shown again to correct it


def test_the_largest_values_that_fit_are_kept(app, client, login_as):
    login_as("企业")
    pk = new_filing(client)
    data = filing_form(app, employees_total="2147483647", employees_digital="12", planned_investment="999999999999.99")
    assert post_form(client, pk, "save", data).status_code == 302
    f = _filing(app, pk)
    assert f.employees_total == 2147483647 and str(f.planned_investment) == "999999999999.99"


TEXT_FIELDS = [
    "ent_address",
    "ent_description",
    "project_name",
    "project_summary",
    "build_address",
    "intended_industry_provider",
    "intended_scenario_provider",
]


@pytest.mark.parametrize("field", TEXT_FIELDS)
@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f", "\x85"])
def test_control_characters_in_a_text_field_are_refused_beside_it(app, client, login_as, field, char):
    login_as("企业")
    pk = new_filing(client)
    others = {"project_name": "保存其余字段"} if field != "project_name" else {"build_address": "保存其余字段"}
    resp = post_form(client, pk, "save", filing_form(app, **others, **{field: f"前{char}后"}))
    assert resp.status_code == 200
    assert "控制字符" in error_of(resp, field)
    f = _filing(app, pk)
    assert getattr(f, field) is None  # not saved with the control character
    saved = f.project_name if field != "project_name" else f.build_address
    assert saved == "保存其余字段"


@pytest.mark.parametrize("field", ["ent_address", "project_name"])
@pytest.mark.parametrize("char", ["\t", "\n", "\r"])
def test_single_line_fields_refuse_tab_and_line_breaks(app, client, login_as, field, char):
    login_as("企业")
    pk = new_filing(client)
    resp = post_form(client, pk, "save", filing_form(app, **{field: f"前{char}后"}))
    assert resp.status_code == 200 and "控制字符" in error_of(resp, field)


def test_multi_line_fields_keep_tab_and_line_breaks(app, client, login_as):
    login_as("企业")
    pk = new_filing(client)
    data = filing_form(app, ent_description="第一行\r\n第二行\t末尾", project_summary="一\n二")
    assert post_form(client, pk, "save", data).status_code == 302
    f = _filing(app, pk)
    assert "第二行\t末尾" in f.ent_description and f.project_summary == "一\n二"


def test_an_overlong_text_is_refused_in_chinese(app, client, login_as):
    login_as("企业")
    pk = new_filing(client)
    resp = post_form(client, pk, "save", filing_form(app, project_name="长" * 201, build_address="保存其余字段"))
    assert resp.status_code == 200 and _cjk(error_of(resp, "project_name"))
    f = _filing(app, pk)
    assert f.project_name is None and f.build_address == "保存其余字段"


def test_every_form_refuses_control_characters(app, factory):
    """The shared form layer: the 企业信息变更 form (another screen) refuses a NUL beside the field too."""
    ent = factory.enterprise_user("2010")
    ec = client_for(app, ent)
    resp = post_info_change(
        ec, name="中山市\x00有限公司", credit_code=factory.credit_code(), town_id=_town_id(app, "2010")
    )
    assert resp.status_code == 200 and "控制字符" in error_of(resp, "name")
    with app.app_context():
        assert db.session.query(InfoChangeRequest).filter_by(organisation_id=ent["org_id"]).count() == 0


# --- 2. the review opinion -------------------------------------------------------------------------------
def _return(client, pk, opinion):
    html = client.get(f"/review/filing/{pk}").get_data(as_text=True)
    return client.post(
        f"/review/filing/{pk}/act", data={"csrf_token": csrf_from(html), "action": "return", "opinion": opinion}
    )


@pytest.mark.parametrize(
    "opinion,message",
    [("请" * 501, "不能超过500"), ("请补充\x00材料", "控制字符"), ("请补充\x1b材料", "控制字符")],
)
def test_a_bad_opinion_is_refused_on_the_review_page_and_nothing_changes(app, factory, opinion, message):
    ent = factory.enterprise_user("2010")
    pk = make_filing(app, ent, step="third_party")
    before, actions = filing_state(app, pk), actions_of(app, pk)
    tc = client_for(app, factory.user("第三方"))
    resp = _return(tc, pk, opinion)
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/review/filing/{pk}")
    assert any(message in f for f in flashes(tc, f"/review/filing/{pk}"))
    assert filing_state(app, pk) == before and actions_of(app, pk) == actions
    assert notes_of(app, ent, kind="review") == []


def test_a_long_opinion_within_the_limit_returns_and_the_notification_is_cut(app, factory):
    ent = factory.enterprise_user("2010")
    pk = make_filing(app, ent, step="third_party")
    tc = client_for(app, factory.user("第三方"))
    opinion = "请补充材料。\n" * 70  # 490 characters: with the notification's own words it passes 500
    assert _return(tc, pk, opinion).status_code == 302
    assert filing_state(app, pk)["status"] == "returned"
    assert actions_of(app, pk)[-1][3] == opinion.strip()
    (note,) = notes_of(app, ent, kind="review")
    assert len(note["text"]) <= 500 and note["text"].endswith("…")


def test_bulk_approve_with_a_bad_opinion_approves_nothing(app, factory):
    ent = factory.enterprise_user("2010")
    pk = make_filing(app, ent, step="third_party")
    before = filing_state(app, pk)
    tc = client_for(app, factory.user("第三方"))
    html = tc.get("/review/?subject=filing").get_data(as_text=True)
    resp = tc.post(
        "/review/bulk",
        data={"csrf_token": csrf_from(html), "subject": "filing", "ids": [str(pk)], "opinion": "同意\x00"},
    )
    assert resp.status_code == 302
    assert any("控制字符" in f for f in flashes(tc, resp.headers["Location"]))
    assert filing_state(app, pk) == before and actions_of(app, pk) == []


# --- 3. the institution's score -------------------------------------------------------------------------
def _institution_task(app, factory):
    inst = factory.org("institution", "2001", institution_type="diagnostic")
    ent = factory.user("企业", org=factory.org("enterprise", "2010"))
    with app.app_context():
        project = Project(organisation_id=ent["org_id"], created_by_id=ent["id"])
        record = PreDiagnosis(project=project, organisation_id=ent["org_id"], method="institution", institution_id=inst)
        db.session.add_all([project, record])
        db.session.commit()
        pk = record.id
    return pk, client_for(app, factory.user("评估机构", org=inst))


@pytest.mark.parametrize("score", ["NaN", "sNaN", "Infinity", "-Infinity", "1e999", "100.01", "-1", "45.555", "１０"])
def test_a_bad_score_is_refused_with_a_message(app, factory, score):
    pk, ic = _institution_task(app, factory)
    html = ic.get("/institution/").get_data(as_text=True)
    resp = ic.post(
        f"/institution/{pk}/report",
        data={
            "csrf_token": csrf_from(html),
            "level": "2",
            "score": score,
            "report": (io.BytesIO(PDF_BYTES), "改造前诊断报告.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    assert any("0到100" in f for f in flashes(ic, resp.headers["Location"]))
    with app.app_context():
        record = db.session.get(PreDiagnosis, pk)
        assert record.status == "draft" and record.reported_score is None and record.report_file_id is None


def test_a_score_of_100_with_two_places_is_kept(app, factory):
    pk, ic = _institution_task(app, factory)
    html = ic.get("/institution/").get_data(as_text=True)
    data = {"csrf_token": csrf_from(html), "level": "2", "score": "99.95", "report": (io.BytesIO(PDF_BYTES), "a.pdf")}
    assert ic.post(f"/institution/{pk}/report", data=data, content_type="multipart/form-data").status_code == 302
    with app.app_context():
        assert str(db.session.get(PreDiagnosis, pk).reported_score) == "99.95"


# --- 4. the enterprise's identity comes from its organisation --------------------------------------------
def test_the_filing_form_shows_the_identity_read_only_and_ignores_posted_values(app, factory):
    """A 小榄 enterprise cannot file with 石岐 (nor under another name or credit code) and be reviewed there."""
    ent = factory.enterprise_user("2010")
    ec = client_for(app, ent)
    with app.app_context():
        org = db.session.get(Organisation, ent["org_id"])
        identity = (org.name, org.credit_code, org.town_id)
    pk = new_filing(ec)
    doc = page(ec.get(f"/filing/{pk}/edit"))
    assert doc.xpath('//input[@id="ent_name"]')[0].get("readonly") is not None
    assert doc.xpath('//input[@id="ent_credit_code"]')[0].get("readonly") is not None
    assert doc.xpath('//select[@id="town_id"]')[0].get("disabled") is not None
    assert doc.xpath('//select[@id="town_id"]/option[@selected]')[0].get("value") == str(identity[2])
    shiqi = _town_id(app, "2001")
    forged = dict(ent_name="冒名公司", ent_credit_code=factory.credit_code(), town_id=str(shiqi))
    assert post_form(ec, pk, "save", filing_form(app, **forged)).status_code == 302
    resp = post_form(ec, pk, "submit", _with_file(filing_form(app, project_name="小榄的项目", **forged)))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    f = _filing(app, pk)
    assert (f.ent_name, f.ent_credit_code, f.town_id) == identity and f.status == "reviewing"
    # 石岐's reviewer neither sees nor reviews it; 小榄's does
    shiqi_reviewer = client_for(app, factory.user("镇街", town_code="2001"))
    assert shiqi_reviewer.get(f"/review/filing/{pk}").status_code == 404
    xiaolan_reviewer = client_for(app, factory.user("镇街", town_code="2010"))
    assert xiaolan_reviewer.get(f"/review/filing/{pk}").status_code == 200


def _with_file(data):
    return dict(data, authorization_file=(io.BytesIO(PDF_BYTES), "授权委托书.pdf"))


def _approve_info_change(app, factory, ent, town_code):
    """The enterprise asks for a new name and town through 企业信息变更, and 市工信 approves it."""
    new = {
        "name": "中山市迁址后科技有限公司",
        "credit_code": factory.credit_code(),
        "town_id": _town_id(app, town_code),
    }
    resp = post_info_change(client_for(app, ent), **new)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    with app.app_context():
        req = db.session.query(InfoChangeRequest).filter_by(organisation_id=ent["org_id"]).one().id
    cc = client_for(app, factory.user("市工信"))
    html = cc.get(f"/review/info_change/{req}").get_data(as_text=True)
    resp = cc.post(
        f"/review/info_change/{req}/act", data={"csrf_token": csrf_from(html), "action": "approve", "opinion": "同意"}
    )
    assert resp.status_code == 302
    return new


def _filed(app, ent, project_name=None):
    """A filing of `ent` that is 已备案 (done, at no step): its id and its identity (name, credit code, town)."""
    pk = make_filing(app, ent, step="city", project_name=project_name)
    with app.app_context():
        f = db.session.get(Filing, pk)
        f.status, f.current_step = "done", None
        db.session.commit()
        return pk, (f.ent_name, f.ent_credit_code, f.town_id)


def test_an_approved_info_change_moves_unfinished_filings_and_keeps_filed_ones(app, factory):
    ent = factory.enterprise_user("2010")
    draft = make_filing(app, ent, step=None)
    reviewing = make_filing(app, ent, step="town")
    done, old = _filed(app, ent)
    new = _approve_info_change(app, factory, ent, "2001")
    for pk in (draft, reviewing):
        f = _filing(app, pk)
        assert (f.ent_name, f.ent_credit_code, f.town_id) == (new["name"], new["credit_code"], new["town_id"])
    f = _filing(app, done)
    assert (f.ent_name, f.ent_credit_code, f.town_id) == old  # filed: the 备案号 embeds the old town
    # the filing under review now waits for its new town's reviewer
    assert client_for(app, factory.user("镇街", town_code="2001")).get(f"/review/filing/{reviewing}").status_code == 200
    assert client_for(app, factory.user("镇街", town_code="2010")).get(f"/review/filing/{reviewing}").status_code == 404


def test_a_change_of_a_filed_filing_keeps_its_identity_and_tells_the_town_and_city(app, factory):
    ent = factory.enterprise_user("2010")
    pk, identity = _filed(app, ent, project_name="已备案的项目")
    town, other_town, city = (
        factory.user("镇街", town_code="2010"),
        factory.user("镇街", town_code="2001"),
        factory.user("市工信"),
    )
    ec = client_for(app, ent)
    html = ec.get(f"/filing/{pk}/change").get_data(as_text=True)
    doc = page(ec.get(f"/filing/{pk}/change"))
    assert doc.xpath('//input[@id="ent_name"]')[0].get("readonly") is not None
    data = filing_form(
        app,
        ent_name="改名公司",
        ent_credit_code=factory.credit_code(),
        town_id=str(_town_id(app, "2001")),
        ent_address="中山市测试路1号",
        build_address="中山市测试路1号",
        project_name="已备案的项目",
        planned_investment="60",
        csrf_token=csrf_from(html),
        action="save",
    )
    resp = ec.post(f"/filing/{pk}/change", data=data)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    f = _filing(app, pk)
    assert (f.ent_name, f.ent_credit_code, f.town_id) == identity and str(f.planned_investment) == "60.00"
    with app.app_context():
        changes = [r.changes for r in db.session.query(FilingRevision).filter_by(filing_id=pk)]
    assert len(changes) == 1 and "planned_investment" in changes[0] and "ent_name" not in changes[0]
    for user in (town, city):
        (note,) = notes_of(app, user, kind="review", link=f"/filing/{pk}")
        assert "已备案的项目" in note["text"] and "计划" in note["text"]
        assert client_for(app, user).get(f"/filing/{pk}").status_code == 200  # the link opens
    assert notes_of(app, other_town, link=f"/filing/{pk}") == []


def test_a_refused_change_of_a_filed_filing_writes_nothing(app, factory):
    ent = factory.enterprise_user("2010")
    pk, _identity = _filed(app, ent, project_name="已备案的项目")
    before = filing_state(app, pk)
    city = factory.user("市工信")
    ec = client_for(app, ent)
    html = ec.get(f"/filing/{pk}/change").get_data(as_text=True)
    data = filing_form(
        app, project_name="改\x00名", planned_investment="NaN", csrf_token=csrf_from(html), action="save"
    )
    resp = ec.post(f"/filing/{pk}/change", data=data)
    assert resp.status_code == 200
    assert "控制字符" in error_of(resp, "project_name") and _cjk(error_of(resp, "planned_investment"))
    assert filing_state(app, pk) == before and notes_of(app, city, link=f"/filing/{pk}") == []
    with app.app_context():
        assert db.session.query(FilingRevision).filter_by(filing_id=pk).count() == 0


def test_new_filing_takes_the_identity_of_the_organisation(app, client, factory):
    ent = factory.enterprise_user("2021")
    login(client, ent)
    pk = new_filing(client)
    with app.app_context():
        org = db.session.get(Organisation, ent["org_id"])
        f = db.session.get(Filing, pk)
        assert (f.ent_name, f.ent_credit_code, f.town_id) == (org.name, org.credit_code, org.town_id)


def test_a_filing_waiting_at_the_town_step_moves_its_to_do_with_the_town(app, factory):
    """The old town's reviewer is no longer asked (its 待办 closes); the new town's reviewer is."""
    from helpers_review import make_town

    from zsdx.models import ZsdxUser
    from zsdx.workflow import submit_record

    old_town, new_town = make_town(app), make_town(app)
    ent = factory.user("企业", org=factory.org("enterprise", old_town["code"]))
    old_reviewer = factory.user("镇街", town_code=old_town["code"])
    new_reviewer = factory.user("镇街", town_code=new_town["code"])
    pk = make_filing(app, ent, step=None)
    with app.app_context():
        submit_record(db.session.get(Filing, pk), db.session.get(ZsdxUser, ent["id"]))
    link = f"/review/filing/{pk}"
    assert [n["is_read"] for n in notes_of(app, old_reviewer, "todo", link)] == [False]
    _approve_info_change(app, factory, ent, new_town["code"])
    assert [n["is_read"] for n in notes_of(app, old_reviewer, "todo", link)] == [True]
    assert [n["is_read"] for n in notes_of(app, new_reviewer, "todo", link)] == [False]
