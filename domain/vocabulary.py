"""The contract's fixed vocabularies: student groups, sectors, program types, grade bands,
stages and reach measures (data package contract v1)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StudentGroup:
    group_id: str
    label: str
    category: str
    reference_group_id: str | None  # the complementary group used as the default reference


BUILT_IN_GROUPS: tuple[StudentGroup, ...] = (
    StudentGroup("all", "All students", "all", None),
    StudentGroup("american_indian_alaska_native", "American Indian or Alaska Native", "race_ethnicity", None),
    StudentGroup("asian", "Asian", "race_ethnicity", None),
    StudentGroup("black", "Black or African American", "race_ethnicity", None),
    StudentGroup("hispanic", "Hispanic or Latino", "race_ethnicity", None),
    StudentGroup("native_hawaiian_pacific_islander", "Native Hawaiian or Other Pacific Islander", "race_ethnicity", None),
    StudentGroup("white", "White", "race_ethnicity", None),
    StudentGroup("two_or_more_races", "Two or more races", "race_ethnicity", None),
    StudentGroup("econ_disadvantaged", "Economically disadvantaged", "income", "not_econ_disadvantaged"),
    StudentGroup("not_econ_disadvantaged", "Not economically disadvantaged", "income", "econ_disadvantaged"),
    StudentGroup("english_learner", "English learners", "language", "not_english_learner"),
    StudentGroup("not_english_learner", "Not English learners", "language", "english_learner"),
    StudentGroup("students_with_disabilities", "Students with disabilities", "disability", "not_students_with_disabilities"),
    StudentGroup("not_students_with_disabilities", "Students without disabilities", "disability", "students_with_disabilities"),
    StudentGroup("female", "Female", "gender", "male"),
    StudentGroup("male", "Male", "gender", "female"),
)
BUILT_IN_GROUP_IDS = frozenset(g.group_id for g in BUILT_IN_GROUPS)
GROUP_CATEGORIES = ("race_ethnicity", "income", "language", "disability", "gender", "other")

SECTORS = (
    "k12", "higher_education", "career_technical", "informal_education", "afterschool_community",
    "business_industry", "philanthropy", "government", "tribal_nation", "other",
)
PROGRAM_TYPES = (
    "in_school", "afterschool", "summer", "family_engagement", "educator_development",
    "work_based_learning", "dual_enrollment", "mentoring", "competition", "career_exposure", "other",
)
GRADE_BANDS = ("pre_k", "elementary", "middle", "high", "postsecondary", "educators", "families", "all")
STAGES = ("elementary", "middle", "high", "postsecondary", "workforce", "educator")
REACH_MEASURES = ("participants", "seats", "partners")
LOCALES = ("city", "suburb", "town", "rural")


def label(identifier: str) -> str:
    """Display label for a vocabulary id: `afterschool_community` -> `Afterschool community`."""
    special = {"k12": "K-12", "pre_k": "Pre-K"}
    if identifier in special.values():  # already a label: formatting twice must not change it
        return identifier
    return special.get(identifier, identifier.replace("_", " ").capitalize())


# Built-in student groups named short enough for a chart's axis or legend.
SHORT_GROUP_LABELS = {
    "all": "All students", "american_indian_alaska_native": "Am. Indian / AK Native", "asian": "Asian",
    "black": "Black", "hispanic": "Hispanic", "native_hawaiian_pacific_islander": "Nat. Hawaiian / PI",
    "white": "White", "two_or_more_races": "Two or more races", "econ_disadvantaged": "Econ. disadvantaged",
    "not_econ_disadvantaged": "Not econ. disadvantaged", "english_learner": "English learners",
    "not_english_learner": "Not English learners", "students_with_disabilities": "With disabilities",
    "not_students_with_disabilities": "Without disabilities", "female": "Female", "male": "Male",
}
