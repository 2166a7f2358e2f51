"""Authentication and authorisation for workers (WeChat login) and staff (password login)."""
