"""Rest stations (工会驿站): workers find them nearby, check in and rate the visit; union admins keep them."""
