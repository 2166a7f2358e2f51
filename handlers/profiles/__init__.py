"""A worker's profile."""
