package geo

import (
	"math"

	"github.com/golang/geo/s1"
	"github.com/golang/geo/s2"
)

// EarthRadius is the radius of the sphere on which footprints live: the
// mean Earth radius (IUGG), as used by PostGIS with use_spheroid => false.
const EarthRadius Meters = 6371008.8

// Meters is a length or an altitude in metres.
type Meters float64

// Degrees is a latitude or longitude in degrees.
type Degrees float64

// Angle returns the angle a great-circle arc of length m subtends at the
// Earth's centre.
func (m Meters) Angle() s1.Angle { return s1.Angle(float64(m) / float64(EarthRadius)) }

// metersFromAngle is the great-circle length of an arc of angle a.
func metersFromAngle(a s1.Angle) Meters { return Meters(a.Radians() * float64(EarthRadius)) }

// LatLng is a point given by latitude and longitude in degrees.
type LatLng struct {
	Lat Degrees
	Lng Degrees
}

// Point returns p as a unit vector.
func (p LatLng) Point() s2.Point {
	return s2.PointFromLatLng(s2.LatLngFromDegrees(float64(p.Lat), float64(p.Lng)))
}

// LatLngFromPoint converts a unit vector to latitude and longitude.
func LatLngFromPoint(p s2.Point) LatLng {
	ll := s2.LatLngFromPoint(p)
	return LatLng{Lat: Degrees(ll.Lat.Degrees()), Lng: Degrees(ll.Lng.Degrees())}
}

// DistanceBetween is the great-circle distance between two points.
func DistanceBetween(a, b LatLng) Meters {
	return metersFromAngle(a.Point().Distance(b.Point()))
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
