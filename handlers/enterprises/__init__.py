"""Enterprises (企业): registration and invitations for workers, verification for caseworkers."""
