"""The working-day calendar's overrides, for union admins."""
