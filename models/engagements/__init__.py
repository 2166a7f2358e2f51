"""The relationship that outlives an order: an expert's long-term role at an enterprise
(such as 首席质量官) and the trainings given under it."""
