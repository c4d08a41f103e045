"""`make bench`: the pipeline's speed targets (see docs/performance.md)."""
