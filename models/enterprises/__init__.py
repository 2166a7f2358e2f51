"""Enterprises (企业) that order services, their contacts and the invitations that add contacts."""
