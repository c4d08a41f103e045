"""`make bench`: the pipeline on a synthetic national delivery (see docs/scaling.md)."""
