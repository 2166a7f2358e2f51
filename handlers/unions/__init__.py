"""The union tree: browsing it (public), and running it (admin pages for the tree and the staff accounts)."""
