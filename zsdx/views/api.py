"""REST API (read-only): /api/v1/filing/. Rows go through the same access clause as the HTML views."""

from flask import g
from flask_appbuilder.api import ModelRestApi
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.interface import SQLAInterface

from ..models import Filing
from ..visibility import visible_clause


class VisibleToUser(BaseFilter):
    """base_filters entry: only the rows the current user may see (zsdx.visibility)."""

    name = "visible to the current user"
    arg_name = "visible"

    def apply(self, query, value):
        return query.filter(visible_clause(self.model, g.user))


FILING_COLUMNS = [
    "id",
    "project_name",
    "ent_name",
    "ent_credit_code",
    "status",
    "current_step",
    "filing_no",
    "submitted_at",
    "planned_investment",
    "start_date",
    "end_date",
    "target_level",
    "diagnosis_method",
]


class FilingApi(ModelRestApi):
    resource_name = "filing"
    datamodel = SQLAInterface(Filing)
    include_route_methods = {"get", "get_list"}
    base_filters = [["id", VisibleToUser, "filing"]]
    list_columns = show_columns = FILING_COLUMNS
    search_columns = ["project_name", "status"]
    order_columns = ["submitted_at", "id"]
    page_size = 20
