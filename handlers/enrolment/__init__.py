"""Enrolment (入会): the worker's applications, and the caseworker's review through the API and the pages."""
