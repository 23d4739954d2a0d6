"""Domain rules of the dashboard, each in one place: student groups, suppression, pooled rates,
gaps, funnel conversion and the underserved ranking."""
