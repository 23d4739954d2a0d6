"""The built-in demo alliance: a synthetic data package on real county geography.

"Ridge & Valley STEM Alliance (demo)" is fictional. Its twelve counties around Chattanooga
(south-east Tennessee and north-west Georgia) are real, so the built-in county boundaries draw
the map, but every number in the package is made up by a seeded simulation:

* outcomes and pathway counts come from simulated students, so every partition of the
  students (race, income, language, disability, gender) adds up to the `all` row;
* gaps are built in on purpose: some close over the six school years, some widen;
* Bledsoe and Grundy are high-poverty rural counties with almost no program seats;
* the package looks like real provider and report-card files: a few providers write `*` for
  small counts, two rural counties' graduation rates come range-coded (`90-94`, `GE95`, `PS`),
  and small groups in small counties have denominators under 10.

`write_demo_package` writes the CSV files of the import contract (byte-identical for the same
seed); `load_demo` imports them through the same importer users use. The store knows it holds
demo data because the import's source is the folder name `DEMO_SOURCE` (see `is_demo`).
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from numpy.random import PCG64, Generator
from sqlalchemy import Engine, inspect, select

from domain import vocabulary as vocab
from domain.gaps import pooled_rate
from domain.periods import quarter_bounds

DEMO_SOURCE = "demo-alliance-synthetic"
DEFAULT_SEED = 2025
SYNTHETIC_NOTE = "Synthetic demo data for the fictional Ridge & Valley STEM Alliance; not real students."

QUARTERS = tuple(f"{y}-Q{q}" for y in (2023, 2024, 2025) for q in (1, 2, 3, 4))
SCHOOL_YEARS = tuple(f"{y}-{(y + 1) % 100:02d}" for y in range(2019, 2025))
COHORTS = (2019, 2020, 2021)
GROUPS = tuple(g.group_id for g in vocab.BUILT_IN_GROUPS)  # "all" first, then the contract's groups
RACES = ("american_indian_alaska_native", "asian", "black", "hispanic",
         "native_hawaiian_pacific_islander", "white", "two_or_more_races")


# --- the alliance's places ----------------------------------------------------------------

@dataclass(frozen=True)
class Region:
    fips: str
    name: str
    locale: str
    k12: int
    low_income: float
    race: tuple[float, ...]  # shares in RACES order, percent
    el_factor: float  # scales the chance that a Hispanic or Asian student is an English learner
    effect: float  # logit shift of outcomes beyond what composition explains
    sites: int  # program sites the alliance has here
    anchor: tuple[float, float]  # (lon, lat) of the county seat: sites cluster around it
    towns: tuple[str, ...]


REGIONS: tuple[Region, ...] = (
    Region("47065", "Hamilton County", "city", 45200, 41.5, (0.3, 2.4, 27.5, 12.0, 0.2, 54.6, 3.0), 1.0, 0.00, 38,
           (-85.2500, 35.0700), ("Chattanooga", "East Ridge", "Red Bank", "Hixson", "Soddy-Daisy", "Ooltewah", "Signal Mountain", "Collegedale")),
    Region("47011", "Bradley County", "suburb", 16800, 44.0, (0.3, 1.2, 6.0, 12.5, 0.2, 76.8, 3.0), 1.0, 0.05, 13,
           (-84.8770, 35.1600), ("Cleveland", "Charleston", "McDonald")),
    Region("13047", "Catoosa County", "suburb", 10900, 36.5, (0.3, 1.6, 3.2, 7.0, 0.1, 84.3, 3.5), 0.8, 0.20, 9,
           (-85.1400, 34.9100), ("Ringgold", "Fort Oglethorpe")),
    Region("13295", "Walker County", "suburb", 8700, 52.0, (0.3, 0.5, 4.3, 4.0, 0.1, 87.3, 3.5), 0.8, -0.05, 7,
           (-85.2820, 34.7300), ("LaFayette", "Rossville", "Chickamauga")),
    Region("13313", "Whitfield County", "town", 20100, 63.0, (0.3, 1.5, 3.8, 50.5, 0.1, 41.3, 2.5), 1.3, 0.00, 12,
           (-84.9700, 34.7700), ("Dalton", "Tunnel Hill", "Varnell", "Rocky Face")),
    Region("47107", "McMinn County", "town", 7100, 49.0, (0.3, 0.9, 4.0, 7.0, 0.1, 84.7, 3.0), 0.9, -0.05, 7,
           (-84.5930, 35.4430), ("Athens", "Etowah", "Englewood")),
    Region("47143", "Rhea County", "town", 5600, 53.5, (0.3, 0.6, 2.0, 10.5, 0.1, 83.5, 3.0), 1.0, -0.10, 5,
           (-85.0120, 35.4940), ("Dayton", "Spring City")),
    Region("47115", "Marion County", "rural", 4100, 51.0, (0.2, 0.3, 3.8, 2.0, 0.0, 91.7, 2.0), 0.7, -0.15, 4,
           (-85.6260, 35.0740), ("Jasper", "South Pittsburg", "Whitwell")),
    Region("47153", "Sequatchie County", "rural", 2500, 47.5, (0.2, 0.4, 0.8, 5.0, 0.0, 91.6, 2.0), 0.8, -0.10, 3,
           (-85.3900, 35.3710), ("Dunlap",)),
    Region("13083", "Dade County", "rural", 2150, 45.0, (0.3, 0.5, 0.9, 3.2, 0.0, 92.1, 3.0), 0.7, 0.00, 3,
           (-85.5090, 34.8720), ("Trenton",)),
    Region("47007", "Bledsoe County", "rural", 1750, 66.0, (0.2, 0.2, 3.0, 3.0, 0.0, 91.6, 2.0), 0.7, -0.45, 1,
           (-85.1880, 35.6060), ("Pikeville",)),
    Region("47061", "Grundy County", "rural", 1950, 71.5, (0.2, 0.2, 0.5, 2.0, 0.0, 95.6, 1.5), 0.6, -0.55, 0,
           (-85.7360, 35.3600), ("Tracy City", "Altamont", "Palmer")),
)
REGION_BY_ID = {r.fips: r for r in REGIONS}


# --- partners and programs ----------------------------------------------------------------

# (partner_id, name, sector, home region or None for alliance-wide, year joined, left_on, writes * for counts under 10)
PARTNERS: tuple[tuple, ...] = (
    ("P01", "Hamilton County Schools", "k12", "47065", 2016, None, False),
    ("P02", "Bradley County Schools", "k12", "47011", 2017, None, False),
    ("P03", "Cleveland City Schools", "k12", "47011", 2018, None, False),
    ("P04", "Catoosa County Public Schools", "k12", "13047", 2018, None, False),
    ("P05", "Walker County Schools", "k12", "13295", 2019, None, False),
    ("P06", "Whitfield County Schools", "k12", "13313", 2017, None, False),
    ("P07", "Dalton Public Schools", "k12", "13313", 2019, None, False),
    ("P08", "McMinn County Schools", "k12", "47107", 2020, None, False),
    ("P09", "Rhea County Schools", "k12", "47143", 2021, None, False),
    ("P10", "Marion County Schools", "k12", "47115", 2022, None, False),
    ("P11", "Sequatchie County Schools", "k12", "47153", 2023, None, False),
    ("P12", "Dade County Schools", "k12", "13083", 2023, None, False),
    ("P13", "Bledsoe County Schools", "k12", "47007", 2024, None, False),
    ("P14", "Grundy County Schools", "k12", "47061", 2025, None, False),
    ("P15", "Tennessee Valley State University", "higher_education", "47065", 2016, None, False),
    ("P16", "Lookout Community College", "higher_education", "47065", 2016, None, False),
    ("P17", "Cohutta Technical College", "higher_education", "13313", 2018, None, False),
    ("P18", "Hiwassee Valley College", "higher_education", "47107", 2020, None, False),
    ("P19", "Cumberland Plateau Community College", "higher_education", "47143", 2023, None, False),
    ("P20", "Ridge & Valley Technical Center", "career_technical", "47011", 2017, None, False),
    ("P21", "Dalton Career Academy", "career_technical", "13313", 2018, None, False),
    ("P22", "Chickamauga Valley CTE Consortium", "career_technical", "13295", 2021, None, False),
    ("P23", "Sequatchie Valley Skills Center", "career_technical", "47115", 2024, None, False),
    ("P24", "Riverbend Discovery Museum", "informal_education", "47065", 2016, None, False),
    ("P25", "Lookout Mountain Nature Center", "informal_education", "13295", 2017, None, False),
    ("P26", "Riverfront Aquarium Learning Lab", "informal_education", "47065", 2016, None, False),
    ("P27", "Cumberland Trail Conservancy", "informal_education", "47153", 2022, None, False),
    ("P28", "Scenic City Makerspace Collective", "informal_education", "47065", 2019, None, False),
    ("P29", "Boys & Girls Clubs of the Valley", "afterschool_community", "47065", 2016, None, True),
    ("P30", "Valley YMCA", "afterschool_community", "47011", 2018, None, False),
    ("P31", "Sequatchie Valley 4-H Clubs", "afterschool_community", "47153", 2021, None, True),
    ("P32", "East Ridge Youth Coding League", "afterschool_community", "47065", 2020, None, False),
    ("P33", "Dalton Latino Family Center", "afterschool_community", "13313", 2019, None, True),
    ("P34", "Mountain Community Action Partnership", "afterschool_community", "47115", 2023, None, False),
    ("P35", "Valley Carpet & Flooring Manufacturers", "business_industry", "13313", 2017, None, False),
    ("P36", "Chattanooga Clean Energy Co-op", "business_industry", "47065", 2019, None, False),
    ("P37", "Scenic City Software", "business_industry", "47065", 2020, None, False),
    ("P38", "Tri-State Regional Medical Center", "business_industry", "47065", 2018, None, False),
    ("P39", "Cleveland Appliance Works", "business_industry", "47011", 2021, None, False),
    ("P40", "Southeast Logistics Group", "business_industry", "13047", 2019, "2024-06-30", False),
    ("P41", "Ridge & Valley Community Foundation", "philanthropy", None, 2016, None, False),
    ("P42", "Scenic City Education Fund", "philanthropy", "47065", 2017, None, False),
    ("P43", "Plateau Rural Futures Fund", "philanthropy", "47061", 2024, None, False),
    ("P44", "Southeast Tennessee Development District", "government", None, 2018, None, False),
    ("P45", "Northwest Georgia Regional Commission", "government", None, 2019, None, False),
    ("P46", "Chattanooga Public Library", "government", "47065", 2017, None, False),
    ("P47", "Moccasin Bend Tribal Education Council", "tribal_nation", "47065", 2022, None, False),
    ("P48", "Regional Parent-Teacher Council", "other", None, 2020, None, False),
    ("P49", "Faith Communities for Youth STEM", "other", "47143", 2023, None, False),
)
PROGRAMLESS_PARTNERS = {"P14", "P41", "P42", "P43"}  # newest district and the funders run no programs

SECTORS_FOR_TYPE = {
    "in_school": ("k12", "informal_education"),
    "afterschool": ("afterschool_community", "informal_education", "k12"),
    "summer": ("informal_education", "higher_education", "afterschool_community"),
    "family_engagement": ("afterschool_community", "government", "other", "k12"),
    "educator_development": ("higher_education", "informal_education"),
    "work_based_learning": ("business_industry", "career_technical"),
    "dual_enrollment": ("higher_education", "career_technical"),
    "mentoring": ("higher_education", "business_industry", "afterschool_community", "other"),
    "competition": ("k12", "higher_education", "informal_education", "business_industry"),
    "career_exposure": ("business_industry", "government", "career_technical"),
    "other": ("informal_education", "government", "other"),
}

# (name, program_type, grade_band, owner partner_id or None to draw one by sector, first-site region or None)
PROGRAMS: tuple[tuple, ...] = (
    ("Elementary Engineering Kits", "in_school", "elementary", None, None),
    ("Middle School Coding Pathway", "in_school", "middle", None, None),
    ("Pre-K Science Explorers", "in_school", "pre_k", None, None),
    ("High School Robotics Elective", "in_school", "high", None, None),
    ("Computer Science for All", "in_school", "all", "P01", "47065"),
    ("Project-Based Math Labs", "in_school", "middle", None, None),
    ("Robotics Club", "afterschool", "middle", None, None),
    ("Girls Who Build", "afterschool", "middle", None, None),
    ("Coding Club", "afterschool", "elementary", "P32", "47065"),
    ("Maker Saturdays", "afterschool", "elementary", "P28", "47065"),
    ("Teen Tech Crew", "afterschool", "high", None, None),
    ("Rural STEM Clubhouse", "afterschool", "middle", "P34", "47115"),
    ("Summer Science Camp", "summer", "elementary", None, None),
    ("Engineering Summer Academy", "summer", "high", "P15", "47065"),
    ("Nature Discovery Camp", "summer", "elementary", "P25", "13295"),
    ("Summer Bridge Math", "summer", "middle", None, None),
    ("Space & Aviation Camp", "summer", "middle", None, None),
    ("Summer Coding Camp", "summer", "all", None, None),
    ("Family Science Nights", "family_engagement", "families", None, None),
    ("Math at Home", "family_engagement", "pre_k", None, None),
    ("Padres en STEM", "family_engagement", "families", "P33", "13313"),
    ("Library STEM Backpacks", "family_engagement", "elementary", "P46", "47065"),
    ("Parent Pathways Workshops", "family_engagement", "families", "P48", None),
    ("Family Makers Day", "family_engagement", "all", None, None),
    ("STEM Teacher Institute", "educator_development", "educators", "P15", "47065"),
    ("Computer Science Teacher Academy", "educator_development", "educators", None, None),
    ("Teacher Externships in Industry", "educator_development", "educators", None, None),
    ("Rural Teacher Fellows", "educator_development", "educators", "P19", "47143"),
    ("Elementary Science Coaching", "educator_development", "educators", None, None),
    ("Early Math Coaching", "educator_development", "educators", None, None),
    ("Advanced Manufacturing Apprenticeship", "work_based_learning", "high", "P39", "47011"),
    ("Healthcare Pathway Internships", "work_based_learning", "high", "P38", "47065"),
    ("Software Apprenticeship", "work_based_learning", "postsecondary", "P37", "47065"),
    ("Clean Energy Internships", "work_based_learning", "postsecondary", "P36", "47065"),
    ("Logistics Work-Based Learning", "work_based_learning", "high", "P40", "13047"),
    ("Youth Apprenticeship in Flooring Technology", "work_based_learning", "high", "P35", "13313"),
    ("Early College STEM", "dual_enrollment", "high", None, None),
    ("Dual Enrollment Biology", "dual_enrollment", "high", None, None),
    ("Dual Enrollment Calculus", "dual_enrollment", "high", None, None),
    ("Mechatronics Dual Credit", "dual_enrollment", "high", "P20", "47011"),
    ("Nursing Prerequisites Dual Credit", "dual_enrollment", "high", None, None),
    ("IT Fundamentals Dual Credit", "dual_enrollment", "high", None, None),
    ("STEM Mentors", "mentoring", "middle", None, None),
    ("College Near-Peer Mentoring", "mentoring", "high", None, None),
    ("Women in Engineering Mentors", "mentoring", "postsecondary", "P15", "47065"),
    ("First-Generation STEM Scholars", "mentoring", "postsecondary", None, None),
    ("Career Coaches", "mentoring", "high", None, None),
    ("Tribal Youth STEM Mentoring", "mentoring", "all", "P47", "47065"),
    ("Regional Science Fair", "competition", "middle", None, None),
    ("Brick Robotics League", "competition", "elementary", None, None),
    ("Science Olympiad", "competition", "high", None, None),
    ("Middle School Math Bowl", "competition", "middle", None, None),
    ("Youth Hackathon", "competition", "high", "P37", None),
    ("Envirothon", "competition", "high", None, None),
    ("STEM Career Expo", "career_exposure", "middle", None, None),
    ("Industry Tours", "career_exposure", "high", None, None),
    ("Virtual Job Shadow", "career_exposure", "high", None, None),
    ("Career Day in a Box", "career_exposure", "elementary", None, None),
    ("Manufacturing Day", "career_exposure", "all", None, None),
    ("College & Career Fair", "career_exposure", "postsecondary", None, None),
    ("Mobile Science Lab", "other", "elementary", "P24", "47007"),
    ("STEM Lending Library", "other", "all", "P46", "47065"),
    ("Hotspot & Laptop Lending", "other", "families", None, None),
    ("Planetarium Shows", "other", "all", None, None),
    ("Community Garden Science", "other", "pre_k", None, None),
    ("Citizen Science Water Watch", "other", "middle", "P27", "47153"),
)

SEATS_FOR_TYPE = {
    "in_school": (60, 400), "afterschool": (15, 60), "summer": (20, 120), "family_engagement": (15, 80),
    "educator_development": (10, 40), "work_based_learning": (10, 45), "dual_enrollment": (20, 150),
    "mentoring": (10, 50), "competition": (10, 40), "career_exposure": (40, 300), "other": (15, 80),
}
VENUE_FOR_BAND = {
    "pre_k": "Early Learning Center", "elementary": "Elementary", "middle": "Middle School", "high": "High School",
    "postsecondary": "Campus", "educators": "Teacher Center", "families": "Public Library", "all": "Community Center",
}
# Share of a quarter's usual participation by program type, Q1..Q4 (0 = not running that quarter).
SEASON = {
    "summer": (0.0, 0.35, 1.0, 0.0), "competition": (1.0, 0.8, 0.0, 0.6), "afterschool": (1.0, 0.9, 0.4, 1.0),
    "dual_enrollment": (1.0, 0.9, 0.3, 1.0), "in_school": (1.0, 0.95, 0.7, 1.0), "educator_development": (0.6, 0.8, 1.0, 0.6),
}
FEMALE_SHARE = {"competition": 0.37, "afterschool": 0.42, "work_based_learning": 0.34, "dual_enrollment": 0.52}


# --- outcome measures ---------------------------------------------------------------------

@dataclass(frozen=True)
class Indicator:
    indicator_id: str
    name: str
    stage: str
    higher_is_better: bool
    description: str
    grades: float  # students measured, in grade-cohort sizes
    base: float  # logit of the rate for a reference student (white, not disadvantaged, male)
    trend: float  # logit change per year
    covid: float  # logit shift in 2020-21
    scale: float = 1.0  # how strongly student characteristics matter
    female: float = 0.0


INDICATORS: tuple[Indicator, ...] = (
    Indicator("gr3_reading", "Grade 3 reading proficiency", "elementary", True,
              "Share of grade 3 students scoring proficient or above on the state reading test.", 0.98, 0.05, 0.03, -0.30, 1.0, 0.20),
    Indicator("gr5_science", "Grade 5 science proficiency", "elementary", True,
              "Share of grade 5 students scoring proficient or above on the state science test.", 0.98, 0.25, 0.04, -0.30, 1.0),
    Indicator("gr8_math", "Grade 8 math proficiency", "middle", True,
              "Share of grade 8 students scoring proficient or above on the state math test.", 0.97, -0.20, 0.05, -0.35, 1.0),
    Indicator("chronic_absence", "Chronic absence, grades 6-8", "middle", False,
              "Share of middle-school students absent 10% or more of enrolled days (lower is better).", 2.95, -2.30, -0.02, 0.0, 0.8),
    Indicator("algebra1_gr9", "Algebra I by grade 9", "middle", True,
              "Share of grade 9 students who have passed Algebra I.", 0.97, 0.90, 0.05, -0.20, 0.8),
    Indicator("adv_stem_course", "Advanced STEM course completion", "high", True,
              "Share of grade 11-12 students completing an AP, IB or dual-enrollment math, science or computer science course.",
              1.9, -0.55, 0.05, -0.10, 0.9, -0.15),
    Indicator("grad4", "Four-year graduation rate", "high", True,
              "Adjusted cohort graduation rate, four years.", 1.0, 3.00, 0.03, 0.10, 0.7, 0.30),
    Indicator("college_enroll", "Postsecondary enrollment", "postsecondary", True,
              "Share of high-school graduates enrolled in college or a certificate program within 16 months.", 0.90, 0.75, 0.02, -0.25, 0.9, 0.25),
    Indicator("stem_credential", "STEM credential within six years", "postsecondary", True,
              "Share of postsecondary enrollees earning a STEM certificate or degree within six years.", 0.50, -1.05, 0.04, 0.0, 0.8, -0.25),
    Indicator("stem_job", "Employed in a STEM occupation", "workforce", True,
              "Share of graduates working in a STEM or skilled technical occupation five years after high school.", 0.85, -1.45, 0.04, -0.10, 0.7, -0.35),
    Indicator("infield_teacher", "Taught by an in-field STEM teacher", "educator", True,
              "Share of grade 6-12 math and science students whose teacher is certified in the subject.", 6.5, 2.70, 0.02, 0.0, 0.5),
)

# Logit effects of student characteristics on "doing well" (the sign flips for lower-is-better).
RACE_EFFECT = {"american_indian_alaska_native": -0.50, "asian": 0.45, "black": -0.55, "hispanic": -0.35,
               "native_hawaiian_pacific_islander": -0.35, "white": 0.0, "two_or_more_races": -0.10}
ECON_EFFECT, EL_EFFECT, SWD_EFFECT = -0.70, -0.60, -0.90

# Gaps that move on purpose: (indicator, characteristic) -> effect in the first and the last school year.
MOVING_GAPS = {
    ("gr8_math", "econ"): (-1.10, -0.40),           # closing: economically disadvantaged students catch up
    ("college_enroll", "hispanic"): (-0.90, -0.15),  # closing: Hispanic students enroll nearly at par
    ("adv_stem_course", "swd"): (-0.70, -1.90),      # widening: students with disabilities fall behind
    ("chronic_absence", "el"): (-0.15, -1.00),        # widening: English learners' absence rises (lower is better)
}

PATHWAY_STAGES = (
    "Grade 5 cohort (all students)", "Grade 5 science proficient", "Algebra I by grade 9",
    "Advanced STEM course in high school", "Graduated ready", "Enrolled in postsecondary",
    "Declared a STEM major", "STEM credential",
)
# Conversion from the stage before, as a logit for a reference student, for stages 2..8.
PATHWAY_BASE = (0.35, 1.10, 0.60, 2.10, 1.45, -0.35, 0.45)


# --- randomness helpers -------------------------------------------------------------------

def _expit(x):
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class _Students:
    race: np.ndarray  # index into RACES
    econ: np.ndarray
    el: np.ndarray
    swd: np.ndarray
    female: np.ndarray

    def masks(self) -> dict[str, np.ndarray]:
        """Boolean membership of every contract group, in GROUPS order."""
        out = {"all": np.ones(len(self.race), dtype=bool)}
        for i, race in enumerate(RACES):
            out[race] = self.race == i
        out.update({
            "econ_disadvantaged": self.econ, "not_econ_disadvantaged": ~self.econ,
            "english_learner": self.el, "not_english_learner": ~self.el,
            "students_with_disabilities": self.swd, "not_students_with_disabilities": ~self.swd,
            "female": self.female, "male": ~self.female,
        })
        return {g: out[g] for g in GROUPS}


RACE_POVERTY = np.array([1.40, 0.60, 1.45, 1.50, 1.30, 0.85, 1.10])
EL_BY_RACE = np.array([0.02, 0.28, 0.01, 0.40, 0.15, 0.004, 0.01])


def _draw_students(rng: Generator, region: Region, n: int) -> _Students:
    race_p = np.array(region.race) / sum(region.race)
    race = rng.choice(len(RACES), size=n, p=race_p)
    base = region.low_income / 100 / float(race_p @ RACE_POVERTY)
    econ = rng.random(n) < np.minimum(base * RACE_POVERTY[race], 0.97)
    el = rng.random(n) < np.minimum(EL_BY_RACE[race] * region.el_factor, 0.9)
    swd = rng.random(n) < np.where(econ, 0.16, 0.11)
    female = rng.random(n) < 0.49
    return _Students(race, econ, el, swd, female)


def _advantage(students: _Students, scale: float) -> np.ndarray:
    race_effect = np.array([RACE_EFFECT[r] for r in RACES])
    return scale * (race_effect[students.race] + ECON_EFFECT * students.econ
                    + EL_EFFECT * students.el + SWD_EFFECT * students.swd)


def _counts(masks: dict[str, np.ndarray], success: np.ndarray) -> list[tuple[str, int, int]]:
    """(group, students meeting the measure, students measured) for every group."""
    matrix = np.stack(list(masks.values())).astype(np.int32)
    measured = matrix.sum(axis=1)
    met = matrix @ success.astype(np.int32)
    return [(g, int(a), int(b)) for g, a, b in zip(masks, met, measured)]


# --- building the tables ------------------------------------------------------------------

def _regions_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "region_id": [r.fips for r in REGIONS], "name": [r.name for r in REGIONS],
        "locale": [r.locale for r in REGIONS], "k12_enrollment": [str(r.k12) for r in REGIONS],
        "low_income_pct": [f"{r.low_income:.1f}" for r in REGIONS],
    })


def _day_in_year(rng: Generator, year: int) -> date:
    return date(year, 1, 1) + timedelta(days=int(rng.integers(0, 365)))


def _partners_frame(rng: Generator) -> pd.DataFrame:
    rows = []
    for pid, name, sector, home, year, left, _ in PARTNERS:
        joined = _day_in_year(rng, year) if year < 2025 else date(2025, 1, 1) + timedelta(days=int(rng.integers(0, 80)))
        rows.append((pid, name, sector, home or "", joined.isoformat(), left or ""))
    return pd.DataFrame(rows, columns=["partner_id", "name", "sector", "region_id", "joined_on", "left_on"])


def _quarter_bounds(quarter: str) -> tuple[date, date]:
    start, end = quarter_bounds(quarter)
    return date.fromisoformat(start), date.fromisoformat(end)


def _programs_and_sites(rng: Generator, partners: pd.DataFrame):
    joined = dict(zip(partners["partner_id"], partners["joined_on"]))
    left = dict(zip(partners["partner_id"], partners["left_on"]))
    home = {p[0]: p[3] for p in PARTNERS}
    sector = {p[0]: p[2] for p in PARTNERS}
    quota = {r.fips: r.sites for r in REGIONS}
    ids = [r.fips for r in REGIONS]

    def draw_region() -> str:
        weights = np.array([max(quota[f], 0) for f in ids], dtype=float)
        return ids[int(rng.choice(len(ids), p=weights / weights.sum()))]

    for spec in PROGRAMS:  # programs placed by hand take their sites first
        if spec[4]:
            quota[spec[4]] -= 1
    programs, site_regions = [], []
    for number, (name, ptype, band, owner, first) in enumerate(PROGRAMS, start=1):
        if owner is None:
            # A school district runs programs only in its own county, and only where seats remain.
            choices = [p[0] for p in PARTNERS if p[2] in SECTORS_FOR_TYPE[ptype]
                       and p[0] not in PROGRAMLESS_PARTNERS and not p[5]
                       and (p[2] != "k12" or quota[p[3]] > 0)]
            owner = choices[int(rng.integers(len(choices)))]
        region = first
        if region is None:
            region = home[owner] if home[owner] and quota[home[owner]] > 0 else draw_region()
            quota[region] -= 1
        regions = [region]
        # Starts: two thirds ran before 2023; the rest launched during the twelve quarters.
        earliest = date.fromisoformat(joined[owner])
        if number % 3 == 0 and first != "47007":
            start = max(earliest, date(2023, 4, 1) + timedelta(days=int(rng.integers(0, 880))))
        else:
            start = max(earliest, date(2015 + int(rng.integers(0, 8)), 8, 1))
            if start >= date(2023, 1, 1):
                start = date(2022, 1, 1) + timedelta(days=int(rng.integers(0, 365)))
        end = left[owner] or ""
        if not end and number in (17, 29, 58):  # a few programs wound down in 2024
            end = date(2024, 6, 30).isoformat()
        if end and start.isoformat() >= end:
            start = date.fromisoformat(end) - timedelta(days=400)
        programs.append((f"G{number:03d}", owner, name, ptype, band, start.isoformat(), end))
        site_regions.append(regions)
    # Fill the remaining site quota with second and third sites of multi-site programs.
    open_sites = [f for f in ids for _ in range(max(quota[f], 0))]
    for fips in open_sites:
        candidates = [i for i, p in enumerate(programs)
                      if p[3] != "work_based_learning" and sector[p[1]] != "tribal_nation" and len(site_regions[i]) < 4
                      and (sector[p[1]] != "k12" or home[p[1]] == fips)]
        site_regions[candidates[int(rng.integers(len(candidates)))]].append(fips)

    program_frame = pd.DataFrame(programs, columns=["program_id", "partner_id", "name", "program_type",
                                                    "grade_band", "start_on", "end_on"])
    return program_frame, site_regions


def _site_points(rng: Generator, fips: str, n: int) -> list[tuple[float, float]]:
    from data.geography import load_counties

    county = load_counties([fips])[fips]
    inner = shapely.geometry.shape(county["geometry"]).buffer(-0.004)
    shapely.prepare(inner)
    region = REGION_BY_ID[fips]
    minx, miny, maxx, maxy = inner.bounds
    points = []
    while len(points) < n:
        if rng.random() < 0.75:  # most sites sit near the county seat
            lon, lat = rng.normal(region.anchor[0], 0.05), rng.normal(region.anchor[1], 0.04)
        else:
            lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        lon, lat = round(float(lon), 5), round(float(lat), 5)
        if inner.contains(shapely.Point(lon, lat)):
            points.append((lon, lat))
    return points


def _sites_frame(rng: Generator, programs: pd.DataFrame, site_regions: list[list[str]]) -> pd.DataFrame:
    placements = [(i, fips) for i, regions in enumerate(site_regions) for fips in regions]
    points_by_region = {r.fips: iter(_site_points(rng, r.fips, sum(f == r.fips for _, f in placements)))
                        for r in REGIONS if r.sites}
    rows, used = [], set()
    for i, fips in placements:
        program = programs.iloc[i]
        region = REGION_BY_ID[fips]
        town = region.towns[int(rng.integers(len(region.towns)))]
        site = f"{town} {VENUE_FOR_BAND[program['grade_band']]}"
        n = 2
        while (program["program_id"], fips, site) in used:
            site = f"{town} {VENUE_FOR_BAND[program['grade_band']]} {n}"
            n += 1
        used.add((program["program_id"], fips, site))
        low, high = SEATS_FOR_TYPE[program["program_type"]]
        seats = int(rng.integers(low, high + 1))
        if region.locale == "rural":
            seats = max(10, int(seats * 0.6))
        if fips == "47007":
            seats = 15  # Bledsoe's one site: the mobile lab's monthly stop
        lon, lat = next(points_by_region[fips])
        rows.append((program["program_id"], fips, site, f"{lat:.5f}", f"{lon:.5f}", seats))
    return pd.DataFrame(rows, columns=["program_id", "region_id", "site_name", "latitude", "longitude", "seats"])


def _participation_frame(rng: Generator, programs: pd.DataFrame, sites: pd.DataFrame) -> pd.DataFrame:
    seats = sites.groupby(["program_id", "region_id"], sort=True)["seats"].sum()
    info = programs.set_index("program_id")
    suppressors = {p[0] for p in PARTNERS if p[6]}
    rows = []
    for (program_id, fips), capacity in seats.items():
        program = info.loc[program_id]
        region = REGION_BY_ID[fips]
        ptype = program["program_type"]
        start = date.fromisoformat(program["start_on"])
        end = date.fromisoformat(program["end_on"]) if program["end_on"] else None
        race_p = np.array(region.race) / sum(region.race)
        econ_p = min(0.95, region.low_income / 100 * (1.1 if ptype in ("afterschool", "family_engagement") else 0.9))
        el_p = min(0.5, float(race_p @ EL_BY_RACE) * region.el_factor * (1.6 if program["name"] == "Padres en STEM" else 0.6))
        swd_p = 0.07 if ptype not in ("in_school",) else 0.13
        female_p = FEMALE_SHARE.get(ptype, 0.50)
        if program["name"] in ("Girls Who Build", "Women in Engineering Mentors"):
            female_p = 0.97
        suppress = program["partner_id"] in suppressors
        for qi, quarter in enumerate(QUARTERS):
            q_start, q_end = _quarter_bounds(quarter)
            if start > q_end or (end is not None and end < q_start):
                continue
            season = SEASON.get(ptype, (1.0, 1.0, 1.0, 1.0))[int(quarter[-1]) - 1]
            if season == 0:
                continue
            utilisation = (0.55 + 0.036 * qi) * float(rng.lognormal(0, 0.08))
            if start > q_start:  # first quarter of a new program
                utilisation *= 0.5
            total = int(min(capacity, round(capacity * utilisation * season)))
            races = rng.multinomial(total, race_p)
            econ = int(rng.binomial(total, econ_p))
            el = int(rng.binomial(total, el_p))
            swd = int(rng.binomial(total, swd_p))
            female = int(rng.binomial(total, female_p))
            counts = {"all": total, **dict(zip(RACES, (int(c) for c in races))),
                      "econ_disadvantaged": econ, "not_econ_disadvantaged": total - econ,
                      "english_learner": el, "not_english_learner": total - el,
                      "students_with_disabilities": swd, "not_students_with_disabilities": total - swd,
                      "female": female, "male": total - female}
            for group in GROUPS:
                value = counts[group]
                text = "*" if suppress and group != "all" and 0 < value < 10 else str(value)
                rows.append((program_id, fips, quarter, group, text))
    return pd.DataFrame(rows, columns=["program_id", "region_id", "quarter", "student_group", "participants"])


def _grade_size(region: Region, year: int, rng: Generator) -> float:
    drift = 1.0 + 0.006 * (year - 2022) * (1 if region.locale in ("city", "suburb") else -1)
    return region.k12 / 13.0 * drift * float(rng.lognormal(0, 0.02))


def _range_code(numerator: int, denominator: int) -> str:
    """A rate as a state report card protects it: PS for tiny groups, otherwise a range."""
    if denominator < 10:
        return "PS"
    pct = 100.0 * numerator / denominator
    if denominator >= 40:
        if pct >= 95:
            return "GE95"
        if pct < 5:
            return "LT5"
        low = int(pct // 5) * 5
        return f"{low}-{low + 4}"
    if pct >= 90:
        return "GE90"
    if pct < 10:
        return "LT10"
    low = int(pct // 10) * 10
    return f"{low}-{low + 9}"


RANGE_CODED = {("grad4", "47007"), ("grad4", "47061")}  # these rows came from a range-coded public file
RANGE_CODED_YEARS = ("2019-20", "2020-21")


def _outcomes_frame(rng: Generator) -> pd.DataFrame:
    rows = []
    last = len(SCHOOL_YEARS) - 1
    for indicator in INDICATORS:
        sign = 1.0 if indicator.higher_is_better else -1.0
        for region in REGIONS:
            for t, school_year in enumerate(SCHOOL_YEARS):
                n = int(round(_grade_size(region, 2019 + t, rng) * indicator.grades))
                students = _draw_students(rng, region, n)
                advantage = _advantage(students, indicator.scale) + indicator.female * students.female
                for (ind, trait), (first, final) in MOVING_GAPS.items():
                    if ind != indicator.indicator_id:
                        continue
                    member = {"econ": students.econ, "el": students.el, "swd": students.swd,
                              "hispanic": students.race == RACES.index("hispanic")}[trait]
                    usual = {"econ": ECON_EFFECT, "el": EL_EFFECT, "swd": SWD_EFFECT,
                             "hispanic": RACE_EFFECT["hispanic"]}[trait] * indicator.scale
                    advantage = advantage + member * (first + (final - first) * t / last - usual)
                advantage = advantage + region.effect * (1.0 if indicator.stage != "educator" else 1.6)
                logit = indicator.base + sign * advantage + indicator.trend * t + (indicator.covid if t == 1 else 0.0)
                if indicator.indicator_id == "chronic_absence":
                    logit = logit + (0.0, 0.35, 0.75, 0.55, 0.35, 0.25)[t]  # the pandemic spike and its slow fading
                success = rng.random(n) < _expit(logit)
                coded = (indicator.indicator_id, region.fips) in RANGE_CODED and school_year in RANGE_CODED_YEARS
                for group, num, den in _counts(students.masks(), success):
                    if coded:
                        rows.append((indicator.indicator_id, region.fips, school_year, group, "", str(den), _range_code(num, den)))
                    else:
                        rows.append((indicator.indicator_id, region.fips, school_year, group, str(num), str(den), ""))
    return pd.DataFrame(rows, columns=["indicator_id", "region_id", "school_year", "student_group",
                                       "numerator", "denominator", "rate"])


def _pathway_frame(rng: Generator) -> pd.DataFrame:
    rows = []
    econ_algebra = {2019: -1.30, 2020: -0.80, 2021: -0.30}  # the algebra leak shrinks cohort by cohort
    for ci, cohort in enumerate(COHORTS):
        for region in REGIONS:
            n = int(round(_grade_size(region, cohort - 7, rng)))
            students = _draw_students(rng, region, n)
            general = _advantage(students, 0.45)
            reached = np.ones(n, dtype=bool)
            masks = students.masks()
            rows += [(str(cohort), "1", PATHWAY_STAGES[0], region.fips, g, str(m.sum())) for g, m in masks.items()]
            for s, base in enumerate(PATHWAY_BASE, start=2):
                logit = base + general + 0.6 * region.effect + 0.05 * ci
                if s == 3:
                    logit = logit + econ_algebra[cohort] * students.econ
                if s == 4 and region.locale == "rural":
                    logit = logit - 0.45  # fewer advanced courses offered in rural high schools
                if s == 6:
                    logit = logit - 1.40 * students.econ  # the leak: ready graduates who do not enroll
                if s == 7:
                    logit = logit - 0.55 * students.female
                reached &= rng.random(n) < _expit(logit)
                rows += [(str(cohort), str(s), PATHWAY_STAGES[s - 1], region.fips, g, str(num))
                         for g, num, _ in _counts(masks, reached)]
    return pd.DataFrame(rows, columns=["cohort", "stage_order", "stage", "region_id", "student_group", "students"])


def _pooled(outcomes: pd.DataFrame, indicator_id: str, group: str, school_year: str) -> float:
    rows = outcomes[(outcomes["indicator_id"] == indicator_id) & (outcomes["student_group"] == group)
                    & (outcomes["school_year"] == school_year) & (outcomes["numerator"] != "")]
    return pooled_rate(rows["numerator"].astype(int).sum(), rows["denominator"].astype(int).sum())


def _targets_frame(outcomes: pd.DataFrame, participation: pd.DataFrame, programs: pd.DataFrame,
                   sites: pd.DataFrame, partners: pd.DataFrame) -> pd.DataFrame:
    rows = []
    # Indicator goals: from the 2021-22 baseline, a fixed yearly step to 2025-26.
    goals = {"gr3_reading": ("all", "econ_disadvantaged"), "gr8_math": ("all", "econ_disadvantaged"),
             "chronic_absence": ("all", "english_learner"), "adv_stem_course": ("all", "students_with_disabilities"),
             "grad4": ("all", "econ_disadvantaged"), "college_enroll": ("all", "hispanic", "econ_disadvantaged"),
             "stem_job": ("all",)}
    for indicator in INDICATORS:
        for group in goals.get(indicator.indicator_id, ()):
            baseline = _pooled(outcomes, indicator.indicator_id, group, "2021-22")
            step = 1.5 if indicator.higher_is_better else -1.0
            for k, year in enumerate(("2022-23", "2023-24", "2024-25", "2025-26"), start=1):
                target = min(100.0, max(0.0, round((baseline + step * k) * 2) / 2))
                rows.append((indicator.indicator_id, group, year, f"{target:.1f}", ""))
    # Reach goals by quarter: steady growth from the first quarter's level.
    totals = participation[participation["student_group"] == "all"].groupby("quarter")["participants"].apply(
        lambda s: s[s != "*"].astype(int).sum())
    first = int(totals[QUARTERS[0]])
    start, end = _quarter_bounds(QUARTERS[0])
    running = programs[(programs["start_on"] <= end.isoformat())
                       & ((programs["end_on"] == "") | (programs["end_on"] >= start.isoformat()))]
    first_seats = int(sites[sites["program_id"].isin(running["program_id"])]["seats"].sum())
    members = partners[(partners["joined_on"] <= end.isoformat())
                       & ((partners["left_on"] == "") | (partners["left_on"] >= start.isoformat()))]
    for qi, quarter in enumerate(QUARTERS):
        rows.append(("participants", "all", quarter, str(int(round(first * (1 + 0.09 * qi), -1))), ""))
        rows.append(("seats", "all", quarter, str(int(round(first_seats * (1 + 0.03 * qi), -1))), ""))
        rows.append(("partners", "all", quarter, str(len(members) + 1 + qi // 2), ""))
        if qi >= 8:  # the board's rural push: seats in the two least-served counties
            rows.append(("seats", "all", quarter, "60", "47007"))
            rows.append(("seats", "all", quarter, "60", "47061"))
    return pd.DataFrame(rows, columns=["measure", "student_group", "period", "target", "region_id"])


def _indicators_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "indicator_id": [i.indicator_id for i in INDICATORS], "name": [i.name for i in INDICATORS],
        "stage": [i.stage for i in INDICATORS],
        "higher_is_better": ["true" if i.higher_is_better else "false" for i in INDICATORS],
        "description": [f"{i.description} {SYNTHETIC_NOTE}" for i in INDICATORS],
    })


def build_demo_tables(seed: int = DEFAULT_SEED) -> dict[str, pd.DataFrame]:
    """Every table of the demo package as text columns, in file order."""
    rng = Generator(PCG64(seed))
    partners = _partners_frame(rng)
    programs, site_regions = _programs_and_sites(rng, partners)
    sites = _sites_frame(rng, programs, site_regions)
    participation = _participation_frame(rng, programs, sites)
    outcomes = _outcomes_frame(rng)
    pathway = _pathway_frame(rng)
    return {
        "regions": _regions_frame(), "partners": partners, "programs": programs, "program_sites": sites,
        "participation": participation, "indicators": _indicators_frame(), "outcomes": outcomes,
        "pathway": pathway, "targets": _targets_frame(outcomes, participation, programs, sites, partners),
    }


def write_demo_package(folder: Path, seed: int = DEFAULT_SEED) -> Path:
    """Write the demo alliance's CSV files into `folder`; the same seed gives identical bytes."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in build_demo_tables(seed).items():
        frame.astype(str).to_csv(folder / f"{name}.csv", index=False, lineterminator="\n", encoding="utf-8")
    return folder


def load_demo(engine: Engine, seed: int = DEFAULT_SEED, actor=None):
    """Write the demo package to a temporary folder named DEMO_SOURCE and import it with the
    importer users use; returns its ImportResult. Into an empty store anyone may (the first run
    of a new dashboard); into one that holds data only an editor, since it mixes with that data."""
    from data.auth import acting, require
    from data.importer import write_package

    actor = require(actor, "demo") if holds_data(engine) else acting(actor)
    with tempfile.TemporaryDirectory(prefix="alliance-demo-") as tmp:
        folder = write_demo_package(Path(tmp) / DEMO_SOURCE, seed)
        return write_package(folder, engine, actor, files=[], action="demo")


def holds_data(engine: Engine) -> bool:
    """Whether the store holds any region (an empty or new store does not)."""
    from data.schema import regions

    with engine.connect() as conn:
        return inspect(conn).has_table("regions") and conn.execute(select(regions.c.region_id).limit(1)).first() is not None


def is_demo(engine: Engine) -> bool:
    """True when the store's latest import is the demo package."""
    from data.schema import imports

    with engine.connect() as conn:
        if not inspect(conn).has_table("imports"):
            return False
        source = conn.execute(select(imports.c.source).where(imports.c.outcome == "imported")
                              .order_by(imports.c.import_id.desc()).limit(1)).scalar()
    return source == DEMO_SOURCE
