"""Jinja filters shared by the templates."""


def register(app):
    from . import filing

    @app.template_filter("dt")
    def format_datetime(value):
        return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""

    @app.template_filter("d")
    def format_date(value):
        return value.strftime("%Y-%m-%d") if value else ""

    app.add_template_filter(filing.status_label, "filing_status")

    @app.template_filter("fromjson")
    def from_json(value):
        import json

        return json.loads(value or "[]")

    @app.template_filter("choice")
    def choice_label(value, choices):
        return str(dict(choices).get(value, value or ""))
