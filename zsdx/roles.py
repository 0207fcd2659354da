"""Roles and what each may open: view classes (all their permissions, or ("View", [permissions])) and
top-menu entries.

`flask zsdx init` syncs these into FAB's tables; Admin gets every permission.
"""

COMMON_VIEWS = ["WorkbenchView", "NotificationView", "AccountView"]
# Reviewers read filings (details, files) through FilingView; editing stays the owner's (checked per row).
REVIEWER_VIEWS = COMMON_VIEWS + ["ReviewQueueView", ("FilingView", ["can_detail", "can_file"]), ("FilingApi", ["can_get", "can_get_list"])]
REVIEWER_MENUS = ["Home", "Workbench", "Review"]

ROLES = {
    "企业": {
        "views": COMMON_VIEWS
        + ["InfoChangeView", "MessageBoardView", "AssessmentView", "ProductView", "FilingView", "FilingApi", "DiagnosisView"],
        "menus": ["Home", "Workbench", "Assessment", "Products"],
    },
    "服务商": {
        "views": COMMON_VIEWS + ["InfoChangeView", "MessageBoardView", "ProductView"],
        "menus": ["Home", "Workbench", "Products"],
    },
    "评估机构": {
        "views": COMMON_VIEWS + ["InstitutionTaskView", ("DiagnosisView", ["can_report", "can_report_file"])],
        "menus": ["Home", "Workbench", "InstitutionTasks"],
    },
    "镇街": {"views": REVIEWER_VIEWS, "menus": REVIEWER_MENUS},
    "第三方": {"views": REVIEWER_VIEWS, "menus": REVIEWER_MENUS},
    "专家": {"views": REVIEWER_VIEWS, "menus": REVIEWER_MENUS},
    "市工信": {
        "views": REVIEWER_VIEWS
        + ["ProductView", "AnnouncementAdminView", "MessageReplyView", "DiagnosisAssignView",
           ("DiagnosisView", ["can_report", "can_report_file"])],
        "menus": REVIEWER_MENUS + ["Products", "DiagnosisAssign", "Announcements", "MessageReplies"],
    },
}
PUBLIC_MENUS = ["Home"]
SELF_REGISTRATION_ROLES = ("企业", "服务商")
