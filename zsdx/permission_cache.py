"""FAB permission checks answered from one query per request (issue 7, shared-layer speed).

FAB 5.3 asks the database once per check: `has_access` → `_has_view_access` → `exist_permission_on_roles`
(a `SELECT EXISTS … ab_permission_view`) for every navbar item, button and `@has_access` view, 12 per
page and about 30 on an admin list; `is_item_public` walks the Public role's permissions row by row.
`PermissionCacheMixin` keeps FAB's decision logic and replaces only the database lookups: the
(permission, view_menu) name pairs of a set of roles are loaded in one query and kept for the rest of the
request (`zsdx.request_cache`). Builtin roles (FAB_ROLES) are still matched from the config with FAB's
own `_has_access_builtin_roles`; Admin gets everything through its rows, as before. Outside a request
(CLI, jobs, tests calling the manager directly) every method is FAB's unchanged.

Across requests (issue 12): the pairs of a set of roles are also kept in the process, stamped with a
version of the grants table (`grants_version_column`: count, highest id, sum of the ids and a checksum of
every row's (id, permission view, role) of ab_permission_view_role) that the signed-in user's own load
reads in the same statement. Any grant or revocation — through FAB's role screens, `flask fab`, `flask zsdx
init` or plain SQL — inserts or deletes rows there, which changes the version (even when SQLite reuses a
deleted row's id), so the next request of every process reloads the pairs: a revoked permission never
outlives the request that sees it revoked. An anonymous request reads the version with the Public role
(`get_public_role`), so the Public role's pairs are kept the same way.
"""

import functools

from flask import g
from flask_appbuilder.security.sqla.models import assoc_permissionview_role
from sqlalchemy import BigInteger, cast, func, select
from sqlalchemy import Text as _Text

from .request_cache import ProcessMemo, request_cache

# role ids -> (grants version, pairs), for this process; a handful of role sets in practice
_PAIRS = ProcessMemo()
_VERSION_KEY = "zsdx.grants_version"


class PermissionCacheMixin:
    """Mix into a FAB SQLA SecurityManager (before it in the bases)."""

    @staticmethod
    @functools.cache
    def grants_version_column():
        """A scalar subquery: the version of the grants (ab_permission_view_role) as one string (built once:
        the expression is immutable)."""
        grants = assoc_permissionview_role
        # each row's (id, permission_view_id, role_id) folded into a number below a prime, summed: a row deleted
        # and another inserted with the same id (SQLite reuses the highest rowid) still changes the sum
        row = (
            cast(grants.c.id, BigInteger) * 2654435761
            + cast(grants.c.permission_view_id, BigInteger) * 40503
            + cast(grants.c.role_id, BigInteger) * 69069
        ) % 2147483647
        return (
            select(
                func.count().cast(_Text)
                + ":"
                + func.coalesce(func.max(grants.c.id), 0).cast(_Text)
                + ":"
                + func.coalesce(func.sum(grants.c.id), 0).cast(_Text)
                + ":"
                + func.coalesce(func.sum(row), 0).cast(_Text)
            )
            .select_from(grants)
            .scalar_subquery()
        )

    @staticmethod
    def remember_grants_version(version):
        """The grants version read in this request (with the user's load): process-kept pairs of that
        version may answer this request."""
        cache = request_cache()
        if cache is not None and version:
            cache[_VERSION_KEY] = version

    def role_permission_pairs(self, role_ids):
        """{(permission name, view_menu name)} granted to the roles `role_ids` through ab_permission_view_role."""
        role_ids = frozenset(role_ids)
        kept = self._kept_pairs(role_ids)
        if kept is not None:
            return kept
        pairs = frozenset(self._granted_rows(role_ids, by_role=False)) if role_ids else frozenset()
        return self._keep_pairs(role_ids, pairs)

    def pairs_of_each_role(self, role_ids):
        """{role id: its (permission name, view_menu name) pairs} of several roles: those kept in the process
        for this request's grants version, the others read in one statement (the 角色列表 shows every role's
        grants; one query per role would cost a statement a row)."""
        out, missing = {}, []
        for role_id in dict.fromkeys(role_ids):
            kept = self._kept_pairs(frozenset((role_id,)))
            if kept is None:
                missing.append(role_id)
            else:
                out[role_id] = kept
        if missing:
            read = {role_id: set() for role_id in missing}
            for role_id, permission, view in self._granted_rows(missing, by_role=True):
                read[role_id].add((permission, view))
            for role_id, pairs in read.items():
                out[role_id] = self._keep_pairs(frozenset((role_id,)), frozenset(pairs))
        return out

    def _kept_pairs(self, role_ids):
        """The pairs of `role_ids` (a frozenset) kept in this request, or in the process for this request's
        grants version; None if neither has them."""
        cache = request_cache()
        if cache is None:
            return None
        key = ("zsdx.permission_pairs", role_ids)
        if key in cache:
            return cache[key]
        version = cache.get(_VERSION_KEY)
        kept = _PAIRS.get(role_ids) if version else None
        if kept is not None and kept[0] == version:
            cache[key] = kept[1]
            return kept[1]
        return None

    def _keep_pairs(self, role_ids, pairs):
        cache = request_cache()
        if cache is not None:
            cache[("zsdx.permission_pairs", role_ids)] = pairs
            version = cache.get(_VERSION_KEY)
            if version:
                _PAIRS.keep(role_ids, (version, pairs))
        return pairs

    def _granted_rows(self, role_ids, by_role):
        """(permission name, view_menu name) rows granted to `role_ids`, each prefixed with its role id if
        `by_role` (else distinct over the roles)."""
        pv, perm, vm = self.permissionview_model, self.permission_model, self.viewmenu_model
        role = assoc_permissionview_role.c.role_id
        query = (
            self.session.query(*((role,) if by_role else ()), perm.name, vm.name)
            .select_from(pv)
            .join(assoc_permissionview_role, pv.id == assoc_permissionview_role.c.permission_view_id)
            .join(perm, pv.permission_id == perm.id)
            .join(vm, pv.view_menu_id == vm.id)
            .filter(role.in_(list(role_ids)))
        )
        return [tuple(row) for row in (query if by_role else query.distinct()).all()]

    def get_public_role(self):
        """The Public role, once per request; read with the grants' version in the same statement, so that the
        Public role's pairs kept in the process answer an anonymous request too (one statement instead of two
        on every anonymous page: the login page, the 首页). Prepared like the user's load (zsdx.prepared)."""
        cache = request_cache()
        if cache is None:
            return super().get_public_role()
        if "zsdx.public_role" not in cache:
            row = self.session.execute(
                select(self.role_model, self.grants_version_column())
                .where(self.role_model.name == self.auth_role_public)
                .execution_options(zsdx_prepare="zsdx_public_role")  # zsdx.prepared: planned once per connection
            ).one_or_none()
            role, version = row if row else (None, None)
            self.remember_grants_version(version)
            cache["zsdx.public_role"] = role
        return cache["zsdx.public_role"]

    def _db_role_ids(self, roles):
        return [role.id for role in roles if role is not None and role.name not in self.builtin_roles]

    def is_item_public(self, permission_name, view_name):
        # FAB: the Public role's DB permissions only (builtin roles are not consulted here).
        if request_cache() is None:
            return super().is_item_public(permission_name, view_name)
        role = self.get_public_role()
        return role is not None and (permission_name, view_name) in self.role_permission_pairs([role.id])

    def _has_view_access(self, user, permission_name, view_name):
        if request_cache() is None:
            return super()._has_view_access(user, permission_name, view_name)
        roles = self.get_user_roles(user)
        if any(
            role.name in self.builtin_roles and self._has_access_builtin_roles(role, permission_name, view_name)
            for role in roles
        ):
            return True
        db_role_ids = self._db_role_ids(roles)
        return bool(db_role_ids) and (permission_name, view_name) in self.role_permission_pairs(db_role_ids)

    def _get_user_permission_view_menus(self, user, permission_name, view_menus_name):
        if request_cache() is None:
            return super()._get_user_permission_view_menus(user, permission_name, view_menus_name)
        roles = [self.get_public_role()] if user is None else self.get_user_roles(user)
        result = {
            view_menu_name
            for role in roles
            if role is not None and role.name in self.builtin_roles
            for view_menu_name in view_menus_name
            if self._has_access_builtin_roles(role, permission_name, view_menu_name)
        }
        db_role_ids = self._db_role_ids(roles)
        if db_role_ids:
            result.update(v for p, v in self.role_permission_pairs(db_role_ids) if p == permission_name)
        return result

    def access_signature(self):
        """What every `has_access` answer of this request depends on, hashable, or None when it cannot be
        told from the session alone (an API-key or JWT caller). Two requests with the same signature get
        the same answer to every check: the builtin roles (FAB_ROLES, fixed by the config) by name and the
        (permission, view) pairs of the database roles — read in this request, so a role or permission
        edited a moment ago changes the signature at once."""
        from flask_jwt_extended import current_user as current_user_jwt
        from flask_login import current_user

        if request_cache() is None or getattr(g, "_api_key_user", False):
            return None
        if current_user.is_authenticated:
            user = g.user
            if not user.is_active:
                return None
            roles = self.get_user_roles(user)
        elif current_user_jwt:
            return None
        else:
            role = self.get_public_role()
            return ("public", self.role_permission_pairs([role.id]) if role is not None else frozenset())
        builtin = tuple(sorted({role.name for role in roles if role is not None and role.name in self.builtin_roles}))
        return ("user", builtin, self.role_permission_pairs(self._db_role_ids(roles)))
