"""Reading a setting: the environment variable of that name, then the Streamlit secret of that
name (`.streamlit/secrets.toml`), else None. Every setting is listed in the README."""
from __future__ import annotations

import os


def streamlit_secret(name: str) -> str | None:
    try:
        from streamlit import runtime
        if not runtime.exists():
            return None
        import streamlit as st
        return st.secrets.get(name) if name in st.secrets else None
    except Exception:  # no secrets file, or not running under Streamlit: use the default
        return None


def setting(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value is not None else streamlit_secret(name)
