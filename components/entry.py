"""Every page runs through app.py, even on a deep link.

Because the pages live in `pages/`, Streamlit starts each server process in its legacy
multipage mode: if the very first request is a deep link such as /gaps, it runs pages/gaps.py
alone, skipping app.py (no store gate, no demo label, no presentation mode). Each page calls
`through_app()` first; when app.py is not running it runs app.py instead, whose st.navigation
then runs the requested page the normal way.
"""
from __future__ import annotations

import runpy
import sys
from pathlib import Path

import streamlit as st

APP = Path(__file__).resolve().parent.parent / "app.py"


def through_app() -> None:
    frame = sys._getframe(1)
    while frame is not None:
        if Path(frame.f_code.co_filename).resolve() == APP:
            return
        frame = frame.f_back
    runpy.run_path(str(APP), run_name="__main__")
    st.stop()
