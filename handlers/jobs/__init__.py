"""Background jobs: the failures they set aside, for admins to retry or resolve."""
