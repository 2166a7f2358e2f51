"""Membership: the worker's card, transfer and withdrawal; members and changes for caseworkers."""
