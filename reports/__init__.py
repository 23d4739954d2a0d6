"""Printable reports: the board packet."""
