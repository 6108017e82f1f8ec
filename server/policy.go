package server

import (
	"encoding/json"
	"math/bits"
	"strings"
	"time"

	"github.com/deconflict/deconflict/geo"
	"github.com/deconflict/deconflict/registry"
	"github.com/golang/geo/s2"
)

// policy is the one place that decides what a party may see of other
// parties' intents; every answer that shows one goes through it. The
// rules, by the grant the owner gave the viewer (registry.Grant):
//
//   - deconfliction (the default): an intent is shown only where it
//     conflicts with one of the viewer's own (filed, or being filed), and
//     then only its id, owner and OVN and the overlaps (conflictView);
//     never in area queries or plain reads.
//   - operational: also its state, priority and every volume, in area
//     queries and reads too.
//   - full: also its private details.
type policy struct {
	reg       *registry.Registry
	viewer    registry.PartyID
	cellLevel int
	sep       geo.Separation
	// extent leaves out the overlaps' cells, the costly part of a conflict
	// view (?overlaps=extent): only their altitude band and time window.
	extent bool
}

// DefaultCellLevel is the S2 level of overlap cells (about 1 km).
const DefaultCellLevel = 13

// maxOverlapCells bounds the cells of one overlap; coarser cells are used
// beyond it.
const maxOverlapCells = 64

// policyFor returns the policy for viewer (reg must stay locked while it
// is used).
func (s *Server) policyFor(reg *registry.Registry, viewer registry.PartyID) policy {
	return policy{reg: reg, viewer: viewer, cellLevel: s.cfg.CellLevel, sep: reg.Config().Separation}
}

// level is what the viewer may see of owner's intents.
func (p policy) level(owner registry.PartyID) registry.Level {
	return p.reg.Grant(owner, p.viewer)
}

// conflictView shows it, an intent that conflicts with the viewer's
// volumes mine (pairs: Mine indexes mine, Theirs indexes it.Volumes).
func (p policy) conflictView(it *registry.Intent, mine []*geo.Volume, pairs []registry.Pair) IntentView {
	if it.Owner == p.viewer {
		return ownView(it)
	}
	return p.conflictViewAt(p.level(it.Owner), it, mine, pairs)
}

// conflictViewAt is conflictView for an owner's grant lvl already looked
// up: it does not use the registry, so it may run without the service's
// lock (intents are immutable snapshots).
func (p policy) conflictViewAt(lvl registry.Level, it *registry.Intent, mine []*geo.Volume, pairs []registry.Pair) IntentView {
	if it.Owner == p.viewer {
		return ownView(it)
	}
	v := p.beyond(it, lvl)
	if len(pairs) > 0 {
		v.Overlaps = make([]Overlap, 0, len(pairs))
	}
	for _, pr := range pairs {
		if pr.Mine < 0 || pr.Mine >= len(mine) || pr.Theirs < 0 || pr.Theirs >= len(it.Volumes) {
			continue
		}
		v.Overlaps = append(v.Overlaps, p.overlap(mine[pr.Mine], it.Volumes[pr.Theirs]))
	}
	return v
}

// beyond is what lvl shows of it without a conflict context.
func (p policy) beyond(it *registry.Intent, lvl registry.Level) IntentView {
	v := IntentView{ID: it.ID, Owner: it.Owner, OVN: it.OVN, Level: string(lvl)}
	if lvl.AtLeast(registry.LevelOperational) {
		pr := it.Priority
		v.State, v.Priority = it.State, &pr
		for _, vol := range it.Volumes {
			v.Volumes = append(v.Volumes, vol.Spec())
		}
	}
	if lvl.AtLeast(registry.LevelFull) {
		v.Details = json.RawMessage(it.Details)
	}
	return v
}

// areaView shows it in an area query: own intents, and others' only under
// an operational or full grant.
func (p policy) areaView(it *registry.Intent) (IntentView, bool) {
	if it.Owner == p.viewer {
		return ownView(it), true
	}
	lvl := p.level(it.Owner)
	if !lvl.AtLeast(registry.LevelOperational) {
		return IntentView{}, false
	}
	return p.beyond(it, lvl), true
}

// readView shows it on a plain read: own intents; others' under an
// operational or full grant; otherwise only if it conflicts with one of
// the viewer's live intents, as in a conflict.
func (p policy) readView(it *registry.Intent) (IntentView, bool) {
	if v, ok := p.areaView(it); ok {
		return v, true
	}
	for _, oc := range conflictsOfOwner(p.reg, p.viewer) {
		if oc.other.Intent.ID == it.ID {
			return p.conflictView(it, p.reg.Intent(oc.mine).Volumes, oc.other.Pairs), true
		}
	}
	return IntentView{}, false
}

// mayReadContent reports whether the viewer, alerted by an entry of
// author (and one that names no third party, which the service decided
// when it logged it), may read that entry's content in the log: it holds
// the whole command and the signed request, private details included, so
// only under a full grant.
func (p policy) mayReadContent(author registry.PartyID) bool {
	return author == p.viewer || p.level(author).AtLeast(registry.LevelFull)
}

// overlap describes where a (the viewer's) and b come too close.
func (p policy) overlap(a, b *geo.Volume) Overlap {
	var o Overlap
	if !p.extent {
		cells, level := geo.OverlapCells(a, b, p.sep.Horizontal, p.cellLevel, maxOverlapCells)
		o.CellLevel, o.Cells = level, cellTokens(cells)
	}
	o.AltLoM, o.AltHiM = shared(a.AltLo(), a.AltHi(), b.AltLo(), b.AltHi())
	s, e := shared(a.StartNano(), a.EndNano(), b.StartNano(), b.EndNano())
	o.Start, o.End = time.Unix(0, s).UTC(), time.Unix(0, e).UTC()
	return o
}

// cellTokens returns c.ToToken() of each cell (the id in hexadecimal
// without its trailing zeros, "X" for 0), without fmt and in one
// allocation for all the strings: responses hold thousands.
func cellTokens(cells []s2.CellID) []string {
	const hex = "0123456789abcdef"
	var sb strings.Builder
	sb.Grow(16 * len(cells))
	for _, c := range cells {
		if c == 0 {
			sb.WriteByte('X')
			continue
		}
		for i := range tokenLen(c) {
			sb.WriteByte(hex[uint64(c)>>(60-4*i)&0xf])
		}
	}
	all := sb.String()
	out := make([]string, len(cells))
	for i, c := range cells {
		n := tokenLen(c)
		out[i], all = all[:n], all[n:]
	}
	return out
}

// tokenLen is the length of c's token.
func tokenLen(c s2.CellID) int {
	if c == 0 {
		return 1
	}
	return 16 - bits.TrailingZeros64(uint64(c))/4
}

// shared returns the intersection of [alo, ahi] and [blo, bhi], or the gap
// between them if they do not meet.
func shared[T geo.Meters | int64](alo, ahi, blo, bhi T) (T, T) {
	lo, hi := max(alo, blo), min(ahi, bhi)
	if lo > hi {
		lo, hi = hi, lo
	}
	return lo, hi
}
