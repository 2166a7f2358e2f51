"""Notifications: the worker's inbox and consent, the delivery log and broadcasts for staff, and WeChat's callbacks."""
