"""Which area a figure is about: the whole alliance, the rural or the non-rural regions, or one
region. Pages parse it once from the URL (`Scope.from_param`) and pass the value down; queries
ask it what it covers instead of comparing strings.

The URL keeps its values (a public interface): `?region=` / `?area=` is `all`, `locale:rural`,
`locale:nonrural` or a region id, and an open program filter is `?program_type=any` (`ANY`).
"""
from __future__ import annotations

from dataclasses import dataclass

from domain.vocabulary import LOCALES

LOCALE_GROUPS = {"rural": ("rural",), "nonrural": tuple(x for x in LOCALES if x != "rural")}  # the locale scopes
ANY = "any"  # a filter left open: every program type, grade band or partner sector

_ALLIANCE_PARAM = "all"
_LOCALE_PREFIX = "locale:"
_ALLIANCE_CELL = "__alliance__"
_LABELS = {"rural": "Rural regions", "nonrural": "Non-rural regions"}


@dataclass(frozen=True)
class Scope:
    kind: str  # "alliance", "locale" or "region"
    key: str = ""  # a LOCALE_GROUPS key for a locale scope, the region_id for a region

    @staticmethod
    def from_param(value: str | None) -> "Scope":
        """The scope a URL value names (none or empty: the alliance)."""
        if value in (None, "", _ALLIANCE_PARAM):
            return ALLIANCE
        if value.startswith(_LOCALE_PREFIX) and value[len(_LOCALE_PREFIX):] in LOCALE_GROUPS:
            return Scope("locale", value[len(_LOCALE_PREFIX):])
        return region(value)

    @property
    def param(self) -> str:
        """Its value in a URL (and in file names)."""
        if self.is_alliance:
            return _ALLIANCE_PARAM
        return _LOCALE_PREFIX + self.key if self.is_locale else self.key

    @property
    def is_alliance(self) -> bool:
        return self.kind == "alliance"

    @property
    def is_locale(self) -> bool:
        return self.kind == "locale"

    @property
    def is_region(self) -> bool:
        return self.kind == "region"

    @property
    def locales(self) -> tuple[str, ...]:
        """The locales of the regions a locale scope covers (empty for the others)."""
        return LOCALE_GROUPS[self.key] if self.is_locale else ()

    @property
    def region_id(self) -> str | None:
        return self.key if self.is_region else None

    @property
    def label(self) -> str | None:
        """'Alliance-wide', 'Rural regions', 'Non-rural regions'; None for a region (its name is in the store)."""
        if self.is_alliance:
            return "Alliance-wide"
        return _LABELS[self.key] if self.is_locale else None

    @property
    def cell(self) -> str:
        """The key of its rows in the rollups and area tables: `__alliance__`, `locale:rural`,
        `locale:nonrural`, or the region's id."""
        if self.is_alliance:
            return _ALLIANCE_CELL
        return locale_cell(self.key) if self.is_locale else self.key

    def __str__(self) -> str:
        return self.param


def region(region_id: str) -> Scope:
    return Scope("region", str(region_id))


def locale_cell(locale: str) -> str:
    """The key of one locale's rows (`locale:city`), or of a locale scope's."""
    return _LOCALE_PREFIX + locale


ALLIANCE = Scope("alliance")
RURAL = Scope("locale", "rural")
NONRURAL = Scope("locale", "nonrural")
LOCALE_SCOPES = (RURAL, NONRURAL)
