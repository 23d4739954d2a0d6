"""Parameterised read queries. Each takes an Engine and returns a DataFrame; aggregation
happens in SQL. Suppression is applied here, before data leaves this package."""
