"""Reading and posting the stage pages (项目签约, 改造中, 改造完成, 项目入库) as a browser would, shared by their tests
(test_signing.py, test_implementation.py, test_completion.py, test_warehousing.py): the page must be served, and
its form is posted with what it shows, changed where the test says."""

import lxml.html
from conftest import csrf_from


def get_page(client, url):
    """The page at `url`, which must be served: (html, parsed document)."""
    resp = client.get(url)
    assert resp.status_code == 200, (url, resp.status_code)
    html = resp.get_data(as_text=True)
    return html, lxml.html.fromstring(html)


def textarea_value(el):
    """A textarea's value as a browser reads it (the line break right after the tag is not part of it)."""
    text = el.text or ""
    return text[2:] if text.startswith("\r\n") else text[1:] if text.startswith("\n") else text


def form_values(doc, form_id):
    """What a browser would post from the form as shown: text, checked boxes and radios, the chosen option of a
    select, textareas (no file inputs, no buttons)."""
    form = doc.get_element_by_id(form_id)
    data = {}
    for el in form.iter("input", "select", "textarea"):
        name = el.get("name")
        if not name or el.get("type") in ("file", "submit", "button"):
            continue
        if el.get("type") in ("radio", "checkbox"):
            if el.get("checked") is not None:
                data[name] = el.get("value") or "on"
            continue
        if el.tag == "select":
            chosen = [o.get("value") for o in el.iter("option") if o.get("selected") is not None]
            data[name] = chosen[0] if chosen else ""
            continue
        data[name] = textarea_value(el) if el.tag == "textarea" else el.get("value") or ""
    return data


def post_as_shown(client, url, action, form_id, drop=(), **fields):
    """Open `url` and post its form `form_id` as shown, without the fields in `drop` and with `fields` changed
    (None removes a field; a (stream, filename) pair is an upload), pressing the button `action`. Posted in the
    form's own encoding (multipart/form-data where its enctype says so)."""
    _html, doc = get_page(client, url)
    data = form_values(doc, form_id)
    for name in drop:
        data.pop(name, None)
    for name, value in fields.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    data["action"] = action
    if doc.get_element_by_id(form_id).get("enctype") == "multipart/form-data":
        return client.post(url, data=data, content_type="multipart/form-data")
    return client.post(url, data=data)


def post_crafted(client, url, action, **fields):
    """A crafted POST: the CSRF token of the user's own workbench, no form round trip."""
    token = csrf_from(client.get("/workbench/").get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, "action": action, **fields})


def problem_list(resp):
    """The problems a refused 保存 / 提交 lists at the top of the page, by the anchor of their field."""
    doc = lxml.html.fromstring(resp.get_data(as_text=True))
    return {li.get("data-anchor"): li.text_content().strip() for li in doc.xpath("//*[@id='problem-list']//li")}
