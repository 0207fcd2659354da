"""Registers every screen with FAB. Menu names are ASCII and stable (they are permission names,
FAB-NOTES P3); the Chinese text is the label."""

from flask_babel import lazy_gettext as _l

from ..extensions import limiter


def register_views(appbuilder):
    from .account import AccountView, ForgotPasswordView, InfoChangeView, RegisterView, SmsView
    from .admin import (
        AnnouncementAdminView,
        IndustryView,
        OrganisationView,
        ProductCategoryView,
        RegistryView,
        TownView,
    )
    from .api import FilingApi
    from .assessment import AssessmentView
    from .catalog import MyProductView, ProductAdminView, ProductView
    from .completion import CompletionView
    from .dashboard import DashboardView
    from .diagnosis import DiagnosisView
    from .dossier import DossierView
    from .filing import FilingView
    from .implementation import ImplementationView
    from .institution_reports import DiagnosisAssignView, InstitutionTaskView
    from .post_assessment import PostAssessmentView
    from .presubsidy import PreSubsidyView
    from .review import ReviewQueueView
    from .signing import SigningView
    from .warehousing import WarehousingView
    from .windows import SubmissionWindowView
    from .workbench import MessageBoardView, MessageReplyView, NotificationView, WorkbenchView

    # The top navigation, in the manual's order: 首页 我的工作台 评估评测 上架产品 (+ the reviewers' screens).
    appbuilder.add_link("Home", href="/", label=_l("Home"))
    appbuilder.add_view(WorkbenchView, "Workbench", label=_l("My workbench"))
    appbuilder.add_view(AssessmentView, "Assessment", label=_l("Assessment"))
    appbuilder.add_view(ProductView, "Products", label=_l("Listed products"))
    appbuilder.add_view(MyProductView, "MyProducts", label=_l("My products"))
    appbuilder.add_view(ProductAdminView, "ProductAdmin", label=_l("Product administration"))
    appbuilder.add_view(ReviewQueueView, "Review", label=_l("Review workbench"))
    appbuilder.add_view(DashboardView, "Dashboard", label=_l("Dashboard"))  # 数据看板: 市工信, 镇街
    appbuilder.add_view(InstitutionTaskView, "InstitutionTasks", label=_l("Diagnosis tasks"))
    appbuilder.add_view(DiagnosisAssignView, "DiagnosisAssign", label=_l("Assign institutions"))
    appbuilder.add_view(MessageReplyView, "MessageReplies", label=_l("Message board"))
    appbuilder.add_view(AnnouncementAdminView, "Announcements", label=_l("Announcements"))
    appbuilder.add_view(SubmissionWindowView, "Windows", label=_l("Submission windows"))
    appbuilder.add_view(DossierView, "Dossier", label=_l("Enterprise dossiers"))

    # Reference data (Admin).
    for view, name, label in (
        (TownView, "Towns", _l("Towns and streets")),
        (IndustryView, "Industries", _l("Industry segments")),
        (ProductCategoryView, "ProductCategories", _l("Main product categories")),
        (OrganisationView, "Organisations", _l("Organisations")),
        (RegistryView, "Registry", _l("Business registry")),
    ):
        appbuilder.add_view(view, name, label=label, category="ReferenceData", category_label=_l("Reference data"))

    for view in (
        AccountView,
        InfoChangeView,
        NotificationView,
        MessageBoardView,
        FilingView,
        DiagnosisView,
        SigningView,
    ):
        appbuilder.add_view_no_menu(view)
    sms = appbuilder.add_view_no_menu(SmsView)
    register = appbuilder.add_view_no_menu(RegisterView)
    appbuilder.add_view_no_menu(ForgotPasswordView)
    appbuilder.add_view_no_menu(PreSubsidyView)
    appbuilder.add_view_no_menu(ImplementationView)
    appbuilder.add_view_no_menu(CompletionView)
    appbuilder.add_view_no_menu(PostAssessmentView)
    appbuilder.add_view_no_menu(WarehousingView)
    appbuilder.add_api(FilingApi)
    from flask import current_app

    limiter.limit(lambda: current_app.config["SMS_RATE_LIMIT"], methods=["POST"])(sms.blueprint)
    limiter.limit("60 per minute", methods=["GET"])(register.blueprint)
