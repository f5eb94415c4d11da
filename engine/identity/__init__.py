"""The org model and authentication: users, departments, roles held, sign-in, API tokens,
handing records over, and record shares.

Everything takes the Loom instance first; writes take the acting `actor` (recorded in the
audit) and an optional `conn` to join a transaction the caller already has open.
"""

from engine.identity.authentication import authenticate, prune_login_attempts
from engine.identity.departments import (
    create_department,
    department_by_name,
    department_tree,
    get_department,
    head_of,
    list_departments,
    manager_chain,
    members,
    move_department,
    rename_department,
    set_head,
)
from engine.identity.errors import (
    AuthenticationFailed,
    DepartmentNotFound,
    IdentityInvalid,
    LoginThrottled,
    TokenNotFound,
    UserDisabled,
    UsernameTaken,
    UserNotFound,
)
from engine.identity.handover import handover
from engine.identity.passwords import MIN_LENGTH as MIN_PASSWORD_LENGTH
from engine.identity.sessions import end_session, end_sessions, session_user, start_session
from engine.identity.sharing import share_record, shares_of, unshare
from engine.identity.tokens import create_token, list_tokens, revoke_token, verify_token
from engine.identity.users import (
    actor_for,
    add_role,
    create_user,
    disable_user,
    enable_user,
    get_user,
    is_active_user,
    list_users,
    normalise_username,
    remove_role,
    roles_in_use,
    set_department,
    set_manager,
    set_password,
    set_roles,
    update_profile,
    user_by_username,
)

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "AuthenticationFailed",
    "DepartmentNotFound",
    "IdentityInvalid",
    "LoginThrottled",
    "TokenNotFound",
    "UserDisabled",
    "UserNotFound",
    "UsernameTaken",
    "actor_for",
    "add_role",
    "authenticate",
    "create_department",
    "create_token",
    "create_user",
    "department_by_name",
    "department_tree",
    "disable_user",
    "enable_user",
    "end_session",
    "end_sessions",
    "get_department",
    "get_user",
    "handover",
    "head_of",
    "is_active_user",
    "list_departments",
    "list_tokens",
    "list_users",
    "manager_chain",
    "members",
    "move_department",
    "normalise_username",
    "prune_login_attempts",
    "remove_role",
    "rename_department",
    "revoke_token",
    "roles_in_use",
    "session_user",
    "set_department",
    "set_head",
    "set_manager",
    "set_password",
    "set_roles",
    "share_record",
    "shares_of",
    "start_session",
    "unshare",
    "update_profile",
    "user_by_username",
    "verify_token",
]
