"""Roles and what each may open: view classes (all their permissions, or ("View", [permissions])) and
top-menu entries.

`flask zsdx init` syncs these into FAB's tables; Admin gets every permission.
"""

# Role names (FAB role rows; the Chinese names are what Admin sees and assigns). Use these constants, never
# the literals, so that a typo fails at import and a rename is one line.
ADMIN = "Admin"
PUBLIC = "Public"
ENTERPRISE = "企业"
PROVIDER = "服务商"
INSTITUTION = "评估机构"
TOWN = "镇街"
THIRD_PARTY = "第三方"
EXPERT = "专家"
CITY = "市工信"
ZSDX_ROLES = (ENTERPRISE, PROVIDER, INSTITUTION, TOWN, THIRD_PARTY, EXPERT, CITY)
REVIEWER_ROLES = (TOWN, THIRD_PARTY, EXPERT, CITY)
# roles whose users act for their own organisation's records (the owner of a record)
OWNER_ROLES = (ENTERPRISE, PROVIDER)


def role_names(user):
    """The role names of `user` (an empty set for anonymous users)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    return {r.name for r in user.roles}


COMMON_VIEWS = ["WorkbenchView", "NotificationView", "AccountView"]
# 项目实施-改造完成 read-only: the detail and its files (rows by zsdx.completion's visibility rule)
COMPLETION_READ = ["can_detail", "can_file", "can_result_file", "can_voucher_file"]
# Reviewers read filings (details, files) through FilingView; editing stays the owner's (checked per row).
REVIEWER_VIEWS = COMMON_VIEWS + [
    "ReviewQueueView",
    ("FilingView", ["can_detail", "can_file"]),
    ("FilingApi", ["can_get", "can_get_list"]),
    ("SigningView", ["can_detail", "can_contract_file"]),
    ("ImplementationView", ["can_detail"]),
    ("CompletionView", COMPLETION_READ),
    ("WarehousingView", ["can_detail", "can_file"]),  # 项目入库 read-only (rows by the chain's reviewers)
]
REVIEWER_MENUS = ["Home", "Workbench", "Review"]

ROLES = {
    ENTERPRISE: {
        "views": COMMON_VIEWS
        + [
            "InfoChangeView",
            "MessageBoardView",
            "AssessmentView",
            "ProductView",
            "FilingView",
            "FilingApi",
            "DiagnosisView",
            "SigningView",
            "PreSubsidyView",
            "ImplementationView",
            "CompletionView",
            "PostAssessmentView",
            "WarehousingView",
        ],
        "menus": ["Home", "Workbench", "Assessment", "Products"],
    },
    PROVIDER: {
        "views": COMMON_VIEWS
        + [
            "InfoChangeView",
            "MessageBoardView",
            "ProductView",
            "MyProductView",
            ("SigningView", ["can_detail", "can_assist", "can_catalog", "can_contract_file"]),
            ("ImplementationView", ["can_detail", "can_assist"]),
            ("CompletionView", COMPLETION_READ + ["can_assist"]),
        ],
        "menus": ["Home", "Workbench", "Products", "MyProducts"],
    },
    INSTITUTION: {
        "views": COMMON_VIEWS
        + [
            "InstitutionTaskView",
            ("DiagnosisView", ["can_report", "can_report_file"]),
            ("PostAssessmentView", ["can_report", "can_report_file"]),
        ],
        "menus": ["Home", "Workbench", "InstitutionTasks"],
    },
    TOWN: {"views": REVIEWER_VIEWS + ["DashboardView"], "menus": REVIEWER_MENUS + ["Dashboard"]},  # 数据看板
    THIRD_PARTY: {"views": REVIEWER_VIEWS, "menus": REVIEWER_MENUS},
    EXPERT: {"views": REVIEWER_VIEWS, "menus": REVIEWER_MENUS},
    CITY: {
        "views": REVIEWER_VIEWS
        + [
            "ProductView",
            "ProductAdminView",
            "AnnouncementAdminView",
            "SubmissionWindowView",
            "MessageReplyView",
            "DiagnosisAssignView",
            ("DiagnosisView", ["can_report", "can_report_file"]),
            ("CompletionView", COMPLETION_READ + ["can_ratings"]),  # replaces the reviewers' entry (服务商评价)
            "DashboardView",  # 数据看板 (the whole city)
            ("PostAssessmentView", ["can_report", "can_report_file"]),
            "DossierView",  # 一企一档
        ],
        "menus": REVIEWER_MENUS
        + ["Dashboard"]
        + ["Products", "ProductAdmin", "DiagnosisAssign", "Announcements", "Windows", "MessageReplies", "Dossier"],
    },
}
PUBLIC_MENUS = ["Home"]
SELF_REGISTRATION_ROLES = (ENTERPRISE, PROVIDER)
