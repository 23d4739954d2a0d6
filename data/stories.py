"""Writing stories: create, add, reorder and delete steps, and read a story from a JSON
file (queries/stories.py writes one out). Every write needs the presenter role (data/auth.py). A story file is checked in full before anything is written; a bad file gives one
readable sentence per problem."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection, Engine

from data.auth import Actor, require
from data.schema import stories, story_steps

FILE_FORMAT = "alliance-dashboard-story"
FILE_VERSION = 1
# Query parameters that say how a view is shown, not what it shows: never saved in a step.
PLAYBACK_PARAMS = ("present", "story", "step")


class StoryError(ValueError):
    """A story could not be saved or read; the message is meant for the user."""


class StepFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    page: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    params: dict[str, str] = Field(default_factory=dict)
    headline: str = Field(default="", max_length=500)


class StoryFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: str = FILE_FORMAT
    version: int = FILE_VERSION
    name: str = Field(min_length=1, max_length=200)
    steps: list[StepFile]

    @field_validator("format")
    @classmethod
    def _format(cls, value: str) -> str:
        if value != FILE_FORMAT:
            raise ValueError(f"this is not a dashboard story file (format is {value!r}, expected {FILE_FORMAT!r})")
        return value

    @field_validator("version")
    @classmethod
    def _version(cls, value: int) -> int:
        if value != FILE_VERSION:
            raise ValueError(f"story file version {value} is not supported (this dashboard reads version {FILE_VERSION})")
        return value


def clean_params(params: dict) -> dict[str, str]:
    """The view's query parameters without the playback ones, as strings."""
    return {str(k): str(v) for k, v in params.items() if k not in PLAYBACK_PARAMS}


def _now() -> datetime:
    return datetime.now(timezone.utc)


def create_story(engine: Engine, name: str, actor: Actor | None = None) -> int:
    require(actor, "stories")
    name = name.strip()
    if not name:
        raise StoryError("Give the story a name.")
    with engine.begin() as conn:
        if conn.execute(select(stories.c.story_id).where(stories.c.name == name)).first():
            raise StoryError(f"A story called “{name}” already exists.")
        return conn.execute(insert(stories).values(name=name, created_at=_now())).inserted_primary_key[0]


def rename_story(engine: Engine, story_id: int, name: str, actor: Actor | None = None) -> None:
    require(actor, "stories")
    name = name.strip()
    if not name:
        raise StoryError("Give the story a name.")
    with engine.begin() as conn:
        other = conn.execute(select(stories.c.story_id).where(stories.c.name == name)).scalar_one_or_none()
        if other is not None and other != story_id:
            raise StoryError(f"A story called “{name}” already exists.")
        conn.execute(update(stories).where(stories.c.story_id == story_id).values(name=name))


def delete_story(engine: Engine, story_id: int, actor: Actor | None = None) -> None:
    require(actor, "stories")
    with engine.begin() as conn:
        conn.execute(delete(story_steps).where(story_steps.c.story_id == story_id))
        conn.execute(delete(stories).where(stories.c.story_id == story_id))


def _steps(conn: Connection, story_id: int) -> list[dict]:
    rows = conn.execute(
        select(story_steps.c.page, story_steps.c.params, story_steps.c.headline)
        .where(story_steps.c.story_id == story_id).order_by(story_steps.c.position)
    ).all()
    return [dict(page=r.page, params=r.params, headline=r.headline) for r in rows]


def _rewrite(conn: Connection, story_id: int, steps: list[dict]) -> None:
    conn.execute(delete(story_steps).where(story_steps.c.story_id == story_id))
    if steps:
        conn.execute(insert(story_steps), [dict(story_id=story_id, position=i, **s) for i, s in enumerate(steps, 1)])


def add_step(engine: Engine, story_id: int, page: str, params: dict, headline: str, actor: Actor | None = None) -> int:
    """Append a view to the story; returns its position (1-based)."""
    require(actor, "stories")
    step = StepFile(page=page, params=clean_params(params), headline=headline.strip())
    with engine.begin() as conn:
        if conn.execute(select(stories.c.story_id).where(stories.c.story_id == story_id)).first() is None:
            raise StoryError("That story no longer exists.")
        steps = _steps(conn, story_id)
        steps.append(dict(page=step.page, params=json.dumps(step.params, sort_keys=True), headline=step.headline))
        _rewrite(conn, story_id, steps)
        return len(steps)


def move_step(engine: Engine, story_id: int, position: int, offset: int, actor: Actor | None = None) -> None:
    """Move the step at `position` by `offset` places (-1 earlier, +1 later), within bounds."""
    require(actor, "stories")
    with engine.begin() as conn:
        steps = _steps(conn, story_id)
        source, target = position - 1, position - 1 + offset
        if not (0 <= source < len(steps) and 0 <= target < len(steps)):
            return
        steps.insert(target, steps.pop(source))
        _rewrite(conn, story_id, steps)


def delete_step(engine: Engine, story_id: int, position: int, actor: Actor | None = None) -> None:
    require(actor, "stories")
    with engine.begin() as conn:
        steps = _steps(conn, story_id)
        if 1 <= position <= len(steps):
            del steps[position - 1]
            _rewrite(conn, story_id, steps)


def set_headline(engine: Engine, story_id: int, position: int, headline: str, actor: Actor | None = None) -> None:
    require(actor, "stories")
    with engine.begin() as conn:
        conn.execute(update(story_steps).where(story_steps.c.story_id == story_id, story_steps.c.position == position)
                     .values(headline=headline.strip()))


def parse_story_file(content: str | bytes) -> StoryFile:
    """Check a story file; raise StoryError with one line per problem."""
    try:
        raw = json.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise StoryError(f"The story file is not valid JSON: {exc}.") from None
    try:
        return StoryFile.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            where = " → ".join(str(part + 1) if isinstance(part, int) else str(part) for part in error["loc"])
            message = error["msg"].removeprefix("Value error, ")
            lines.append(f"{where}: {message}" if where else message)
        raise StoryError("The story file has problems:\n" + "\n".join(f"- {line}" for line in lines)) from None


def import_story(engine: Engine, content: str | bytes, name: str | None = None, actor: Actor | None = None) -> int:
    """Save a story file as a new story (a taken name gets “(2)”, “(3)” …); returns its id."""
    require(actor, "stories")
    story = parse_story_file(content)
    wanted = (name or story.name).strip()
    with engine.begin() as conn:
        taken = set(conn.execute(select(stories.c.name)).scalars())
        chosen, n = wanted, 2
        while chosen in taken:
            chosen, n = f"{wanted} ({n})", n + 1
        story_id = conn.execute(insert(stories).values(name=chosen, created_at=_now())).inserted_primary_key[0]
        _rewrite(conn, story_id, [
            dict(page=s.page, params=json.dumps(s.params, sort_keys=True), headline=s.headline.strip()) for s in story.steps
        ])
    return story_id


__all__ = [
    "StoryError", "StoryFile", "add_step", "clean_params", "create_story", "delete_step", "delete_story",
    "import_story", "move_step", "parse_story_file", "rename_story", "set_headline",
]
