"""Organisations (enterprises, providers, institutions, government) and their users; login support."""

from flask_appbuilder.models.sqla import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    event,
)
from sqlalchemy.orm import relationship

from .base import now
from .reference import Industry, Town


# --- organisations and users ------------------------------------------------------------------------
class OrgKind:
    ENTERPRISE = "enterprise"
    PROVIDER = "provider"
    INSTITUTION = "institution"
    GOVERNMENT = "government"
    ALL = (ENTERPRISE, PROVIDER, INSTITUTION, GOVERNMENT)


class InstitutionType:
    DIAGNOSTIC = "diagnostic"  # 诊断型服务机构
    COMPREHENSIVE = "comprehensive"  # 综合型服务机构
    ALL = (DIAGNOSTIC, COMPREHENSIVE)


class Organisation(Model):
    """An enterprise, a service provider, an institution or a government body."""

    __tablename__ = "zs_organisation"
    id = Column(Integer, primary_key=True)
    kind = Column(String(16), nullable=False, index=True)
    name = Column(String(200), nullable=False, index=True)
    credit_code = Column(String(18), unique=True, nullable=True)
    town_id = Column(Integer, ForeignKey("zs_town.id"), nullable=True, index=True)
    town = relationship(Town)
    industry_id = Column(Integer, ForeignKey("zs_industry.id"), nullable=True)
    industry = relationship(Industry)
    contact_name = Column(String(64))
    contact_phone = Column(String(20))
    # 服务商 types (a provider may be several)
    is_industry_provider = Column(Boolean, nullable=False, default=False)
    is_scenario_provider = Column(Boolean, nullable=False, default=False)
    is_ecosystem_provider = Column(Boolean, nullable=False, default=False)
    # 评估机构 type
    institution_type = Column(String(16), nullable=True)
    created_on = Column(DateTime, nullable=False, default=now)

    def __repr__(self):
        return self.name


class ZsdxUser(User):
    """FAB's user on ab_user, extended: phone is the login name (kept equal to username)."""

    __tablename__ = "ab_user"
    phone = Column(String(20), unique=True, nullable=True)
    organisation_id = Column(Integer, ForeignKey("zs_organisation.id"), nullable=True, index=True)
    organisation = relationship(Organisation, backref="users")
    town_id = Column(Integer, ForeignKey("zs_town.id"), nullable=True, index=True)  # 镇街 reviewers
    town = relationship(Town)
    # The server-side identity of every session of this user: stored in the session (and in JWTs) at login,
    # compared on every request as the user is loaded; bumping it ends all of them (zsdx.security).
    session_epoch = Column(Integer, nullable=False, default=0, server_default="0")

    @property
    def display_name(self):
        return (self.first_name or "") + (self.last_name or "") or self.username

    def role_names(self):
        return {r.name for r in self.roles}


@event.listens_for(ZsdxUser.active, "set", propagate=True)
def _deactivation_ends_sessions(user, value, oldvalue, initiator):
    """An account switched off (the admin's 用户列表 or anywhere else) loses every session it has: switching
    it back on later does not bring them back."""
    if not value and oldvalue is not False:
        user.session_epoch = (user.session_epoch or 0) + 1


# --- authentication support -------------------------------------------------------------------------
class SmsCode(Model):
    """One verification code sent by SMS; also the log that send limits are counted from."""

    __tablename__ = "zs_sms_code"
    id = Column(Integer, primary_key=True)
    phone = Column(String(20), nullable=False)
    purpose = Column(String(16), nullable=False)
    code_hash = Column(String(256), nullable=False)
    created_at = Column(DateTime, nullable=False, default=now)
    expires_at = Column(DateTime, nullable=False)
    used_at = Column(DateTime, nullable=True)
    attempts = Column(Integer, nullable=False, default=0)
    __table_args__ = (Index("ix_sms_code_phone_created", "phone", "created_at"),)


class LoginFailure(Model):
    """Consecutive wrong passwords per login name, and the lock they cause."""

    __tablename__ = "zs_login_failure"
    id = Column(Integer, primary_key=True)
    login = Column(String(128), unique=True, nullable=False)
    failures = Column(Integer, nullable=False, default=0)
    locked_until = Column(DateTime, nullable=True)
    last_failed_at = Column(DateTime, nullable=True)
