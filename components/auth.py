"""Signing in on the page: who the session is (checked again on every run), the sign-in form
(local accounts, and OpenID Connect through `st.login` when `[auth]` is configured in
`.streamlit/secrets.toml`), and the setting that makes visitors sign in before they see anything.

The role checks themselves are in `data/` (every write calls `data.auth.require`); this module
only decides who the session is and what to offer.
"""
from __future__ import annotations

import os
from typing import Mapping

import streamlit as st

from components.markup import plain
from data import auth
from domain import roles

ANONYMOUS_VIEW_SETTING = "ALLIANCE_ANONYMOUS_VIEW"  # "1" (default): anyone may view; "0": sign in first
ROLES_SECRET = "alliance_roles"  # [alliance_roles] admin = ["ana@alliance.org"], editor = ["@alliance.org"] …
USER_KEY = "_alliance_user"  # the local account signed in on this session


def anonymous_view() -> bool:
    return os.environ.get(ANONYMOUS_VIEW_SETTING, "1").strip() != "0"


def _secrets() -> Mapping:
    try:
        return st.secrets
    except Exception:  # no secrets file
        return {}


def oidc_providers() -> list[str | None] | None:
    """None when OpenID Connect is not configured; else the providers to offer (`[None]` for the
    one provider configured directly in `[auth]`, or the names of its `[auth.NAME]` sections)."""
    try:
        section = _secrets().get("auth")
    except Exception:
        return None
    if not section:
        return None
    named = [name for name, value in section.items() if isinstance(value, Mapping)]
    return named or [None]


def oidc_role_map() -> tuple[dict, str | None]:
    """The configured role lists and the role of anyone else who signs in (key `default`)."""
    try:
        section = dict(_secrets().get(ROLES_SECRET) or {})
    except Exception:
        section = {}
    default = section.pop("default", None)
    return {k: v for k, v in section.items() if k in roles.ROLES}, (roles.check_role(default) if default else None)


def _oidc_actor() -> auth.Actor | None:
    try:
        user = st.user
        if not user.is_logged_in:
            return None
    except Exception:  # st.user needs a running app with [auth]
        return None
    mapping, default = oidc_role_map()
    email = user.get("email")
    role = roles.role_for_email(email, mapping, verified=user.get("email_verified"), default=default)
    return auth.Actor(str(email or user.get("sub") or "signed in"), role, "oidc")


def resolve(engine) -> auth.Actor:
    """Who this session is, decided again on every run (a role changed or an account removed
    counts at once), and kept where `data.auth.acting` finds it."""
    actor = None
    if oidc_providers() is not None:
        actor = _oidc_actor()
    if actor is None and st.session_state.get(USER_KEY):
        name = st.session_state[USER_KEY]
        role = auth.user_role(engine, name)
        if role is None:  # removed meanwhile
            st.session_state.pop(USER_KEY, None)
        else:
            actor = auth.Actor(name, role, "local")
    actor = actor or auth.ANONYMOUS
    st.session_state[auth.SESSION_KEY] = actor
    return actor


def current() -> auth.Actor:
    return auth.acting(None)


def sign_in_form(engine, key: str = "sign_in") -> None:
    """The sign-in form: user name and password, and a button per OpenID Connect provider."""
    providers = oidc_providers()
    if providers:
        for provider in providers:
            label = f"Sign in with {provider}" if provider else "Sign in with your organisation's account"
            if st.button(label, key=f"{key}_oidc_{provider or 'default'}", icon=":material/login:"):
                st.login(provider) if provider else st.login()
    with st.form(key, clear_on_submit=True, border=False):
        name = st.text_input("User name", key=f"{key}_name", autocomplete="username")
        password = st.text_input("Password", type="password", key=f"{key}_password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", icon=":material/login:")
    if submitted:
        try:
            actor = auth.sign_in(engine, name, password, address=_client_address())
        except auth.AccountError as error:
            st.error(str(error))
            return
        st.session_state[USER_KEY] = actor.name
        st.session_state[auth.SESSION_KEY] = actor
        st.rerun()


def _client_address() -> str:
    try:
        return st.context.ip_address or ""
    except Exception:
        return ""


def sign_out() -> None:
    st.session_state.pop(USER_KEY, None)
    st.session_state[auth.SESSION_KEY] = auth.ANONYMOUS
    try:
        if st.user.is_logged_in:
            st.logout()
    except Exception:  # no OpenID Connect in this deployment
        pass


def require_sign_in(engine) -> None:
    """With anonymous viewing off, stop the page at a sign-in form until someone signs in."""
    actor = current()
    if anonymous_view() or actor.role is not None:
        return
    st.title("Sign in")
    if actor.source == "oidc":
        st.warning(f"You are signed in as {plain(actor.name)}, which is not on this alliance's list. Ask the data steward "
                   "to add your address, or sign in with a local account.")
        if st.button("Sign out", key="gate_sign_out"):
            sign_out()
            st.rerun()
    else:
        st.write("This alliance's dashboard is open to signed-in users only.")
    sign_in_form(engine, key="gate_sign_in")
    st.stop()


def sidebar_account(engine) -> None:
    """Who is signed in, with Sign out; or a Sign in form."""
    actor = current()
    sidebar = st.sidebar
    if actor.role is not None:
        sidebar.caption(f"Signed in as **{plain(actor.name)}** ({actor.role})")
        if sidebar.button("Sign out", key="sidebar_sign_out", icon=":material/logout:"):
            sign_out()
            st.rerun()
        return
    with sidebar.expander("Sign in", icon=":material/login:"):
        sign_in_form(engine, key="sidebar_sign_in")


def may(action: str) -> bool:
    return current().may(action)


def needs(action: str) -> str:
    """A sentence for whoever may not do `action` here."""
    who = current()
    least = roles.least_role(action)
    if who.role is None:
        return f"Sign in as {'an' if least[0] in 'aeiou' else 'a'} {least} (or higher) to {roles.ACTION_LABELS[action]}."
    return f"You are signed in as {who.role}; to {roles.ACTION_LABELS[action]} needs the {least} role or higher."
