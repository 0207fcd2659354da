"""SQLAlchemy models of zsdx, one module per domain; everything is re-exported here so that
`from zsdx.models import Filing` works wherever a model is needed.

A new stage adds its own module here (and its migration); shared modules do not grow per stage.
"""

from .accounts import InstitutionType, LoginFailure, Organisation, OrgKind, SmsCode, ZsdxUser
from .assist import AssistRequest
from .base import now
from .catalog import Product, PurchaseMode
from .content import (
    Announcement,
    DashboardSnapshot,
    DossierExport,
    Message,
    Notification,
    NotificationKind,
    StoredFile,
)
from .diagnosis import AssessmentResult, DiagnosisMethod, PreDiagnosis
from .filing import Filing, FilingCounter, FilingRevision, Project, StageStatus
from .implementation import (
    DIMENSIONS,
    Completion,
    CompletionIndicator,
    CompletionStatus,
    Implementation,
    ImplementationIndicator,
    ImplementationStatus,
    Invoice,
    InvoiceLine,
    PaymentVoucher,
    PostAssessment,
    ProviderRating,
    ProviderRatingTotal,
)
from .infochange import InfoChangeAttachment, InfoChangeRequest
from .reference import Industry, ProductCategory, RegistryEntry, Town
from .review import (
    ReviewableMixin,
    ReviewAction,
    ReviewAssignment,
    ReviewReminder,
    ReviewStatus,
    Revision,
    SubmissionWindow,
)
from .signing import (
    Contract,
    PreSubsidy,
    Signing,
    SigningNeed,
    SigningProduct,
    SigningStatus,
    pre_subsidy_contract,
)
from .warehousing import Warehousing, WarehousingFile

__all__ = [
    "DIMENSIONS",
    "Announcement",
    "AssessmentResult",
    "AssistRequest",
    "Completion",
    "CompletionIndicator",
    "CompletionStatus",
    "Contract",
    "DashboardSnapshot",
    "DiagnosisMethod",
    "DossierExport",
    "Filing",
    "FilingCounter",
    "FilingRevision",
    "Implementation",
    "ImplementationIndicator",
    "ImplementationStatus",
    "Industry",
    "InfoChangeAttachment",
    "InfoChangeRequest",
    "InstitutionType",
    "Invoice",
    "InvoiceLine",
    "LoginFailure",
    "Message",
    "Notification",
    "NotificationKind",
    "OrgKind",
    "Organisation",
    "PaymentVoucher",
    "PostAssessment",
    "PreDiagnosis",
    "PreSubsidy",
    "Product",
    "ProductCategory",
    "Project",
    "ProviderRating",
    "ProviderRatingTotal",
    "PurchaseMode",
    "RegistryEntry",
    "ReviewAction",
    "ReviewAssignment",
    "ReviewReminder",
    "ReviewStatus",
    "ReviewableMixin",
    "Revision",
    "Signing",
    "SigningNeed",
    "SigningProduct",
    "SigningStatus",
    "SmsCode",
    "StageStatus",
    "StoredFile",
    "SubmissionWindow",
    "Town",
    "Warehousing",
    "WarehousingFile",
    "ZsdxUser",
    "now",
    "pre_subsidy_contract",
]
