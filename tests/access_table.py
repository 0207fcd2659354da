"""The access table, as data: for every endpoint of the app, which roles may use it and, where it shows or
changes one record, which identities of the two-tenant world (tests/tenants.py) may reach tenant A's record.

tests/test_access_table.py checks it against Flask's whole url_map, for anonymous and every role: a route
missing from this table fails, and so does one that behaves otherwise. A new chapter adds its routes here.

An entry: `E(roles, rows=None, args=None, ok=200, post=False)`
- roles: the role names allowed by permission ("anonymous" for visitors; PUBLIC = everyone; SIGNED_IN = every
  signed-in role). Everyone else is refused (FAB's redirect to the login page, 401/403, or 405).
- rows: for routes about one record, the identities (tenants.IDENTITIES names) that reach tenant A's record;
  other identities whose role is allowed get a 404. None: the route is not about a scoped record.
- args: URL arguments, as literal values or "@name" for world.ids[name].
- ok: the status an allowed identity gets on GET (a redirect for routes that only redirect).
- post: the route changes data; it is probed (refusals only) with a valid CSRF token and never run by an
  allowed identity here (its own tests do that).
"""

ADMIN = "Admin"
ENT, PROV, INST, TOWN, THIRD, EXPERT, CITY = "企业", "服务商", "评估机构", "镇街", "第三方", "专家", "市工信"
ROLES = (ADMIN, ENT, PROV, INST, TOWN, THIRD, EXPERT, CITY)
SIGNED_IN = frozenset(ROLES)
PUBLIC = SIGNED_IN | {"anonymous"}
REVIEWERS = frozenset({TOWN, THIRD, EXPERT, CITY})


class E:
    def __init__(self, roles, rows=None, args=None, ok=200, post=False, skip=None):
        self.roles = frozenset(roles)
        self.rows = None if rows is None else frozenset(rows)
        self.args = args or {}
        self.ok = ok
        self.post = post
        self.skip = skip  # why the GET behaviour is checked elsewhere (e.g. logout)


def crud(prefix, roles, pk, actions_post_only=False):
    """The eight endpoints of a FAB ModelView."""
    return {
        f"{prefix}.list": E(roles),
        f"{prefix}.show": E(roles, args={"pk": pk}),
        f"{prefix}.add": E(roles),
        f"{prefix}.edit": E(roles, args={"pk": pk}),
        # GET mutations are refused by FAB while CSRF is on: a redirect back, nothing deleted
        f"{prefix}.delete": E(roles, args={"pk": pk}, ok=302, post=True),
        f"{prefix}.action": E(
            roles, args={"name": "nosuch", "pk": pk}, ok=405 if actions_post_only else (302, 404), post=True
        ),
        f"{prefix}.action_post": E(roles, post=True),
        f"{prefix}.download": E(roles, args={"filename": "missing.pdf"}, ok=404),
    }


def read_only(entries):
    for name, entry in entries.items():
        if not name.endswith(".list"):
            entry.roles = frozenset()
    return entries


FILING_READERS = {ENT, TOWN, THIRD, EXPERT, CITY, ADMIN}
# tenant A's filing waits at the 镇街 step of town A: its owner, town A, the city-wide reviewers, Admin
FILING_ROWS = {"ent_a", "town_a", "third", "city", "admin"}
# tenant A's 改造完成 (town A, its page 1 with prov_a): the owner, the provider asked, town A, 市工信, Admin
COMPLETION_ROWS = {"ent_a", "prov_a", "town_a", "city", "admin"}
# tenant A's 项目入库 at the 验收专家 step (town A, assigned to expert_a): the owner, town A, expert_a, 市工信, Admin
WAREHOUSING_ROWS = {"ent_a", "town_a", "expert_a", "city", "admin"}

TABLE = {
    # --- public pages ---
    "HomeView.index": E(PUBLIC),
    "HomeView.announcement": E(PUBLIC, args={"pk": 1}, ok=(200, 404)),
    "ZsdxAuthView.login": E(PUBLIC, ok=(200, 302)),
    "ZsdxAuthView.captcha": E(PUBLIC),
    "ZsdxAuthView.logout": E(PUBLIC, skip="logout: tests/test_sessions.py"),
    "RegisterView.form": E(PUBLIC, ok=(200, 302)),
    "RegisterView.registry": E(PUBLIC),
    "ForgotPasswordView.form": E(PUBLIC),
    "SmsView.send": E(PUBLIC, post=True),
    "csrf_token": E(PUBLIC),
    "LocaleView.index": E(PUBLIC, args={"locale": "zh"}, ok=302),
    "UtilView.back": E(PUBLIC, ok=302),
    "SecurityApi.login": E(PUBLIC, post=True),
    "SecurityApi.refresh": E(PUBLIC, post=True),
    "MenuApi.get_menu_data": E(PUBLIC, skip="FAB's menu API: JSON of the user's own menu"),
    # --- every signed-in user ---
    "WorkbenchView.index": E(SIGNED_IN),
    "NotificationView.list": E(SIGNED_IN),
    "NotificationView.open": E(SIGNED_IN, rows={"ent_a"}, args={"pk": "@notification"}, ok=302),
    "NotificationView.read_all": E(SIGNED_IN, post=True),
    "AccountView.password": E(SIGNED_IN),
    "AccountView.phone": E(SIGNED_IN),
    "ResetMyPasswordView.this_form_get": E({ADMIN}),
    "ResetMyPasswordView.this_form_post": E({ADMIN}, post=True),
    "ResetPasswordView.this_form_get": E({ADMIN}),
    "ResetPasswordView.this_form_post": E({ADMIN}, post=True),
    "UserInfoEditView.this_form_get": E({ADMIN}),
    "UserInfoEditView.this_form_post": E({ADMIN}, post=True),
    # --- enterprise ---
    "FilingView.index": E({ENT, ADMIN}, ok=302),
    "FilingView.new": E({ENT, ADMIN}, post=True),
    "FilingView.edit": E({ENT, ADMIN}, rows={"ent_a"}, args={"pk": "@filing"}, ok=(200, 302)),
    "FilingView.change": E({ENT, ADMIN}, rows=set(), args={"pk": "@filing"}),  # not filed yet: 404 for all
    "FilingView.detail": E(FILING_READERS, rows=FILING_ROWS, args={"pk": "@filing"}),
    "FilingView.file": E(FILING_READERS, rows=set(), args={"pk": "@filing", "which": "authorization"}),
    "FilingView.authorization_template": E({ENT, ADMIN}),
    # 预奖补申请 (by the signing's id; A's draft application exists): the owner only; its files by the
    # application's id (the draft has none: 404 for all); the .docx templates (pre-filled for one's own signing)
    "PreSubsidyView.edit": E({ENT, ADMIN}, rows={"ent_a"}, args={"pk": "@signing"}),
    "PreSubsidyView.file": E({ENT, ADMIN}, rows=set(), args={"pk": "@pre_subsidy", "which": "application"}),
    "PreSubsidyView.application_template": E({ENT, ADMIN}),
    "PreSubsidyView.commitment_template": E({ENT, ADMIN}),
    # 项目签约: A's signed signing ("@signing", town A, contracts with PDFs) and A's pending one whose page 3 is
    # with prov_a ("@signing_assisted"): the owner edits; prov_a fills page 3 only; town A and 市工信 read
    "SigningView.index": E({ENT, ADMIN}, ok=302),
    "SigningView.edit": E({ENT, ADMIN}, rows={"ent_a"}, args={"pk": "@signing_assisted"}),
    "SigningView.change": E({ENT, ADMIN}, rows={"ent_a"}, args={"pk": "@signing"}),
    "SigningView.detail": E(
        REVIEWERS | {ENT, PROV, ADMIN},
        rows={"ent_a", "prov_a", "town_a", "city", "admin"},
        args={"pk": "@signing_assisted"},
    ),
    "SigningView.assist": E({PROV, ADMIN}, rows={"prov_a"}, args={"pk": "@signing_assisted"}),
    "SigningView.contract_file": E(
        REVIEWERS | {ENT, PROV, ADMIN}, rows={"ent_a", "town_a", "city", "admin"}, args={"pk": "@contract"}
    ),
    "SigningView.catalog": E({ENT, PROV, ADMIN}),
    # 项目实施-改造中: A's submitted record ("@implementation", town A) and A's pending one whose page is with prov_a
    # ("@implementation_assisted"): the owner edits (信息变更 once submitted) and downloads the form; prov_a fills
    # the page it was asked for only; town A and 市工信 read
    "ImplementationView.index": E({ENT, ADMIN}, ok=302),
    "ImplementationView.edit": E({ENT, ADMIN}, rows={"ent_a"}, args={"pk": "@implementation_assisted"}),
    "ImplementationView.change": E({ENT, ADMIN}, rows={"ent_a"}, args={"pk": "@implementation"}),
    "ImplementationView.assist": E({PROV, ADMIN}, rows={"prov_a"}, args={"pk": "@implementation_assisted"}),
    "ImplementationView.detail": E(
        REVIEWERS | {ENT, PROV, ADMIN},
        rows={"ent_a", "prov_a", "town_a", "city", "admin"},
        args={"pk": "@implementation_assisted"},
    ),
    "ImplementationView.form_docx": E({ENT, ADMIN}, rows={"ent_a", "admin"}, args={"pk": "@implementation"}),
    "ImplementationView.form_xlsx": E({ENT, ADMIN}, rows={"ent_a", "admin"}, args={"pk": "@implementation"}),
    # 项目实施-改造完成: A's pending record ("@completion", town A) whose 数字化改造成效 is with prov_a, and A's
    # submitted one: the owner edits (信息变更 once submitted); prov_a fills page 1; town A and 市工信 read; the files
    # follow the record; 服务商评价 (the average per provider) for 市工信
    "CompletionView.index": E({ENT, ADMIN}, ok=302),
    "CompletionView.edit": E({ENT, ADMIN}, rows={"ent_a"}, args={"pk": "@completion"}),
    "CompletionView.change": E({ENT, ADMIN}, rows={"ent_a"}, args={"pk": "@completion_submitted"}),
    "CompletionView.preview": E({ENT, ADMIN}, rows={"ent_a"}, args={"pk": "@completion"}),
    "CompletionView.submit": E({ENT, ADMIN}, rows={"ent_a"}, args={"pk": "@completion"}, post=True),
    "CompletionView.assist": E({PROV, ADMIN}, rows={"prov_a"}, args={"pk": "@completion"}),
    "CompletionView.detail": E(REVIEWERS | {ENT, PROV, ADMIN}, rows=COMPLETION_ROWS, args={"pk": "@completion"}),
    "CompletionView.file": E(
        REVIEWERS | {ENT, PROV, ADMIN}, rows=COMPLETION_ROWS, args={"pk": "@completion", "which": "quotation"}
    ),
    "CompletionView.result_file": E(
        REVIEWERS | {ENT, PROV, ADMIN}, rows=COMPLETION_ROWS, args={"pk": "@completion_result"}
    ),
    "CompletionView.voucher_file": E(
        REVIEWERS | {ENT, PROV, ADMIN}, rows=COMPLETION_ROWS, args={"pk": "@completion_voucher"}
    ),
    "CompletionView.ratings": E({ENT, CITY, ADMIN}),
    # 项目入库: A's draft ("@warehousing", the owner's alone) and A's record at the 验收专家 step assigned to
    # expert_a ("@warehousing_review", town A): the owner edits a draft; the chain's reviewers read the other
    "WarehousingView.index": E({ENT, ADMIN}, ok=302),
    "WarehousingView.edit": E({ENT, ADMIN}, rows={"ent_a"}, args={"pk": "@warehousing"}),
    "WarehousingView.preview": E({ENT, ADMIN}, rows={"ent_a"}, args={"pk": "@warehousing"}),
    "WarehousingView.submit": E({ENT, ADMIN}, rows={"ent_a"}, args={"pk": "@warehousing"}, post=True),
    "WarehousingView.detail": E(REVIEWERS | {ENT, ADMIN}, rows=WAREHOUSING_ROWS, args={"pk": "@warehousing_review"}),
    "WarehousingView.file": E(
        REVIEWERS | {ENT, ADMIN}, rows=WAREHOUSING_ROWS, args={"pk": "@warehousing_review", "kind": "contract"}
    ),
    "InfoChangeView.form": E({ENT, PROV, ADMIN}, ok=(200, 404)),  # 404: a user without an organisation
    "InfoChangeView.attachment": E(
        {ENT, PROV, ADMIN}, rows={"ent_a"}, args={"pk": "@info_change", "att": "@attachment"}
    ),
    "MessageBoardView.thread": E({ENT, PROV, ADMIN}, ok=(200, 404)),
    "AssessmentView.index": E({ENT, ADMIN}),
    "AssessmentView.new": E({ENT, ADMIN}, ok=(302, 403), skip="creates a draft: tests/test_assessment_flow.py"),
    "AssessmentView.edit": E({ENT, ADMIN}, rows={"ent_a"}, args={"pk": "@assessment"}),
    "AssessmentView.result": E({ENT, ADMIN}, rows={"ent_a"}, args={"pk": "@assessment"}, ok=(200, 302)),
    "AssessmentView.report": E({ENT, ADMIN}, rows={"ent_a"}, args={"pk": "@assessment"}, ok=(200, 302, 404)),
    "DiagnosisView.index": E({ENT, ADMIN}, ok=302),
    "DiagnosisView.start": E({ENT, ADMIN}, rows={"ent_a"}, args={"pk": "@diagnosis"}, post=True),
    "DiagnosisView.report": E(
        {ENT, INST, CITY, ADMIN}, rows={"ent_a", "inst_a", "city", "admin"}, args={"pk": "@diagnosis"}
    ),
    "DiagnosisView.report_file": E(
        {ENT, INST, CITY, ADMIN}, rows={"ent_a", "inst_a", "city", "admin"}, args={"pk": "@diagnosis"}
    ),
    "DiagnosisView.confirm": E({ENT, ADMIN}, rows={"ent_a"}, args={"pk": "@diagnosis"}, post=True),
    # 事后评估 (tenant A's waits for ent_a's 确认, assigned to inst_a)
    "PostAssessmentView.index": E({ENT, ADMIN}, ok=302),
    "PostAssessmentView.start": E({ENT, ADMIN}, rows={"ent_a"}, args={"pk": "@post_assessment"}, post=True),
    "PostAssessmentView.report": E(
        {ENT, INST, CITY, ADMIN}, rows={"ent_a", "inst_a", "city", "admin"}, args={"pk": "@post_assessment"}
    ),
    "PostAssessmentView.report_file": E(
        {ENT, INST, CITY, ADMIN}, rows={"ent_a", "inst_a", "city", "admin"}, args={"pk": "@post_assessment"}
    ),
    "PostAssessmentView.confirm": E({ENT, ADMIN}, rows={"ent_a"}, args={"pk": "@post_assessment"}, post=True),
    # --- 上架产品: the catalog (listed products only), the provider's own products, 市工信's administration ---
    "ProductView.index": E({ENT, PROV, CITY, ADMIN}),
    "ProductView.detail": E({ENT, PROV, CITY, ADMIN}, rows=set(), args={"pk": "@product_draft"}),  # a draft: 404
    "MyProductView.list": E({PROV, ADMIN}),
    "MyProductView.show": E({PROV, ADMIN}, rows={"prov_a"}, args={"pk": "@product_draft"}),
    "MyProductView.new": E({PROV, ADMIN}, ok=(200, 302)),
    "MyProductView.change": E({PROV, ADMIN}, rows={"prov_a"}, args={"pk": "@product_draft"}),
    "MyProductView.action": E(
        {PROV, ADMIN}, rows={"prov_a"}, args={"name": "withdraw", "pk": "@product_draft"}, post=True
    ),
    "MyProductView.action_post": E({PROV, ADMIN}, post=True),
    **{
        f"MyProductView.{m}": E((), args=a, post=m == "delete")
        for m, a in (
            ("add", {}),
            ("edit", {"pk": "@product_draft"}),
            ("delete", {"pk": "@product_draft"}),
            ("download", {"filename": "x.pdf"}),
        )
    },
    "ProductAdminView.list": E({CITY, ADMIN}),
    "ProductAdminView.export": E({CITY, ADMIN}),
    "ProductAdminView.show": E({CITY, ADMIN}, rows={"city", "admin"}, args={"pk": "@product_listed"}),
    **{
        f"ProductAdminView.{m}": E((), args=a, post=m in ("delete", "action", "action_post"))
        for m, a in (
            ("add", {}),
            ("edit", {"pk": "@product_listed"}),
            ("delete", {"pk": "@product_listed"}),
            ("download", {"filename": "x.pdf"}),
            ("action", {"name": "x", "pk": "@product_listed"}),
            ("action_post", {}),
        )
    },
    # --- institution ---
    "InstitutionTaskView.index": E({INST, ADMIN}),
    # /institution/<kind>/<pk>/report (the kind-less /institution/<pk>/report is the pre-diagnosis's: test_scopes.py)
    "InstitutionTaskView.upload": E(
        {INST, ADMIN}, rows={"inst_a"}, args={"kind": "post", "pk": "@post_assessment"}, post=True
    ),
    # --- reviewers ---
    "ReviewQueueView.queue": E(REVIEWERS | {ADMIN}),
    "ReviewQueueView.export": E(REVIEWERS | {ADMIN}, ok=(200, 404), skip="needs a subject: tests/test_review_queue.py"),
    "ReviewQueueView.detail": E(
        REVIEWERS | {ADMIN}, rows=FILING_ROWS - {"ent_a"}, args={"subject": "filing", "pk": "@filing"}
    ),
    "ReviewQueueView.act": E(
        REVIEWERS | {ADMIN}, rows={"town_a"}, args={"subject": "filing", "pk": "@filing"}, post=True
    ),
    "ReviewQueueView.assign": E(
        REVIEWERS | {ADMIN},
        rows={"town_a", "third", "city", "admin"},
        args={"subject": "filing", "pk": "@filing"},
        post=True,
    ),
    "ReviewQueueView.file": E(
        REVIEWERS | {ADMIN},
        rows={"city", "admin"},
        args={"subject": "info_change", "pk": "@info_change", "name": "attachment", "item": "@attachment"},
    ),
    "ReviewQueueView.bulk": E(REVIEWERS | {ADMIN}, post=True),
    "FilingApi.get_list": E(FILING_READERS, skip="API: checked with JWTs below"),
    "FilingApi.get": E(FILING_READERS, rows=FILING_ROWS, args={"pk": "@filing"}, skip="API: checked with JWTs below"),
    # --- 数据看板: 市工信 (the city) and 镇街 (its own town) ---
    "DashboardView.index": E({TOWN, CITY, ADMIN}),
    "DashboardView.export": E({TOWN, CITY, ADMIN}, args={"section": "towns"}),
    # --- 市工信 ---
    "DiagnosisAssignView.index": E({CITY, ADMIN}),
    "DiagnosisAssignView.assign": E(
        {CITY, ADMIN}, rows={"city", "admin"}, args={"kind": "post", "pk": "@post_assessment"}, post=True
    ),
    "MessageReplyView.threads": E({CITY, ADMIN}),
    "MessageReplyView.reply": E({CITY, ADMIN}, args={"org_id": "@org"}),
    **crud("AnnouncementAdminView", {CITY, ADMIN}, 1),
    **crud("SubmissionWindowView", {CITY, ADMIN}, "@window", actions_post_only=True),
    # 一企一档: 市工信 only (Admin too is refused); rows and tokens are checked in tests/test_dossier.py
    "DossierView.index": E({CITY}),
    "DossierView.download": E({CITY}, args={"pk": 2**30}, ok=404),
    "DossierView.export": E({CITY}, post=True),
    "DossierView.progress": E({CITY}, args={"token": "A" * 43}, ok=404),
    "DossierView.status": E({CITY}, args={"token": "A" * 43}, ok=404),
    "DossierView.archive": E({CITY}, args={"token": "A" * 43}, ok=404),
    # --- Admin ---
    **crud("TownView", {ADMIN}, "@town"),
    **crud("IndustryView", {ADMIN}, 1),
    **crud("ProductCategoryView", {ADMIN}, 1),
    **crud("OrganisationView", {ADMIN}, "@org"),
    **crud("RegistryView", {ADMIN}, 1),
    **crud("ZsdxUserDBModelView", {ADMIN}, "@user"),
    "ZsdxUserDBModelView.userinfo": E({ADMIN}),
    **crud("ZsdxRoleModelView", {ADMIN}, 1),
    **crud("UserGroupModelView", {ADMIN}, 1),
    # FAB's permission screens are read-only lists (base_permissions = can_list)
    **read_only(crud("PermissionModelView", {ADMIN}, 1)),
    **read_only(crud("ViewMenuModelView", {ADMIN}, 1)),
    **read_only(crud("PermissionViewModelView", {ADMIN}, 1)),
    "UserStatsChartView.chart": E({ADMIN}),
}
# FAB answers show/edit of a missing row with a 404 and its lists with a 200: the Admin CRUD rows above use
# existing ids where one exists (towns, organisations, users); elsewhere 404 is accepted as "reached".
for _name, _entry in TABLE.items():
    if _name.split(".")[0].endswith(("ModelView", "View")) and _name.endswith((".show", ".edit")) and not _entry.rows:
        if not str(_entry.args.get("pk", "")).startswith("@"):
            _entry.ok = (200, 404)
