"""Admin's generated lists (zsdx/views/datamodel.py EagerSQLAInterface): a list without an order of its own is
shown newest first, so that its pages neither repeat nor skip a row, and a page reads its rows' joined relations
(用户列表: organisation, town) for its own rows only, not for every row sorted or skipped (issue 12)."""

from count_queries import StatementCounter
from helpers import page


def _rows(client, url):
    """[(phone, organisation name)] of a 用户列表 page."""
    doc = page(client.get(url))
    headers = [th.text_content().strip() for th in doc.xpath("//table//th")]
    phone, org = headers.index("手机号码"), headers.index("所属单位")
    out = []
    for tr in doc.xpath("//table//tr[td]"):
        cells = [td.text_content().strip() for td in tr.xpath("./td")]
        if len(cells) == len(headers):
            out.append((cells[phone], cells[org]))
    return out


def test_user_list_pages_are_newest_first_disjoint_and_show_their_relations(app, client, login_as, factory):
    from zsdx.extensions import db
    from zsdx.models import Organisation

    created = [factory.enterprise_user() for _ in range(23)]
    login_as("Admin")
    first = _rows(client, "/users/list/")
    second = _rows(client, "/users/list/?page_ZsdxUserDBModelView=1")
    assert len(first) == 20 and second
    # newest first: the 23 users in the reverse of their creation (the Admin signing in, made last, before them)
    phones = [p for p, _ in first + second]
    assert len(set(phones)) == len(phones), "a row on two pages"
    made = [u["phone"] for u in reversed(created)]
    assert [p for p in phones if p in made] == made[: len([p for p in phones if p in made])]
    assert set(made) <= set(phones)
    with app.app_context():
        names = {o.id: o.name for o in db.session.query(Organisation)}
    by_phone = dict(first + second)
    for user in created:  # the relations are those of each row, on either page
        assert by_phone[user["phone"]] == names[user["org_id"]]
    # the relations are joined to the page's own keys, on the first page as past it
    with app.app_context():
        counter = StatementCounter(db.engine)
    try:
        for url in ("/users/list/", "/users/list/?page_ZsdxUserDBModelView=1"):
            with counter.counting():
                client.get(url)
            rows = [s for s in counter.statements if "zs_organisation" in s and "LIMIT" in s]
            assert len(rows) == 1 and "page_key" in rows[0], counter.statements
    finally:
        counter.close()


def test_a_sorted_user_list_keeps_its_order_across_pages(app, client, login_as, factory):
    for _ in range(22):
        factory.enterprise_user()
    login_as("Admin")
    url = "/users/list/?_oc_ZsdxUserDBModelView=phone&_od_ZsdxUserDBModelView=asc"
    first = [p for p, _ in _rows(client, url)]
    second = [p for p, _ in _rows(client, url + "&page_ZsdxUserDBModelView=1")]
    assert first and second
    assert first == sorted(first) and second == sorted(second) and first[-1] < second[0]


def test_a_search_filters_its_own_request_only(client, login_as, factory):
    """The search filters of a model are made once per interface (KeptFilterConverter): a search still narrows
    the list, and the next request without it shows every row again."""
    named = factory.user("专家", name="筛选专家甲")
    factory.user("专家", name="别的专家乙")
    login_as("Admin")
    url = "/users/list/?_flt_0_first_name=%E7%AD%9B%E9%80%89%E4%B8%93%E5%AE%B6%E7%94%B2"  # 筛选专家甲
    for _ in range(2):
        assert [p for p, _org in _rows(client, url)] == [named["phone"]]
        everyone = _rows(client, "/users/list/?psize_ZsdxUserDBModelView=100")
        assert len(everyone) > 2
