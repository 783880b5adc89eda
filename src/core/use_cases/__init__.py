"""Use cases: open a unit of work, load, apply the domain rules, commit."""
