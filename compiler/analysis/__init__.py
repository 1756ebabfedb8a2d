"""Static analysis over an exact partition of the fact space (space.py, mdd.py,
encode.py, checks.py, unused.py)."""
