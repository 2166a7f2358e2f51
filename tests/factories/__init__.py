"""Factories for test data: each call makes new, uniquely named rows, so tests never collide."""
