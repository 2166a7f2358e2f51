"""The audit log, for union admins."""
