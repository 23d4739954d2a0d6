"""Reading stories: a presenter's saved, ordered views. Not cached: they change while a
coordinator edits them, and they are tiny."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from data.schema import stories, story_steps
from data.stories import StepFile, StoryError, StoryFile


@dataclass(frozen=True)
class Step:
    position: int
    page: str  # a page's url_path
    params: dict[str, str] = field(default_factory=dict)
    headline: str = ""


@dataclass(frozen=True)
class Story:
    story_id: int
    name: str
    steps: tuple[Step, ...]


def story_list(engine: Engine) -> pd.DataFrame:
    """Every story with its number of steps, by name."""
    query = (
        select(stories.c.story_id, stories.c.name, func.count(story_steps.c.position).label("steps"))
        .select_from(stories.outerjoin(story_steps, story_steps.c.story_id == stories.c.story_id))
        .group_by(stories.c.story_id, stories.c.name)
        .order_by(stories.c.name)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return pd.DataFrame(rows, columns=["story_id", "name", "steps"])


def load_story(engine: Engine, story_id: int) -> Story | None:
    with engine.connect() as conn:
        name = conn.execute(select(stories.c.name).where(stories.c.story_id == story_id)).scalar_one_or_none()
        if name is None:
            return None
        rows = conn.execute(
            select(story_steps).where(story_steps.c.story_id == story_id).order_by(story_steps.c.position)
        ).all()
    return Story(story_id, name, tuple(Step(r.position, r.page, json.loads(r.params), r.headline) for r in rows))


def export_story(engine: Engine, story_id: int) -> str:
    """The story as JSON text in the story file format (data/stories.py reads it back)."""
    story = load_story(engine, story_id)
    if story is None:
        raise StoryError("That story no longer exists.")
    file = StoryFile(name=story.name, steps=[StepFile(page=s.page, params=s.params, headline=s.headline)
                                             for s in story.steps])
    return json.dumps(file.model_dump(), indent=2, ensure_ascii=False) + "\n"


def story_id_by_name(engine: Engine, name: str) -> int | None:
    with engine.connect() as conn:
        return conn.execute(select(stories.c.story_id).where(stories.c.name == name)).scalar_one_or_none()
