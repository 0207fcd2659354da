"""留言板: an enterprise writes, 市工信 is told and answers, the enterprise sees the unread reply."""

from conftest import csrf_from, login
from helpers_review import client_for

from zsdx.extensions import db
from zsdx.models import Message, Notification


def test_message_board_round_trip(app, client, factory):
    ent = factory.enterprise_user()
    city = factory.user("市工信")
    login(client, ent)
    page = client.get("/messages/").get_data(as_text=True)
    assert client.post("/messages/", data={"csrf_token": csrf_from(page), "body": "请问入库时间？"}).status_code == 302
    with app.app_context():
        assert db.session.query(Notification).filter_by(user_id=city["id"], kind="todo").count() >= 1
    cc = client_for(app, city)
    page = cc.get(f"/message-replies/{ent['org_id']}").get_data(as_text=True)
    assert "请问入库时间？" in page
    cc.post(f"/message-replies/{ent['org_id']}", data={"csrf_token": csrf_from(page), "body": "请关注首页公告"})
    assert 'id="unread-messages">1<' in client.get("/workbench/").get_data(as_text=True)
    assert "请关注首页公告" in client.get("/messages/").get_data(as_text=True)
    assert 'id="unread-messages"' not in client.get("/workbench/").get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Message).filter_by(organisation_id=ent["org_id"]).count() == 2


def test_another_enterprise_cannot_read_the_thread(app, client, factory):
    a, b = factory.enterprise_user(), factory.enterprise_user()
    login(client, a)
    page = client.get("/messages/").get_data(as_text=True)
    client.post("/messages/", data={"csrf_token": csrf_from(page), "body": "只给平台看"})
    other = client_for(app, b)
    assert "只给平台看" not in other.get("/messages/").get_data(as_text=True)
    assert other.get(f"/message-replies/{a['org_id']}").status_code != 200
