"""Signing in and out: workers through WeChat, staff through the API and the admin pages."""
