"""Distances between GCJ-02 points, and the latitude/longitude box that holds a circle.

GCJ-02 is WGS-84 moved by an offset of a few hundred metres that changes slowly across the map;
a worker's location and a station a few kilometres away are moved almost alike, so the
great-circle distance between their GCJ-02 coordinates is their distance on the ground to within
a fraction of a percent, as is the sphere's against the ellipsoid's. That is ample for finding
the nearest station, and needs no conversion back to WGS-84 (which has no closed form).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_M = 6_371_008.8  # the mean radius of the WGS-84 ellipsoid (IUGG R1)


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Haversine great-circle distance in metres: well conditioned at the short distances here."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = math.radians(lng2 - lng1) / 2
    a = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class Box:
    south: float
    north: float
    west: float | None  # None: every longitude (near a pole or across the 180th meridian)
    east: float | None


def bounding_box(lat: float, lng: float, radius_m: float) -> Box:
    """The latitude/longitude box that holds the circle (exact on the sphere, plus a rounding margin), so a
    prefilter on it never drops a station within the radius."""
    # A margin against rounding, relative (near a pole a longitude degree is a few metres): the
    # box may hold a little more than the circle, never less.
    angle = (radius_m * (1 + 1e-6) + 0.01) / EARTH_RADIUS_M
    dlat = math.degrees(angle)
    south, north = lat - dlat, lat + dlat
    cos_lat = math.cos(math.radians(lat))
    if north >= 90 or south <= -90 or math.sin(angle) >= cos_lat:
        return Box(max(south, -90.0), min(north, 90.0), None, None)
    dlng = math.degrees(math.asin(math.sin(angle) / cos_lat))
    west, east = lng - dlng, lng + dlng
    if west < -180 or east > 180:
        return Box(south, north, None, None)
    return Box(south, north, west, east)
