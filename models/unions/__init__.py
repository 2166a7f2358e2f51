"""Running the union tree: its unions and the staff accounts in them, each union admin confined to
their subtree. (The tree itself, `models/orgs.py`, and the scope, `models/scope.py`, are the
foundation every domain stands on.)
"""
