"""Every scope from the attacker's side, through the engine (may act, the queue clause, visibility, who is
told) and through HTTP; and a chain naming an unknown scope, role, label or guard stops start-up."""

import os
import subprocess
import sys

import pytest
from conftest import _TMP
from helpers_review import act_http, client_for, make_filing, make_town, queue_ids
from test_review_security import api_client

from zsdx.extensions import db
from zsdx.models import Filing, Organisation, PreDiagnosis, Project, ReviewStatus, ZsdxUser
from zsdx.scopes import SCOPES
from zsdx.visibility import visible
from zsdx.workflow import actionable_clause, can_act, chain_problems, reviewers_of, step_of

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _engine_view(app, user, model, pk):
    """(may act, in the user's queue, visible to the user) of one record, straight from the engine."""
    with app.app_context():
        u = db.session.get(ZsdxUser, user["id"])
        record = db.session.get(model, pk)
        in_queue = db.session.query(model.id).filter(model.id == pk, actionable_clause(model, u)).first() is not None
        seen = visible(model, u).filter(model.id == pk).first() is not None
        return can_act(u, record), in_queue, seen


def _told(app, model, pk):
    with app.app_context():
        record = db.session.get(model, pk)
        return {u.id for u in reviewers_of(record, step_of(record.chain_name, record.current_step))}


def test_town_scope_another_towns_reviewer_is_refused(app, factory):
    t, other = make_town(app), make_town(app)
    ent = factory.user("企业", org=factory.org("enterprise", t["code"]))
    own, foreign = factory.user("镇街", town_code=t["code"]), factory.user("镇街", town_code=other["code"])
    pk = make_filing(app, ent, step="town")
    assert _engine_view(app, own, Filing, pk) == (True, True, True)
    assert _engine_view(app, foreign, Filing, pk) == (False, False, False)
    assert _told(app, Filing, pk) == {own["id"]}
    fc = client_for(app, foreign)
    assert pk not in queue_ids(fc, "/review/?subject=filing")
    assert fc.get(f"/review/filing/{pk}").status_code == 404
    assert act_http(fc, pk, "approve", "同意").status_code == 404
    assert fc.get(f"/filing/{pk}").status_code == 404
    api, headers = api_client(app, foreign)
    assert api.get(f"/api/v1/filing/{pk}", headers=headers).status_code == 404
    with app.app_context():
        assert db.session.get(Filing, pk).current_step == "town"


def test_city_scope_reaches_every_holder_of_the_role_and_no_other_role(app, factory):
    ent = factory.user("企业", org=factory.org("enterprise", "2010"))
    pk = make_filing(app, ent, step="third_party")
    third, town = factory.user("第三方"), factory.user("镇街", town_code="2010")
    assert _engine_view(app, third, Filing, pk) == (True, True, True)
    may, in_queue, _seen = _engine_view(app, town, Filing, pk)
    assert (may, in_queue) == (False, False)  # the town sees its town's filings, but this step is not its own
    assert act_http(client_for(app, town), pk, "approve", "同意").status_code == 302
    with app.app_context():
        assert db.session.get(Filing, pk).current_step == "third_party"


def test_owner_scope_another_enterprise_is_refused(app, factory):
    ent = factory.user("企业", org=factory.org("enterprise", "2010"))
    other = factory.user("企业", org=factory.org("enterprise", "2010"))
    pk = make_filing(app, ent, step=None)
    assert _engine_view(app, ent, Filing, pk)[2] is True
    assert _engine_view(app, other, Filing, pk) == (False, False, False)
    oc = client_for(app, other)
    for url in (f"/filing/{pk}", f"/filing/{pk}/edit", f"/filing/{pk}/file/authorization"):
        assert oc.get(url).status_code == 404, url
    api, headers = api_client(app, other)
    assert api.get(f"/api/v1/filing/{pk}", headers=headers).status_code == 404
    page = oc.get("/workbench/?group=projects&tab=filing").get_data(as_text=True)
    assert f'data-filing="{pk}"' not in page


def _diagnosis(app, ent, institution_id, status=ReviewStatus.REVIEWING):
    with app.app_context():
        project = Project(organisation_id=ent["org_id"], created_by_id=ent["id"])
        record = PreDiagnosis(
            project=project,
            organisation_id=ent["org_id"],
            method="institution",
            institution_id=institution_id,
            status=status,
            current_step="enterprise_confirm" if status == ReviewStatus.REVIEWING else None,
        )
        db.session.add_all([project, record])
        db.session.commit()
        return record.id


def test_institution_scope_another_institution_is_refused(app, factory):
    inst = factory.org("institution", "2001", institution_type="diagnostic")
    other_inst = factory.org("institution", "2001", institution_type="diagnostic")
    ent = factory.user("企业", org=factory.org("enterprise", "2010"))
    mine, theirs = factory.user("评估机构", org=inst), factory.user("评估机构", org=other_inst)
    pk = _diagnosis(app, ent, inst, status=ReviewStatus.DRAFT)
    assert _engine_view(app, mine, PreDiagnosis, pk)[2] is True
    assert _engine_view(app, theirs, PreDiagnosis, pk) == (False, False, False)
    with app.app_context():
        record = db.session.get(PreDiagnosis, pk)
        assert SCOPES["institution"].may_act(db.session.get(ZsdxUser, mine["id"]), record, None, None)
        assert not SCOPES["institution"].may_act(db.session.get(ZsdxUser, theirs["id"]), record, None, None)
    tc = client_for(app, theirs)
    assert f'data-task="{pk}"' not in tc.get("/institution/").get_data(as_text=True)
    assert tc.get(f"/diagnosis/{pk}/report").status_code == 404
    page = tc.get("/institution/").get_data(as_text=True)
    from conftest import csrf_from

    resp = tc.post(f"/institution/{pk}/report", data={"csrf_token": csrf_from(page), "level": "2", "score": "50"})
    assert resp.status_code == 404


def test_owner_step_only_the_owning_enterprise_confirms(app, factory):
    inst = factory.org("institution", "2001", institution_type="diagnostic")
    ent = factory.user("企业", org=factory.org("enterprise", "2010"))
    other = factory.user("企业", org=factory.org("enterprise", "2010"))
    pk = _diagnosis(app, ent, inst)
    assert _engine_view(app, ent, PreDiagnosis, pk)[:2] == (True, True)
    assert _engine_view(app, other, PreDiagnosis, pk) == (False, False, False)
    assert _told(app, PreDiagnosis, pk) == {ent["id"]}
    oc = client_for(app, other)
    assert oc.get(f"/diagnosis/{pk}/report").status_code == 404
    from conftest import csrf_from

    page = oc.get("/workbench/").get_data(as_text=True)
    assert (
        oc.post(f"/diagnosis/{pk}/confirm", data={"csrf_token": csrf_from(page), "decision": "confirm"}).status_code
        == 404
    )
    with app.app_context():
        assert db.session.get(PreDiagnosis, pk).status == ReviewStatus.REVIEWING


@pytest.mark.parametrize(
    "step, expected",
    [
        ({"key": "town", "role": "镇街", "scope": "twon"}, "unknown scope 'twon'"),
        ({"key": "town", "role": "镇长", "scope": "town"}, "unknown role '镇长'"),
        ({"key": "town", "role": "镇街", "scope": "town", "label": "tonw"}, "unknown step label 'tonw'"),
        ({"key": "town", "role": "镇街", "scope": "town", "guards": ["window_opne"]}, "unknown guard 'window_opne'"),
        ({"key": "town", "role": "镇街", "scope": "institution"}, "needs InfoChangeRequest.institution_id"),
    ],
)
def test_a_chain_naming_something_unknown_is_reported(app, step, expected):
    chains = dict(app.config["REVIEW_CHAINS"])
    app.config["REVIEW_CHAINS"] = {**chains, "info_change": [step]}
    try:
        problems = chain_problems(app)
    finally:
        app.config["REVIEW_CHAINS"] = chains
    assert any(expected in p for p in problems), problems


def test_an_unknown_scope_stops_start_up(app):
    """Fail closed: the app does not start at all (a typo must never let any holder of the role act)."""
    code = (
        "from zsdx import create_app\n"
        "import config\n"
        "chains = dict(config.REVIEW_CHAINS)\n"
        "chains['filing'] = [{'key': 'town', 'role': '镇街', 'scope': 'twon'}]\n"
        "create_app({'REVIEW_CHAINS': chains})\n"
        "print('STARTED')\n"
    )
    env = dict(os.environ, DATABASE_URL="sqlite:///" + os.path.join(_TMP, "startup-check.db"), CAPTCHA_ENABLED="0")
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "STARTED" not in result.stdout
    assert "unknown scope 'twon'" in result.stderr


def test_check_chains_lists_records_stranded_at_a_removed_step(app, factory):
    ent = factory.user("企业", org=factory.org("enterprise", "2010"))
    pk = make_filing(app, ent, step="third_party")
    chains = dict(app.config["REVIEW_CHAINS"])
    app.config["REVIEW_CHAINS"] = {**chains, "filing": [s for s in chains["filing"] if s["key"] != "third_party"]}
    try:
        result = app.test_cli_runner().invoke(args=["zsdx", "check-chains"])
    finally:
        app.config["REVIEW_CHAINS"] = chains
    assert result.exit_code == 1
    assert f"filing #{pk} waits at step 'third_party'" in result.output
    assert app.test_cli_runner().invoke(args=["zsdx", "check-chains"]).exit_code in (0, 1)


def test_organisation_rows_are_not_visible_across_tenants(app, factory):
    a = factory.user("企业", org=factory.org("enterprise", "2010"))
    b_org = factory.org("enterprise", "2010")
    with app.app_context():
        user = db.session.get(ZsdxUser, a["id"])
        assert visible(Organisation, user).filter(Organisation.id == b_org).first() is None
        assert visible(Organisation, user).filter(Organisation.id == a["org_id"]).first() is not None
