package geo

import "github.com/golang/geo/s2"

// Edge crossings as s2.EdgeCrosser decides them, without its allocation
// (s2.NewEdgeCrosser returns a pointer, and the exact test runs a few times
// per candidate): for there to be a crossing, the triangles ACB, CBD, BDA
// and DAC must all have the same orientation, by s2.RobustSign; edges that
// share a vertex may cross (s2.MaybeCross), and a degenerate edge does not.

// crossingSign is s2.CrossingSign(a, b, c, d).
func crossingSign(a, b, c, d s2.Point) s2.Crossing {
	return chainSign(a, b, c, d, -s2.RobustSign(a, b, c), s2.RobustSign(a, b, d))
}

// chainSign is crossingSign given acb = -RobustSign(a, b, c) and bda =
// RobustSign(a, b, d), which a chain of edges from a fixed edge AB computes
// once per vertex.
func chainSign(a, b, c, d s2.Point, acb, bda s2.Direction) s2.Crossing {
	if a == c || a == d || b == c || b == d {
		return s2.MaybeCross
	}
	if a == b || c == d || acb != bda {
		return s2.DoNotCross
	}
	if cbd := -s2.RobustSign(c, d, b); cbd != acb {
		return s2.DoNotCross
	}
	if dac := s2.RobustSign(c, d, a); dac != acb {
		return s2.DoNotCross
	}
	return s2.Cross
}

// contains reports whether the polygon contains p, by counting edge
// crossings from s2.OriginPoint() (the rule s2.Loop uses, so that every
// point of the sphere is inside exactly one of a polygon and its
// complement): s2.EdgeOrVertexChainCrossing along the ring.
func (s *shape) contains(p s2.Point) bool {
	o := s2.OriginPoint()
	inside := s.originInside
	c := s.verts[0]
	sc := s2.RobustSign(o, p, c)
	for i := 1; i <= len(s.verts); i++ {
		d := s.vertex(i)
		sd := s2.RobustSign(o, p, d)
		switch chainSign(o, p, c, d, -sc, sd) {
		case s2.Cross:
			inside = !inside
		case s2.MaybeCross:
			if s2.VertexCrossing(o, p, c, d) {
				inside = !inside
			}
		}
		c, sc = d, sd
	}
	return inside
}
