"""Engagements (长期合作): an expert's long-term role at an enterprise and its trainings."""
