"""SQLAlchemy models of zsdx, one module per domain; everything is re-exported here so that
`from zsdx.models import Filing` works wherever a model is needed.

A new stage adds its own module here (and its migration); shared modules do not grow per stage.
"""

from .accounts import InstitutionType, LoginFailure, Organisation, OrgKind, SmsCode, ZsdxUser
from .base import now
from .catalog import Product, PurchaseMode
from .content import Announcement, Message, Notification, NotificationKind, StoredFile
from .diagnosis import AssessmentResult, DiagnosisMethod, PreDiagnosis
from .filing import Filing, FilingCounter, FilingRevision, Project, Signing, StageStatus
from .infochange import InfoChangeAttachment, InfoChangeRequest
from .reference import Industry, ProductCategory, RegistryEntry, Town
from .review import ReviewableMixin, ReviewAction, ReviewAssignment, ReviewReminder, ReviewStatus, SubmissionWindow

__all__ = [
    "Announcement",
    "AssessmentResult",
    "DiagnosisMethod",
    "Filing",
    "FilingCounter",
    "FilingRevision",
    "Industry",
    "InfoChangeAttachment",
    "InfoChangeRequest",
    "InstitutionType",
    "LoginFailure",
    "Message",
    "Notification",
    "NotificationKind",
    "OrgKind",
    "Organisation",
    "PreDiagnosis",
    "Product",
    "ProductCategory",
    "Project",
    "PurchaseMode",
    "RegistryEntry",
    "ReviewAction",
    "ReviewAssignment",
    "ReviewReminder",
    "ReviewStatus",
    "ReviewableMixin",
    "Signing",
    "SmsCode",
    "StageStatus",
    "StoredFile",
    "SubmissionWindow",
    "Town",
    "ZsdxUser",
    "now",
]
