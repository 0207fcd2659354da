"""A FAB SQLAInterface that loads a list page's relationships with the page (issue 7).

FAB's list query selects the model's own columns only; each row's `organisation`, `town`, `roles`, …
shown by `list_columns` is then lazy-loaded one by one (the admin user list issued 73–75 statements per
page). `EagerSQLAInterface(Model, joined=("town",), selectin=("roles",))` adds the loader options to the
page query (`apply_all`, also used by `get` for show/edit): many-to-one relations ride on the page query
as a LEFT OUTER JOIN, collections come in one `SELECT … WHERE id IN (…)` per relation. The count query
(`query_count`) is left alone.

A list page (issue 12) is ordered newest first when neither its view (base_order) nor the user orders it (FAB
left the order to the database: an OFFSET could show a row twice and another never), and its many-to-one
relations are joined to the page's own keys (`JOIN (SELECT id … ORDER BY … LIMIT 20 OFFSET n)`), not to every
row sorted or skipped before the page.

The add/edit forms' relationship dropdowns query the related models through `get_related_interface`:
FAB runs a `count(*)` before each unpaginated dropdown query and throws it away; `_DropdownInterface`
counts the rows it fetched instead (same number: no paging, one entity per row).

`RoleInterface` (FAB's 角色列表, issue 12): the list shows every role's grants as (permission, view) name
pairs kept in the process for the grants' version (zsdx.permission_cache), instead of loading every role's
permission rows with their permission and view (~1,500 ORM objects a page); show and edit still load them.
"""

from flask_appbuilder.models.sqla.filters import SQLAFilterConverter
from flask_appbuilder.models.sqla.interface import SQLAInterface
from sqlalchemy.orm import joinedload, selectinload


class KeptFilterConverter(SQLAFilterConverter):
    """A column's search filters, made once per interface. FAB makes a Filters object on every list request
    (`get_joined_filters`), and each makes a filter per operator for every column of the model (~400 objects for
    the 用户列表); they depend on the model and the column alone. Each caller gets its own list of them (FAB adds
    a view's custom filters to it)."""

    def convert(self, col_name):
        kept = self.datamodel.__dict__.setdefault("_zsdx_filters", {})
        if col_name not in kept:
            kept[col_name] = super().convert(col_name)
        filters = kept[col_name]
        return list(filters) if filters is not None else None


class EagerSQLAInterface(SQLAInterface):
    filter_converter_class = KeptFilterConverter

    def __init__(self, obj, session=None, joined=(), selectin=(), options=None):
        super().__init__(obj, session=session)
        self.eager_joined = tuple(joined)
        self.eager_selectin = tuple(selectin)
        self.eager_options = options  # model -> [loader options] for nested paths (e.g. a role's permissions)

    def _eager_options(self, listing):
        """The loader options of a list page (`listing`) or of one record (show, edit)."""
        return (
            [joinedload(getattr(self.obj, name)) for name in self.eager_joined]
            + [selectinload(getattr(self.obj, name)) for name in self.eager_selectin]
            + (list(self.eager_options(self.obj)) if self.eager_options else [])
        )

    def default_order(self):
        """A list page without an order of its view's own (base_order) or the user's: newest first. FAB leaves
        it to the database, and an unordered OFFSET may show a row on two pages and another on none."""
        return self.get_pk_name(), "desc"

    def _order(self, order_column, order_direction, page_size):
        """The order of a query: a list page's (`page_size`) falls back to `default_order`."""
        return self.default_order() if page_size and not order_column else (order_column, order_direction)

    def _apply_inner_all(
        self, query, filters=None, order_column="", order_direction="", page=None, page_size=None, *a, **kw
    ):
        order_column, order_direction = self._order(order_column, order_direction, page_size)
        return super()._apply_inner_all(query, filters, order_column, order_direction, page, page_size, *a, **kw)

    def apply_all(self, query, filters=None, order_column="", order_direction="", page=None, page_size=None, *a, **kw):
        query = super().apply_all(query, filters, order_column, order_direction, page, page_size, *a, **kw)
        options = self._eager_options(listing=bool(page_size))
        if not options:
            return query
        order_column, order_direction = self._order(order_column, order_direction, page_size)
        select_columns = a[0] if a else kw.get("select_columns")
        if page_size and self.eager_joined and not select_columns and "." not in order_column:
            # the page's keys first (same filters, order, offset), then its rows with their joined relations:
            # joined to the whole query, the relations were read for every row sorted or skipped (产品管理: 1,851
            # products joined to their organisation for 20 shown; 用户列表 page 200: 4,020 users)
            pk = self.get_pk()
            keys = query.with_entities(pk.label("page_key")).subquery()
            query = self.apply_order_by(
                self.session.query(self.obj).join(keys, pk == keys.c.page_key),
                order_column,
                order_direction,
                add_pk=True,
            )
        return query.options(*options)

    def get_related_interface(self, col_name):
        return _DropdownInterface(self.get_related_model(col_name))


class _DropdownInterface(SQLAInterface):
    def query(
        self,
        filters=None,
        order_column="",
        order_direction="",
        page=None,
        page_size=None,
        select_columns=None,
        outer_default_load=False,
    ):
        if page is not None or page_size is not None or select_columns:
            return super().query(
                filters, order_column, order_direction, page, page_size, select_columns, outer_default_load
            )
        rows = self.apply_all(self.session.query(self.obj), filters, order_column, order_direction).all()
        return len(rows), rows


class RoleInterface(EagerSQLAInterface):
    """Roles: a list page reads its roles' grants as name pairs (one statement at most, none once kept); a
    role's show and edit pages (`get`) load its PermissionView rows with the role, as before."""

    def _eager_options(self, listing):
        return [] if listing else super()._eager_options(listing)

    def query(self, *args, **kwargs):
        from flask import current_app

        count, roles = super().query(*args, **kwargs)
        pairs = current_app.appbuilder.sm.pairs_of_each_role([role.id for role in roles])
        for role in roles:
            role.zsdx_grants = pairs.get(role.id, frozenset())
        return count, roles

    def _get_attr_value(self, item, col):
        if col == "permissions" and hasattr(item, "zsdx_grants"):  # set by `query`: a list page's row
            return item.zsdx_grants
        return super()._get_attr_value(item, col)
