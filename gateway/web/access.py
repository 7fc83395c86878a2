"""Who may use each route: the one table every route of the web UI is authorised from.

``guarded`` (gateway.web.auth) takes a route's role from here by the route's name, and
``create_app`` refuses to build an app holding a route this table does not list, so a new
route cannot ship without a decision. ``None`` marks the public routes.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from gateway.storage.web_models import Role

__all__ = ["PUBLIC_ROUTES", "ROUTE_ROLES", "UnlistedRouteError", "role_of"]

ROUTE_ROLES: Mapping[str, Role | None] = MappingProxyType(
    {
        # Ops endpoints and the login form (/metrics may still ask for its bearer token).
        "healthz": None,
        "readyz": None,
        "metrics": None,
        "login_form": None,
        "login": None,
        "static": None,
        # Reading: every account.
        "logout": Role.VIEWER,
        "dashboard": Role.VIEWER,
        "case_log": Role.VIEWER,
        "case_rows": Role.VIEWER,
        "case_csv": Role.VIEWER,
        "case": Role.VIEWER,
        "quarantine": Role.VIEWER,
        "directory": Role.VIEWER,
        "roster": Role.VIEWER,
        # Acting on cases and messages; attachments may hold anything, so not for viewers.
        "add_note": Role.COORDINATOR,
        "case_assign": Role.COORDINATOR,
        "case_close": Role.COORDINATOR,
        "case_correct": Role.COORDINATOR,
        "release": Role.COORDINATOR,
        "discard": Role.COORDINATOR,
        "resend": Role.COORDINATOR,
        "attachment": Role.COORDINATOR,
        # The roster file, the audit log and the accounts.
        "roster_edit": Role.ADMIN,
        "audit": Role.ADMIN,
        "users": Role.ADMIN,
    }
)
PUBLIC_ROUTES = frozenset(name for name, role in ROUTE_ROLES.items() if role is None)


class UnlistedRouteError(LookupError):
    """A route was built that ROUTE_ROLES does not list."""


def role_of(name: str) -> Role | None:
    try:
        return ROUTE_ROLES[name]
    except KeyError:
        raise UnlistedRouteError(f"route {name!r} is missing from gateway.web.access") from None
