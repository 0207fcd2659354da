"""Admin 角色列表 (zsdx/views/admin.py ZsdxRoleModelView): Chinese role and permission names, grouped by screen."""

import re

from helpers import page


def _role_pk(app, name):
    from zsdx.extensions import appbuilder

    with app.app_context():
        return appbuilder.sm.find_role(name).id


def test_role_list_shows_permissions_in_chinese_grouped_by_screen(client, login_as):
    login_as("Admin")
    resp = client.get("/roles/list/?psize_ZsdxRoleModelView=100")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "can_" not in html
    assert "menu_access" not in html
    doc = page(resp)
    headers = [th.text_content().strip() for th in doc.xpath("//table//th")]
    assert "角色名称" in headers and "姓名" not in headers
    cells = [td.text_content().strip() for td in doc.xpath("//table//td")]
    assert "平台管理员" in cells and "公开访问" in cells
    assert "Admin" not in cells and "Public" not in cells
    groups = [li.text_content() for li in doc.xpath('//ul[@class="zs-perm-groups"]/li')]
    assert any(re.fullmatch(r"我的工作台：菜单、访问(、.+)?", g) for g in groups), groups[:20]
    assert any(g.startswith("角色列表：") and "列表" in g for g in groups)
    # every screen has a Chinese name
    screens = {
        li.xpath('./span[@class="zs-perm-view"]')[0].text_content()
        for li in doc.xpath('//ul[@class="zs-perm-groups"]/li')
    }
    assert all(re.search(r"[\u4e00-\u9fff]", s) for s in screens), sorted(
        s for s in screens if not re.search(r"[\u4e00-\u9fff]", s)
    )


def test_role_show_and_edit_pages_are_readable(app, client, login_as):
    login_as("Admin")
    pk = _role_pk(app, "市工信")
    resp = client.get(f"/roles/show/{pk}")
    assert resp.status_code == 200
    assert "can_" not in resp.get_data(as_text=True)
    groups = [li.text_content() for li in page(resp).xpath('//ul[@class="zs-perm-groups"]/li')]
    assert any(g.startswith("审核工作台：菜单、") for g in groups), groups
    resp = client.get(f"/roles/edit/{pk}")
    assert resp.status_code == 200
    options = [o.text_content() for o in page(resp).xpath('//select[@name="permissions"]/option')]
    assert options and not [o for o in options if "can_" in o or " on " in o]
    assert "审核工作台：待审列表" in options and "我的工作台：访问" in options


def test_db_role_names_are_unchanged(app):
    from zsdx.extensions import appbuilder

    with app.app_context():
        assert appbuilder.sm.find_role("Admin") is not None and appbuilder.sm.find_role("Public") is not None


def _groups_of_row(resp, label):
    """The permission groups shown in the 角色列表 row of the role labelled `label`."""
    for tr in page(resp).xpath("//table//tr[td]"):
        if label in [td.text_content().strip() for td in tr.xpath("./td")]:
            return [li.text_content() for li in tr.xpath('.//ul[@class="zs-perm-groups"]/li')]
    raise AssertionError(f"no row for {label}")


def test_role_list_reads_the_grants_kept_for_their_version(app, client, login_as):
    """The list shows each role's grants from the (permission, view) pairs kept in the process for the grants'
    version (issue 12: it loaded ~1,500 ORM objects a page): a revocation made in plain SQL, as another node or
    `flask fab` would, shows at the next request, and so does the grant back. At most one statement reads the
    page's grants; none once they are kept."""
    from count_queries import StatementCounter
    from helpers import grants_of, set_grants

    from zsdx.extensions import db

    login_as("Admin")
    url = "/roles/list/?psize_ZsdxRoleModelView=100"
    assert any(g.startswith("审核工作台：") for g in _groups_of_row(client.get(url), "镇街"))
    with app.app_context():
        counter = StatementCounter(db.engine)
    try:
        with counter.counting():
            assert client.get(url).status_code == 200
        grants = [s for s in counter.statements if "ab_view_menu" in s]  # the user's load reads only the version
        assert grants == [], grants
        rows = grants_of(app, "镇街", ["ReviewQueueView", "Review"])
        assert rows
        set_grants(app, rows, present=False)
        try:
            with counter.counting():
                resp = client.get(url)
            # one for the page's roles (the Admin's own pairs, for its permission checks, are read too)
            page_grants = [s for s in counter.statements if "ab_view_menu" in s and "DISTINCT" not in s]
            assert len(page_grants) == 1, counter.statements
            groups = _groups_of_row(resp, "镇街")
            assert groups and not any(g.startswith("审核工作台：") for g in groups), groups
            assert any(g.startswith("审核工作台：") for g in _groups_of_row(resp, "市工信"))
        finally:
            set_grants(app, rows, present=True)
        assert any(g.startswith("审核工作台：") for g in _groups_of_row(client.get(url), "镇街"))
    finally:
        counter.close()
