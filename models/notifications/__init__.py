"""Notifications: the transactional outbox, the in-app inbox and the delivery log.

Domain code calls `notify` inside the transaction of the state change it reports: the inbox
entry and one pending delivery per channel are written with that change, or not at all. The
dispatcher (`server/dispatcher.py`) later claims pending deliveries and sends them through the
WeChat gateway; every delivery ends delivered, skipped (why) or failed (why).
"""
