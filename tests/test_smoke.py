from conftest import login


def test_enterprise_logs_in_and_sees_workbench(client, factory):
    user = factory.enterprise_user()
    resp = login(client, user)
    assert resp.headers["Location"].endswith("/workbench/")
    page = client.get("/workbench/")
    assert page.status_code == 200
