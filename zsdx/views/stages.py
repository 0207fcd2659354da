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


class ProductView(_Placeholder):
    """上架产品: providers list products, 市工信 approves, enterprises browse the catalog."""

    route_base = "/products"
    heading = _l("Listed products")
    intro = _l("Products and services listed by service providers and approved by the city bureau.")
    columns = (
        _l("Product/service code"),
        _l("Product/service name"),
        _l("Provider"),
        _l("Applicable scenarios"),
        _l("Maximum warehousing price (10k yuan)"),
        _l("Purchase method"),
        _l("Status"),
    )
