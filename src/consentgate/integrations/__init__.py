"""Glue to the tools ML teams train and track with; each module needs its own extra."""
