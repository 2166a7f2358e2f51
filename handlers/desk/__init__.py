"""The caseworker's desk: the home page of the admin pages."""
