"""The caseworker's own desk: what belongs to a caseworker rather than to a case (saved filters)."""
