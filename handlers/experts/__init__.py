"""Experts (劳模工匠): the union admins' roster, and the expert binding their WeChat account."""
