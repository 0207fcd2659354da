"""数据看板 of 市工信 (the whole city, or one town chosen in the filter) and 镇街 (its own town only, whatever
the address says): six sections, each a chart (ECharts, served from the app's own static folder), its table
(the page works without JavaScript) and an 【导出（.xlsx）】 link. The figures come from zsdx/dashboard.py
(four aggregate statements, kept DASHBOARD_CACHE_SECONDS per scope: the page says when they were counted); nothing
here loads a record. The exports count afresh, the overdue list streamed from the database."""

from flask import abort, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup

from .. import dashboard as D
from .. import roles as R
from .. import xlsx
from ..dashboard_parts import PARTS
from ..guards import id_arg
from ..request_cache import ProcessMemo

SECTIONS = ("stages", "towns", "industries", "levels", "money", "overdue")


# --- scope ---------------------------------------------------------------------------------------------------
def _scope(user):
    """(town id or None for the whole city, whether the user may choose the town). A 镇街 sees its own town
    (the reviewer's town, else its organisation's) and nothing when it has none; the address cannot change it."""
    names = R.role_names(user)
    if names & {R.CITY, R.ADMIN}:
        return id_arg(request.args.get("town")), True
    town = user.town_id or (user.organisation.town_id if user.organisation else None)
    return (town or 0), False  # 0: no town has this id, every figure is empty


def _link(item, citywide):
    """Where an overdue item opens: where its row's rule says (a chain stage's review page; 事前诊断 / 事后评估's
    report page for 市工信, who assigns them), else the project's 项目备案 (which a 镇街 may read)."""
    rule = PARTS[item.stage].overdue if item.stage in PARTS else None
    link = rule.link(item, citywide) if rule is not None and rule.link is not None else None
    if link is not None:
        return link
    return url_for("FilingView.detail", pk=item.filing_id) if item.filing_id else None


def _money_rows(t):
    return [
        (_("Signed contracts"), t["contracts"], None),
        (_("Total contract amount"), None, t["contract_total"]),
        (_("Amount included in the subsidised project"), None, t["contract_subsidy"]),
        (_("Approved pre-subsidy applications"), t["pre_subsidy_count"], t["pre_subsidy_amount"]),
        (_("Warehoused projects (proposed subsidy)"), t["warehoused"], t["proposed_subsidy"]),
    ]


def _breakdown_headers(first):
    return [
        first,
        _("Projects"),
        _("Filed"),
        _("Signed"),
        _("Warehoused"),
        _("Total contract amount (10k yuan)"),
    ]


def _chart_data(counts, parts, totals):
    """What dashboard.js draws: labels already translated, amounts as exact strings."""
    labels = D.stage_labels()
    stage_names = [str(label) for label in labels.values()]
    statuses = []
    for row in counts["stages"]:
        if row.label not in statuses:
            statuses.append(row.label)
    stacked = {label: [0] * len(stage_names) for label in statuses}
    for row in counts["stages"]:
        stacked[row.label][list(labels).index(row.stage)] += row.count
    series_names = [_("Projects"), _("Filed"), _("Signed"), _("Warehoused")]

    def bars(rows):
        return {
            "categories": [r.name for r in rows],
            "series": [
                {"name": n, "data": [getattr(r, a) for r in rows]}
                for n, a in zip(series_names, ("projects", "filed", "signed", "warehoused"), strict=True)
            ],
        }

    return {
        "stages": {
            "categories": stage_names,
            "series": [{"name": k, "data": v} for k, v in stacked.items()],
            "stack": True,
        },
        "towns": bars(parts["towns"]),
        "industries": bars(parts["industries"]),
        "levels": {
            "categories": [label for label, _b, _a in counts["levels"]],
            "series": [
                {"name": _("Before transformation"), "data": [b for _l, b, _a in counts["levels"]]},
                {"name": _("After transformation"), "data": [a for _l, _b, a in counts["levels"]]},
            ],
        },
        "money": {
            "categories": [
                _("Total contract amount"),
                _("Amount included in the subsidised project"),
                _("Approved pre-subsidy amount"),
                _("Proposed subsidy of warehoused projects"),
            ],
            "series": [
                {
                    "name": _("Amount (10k yuan)"),
                    "data": [
                        str(totals[k])
                        for k in ("contract_total", "contract_subsidy", "pre_subsidy_amount", "proposed_subsidy")
                    ],
                }
            ],
        },
        "overdue": {
            "categories": [label for _k, label, _n in counts["overdue"]],
            "series": [{"name": _("Overdue items"), "data": [n for _k, _l, n in counts["overdue"]]}],
        },
    }


# (id of the counted Figures, citywide, town, language) -> (those Figures, the page's rendered content): the
# content is rendered once per counting (dashboard.figures keeps it DASHBOARD_CACHE_SECONDS), not per request;
# the Figures object is kept beside it so that a new counting (a new object) never matches an old entry
_BODIES = ProcessMemo(D.CACHE_MAX_ENTRIES)


class DashboardView(BaseView):
    route_base = "/dashboard"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        town, citywide = _scope(g.user)
        figures = D.figures(town, citywide)
        parts, counts, totals, items = figures.parts, figures.counts, figures.totals, figures.items
        if citywide and town is not None and town not in dict(parts["town_choices"]):
            return redirect(url_for("DashboardView.index"))  # a town id that is no town: the whole city
        key = (id(figures), citywide, town, str(get_locale()))
        kept = _BODIES.get(key)
        if kept is not None and kept[0] is figures:
            return self.render_template("zsdx/dashboard.html", title=_("Dashboard"), body=kept[1])
        town_name = dict(parts["town_choices"]).get(town, "") if town else ""
        body = Markup(
            self.render_template(
                "zsdx/_dashboard_body.html",
                citywide=citywide,
                town=town,
                town_name=town_name,
                town_choices=parts["town_choices"],
                counts=counts,
                parts=parts,
                totals=totals,
                money_rows=_money_rows(totals),
                items=[(item, _link(item, citywide)) for item in items],
                overdue_total=sum(n for _k, _l, n in counts["overdue"]),
                chart_data=_chart_data(counts, parts, totals),
                export_args={"town": town} if citywide and town else {},
                breakdown_headers=_breakdown_headers,
                sections=SECTIONS,
                counted_at=figures.counted_at,
            )
        )
        _BODIES.keep(key, (figures, body))
        return self.render_template("zsdx/dashboard.html", title=_("Dashboard"), body=body)

    @expose("/export/<section>.xlsx")
    @has_access
    def export(self, section):
        if section not in SECTIONS:
            abort(404)
        town, citywide = _scope(g.user)
        name = _("Dashboard")
        if section == "stages":
            rows = [[r.stage_label, r.label, r.count] for r in D.counts(town)["stages"]]
            sheets = [(_("Projects per stage"), [_("Stage"), _("Status"), _("Count")], rows)]
        elif section in ("towns", "industries"):
            parts = D.breakdown(town, citywide)
            first = _("Town") if section == "towns" else _("Industry segment")
            rows = [[r.name, r.projects, r.filed, r.signed, r.warehoused, r.contract_total] for r in parts[section]]
            title = _("Per town") if section == "towns" else _("Per industry segment")
            sheets = [(title, _breakdown_headers(first), rows)]
        elif section == "levels":
            rows = [list(row) for row in D.counts(town)["levels"]]
            headers = [_("Digital level"), _("Before transformation"), _("After transformation")]
            sheets = [(_("Digital level distribution"), headers, rows)]
        elif section == "money":
            rows = [[label, n, amount] for label, n, amount in _money_rows(D.totals(town))]
            sheets = [(_("Contracts and subsidies"), [_("Figure"), _("Count"), _("Amount (10k yuan)")], rows)]
        else:
            counts = D.counts(town)["overdue"]
            items = D.iter_overdue_items(town, limit=D.EXPORT_LIMIT)  # streamed into the workbook
            headers = [_("No."), _("Stage"), _("Project name"), _("Town"), _("Waiting since"), _("Deadline")]
            rows = (
                [i, item.stage_label, item.project, item.town, item.since, item.deadline]
                for i, item in enumerate(items, start=1)
            )
            sheets = [
                (_("Overdue per stage"), [_("Stage"), _("Overdue items")], [[label, n] for _k, label, n in counts]),
                (_("Overdue items"), headers, rows),
            ]
        return xlsx.download(name + "-" + dict(self._section_names())[section], sheets)

    @staticmethod
    def _section_names():
        return [
            ("stages", _("Projects per stage")),
            ("towns", _("Per town")),
            ("industries", _("Per industry segment")),
            ("levels", _("Digital level distribution")),
            ("money", _("Contracts and subsidies")),
            ("overdue", _("Overdue items")),
        ]
