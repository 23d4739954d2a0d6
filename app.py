"""Alliance dashboard: `streamlit run app.py`.

The entry point checks the store, labels demo data, and hands over to the page chosen in the
navigation. Pages live in `pages/` and stay thin: they read filters and compose components.
"""
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from components import audience, auth, present, store
from components.layout import demo_banner
from components.markup import plain
from data.auth import PermissionDenied

# A local favicon: a :material/...: page icon makes the browser fetch it from Google's servers.
st.set_page_config(page_title="STEM alliance dashboard", page_icon="static/favicon.png", layout="wide")

PAGES = [
    st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", url_path="overview", default=True),
    st.Page("pages/gaps.py", title="Equity gaps", icon=":material/balance:", url_path="gaps"),
    st.Page("pages/coverage.py", title="Coverage", icon=":material/map:", url_path="coverage"),
    st.Page("pages/pathways.py", title="Pathways", icon=":material/conversion_path:", url_path="pathways"),
    st.Page("pages/data.py", title="Data", icon=":material/database:", url_path="data"),
    st.Page("pages/stories.py", title="Stories", icon=":material/slideshow:", url_path="stories"),
]

page = st.navigation(PAGES)
presenting = present.start(PAGES)  # ?present=1: projector style, no sidebar, one chart per screen
audience.start(page)  # the charts this run draws, for the phones' page of a shared view
store.gate(allow_empty=present.url_path_of(page) == "data")
try:
    auth.resolve(store.engine())  # who this session is: every write in data/ checks their role
    auth.require_sign_in(store.engine())  # with ALLIANCE_ANONYMOUS_VIEW=0, nothing before signing in
    if presenting:
        present.story_header_and_bar(page)
    else:
        auth.sidebar_account(store.engine())  # top of the sidebar: who is signed in, or Sign in
    demo_banner(store.run(store.is_demo))
    page.run()
    if not presenting:
        present.sidebar_tools(page)
    store.warm_up()
except SQLAlchemyError as exc:  # e.g. the server went away mid-session
    store.show_store_error(exc)
except PermissionDenied as exc:  # a write refused by data/ (the page offers only what the role allows)
    st.error(plain(str(exc)), icon=":material/lock:")
