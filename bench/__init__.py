"""`make bench`: the benchmark (bench/README.md); `python bench/run.py` is its entry point."""
