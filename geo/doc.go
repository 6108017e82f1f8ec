// Package geo provides 4D volumes on the sphere and the exact predicate that
// decides whether two of them conflict.
//
// A volume is a footprint (a circle or a polygon on the WGS84 mean sphere of
// radius EarthRadius), a closed altitude band [lo, hi] in metres and a
// half-open time window [start, end) in UTC. Polygon edges are great-circle
// arcs; a circle is every point within its radius (great-circle distance) of
// its centre.
//
// # Wire form
//
// A VolumeSpec encodes as JSON exactly as in the shared benchmark workload:
//
//	{"circle":{"lat":33.008642,"lng":38.590819,"radius_m":2288},
//	 "alt_lo_m":5244,"alt_hi_m":5671,
//	 "start":"2026-01-01T01:23:00Z","end":"2026-01-01T01:36:00Z"}
//
//	{"polygon":[[32.94,38.39],[32.93,38.38],[32.92,38.37]], ...}
//
// A volume has exactly one of "circle" and "polygon". Polygon vertices are
// [lat, lng] pairs in degrees. Either orientation is accepted: the polygon
// is the smaller of the two regions its ring bounds, and NewVolume stores its
// vertices counter-clockwise (interior on the left). A closing vertex equal
// to the first (GeoJSON style) is accepted and dropped.
//
// # Conflict
//
// Two volumes conflict under a Separation s iff
//
//	a.start < b.end + s.Time && b.start < a.end + s.Time     (time)
//	a.lo <= b.hi + s.Vertical && b.lo <= a.hi + s.Vertical    (altitude)
//	distance(a.footprint, b.footprint) <= s.Horizontal        (footprint)
//
// where distance is the great-circle distance between the two closed regions
// (zero when they touch or overlap). Conflict computes this exactly, up to
// floating-point rounding: well under a millimetre for footprints less than
// 1,000 km apart, a few centimetres for nearly antipodal ones.
package geo
