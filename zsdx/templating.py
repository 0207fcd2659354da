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

    @app.template_filter("wan")
    def format_wan(value):
        """An amount in 万元 as stored (Decimal), with its 4 places; '' when empty. Never through float."""
        from decimal import Decimal

        if value is None or value == "":
            return ""
        return f"{Decimal(value).quantize(Decimal('0.0001')):f}"

    @app.template_global("unread_notifications")
    def unread_notifications():
        """The header badge: unread 待办事项 + 审核通知 of the signed-in user (one aggregate query)."""
        from flask_login import current_user

        from .notifications import unread_counts

        if not getattr(current_user, "is_authenticated", False):
            return 0
        return sum(unread_counts(current_user.id).values())

    @app.template_filter("fromjson")
    def from_json(value):
        import json

        return json.loads(value or "[]")

    @app.template_filter("choice")
    def choice_label(value, choices):
        return str(dict(choices).get(value, value or ""))
