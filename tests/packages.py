"""A small, valid data package written as CSV text, for tests to import or break."""
from __future__ import annotations

from pathlib import Path

VALID_PACKAGE: dict[str, str] = {
    "regions.csv": (
        "region_id,name,locale,k12_enrollment,low_income_pct\n"
        "47037,Davidson County,city,86000,58.5\n"
        "47149,Rutherford County,suburb,50000,31.0\n"
        "47015,Cannon County,rural,2100,44.2\n"
        "01001,Autauga County,41,9800,\n"
    ),
    "partners.csv": (
        "partner_id,name,sector,region_id,joined_on,left_on\n"
        "P1,Metro Schools,k12,47037,2019-08-01,\n"
        "P2,Science Museum,informal_education,47037,2020-01-15,\n"
        "P3,Rural Makers,afterschool_community,47015,,\n"
    ),
    "programs.csv": (
        "program_id,partner_id,name,program_type,grade_band,start_on,end_on\n"
        "G1,P1,Coding in class,in_school,middle,2020-08-01,\n"
        "G2,P2,Summer science camp,summer,elementary,,\n"
        "G3,P3,Robotics club,afterschool,high,,\n"
    ),
    "program_sites.csv": (
        "program_id,region_id,site_name,latitude,longitude,seats\n"
        "G1,47037,Central Middle,36.16,-86.78,120\n"
        "G2,47037,Museum,36.17,-86.77,60\n"
        "G3,47015,,35.81,-86.06,15\n"
    ),
    "participation.csv": (
        "program_id,region_id,quarter,student_group,participants\n"
        "G1,47037,2025-Q1,all,110\n"
        "G1,47037,2025-Q1,econ_disadvantaged,61\n"
        "G1,47037,2025-Q2,all,115\n"
        "G3,47015,2025-Q1,all,12\n"
        "G3,47015,2025-Q1,english_learner,*\n"
    ),
    "indicators.csv": (
        "indicator_id,name,stage,higher_is_better,description\n"
        "grad4,Four-year graduation rate,high,true,State report card\n"
        "absent,Chronic absence,middle,false,\n"
    ),
    "outcomes.csv": (
        "indicator_id,region_id,school_year,student_group,numerator,denominator,rate\n"
        "grad4,47037,2023-24,all,5100,6000,\n"
        "grad4,47037,2023-24,econ_disadvantaged,2600,3400,\n"
        "grad4,47015,2023-24,all,,150,90-94\n"
        "grad4,47015,2023-24,english_learner,*,6,\n"
        "grad4,47149,2023-24,all,,3900,GE95\n"
        "absent,47037,2024-25,all,900,6100,\n"
    ),
    "pathway.csv": (
        "cohort,stage_order,stage,region_id,student_group,students\n"
        "2025,1,Grade 5 science proficient,47037,all,5000\n"
        "2025,2,Algebra I by grade 9,47037,all,3100\n"
        "2025,1,Grade 5 science proficient,47015,all,160\n"
        "2025,2,Algebra I by grade 9,47015,all,*\n"
    ),
    "targets.csv": (
        "measure,student_group,period,target,region_id\n"
        "grad4,all,2023-24,90,\n"
        "participants,all,2025-Q2,400,\n"
        "seats,all,2025-Q2,150,47037\n"
    ),
    "groups.csv": (
        "group_id,label,category,reference_group_id\n"
        "asian_pacific_islander,Asian or Pacific Islander,race_ethnicity,\n"
    ),
}


def write_package(folder: Path, files: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in (files or VALID_PACKAGE).items():
        (folder / name).write_text(content, encoding="utf-8", newline="")
    return folder


# A package with sparse coverage, as real alliances send them: a region with outcomes for one
# indicator in one year only, school years missing, groups not reported (no complement), a
# region with no outcomes at all, a quarter missing, a cohort with fewer stages, an indicator
# with no outcomes, range-coded and suppressed rates. The every-filter sweep runs on it.
SPARSE_PACKAGE: dict[str, str] = {
    "regions.csv": (
        "region_id,name,locale,k12_enrollment,low_income_pct\n"
        "16055,Kootenai County,suburb,30500,38.0\n"
        "16001,Ada County,city,81000,31.5\n"
        "16017,Bonner County,rural,6200,52.0\n"
        "16079,Shoshone County,rural,1900,61.0\n"
    ),
    "partners.csv": (
        "partner_id,name,sector,region_id,joined_on,left_on\n"
        "P1,Ada Schools,k12,16001,2019-08-01,\n"
        "P2,North Idaho College,higher_education,16055,2023-01-15,\n"
        "P3,Silver Valley Makers,afterschool_community,16079,,2024-06-30\n"
    ),
    "programs.csv": (
        "program_id,partner_id,name,program_type,grade_band,start_on,end_on\n"
        "G1,P1,Coding in class,in_school,middle,2020-08-01,\n"
        "G2,P2,Dual credit STEM,dual_enrollment,high,2023-08-01,\n"
        "G3,P3,Robotics club,afterschool,middle,,2024-06-30\n"
    ),
    "program_sites.csv": (
        "program_id,region_id,site_name,latitude,longitude,seats\n"
        "G1,16001,Boise Middle,43.61,-116.20,240\n"
        "G2,16055,NIC,47.68,-116.78,80\n"
        "G3,16079,,,,12\n"
    ),
    "participation.csv": (
        "program_id,region_id,quarter,student_group,participants\n"
        "G1,16001,2024-Q1,all,1950\n"
        "G1,16001,2024-Q1,econ_disadvantaged,610\n"
        "G1,16001,2024-Q1,not_econ_disadvantaged,1340\n"
        "G3,16079,2024-Q1,all,12\n"
        "G3,16079,2024-Q1,econ_disadvantaged,*\n"
        "G1,16001,2024-Q3,all,2010\n"
        "G2,16055,2024-Q3,all,64\n"
        "G2,16055,2024-Q3,hispanic,7\n"
    ),
    "indicators.csv": (
        "indicator_id,name,stage,higher_is_better,description\n"
        "grad4,Four-year graduation rate,high,true,State report card\n"
        "absent,Chronic absence,middle,false,\n"
        "math8,Grade 8 math proficiency,middle,true,No outcomes loaded yet\n"
    ),
    "outcomes.csv": (
        "indicator_id,region_id,school_year,student_group,numerator,denominator,rate\n"
        "grad4,16055,2023-24,all,,1800,80-84\n"
        "grad4,16055,2023-24,econ_disadvantaged,,640,60-79\n"
        "grad4,16001,2021-22,all,4700,5400,\n"
        "grad4,16001,2021-22,econ_disadvantaged,1300,1700,\n"
        "grad4,16001,2021-22,not_econ_disadvantaged,3400,3700,\n"
        "grad4,16001,2021-22,hispanic,610,760,\n"
        "grad4,16001,2023-24,all,4900,5500,\n"
        "grad4,16001,2023-24,econ_disadvantaged,1420,1800,\n"
        "grad4,16001,2023-24,not_econ_disadvantaged,3480,3700,\n"
        "grad4,16001,2023-24,hispanic,*,790,\n"
        "grad4,16001,2023-24,white,3900,4300,\n"
        "absent,16001,2023-24,all,900,6100,\n"
        "absent,16017,2023-24,all,150,980,\n"
        "absent,16017,2023-24,english_learner,*,8,\n"
        "absent,16017,2023-24,econ_disadvantaged,,510,10-19\n"
    ),
    "pathway.csv": (
        "cohort,stage_order,stage,region_id,student_group,students\n"
        "2026,1,Grade 5 science proficient,16001,all,5000\n"
        "2026,2,Algebra I by grade 9,16001,all,3100\n"
        "2026,3,STEM credential,16001,all,900\n"
        "2026,1,Grade 5 science proficient,16001,econ_disadvantaged,1500\n"
        "2026,2,Algebra I by grade 9,16001,econ_disadvantaged,700\n"
        "2026,3,STEM credential,16001,econ_disadvantaged,*\n"
        "2026,1,Grade 5 science proficient,16079,all,160\n"
        "2026,2,Algebra I by grade 9,16079,all,*\n"
        "2027,1,Grade 5 science proficient,16001,all,5100\n"
        "2027,2,Algebra I by grade 9,16001,all,3300\n"
    ),
    "targets.csv": (
        "measure,student_group,period,target,region_id\n"
        "grad4,all,2023-24,90,\n"
        "grad4,all,2029-30,92,\n"
        "absent,all,2023-24,12,\n"
        "participants,all,2024-Q3,2500,\n"
        "seats,all,2024-Q3,400,\n"
        "grad4,econ_disadvantaged,2023-24,85,16001\n"
    ),
}
