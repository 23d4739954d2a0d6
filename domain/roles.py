"""Who may do what: the four roles, what each may change, and how a signed-in e-mail address
gets its role. Pure rules, used by every write in `data/` (through `data.auth.require`) and by
the pages only to decide what to show.

Roles are ordered; each may do everything the one before it may:
- viewer: read, and prepare the board packet (it is expensive, so it needs a signed-in user);
- presenter: also stories (create, edit, reorder, rename, delete, import);
- editor: also imports, loading the demo into a store that holds data, and freezing quarters;
- admin: also users, undoing imports and deleting snapshot versions.
An anonymous visitor has no role: it may read when the deployment allows anonymous viewing,
and change nothing.
"""
from __future__ import annotations

from typing import Iterable, Mapping

ROLES = ("viewer", "presenter", "editor", "admin")

# Action -> the least role that may do it.
ACTIONS: dict[str, str] = {
    "packet": "viewer",
    "stories": "presenter",
    "import": "editor",
    "demo": "editor",
    "freeze": "editor",
    "undo": "admin",
    "users": "admin",
    "delete_snapshot": "admin",
}

ACTION_LABELS = {
    "packet": "prepare the board packet",
    "stories": "change stories",
    "import": "import data",
    "demo": "load the demo alliance into a store that holds data",
    "freeze": "freeze a quarter",
    "undo": "undo an import",
    "users": "change users",
    "delete_snapshot": "delete a snapshot version",
}


def check_role(role: str) -> str:
    """The role, lower-cased, or ValueError naming the roles there are."""
    cleaned = (role or "").strip().lower()
    if cleaned not in ROLES:
        raise ValueError(f"{role!r} is not a role: use one of {', '.join(ROLES)}")
    return cleaned


def at_least(role: str | None, least: str) -> bool:
    """Whether `role` (None: anonymous) ranks at or above `least`."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(least)


def may(role: str | None, action: str) -> bool:
    """Whether `role` may do `action` (a key of ACTIONS)."""
    return at_least(role, ACTIONS[action])


def least_role(action: str) -> str:
    return ACTIONS[action]


def role_for_email(email: str | None, mapping: Mapping[str, Iterable[str]], verified: bool | None = True,
                   default: str | None = None) -> str | None:
    """The role of a signed-in OpenID Connect user from the configured lists.

    `mapping` is role -> entries, each an e-mail address (`ana@alliance.org`) or a domain
    (`@alliance.org` or `alliance.org`). An address listed by name takes the highest role it is
    listed under; otherwise its domain's highest role; otherwise `default` (None: no role).
    Comparison ignores case and surrounding spaces. An address the provider says is not verified
    (`verified` False) gets only `default`: anyone can type an unverified address."""
    address = (email or "").strip().lower()
    if not address or "@" not in address or verified is False:
        return default
    domain = address.rsplit("@", 1)[1]
    by_name, by_domain = [], []
    for role, entries in mapping.items():
        role = check_role(role)
        if isinstance(entries, str):
            entries = [entries]
        for entry in entries:
            entry = str(entry).strip().lower()
            if not entry:
                continue
            if entry.startswith("@"):
                if entry[1:] == domain:
                    by_domain.append(role)
            elif "@" in entry:
                if entry == address:
                    by_name.append(role)
            elif entry == domain:
                by_domain.append(role)
    found = by_name or by_domain
    if found:
        return max(found, key=ROLES.index)
    return default
