"""Top-menu screens whose content later issues build (评估评测, 上架产品, the review and institution
workbenches). They exist now so that every role's navigation is complete and access-checked."""

from flask import g
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _l


class _Placeholder(BaseView):
    default_view = "index"
    heading = ""
    intro = ""
    columns = ()

    @expose("/")
    @has_access
    def index(self):
        return self.render_template(
            "zsdx/placeholder.html",
            title=str(self.heading),
            heading=self.heading,
            intro=self.intro,
            columns=self.columns,
            user=g.user,
        )


class AssessmentView(_Placeholder):
    """评估评测: the national digital-level self-assessment (issue 4)."""

    route_base = "/assessment"
    heading = _l("SME digital level assessment")
    intro = _l("The self-assessment questionnaire (2024 edition) and your results will appear here.")
    columns = (_l("No."), _l("Assessment type"), _l("Level"), _l("Score"), _l("Submitted at"), _l("Operation"))


class ProductView(_Placeholder):
    """上架产品: providers list products, 市工信 approves, enterprises browse the catalog."""

    route_base = "/products"
    heading = _l("Listed products")
    intro = _l("Products and services listed by service providers and approved by the city bureau.")
    columns = (
        _l("Product/service code"), _l("Product/service name"), _l("Provider"), _l("Applicable scenarios"),
        _l("Maximum warehousing price (10k yuan)"), _l("Purchase method"), _l("Status"),
    )


class InstitutionTaskView(_Placeholder):
    """评估机构: diagnosis and post-assessment tasks assigned to the institution (issue 4)."""

    route_base = "/institution"
    heading = _l("Diagnosis and assessment tasks")
    intro = _l("Diagnosis and post-assessment tasks assigned to your institution will appear here.")
    columns = (
        _l("No."), _l("Enterprise name"), _l("Project name"), _l("Task type"), _l("Status"), _l("Assigned at"),
        _l("Operation"),
    )
