"""The 我的工作台 tabs of the manual's chapters not built yet (04 签约 … 09 入库): their headers only, so the
workbench shows the whole process from day one. A chapter's own module replaces its entry here when built."""

from flask_babel import lazy_gettext as _l

from .stages import WorkbenchTab, register_tab

for group, key, label, order, columns in (
    (
        "projects",
        "warehousing",
        _l("Project warehousing"),
        60,
        [_l("No."), _l("Project name"), _l("Warehousing status"), _l("Submitted at"), _l("Operation")],
    ),
):
    register_tab(
        WorkbenchTab(group=group, key=key, label=label, columns=columns, order=order, template="zsdx/_tab_empty.html")
    )
