"""/stories — a presenter's saved paths through the dashboard: list, reorder, present, and move
them between computers as a file. Thin: reads from queries/stories.py, writes via data/stories.py."""

from components.entry import through_app

through_app()  # a deep link as a server's first request must still run app.py

import streamlit as st

from components import auth, present
from components.markup import plain
from components.store import engine
from data import stories as edit
from data.auth import PermissionDenied
from queries.stories import export_story, load_story, story_list

st.title("Stories")
st.caption(
    "A story is an ordered list of views — a page, its filters and a headline sentence — to present one "
    "screen at a time. Add views with **Add this view to a story** in the sidebar of any page."
)

listing = story_list(engine())
names = dict(zip(listing["story_id"].astype(int), listing["name"]))
counts = dict(zip(listing["story_id"].astype(int), listing["steps"].astype(int)))

if present.is_presenting():
    # Presentation mode: choose a story to play; nothing here can change data.
    with st.container(key="present_story_list"):
        st.html('<p class="present-story-headline">Choose a story to present</p>')
        if not names:
            st.markdown("No stories saved yet.")
        for story_id, name in names.items():
            if st.button(f"▶ {plain(name)} ({counts[story_id]} steps)", key=f"play_{story_id}", disabled=not counts[story_id]):
                present.play(load_story(engine(), story_id))
    st.stop()

if st.session_state.get("_story_pick_next") in names:  # just imported: show it
    st.session_state["story_pick"] = st.session_state.pop("_story_pick_next")
if message := st.session_state.pop("_story_message", None):
    st.success(plain(message))
can_edit = auth.may("stories")  # the writes in data/stories.py check this again themselves
if not can_edit:
    st.caption(auth.needs("stories"))
if names:
    chosen = st.selectbox("Story", list(names), format_func=lambda i: f"{names[i]} ({counts[i]} steps)", key="story_pick")
    story = load_story(engine(), chosen)
    top = st.columns([1, 1, 2])
    if top[0].button("Present", icon=":material/slideshow:", type="primary", disabled=not story.steps, key="story_present"):
        present.play(story)
    top[1].download_button("Export (.json)", export_story(engine(), chosen), file_name=f"{story.name}.json",
                           mime="application/json", icon=":material/download:", key="story_export")
    if not story.steps:
        st.info("This story has no steps yet. Open a page, set its filters, and use **Add this view to a story** in the sidebar.")
    for step in story.steps:
        with st.container(border=True):
            text, up, down, remove = st.columns([8, 1, 1, 1], vertical_alignment="center")
            filters = ", ".join(f"{k} = {v}" for k, v in step.params.items()) or "default filters"
            target = present.page_for(step.page)
            text.markdown(f"**{step.position}. {plain(step.headline) or '(no headline)'}**  \n"
                          + plain(f"{target.title if target else step.page + ' (page not in this dashboard)'} · {filters}"))
            if up.button("↑", key=f"up_{step.position}", help="Earlier", disabled=not can_edit or step.position == 1):
                edit.move_step(engine(), chosen, step.position, -1)
                st.rerun()
            if down.button("↓", key=f"down_{step.position}", help="Later",
                           disabled=not can_edit or step.position == len(story.steps)):
                edit.move_step(engine(), chosen, step.position, +1)
                st.rerun()
            if remove.button("✕", key=f"del_{step.position}", help="Remove this step", disabled=not can_edit):
                edit.delete_step(engine(), chosen, step.position)
                st.rerun()
    if story.steps and can_edit:
        with st.expander("Edit headlines"):
            with st.form(f"headlines_{chosen}", border=False):
                edited = [st.text_input(f"Step {s.position}", value=s.headline, key=f"headline_{chosen}_{s.position}")
                          for s in story.steps]
                if st.form_submit_button("Save headlines"):
                    for step, text in zip(story.steps, edited):
                        if text.strip() != step.headline:
                            edit.set_headline(engine(), chosen, step.position, text)
                    st.rerun()
    if can_edit:
        with st.expander("Rename or delete this story"):
            new_name = st.text_input("Name", value=story.name, key=f"rename_{chosen}")
            left, right = st.columns(2)
            if left.button("Rename", key="story_rename"):
                try:
                    edit.rename_story(engine(), chosen, new_name)
                    st.rerun()
                except (edit.StoryError, PermissionDenied) as error:
                    st.error(plain(str(error)))
            if right.button("Delete this story", key="story_delete"):
                edit.delete_story(engine(), chosen)
                st.rerun()
else:
    st.info("No stories saved yet. Open any page, set its filters, and use **Add this view to a story** in the sidebar.")

st.header("Import a story")
# Offered only to those who may import (a disabled uploader's label is too faint to read).
upload = st.file_uploader("A story file (.json) exported from this dashboard", type=["json"], key="story_upload") \
    if can_edit else None
if upload is not None and st.button("Import", icon=":material/upload:", key="story_import"):
    try:
        story_id = edit.import_story(engine(), upload.getvalue())
    except (edit.StoryError, PermissionDenied) as error:
        st.error(plain(str(error)))
    else:
        st.session_state["_story_pick_next"] = story_id
        st.session_state["_story_message"] = f"Imported as “{load_story(engine(), story_id).name}”."
        st.rerun()
