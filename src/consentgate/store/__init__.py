"""Stores: the SQL behind each area, one module per group of tables, so other packages call methods."""
