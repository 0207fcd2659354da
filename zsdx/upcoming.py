"""The 我的工作台 tabs of the manual's chapters not built yet (04 签约 … 09 入库): their headers only, so the
workbench shows the whole process from day one. A chapter's own module replaces its entry here when built;
every chapter (the last, 09 项目入库: zsdx/warehousing.py) now has its own tab, so none is left."""

from .stages import WorkbenchTab, register_tab

# (group, key, label, order, columns) of the tabs still waiting for their chapter
PLACEHOLDERS: tuple = ()

for group, key, label, order, columns in PLACEHOLDERS:
    register_tab(
        WorkbenchTab(group=group, key=key, label=label, columns=columns, order=order, template="zsdx/_tab_empty.html")
    )
