"""Presenting at a convening: presentation mode, stories played step by step, and share links
with a QR code — all drawn without any network.

- `?present=1` (or the sidebar toggle) hides the sidebar and Streamlit's chrome, switches to a
  large, high-contrast projector style, and draws each chart a screen tall under its caption as
  a headline; tables, downloads and data-management controls are not shown. `?chart=KEY` shows
  only that chart. The mode is remembered for the session, so it survives page switches.
- `?story=ID&step=N&present=1` plays a saved story: a bar at the bottom steps through it with
  ← Previous / Next → (also the ← and → keys).
- Share links never carry the playback parameters unless the presenter asks for them.
"""
from __future__ import annotations

import html
import os
from typing import Collection, Mapping, Sequence
from urllib.parse import urlencode, urlsplit, urlunsplit

import streamlit as st

from domain.memo import memo
from components.markup import plain
from components.palette import BLACK, WHITE

PRESENT, STORY, STEP, CHART = "present", "story", "step", "chart"
PLAYBACK = (PRESENT, STORY, STEP)
PUBLIC_URL_SETTING = "PUBLIC_URL"  # e.g. http://192.168.1.20:8501 — the address phones in the room can reach
# Filter values are ids and periods; anything longer is not one of ours (a tracking tag, a pasted blob).
MAX_PARAM_LENGTH = 100

_SESSION_FLAG = "_presenting"
_CHARTS_THIS_RUN = "_present_charts"
_pages: dict[str, object] = {}  # url_path -> st.Page, registered by app.py on every run


# --- pure helpers ----------------------------------------------------------------------------

def share_url(page_url: str, params: Mapping[str, str], public_base: str | None = None,
              keep_playback: bool = False, known: Collection[str] | None = None) -> str:
    """The link to this view: the page's URL with its filters as query parameters. Playback
    parameters (present, story, step) are left out unless `keep_playback`; with `known`, so is
    every parameter that is not a filter name (nor `chart`), and any value longer than
    MAX_PARAM_LENGTH: a tracking tag must not make the link too long for a QR code.
    `public_base` replaces the scheme and host (the presenter's laptop is `localhost` to itself only)."""
    parts = urlsplit(page_url or "http://localhost:8501/")
    if public_base:
        base = urlsplit(public_base if "://" in public_base else f"http://{public_base}")
        prefix = base.path.rstrip("/")
        parts = parts._replace(scheme=base.scheme, netloc=base.netloc, path=prefix + (parts.path or "/"))
    query = {k: v for k, v in view_params(params, known).items() if keep_playback or k not in PLAYBACK}
    return urlunsplit(parts._replace(query=urlencode(query), fragment=""))


def view_params(params: Mapping[str, str], known: Collection[str] | None = None) -> dict[str, str]:
    """The parameters that make a view: the filters in `known` (all, when None), the chart and
    playback parameters, each with a value no longer than MAX_PARAM_LENGTH."""
    ours = None if known is None else {*known, CHART, *PLAYBACK}
    return {k: v for k, v in params.items()
            if (ours is None or k in ours) and v is not None and len(str(v)) <= MAX_PARAM_LENGTH}


@memo  # drawn on every rerun of every session's sidebar: encode each link once
def qr_svg(url: str, scale: int = 6) -> str | None:
    """A QR code of `url` as a standalone SVG document, made locally (segno), black on white;
    None when the link is too long for any QR code."""
    import io

    import segno
    from segno.encoder import DataOverflowError

    buffer = io.BytesIO()
    try:
        code = segno.make(url, error="m")
    except DataOverflowError:
        return None
    code.save(buffer, kind="svg", scale=scale, dark=BLACK, light=WHITE, border=2, xmldecl=False)
    return buffer.getvalue().decode("utf-8")


def step_params(story_id: int, position: int, params: Mapping[str, str]) -> dict[str, str]:
    """Query parameters that open a story step in presentation mode."""
    return {**{k: v for k, v in params.items() if k not in PLAYBACK},
            PRESENT: "1", STORY: str(story_id), STEP: str(position)}


def is_local_address(url: str) -> bool:
    return (urlsplit(url).hostname or "") in ("localhost", "127.0.0.1", "::1", "0.0.0.0")


# --- presentation mode -----------------------------------------------------------------------

def is_presenting() -> bool:
    """`?present=1` turns presentation mode on and `?present=0` off; otherwise the session's choice."""
    requested = st.query_params.get(PRESENT)
    if requested is not None:
        st.session_state[_SESSION_FLAG] = requested == "1"
    return bool(st.session_state.get(_SESSION_FLAG, False))


def set_presenting(on: bool) -> None:
    st.session_state[_SESSION_FLAG] = on
    if on:
        st.query_params[PRESENT] = "1"
    else:
        for name in (PRESENT, STORY, STEP, CHART):
            st.query_params.pop(name, None)


def url_path_of(page) -> str:
    """A page's own url_path, also for the default page (whose public `url_path` is "")."""
    return getattr(page, "_url_path", None) or page.url_path


def register_pages(pages: Sequence) -> None:
    _pages.update({url_path_of(page): page for page in pages})


def page_for(url_path: str):
    return _pages.get(url_path)


def start(pages: Sequence) -> bool:
    """Called by app.py before the page runs: registers the pages, and when presenting keeps
    `present=1` in the URL and applies the projector style. Returns whether presenting."""
    register_pages(pages)
    st.session_state[_CHARTS_THIS_RUN] = []
    presenting = is_presenting()
    if presenting:
        st.query_params[PRESENT] = "1"
        focused = CHART in st.query_params or STORY in st.query_params
        one_chart = ONE_CHART_CSS if CHART in st.query_params else ""
        st.html(f"<style>{PROJECTOR_CSS}{FOCUSED_CSS if focused else ''}{one_chart}</style>")
    return presenting


def note_chart(key: str, caption: str) -> None:
    st.session_state.setdefault(_CHARTS_THIS_RUN, []).append((key, caption))


def charts_this_run() -> list[tuple[str, str]]:
    return list(st.session_state.get(_CHARTS_THIS_RUN, []))


def shows_chart(key: str) -> bool:
    """With `?chart=KEY` in presentation mode, only that chart is drawn."""
    only = st.query_params.get(CHART)
    return not (only and is_presenting()) or only == key


def headline(text: str) -> None:
    st.html(f'<p class="present-headline">{html.escape(text)}</p>')


# Hidden when presenting: Streamlit's chrome and the sidebar, and in the main area every table,
# download, expander, input and button, and running text — except inside this module's own
# containers (keys starting `present_`). Charts, metrics, sub-headings and notices stay.
_HIDE_IN_MAIN = ", ".join(f"> [data-testid=\"{testid}\"]" for testid in (
    "stDataFrame", "stTable", "stExpander", "stDownloadButton", "stButton", "stFileUploader", "stForm",
    "stSelectbox", "stMultiSelect", "stTextInput", "stTextArea", "stNumberInput", "stRadio", "stCheckbox",
    "stSlider", "stDateInput", "stCode", "stJson", "stPageLink", "stMarkdown", "stCaptionContainer",
    "stPopover", "stToggle", "stDataEditor",
))
PROJECTOR_CSS = f"""
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
[data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stStatusWidget"],
[data-testid="stSidebarNav"], [data-testid="stExpandSidebarButton"] {{ display: none !important; }}
.stApp, [data-testid="stMain"] {{ background: #FFFFFF; color: #000000; }}
[data-testid="stMainBlockContainer"] {{ max-width: 100%; padding: 1rem 2.5rem 6rem 2.5rem; }}
[data-testid="stMain"] [data-testid="stElementContainer"]:not([class*="st-key-present_"] *):has({_HIDE_IN_MAIN}) {{
    display: none !important; }}
[data-testid="stMain"] [data-testid="stElementContainer"]:not([class*="st-key-present_"] *):has([data-testid="stDataFrame"], [data-testid="stTable"], [data-testid="stDownloadButton"]) {{
    display: none !important; }}
[data-testid="stMain"] :is([data-testid="stExpander"], [data-testid="stForm"], [data-testid="stDataFrame"], [data-testid="stTable"],
    [data-testid="stDownloadButton"], [data-testid="stFileUploader"], [data-testid="stPopover"]):not([class*="st-key-present_"] *) {{
    display: none !important; }}
/* The page's title makes no room on the screen but stays the first heading for screen readers. */
[data-testid="stMain"] [data-testid="stHeading"]:has(h1) {{ position: absolute !important; width: 1px; height: 1px;
    overflow: hidden; clip-path: inset(50%); white-space: nowrap; }}
/* Charts side by side on a desk are one under the other on the projector: each a screen wide. */
[data-testid="stHorizontalBlock"]:has([class*="st-key-present_chart_"]) {{ flex-direction: column; }}
[data-testid="stHorizontalBlock"]:has([class*="st-key-present_chart_"]) > [data-testid="stColumn"] {{
    width: 100% !important; flex: 1 1 100% !important; }}
/* Sentences that carry the message (what changed, the ranking's first regions) read from the back. */
[class*="st-key-present_text_"] :is(p, li) {{ font-size: 1.35rem; line-height: 1.35; color: #000000; }}
[data-testid="stMain"] h2, [data-testid="stMain"] h3 {{ font-size: 1.9rem !important; color: #000000; }}
[data-testid="stMain"] [data-testid="stMetricValue"] {{ font-size: 3rem; color: #000000; }}
[data-testid="stMain"] [data-testid="stMetricLabel"] p {{ font-size: 1.4rem; color: #000000; }}
[data-testid="stMain"] [data-testid="stAlert"] p {{ font-size: 1.1rem; }}
.present-headline {{ font-size: 1.45rem; line-height: 1.25; font-weight: 700; color: #000000; margin: 0.2rem 0 0.4rem 0; }}
.present-story-headline {{ font-size: 2.3rem; line-height: 1.2; font-weight: 800; color: #000000; margin: 0; }}
/* A chart and its headline fill one screen above the bar (about 4.5rem), never more: the chart
   stretches (st.plotly_chart height="stretch") into what the headline leaves. */
[class*="st-key-present_chart_"] {{ height: calc(100vh - 5.5rem); flex: none !important; overflow: hidden; }}
@media (max-width: 640px) {{ [class*="st-key-present_chart_"] {{ height: auto !important; overflow: visible; }}
    [data-testid="stMainBlockContainer"] {{ padding: 0.5rem 1rem 6rem 1rem; }} }}
.st-key-present_story_list button p {{ font-size: 1.6rem; font-weight: 700; }}
.st-key-present_bar {{ position: fixed; left: 0; right: 0; bottom: 0; z-index: 999990; background: #FFFFFF;
    border-top: 3px solid #000000; padding: 0.5rem 2.5rem; }}
.st-key-present_bar p {{ font-size: 1.3rem; color: #000000; margin: 0; }}
.st-key-present_bar button p {{ font-size: 1.2rem; font-weight: 700; }}
"""
# One chart (`?chart=`) or a story step: the step's or chart's headline replaces section headings.
FOCUSED_CSS = """
[data-testid="stMain"] [data-testid="stElementContainer"]:not([class*="st-key-present_"] *):has(> [data-testid="stHeading"]) {
    display: none !important; }
"""
# `?chart=KEY`: that chart under its headline (and the story step's), nothing else, one screen.
ONE_CHART_CSS = """
[data-testid="stMain"] [data-testid="stElementContainer"]:not(:is([class*="st-key-present_chart_"], .st-key-present_story_head,
    .st-key-present_demo, .st-key-present_bar) *) { display: none !important; }
[class*="st-key-present_text_"], [data-testid="stMain"] :is([data-testid="stHorizontalBlock"], [data-testid="stColumn"]):not(:has([class*="st-key-present_chart_"])):not(.st-key-present_bar *) {
    display: none !important; }
/* Pinned between the demo label (and the story step's headline) and the bar: one screen whatever
   the page put above it. */
[class*="st-key-present_chart_"] { position: fixed; top: 4rem; bottom: 5rem; left: 2.5rem; right: 2.5rem; height: auto;
    width: auto !important;  /* Streamlit sets width: 100%, which for a fixed box is the whole screen past its right edge */
    z-index: 10; background: #FFFFFF; }
.stApp:has(.st-key-present_story_head) [class*="st-key-present_chart_"] { top: 10rem; }
@media (max-width: 640px) { [class*="st-key-present_chart_"] { position: static; } }
"""


# --- the presenter's bar, stories and the share dialog ---------------------------------------

def story_header_and_bar(page) -> None:
    """Called by app.py before the page runs, when presenting: the story step's headline on top
    and the bar at the bottom (fixed, so it shows even if the page stops early)."""
    from components.store import engine
    from queries.stories import load_story

    story, position = None, 0
    story_id, step = st.query_params.get(STORY), st.query_params.get(STEP)
    if story_id and story_id.isdigit():
        story = load_story(engine(), int(story_id))
        position = int(step) if step and step.isdigit() else 1
    if story is not None and story.steps:
        position = min(max(position, 1), len(story.steps))
        current = story.steps[position - 1]
        if current.headline:
            with st.container(key="present_story_head"):
                st.html(f'<p class="present-story-headline">{html.escape(current.headline)}</p>')
    with st.container(key="present_bar"):
        if story is not None and story.steps:
            back, where, forward, share, leave = st.columns([1.2, 3, 1.2, 1.2, 1.2], vertical_alignment="center")
            if back.button("← Previous", key="present_prev", shortcut="ArrowLeft", disabled=position <= 1, width="stretch"):
                go_to_step(story, position - 1)
            where.markdown(f"**{plain(story.name)}** · step {position} of {len(story.steps)}")
            if forward.button("Next →", key="present_next", shortcut="ArrowRight", type="primary",
                              disabled=position >= len(story.steps), width="stretch"):
                go_to_step(story, position + 1)
        else:
            where, share, leave = st.columns([6.4, 1.2, 1.2], vertical_alignment="center")
            where.markdown(f"**{plain(page.title)}** · presentation mode")
        if share.button("Show link", key="present_share", icon=":material/qr_code_2:", width="stretch"):
            share_dialog()
        if leave.button("Exit", key="present_exit", shortcut="Escape", width="stretch"):
            set_presenting(False)
            st.rerun()


def go_to_step(story, position: int) -> None:
    """Open step `position` of `story` on its page, in presentation mode."""
    step = story.steps[position - 1]
    target = page_for(step.page)
    if target is None:
        st.toast(f"Step {position} opens a page this dashboard does not have ({step.page}).")
        return
    st.switch_page(target, query_params=step_params(story.story_id, position, step.params))


def play(story, position: int = 1) -> None:
    st.session_state[_SESSION_FLAG] = True
    go_to_step(story, position)


def current_view_params() -> dict[str, str]:
    """This view's filters from the URL, without parameters no page knows (tracking tags)."""
    from components.filters import filter_names

    return view_params({k: st.query_params.get(k) for k in st.query_params.keys()}, filter_names())


def _share_link_block(keep_playback: bool) -> str:
    from components import audience

    url = share_url(st.context.url or "", current_view_params(), os.environ.get(PUBLIC_URL_SETTING), keep_playback)
    # Phones get the audience page (components/audience.py): a room scanning at once costs the
    # server no script runs. The live link stays below for anyone who wants to explore.
    phones = audience.link(url)
    svg = qr_svg(phones or url)
    if svg is None:
        st.caption("This link is too long for a QR code; copy it instead.")
    else:
        st.image(svg, width=260, caption="Scan to open this view" + (" (a page made for phones)" if phones else ""))
    if phones:
        st.code(phones, language=None, wrap_lines=True)
        st.caption("The live dashboard, to explore:")
    st.code(url, language=None, wrap_lines=True)
    if is_local_address(url):
        st.caption("This address only works on this computer. For phones in the room, start the dashboard with "
                   f"`{PUBLIC_URL_SETTING}` set to an address they can reach, e.g. `http://192.168.1.20:8501`.")
    return url


@st.dialog("Open this view on your phone", width="medium")
def share_dialog() -> None:
    with st.container(key="present_share_box"):
        st.markdown("Scan the code, or type the link. It opens this page with the same filters.")
        _share_link_block(keep_playback=False)


def sidebar_tools(page) -> None:
    """Called by app.py after the page ran, when not presenting: the presentation toggle, the
    share link with its QR code, and "Add this view to a story"."""
    sidebar = st.sidebar
    sidebar.divider()
    sidebar.toggle("Presentation mode", key="_present_toggle", value=False, on_change=_toggle_on,
                   help="Large type, one chart per screen, no sidebar. Exit with the Exit button or the Esc key.")
    with sidebar.expander("Share this view", icon=":material/qr_code_2:"):
        with st.container(key="share_box"):
            keep = st.checkbox("Open it in presentation mode", key="_share_keep_playback", value=False)
            _share_link_block(keep_playback=keep)
    if url_path_of(page) != "stories":
        from components import auth

        with sidebar.expander("Add this view to a story", icon=":material/playlist_add:"):
            if auth.may("stories"):  # add_step and create_story check the role again themselves
                add_to_story_form(page)
            else:
                st.caption(auth.needs("stories"))


def _toggle_on() -> None:
    if st.session_state.get("_present_toggle"):
        set_presenting(True)


def add_to_story_form(page) -> None:
    from components.store import engine
    from data.auth import PermissionDenied
    from data.stories import StoryError, add_step, create_story
    from queries.stories import story_list

    existing = story_list(engine())
    new_story = "➕ A new story"
    names = dict(zip(existing["name"], existing["story_id"]))
    charts = charts_this_run()
    chart_names = {"": "The whole page", **{key: caption for key, caption in charts}}
    with st.form("add_to_story", clear_on_submit=True, border=False):
        choice = st.selectbox("Story", [*names, new_story], key="_story_choice")
        new_name = st.text_input("New story's name", placeholder="e.g. Fall convening 2025", key="_story_new_name")
        chart = st.selectbox("Show", list(chart_names), format_func=lambda k: _short(chart_names[k]), key="_story_chart")
        line = st.text_area("Headline sentence", placeholder="What should the room take away from this view?",
                            key="_story_headline", height=80)
        if not st.form_submit_button("Add this view", icon=":material/add:"):
            return
    try:
        story_id = create_story(engine(), new_name) if choice == new_story else int(names[choice])
        params = current_view_params()
        params.pop(CHART, None)
        if chart:
            params[CHART] = chart
        position = add_step(engine(), story_id, url_path_of(page), params, line or (chart_names[chart] if chart else page.title))
    except (StoryError, PermissionDenied) as error:
        st.error(plain(str(error)))
        return
    st.success(f"Added as step {position}. Open **Stories** to reorder or present it.")


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
