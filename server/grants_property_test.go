package server_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang/geo/s2"

	"github.com/deconflict/deconflict/geo"
	"github.com/deconflict/deconflict/ledger"
	"github.com/deconflict/deconflict/registry"
	"github.com/deconflict/deconflict/server"
)

// This file is a property test of the grant rules: what each party is shown
// of the other parties' intents, in every answer that can show one. The
// oracle below is written from the product spec, independently of the
// service's own filter (policy.go):
//
//   - deconfliction (the default): another party's intent is shown only
//     where it conflicts with one of the viewer's own (filed, or being filed
//     in a 409), and then only owner, id, OVN and overlaps; never in area
//     queries, nor on reads unless it conflicts with a live intent of the
//     viewer's.
//   - operational: also volumes, state and priority, in queries and reads.
//   - full: also the private details.
//   - alerts show pairs only under an operational or full grant from the
//     party that caused them.
//   - log content: its author, authorities, and the parties the entry
//     alerted if the author's grant to them is operational or full.
//
// The model knows every intent the test filed (spot, altitude band, time
// window, priority, state, details) and every grant it set. Two volumes of
// the test conflict iff they are at the same spot and their altitude bands
// (closed) and time windows (half-open) overlap; TestGrantsPropertyGeometry
// checks that assumption against geo.Conflict.

// gpSeeds is how many random worlds the property test builds.
const gpSeeds = 8

// gpBands are the altitude bands of the test's volumes: some overlap, some
// do not, and every one overlaps the query volume (e.vol: 0 to 120 m).
var gpBands = [][2]geo.Meters{{0, 40}, {50, 90}, {100, 140}, {30, 110}, {0, 120}}

// gpWindows are the time windows, as offsets from e.start (which the
// volumes of e.vol span for an hour): whole, halves, the middle.
var gpWindows = [][2]time.Duration{{0, time.Hour}, {0, 30 * time.Minute}, {30 * time.Minute, time.Hour}, {15 * time.Minute, 45 * time.Minute}}

// gpVol is a volume of the test: a 100 m circle at one of the spots, its
// centre moved by a few metres (a unique amount per volume, so that its
// exact centre coordinates name it in any answer), in a band and a window.
type gpVol struct {
	spot int
	spec geo.VolumeSpec
}

// gpConflict is the oracle's conflict rule for the test's volumes.
func gpConflict(a, b gpVol) bool {
	return a.spot == b.spot &&
		a.spec.AltLoM <= b.spec.AltHiM && b.spec.AltLoM <= a.spec.AltHiM &&
		a.spec.Start.Before(b.spec.End) && b.spec.Start.Before(a.spec.End)
}

func gpAnyConflict(as, bs []gpVol) bool {
	for _, a := range as {
		for _, b := range bs {
			if gpConflict(a, b) {
				return true
			}
		}
	}
	return false
}

// gpIntent is an intent the service accepted, as the model knows it.
type gpIntent struct {
	id      registry.IntentID
	owner   registry.PartyID
	prio    int
	state   registry.State
	vols    []gpVol
	details string // the JSON object filed
	ovn     registry.OVN
	ovns    []registry.OVN // every OVN it had
	ended   bool
}

func (it *gpIntent) live() bool { return !it.ended }

// gpAttempt is one filing the test made (accepted or not): its owner, its
// volumes and its secret (in its details).
type gpAttempt struct {
	owner  registry.PartyID
	vols   []gpVol
	secret string
}

// gpEntry is a log entry as the model knows it: who wrote it and whom it
// alerted.
type gpEntry struct {
	author  registry.PartyID
	alerted map[registry.PartyID]bool
	what    string
	// What the entry's content names besides the author's own: owners of
	// the intents it conflicts with or disclosed, owners of the OVNs in
	// its command's key; and whether it is an item of a batch request
	// (whose body holds the other items).
	named, keyOwners map[registry.PartyID]bool
	batch            bool
}

// gpModel is the oracle's state: grants, intents, attempts, entries.
type gpModel struct {
	grants   map[[2]registry.PartyID]registry.Level // {from, to}
	intents  map[registry.IntentID]*gpIntent
	order    []registry.IntentID
	attempts []*gpAttempt
	entries  map[uint64]*gpEntry
}

func newGPModel() *gpModel {
	return &gpModel{grants: map[[2]registry.PartyID]registry.Level{}, intents: map[registry.IntentID]*gpIntent{},
		entries: map[uint64]*gpEntry{}}
}

func (m *gpModel) grant(from, to registry.PartyID) registry.Level {
	if l, ok := m.grants[[2]registry.PartyID{from, to}]; ok {
		return l
	}
	return registry.LevelDeconfliction
}

// gpRank orders grant levels (0 for anything else).
func gpRank(l registry.Level) int {
	switch l {
	case registry.LevelDeconfliction:
		return 1
	case registry.LevelOperational:
		return 2
	case registry.LevelFull:
		return 3
	}
	return 0
}

func (m *gpModel) add(it *gpIntent) {
	m.intents[it.id] = it
	m.order = append(m.order, it.id)
}

// conflicting lists the live intents of parties other than owner that
// conflict with vols, by id.
func (m *gpModel) conflicting(owner registry.PartyID, vols []gpVol) []*gpIntent {
	var out []*gpIntent
	for _, id := range m.order {
		it := m.intents[id]
		if it.owner != owner && it.live() && gpAnyConflict(vols, it.vols) {
			out = append(out, it)
		}
	}
	slices.SortFunc(out, func(a, b *gpIntent) int { return strings.Compare(string(a.id), string(b.id)) })
	return out
}

// liveVols are the volumes of p's live intents.
func (m *gpModel) liveVols(p registry.PartyID) []gpVol {
	var out []gpVol
	for _, id := range m.order {
		if it := m.intents[id]; it.owner == p && it.live() {
			out = append(out, it.vols...)
		}
	}
	return out
}

// everConflicted reports whether any filing p ever made (accepted or not)
// conflicts with it: only then may p have learned of it under
// deconfliction.
func (m *gpModel) everConflicted(p registry.PartyID, it *gpIntent) bool {
	for _, a := range m.attempts {
		if a.owner == p && gpAnyConflict(a.vols, it.vols) {
			return true
		}
	}
	return false
}

// gpViolation is one broken rule.
type gpViolation struct {
	rule string
	msg  string
}

func gpV(rule, format string, args ...any) gpViolation {
	return gpViolation{rule: rule, msg: fmt.Sprintf(format, args...)}
}

// The rules a violation can break.
const (
	gpR1Fields   = "R1 deconfliction view shows more than id/owner/OVN/overlaps"
	gpR1Secret   = "R1 secret shown without a full grant"
	gpR1Centre   = "R1 volume centre shown without an operational grant"
	gpR2         = "R2 deconfliction intent shown where it conflicts with nothing of the viewer's"
	gpR3         = "R3 query shows an intent under a deconfliction grant"
	gpR4         = "R4 details shown below full, or wrong"
	gpR5         = "R5 alert pairs shown below operational"
	gpR6         = "R6 log content readable contrary to the rules"
	gpR7         = "R7 view level differs from the grant"
	gpRLeakID    = "R1/R2 intent id or OVN of a deconfliction intent shown to a party it never conflicted with"
	gpRView      = "view content differs from what was filed"
	gpRModel     = "answer differs from the model (completeness / decision)"
	gpRNoContext = "view outside its context (not live, or not conflicting where it must)"
)

// gpCtx is where a view was shown: kind refusal (a 409 to a filing of
// ref), filed (the conflicts of an accepted filing of ref), read (GET of
// one intent; ref: the viewer's live volumes), conflict (GET /v1/conflicts;
// ref: the viewer's intent in conflict), query (ref: the query volume) or
// own (the filer's own intent in the answer to its filing; brief in a
// batch answer, without volumes and details).
type gpCtx struct {
	kind   string
	viewer registry.PartyID
	ref    []gpVol
	where  string
}

// checkView checks one view of an intent, as raw JSON, against the oracle.
func (m *gpModel) checkView(c gpCtx, raw json.RawMessage) []gpViolation {
	var out []gpViolation
	bad := func(rule, format string, args ...any) {
		out = append(out, gpV(rule, "%s (viewer %s): "+format, append([]any{c.where, c.viewer}, args...)...))
	}
	var keys map[string]json.RawMessage
	var v server.IntentView
	if err := json.Unmarshal(raw, &keys); err != nil {
		bad(gpRView, "view %s does not decode: %v", raw, err)
		return out
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		bad(gpRView, "view %s does not decode: %v", raw, err)
		return out
	}
	it := m.intents[v.ID]
	if it == nil {
		bad(gpRView, "view of an intent the test never filed: %s", raw)
		return out
	}
	if v.Owner != it.owner {
		bad(gpRView, "intent %s shown as %s's, filed by %s", it.id, v.Owner, it.owner)
	}
	if v.OVN != it.ovn {
		bad(gpRView, "intent %s shown with OVN %s, current is %s", it.id, v.OVN, it.ovn)
	}

	// Where it is shown.
	switch c.kind {
	case "refusal", "filed", "conflict":
		if !it.live() || !gpAnyConflict(c.ref, it.vols) {
			bad(gpRNoContext, "intent %s of %s (live %v) shown in a %s answer but conflicts with none of the volumes in question", it.id, it.owner, it.live(), c.kind)
		}
	case "query":
		if !it.live() || !gpAnyConflict(c.ref, it.vols) {
			bad(gpRNoContext, "query shows intent %s of %s (live %v), which is not in the queried volume", it.id, it.owner, it.live())
		}
	}

	if it.owner == c.viewer {
		if v.Level != "own" {
			bad(gpR7, "own intent %s shown at level %q, want own", it.id, v.Level)
		}
		if c.kind == "brief" { // a batch answer: no echo of the request's volumes and details
			for _, k := range []string{"volumes", "details"} {
				if val, ok := keys[k]; ok && !gpEmptyJSON(val) {
					bad(gpRView, "own intent %s in a batch answer shows %s %s", it.id, k, val)
				}
			}
			if v.State != it.state || v.Priority == nil || *v.Priority != it.prio {
				bad(gpRView, "own intent %s in a batch answer: state %q, priority %v; filed %q, %d", it.id, v.State, v.Priority, it.state, it.prio)
			}
			return out
		}
		out = append(out, m.checkExtents(c, it, v, true)...)
		return out
	}

	g := m.grant(it.owner, c.viewer)
	if v.Level != string(g) {
		bad(gpR7, "intent %s of %s shown at level %q, the grant is %s", it.id, it.owner, v.Level, g)
	}
	// Fields, raw: only those the grant allows may carry a value.
	allowed := map[string]bool{"id": true, "owner": true, "ovn": true, "level": true, "overlaps": true}
	if gpRank(g) >= gpRank(registry.LevelOperational) {
		allowed["state"], allowed["priority"], allowed["volumes"] = true, true, true
	}
	if g == registry.LevelFull {
		allowed["details"] = true
	}
	for k, val := range keys {
		if allowed[k] || gpEmptyJSON(val) {
			continue
		}
		rule := gpR1Fields
		if k == "details" {
			rule = gpR4
		} else if g != registry.LevelDeconfliction {
			rule = gpRView
		}
		bad(rule, "intent %s of %s under a %s grant shows %q: %s", it.id, it.owner, g, k, val)
	}
	switch g {
	case registry.LevelDeconfliction:
		if v.State != "" || v.Priority != nil || len(v.Volumes) != 0 || len(v.Details) != 0 {
			bad(gpR1Fields, "intent %s of %s under deconfliction shows state %q, priority %v, %d volumes, details %s",
				it.id, it.owner, v.State, v.Priority, len(v.Volumes), v.Details)
		}
	default:
		out = append(out, m.checkExtents(c, it, v, g == registry.LevelFull)...)
	}

	// Rule 2 and 3: where a deconfliction view may appear at all.
	switch c.kind {
	case "read":
		if g == registry.LevelDeconfliction && (!it.live() || !gpAnyConflict(c.ref, it.vols)) {
			bad(gpR2, "GET shows intent %s of %s (live %v) under deconfliction, but it conflicts with no live intent of the viewer's",
				it.id, it.owner, it.live())
		}
	case "conflict":
		if g == registry.LevelDeconfliction && !gpAnyConflict(c.ref, it.vols) {
			bad(gpR2, "conflicts list shows intent %s of %s under deconfliction, but it does not conflict with the viewer's intent", it.id, it.owner)
		}
	case "query":
		if gpRank(g) < gpRank(registry.LevelOperational) {
			bad(gpR3, "query shows intent %s of %s under a %s grant", it.id, it.owner, g)
		}
	}

	// Overlaps: each is where one of the viewer's volumes in question and
	// one of the intent's meet, in coarse cells.
	if g == registry.LevelDeconfliction && c.kind != "query" && len(v.Overlaps) == 0 {
		bad(gpRModel, "deconfliction view of %s of %s in a %s answer has no overlap", it.id, it.owner, c.kind)
	}
	for i, o := range v.Overlaps {
		if msg := gpCheckOverlap(o, c.ref, it.vols); msg != "" {
			bad(gpRView, "intent %s of %s, overlap %d: %s", it.id, it.owner, i, msg)
		}
	}
	return out
}

// checkExtents checks what an operational, full or own view shows against
// what was filed (with details if withDetails, else none).
func (m *gpModel) checkExtents(c gpCtx, it *gpIntent, v server.IntentView, withDetails bool) []gpViolation {
	var out []gpViolation
	bad := func(rule, format string, args ...any) {
		out = append(out, gpV(rule, "%s (viewer %s): intent %s of %s at level %s: "+format,
			append([]any{c.where, c.viewer, it.id, it.owner, v.Level}, args...)...))
	}
	wantState := it.state
	if it.ended {
		wantState = registry.StateEnded
	}
	if v.State != wantState {
		bad(gpRView, "state %q, want %q", v.State, wantState)
	}
	if v.Priority == nil || *v.Priority != it.prio {
		bad(gpRView, "priority %v, want %d", v.Priority, it.prio)
	}
	if len(v.Volumes) != len(it.vols) {
		bad(gpRView, "%d volumes, want %d", len(v.Volumes), len(it.vols))
	} else {
		for i, got := range v.Volumes {
			if !gpSameSpec(got, it.vols[i].spec) {
				bad(gpRView, "volume %d is %+v, filed %+v", i, got, it.vols[i].spec)
			}
		}
	}
	switch {
	case withDetails && !gpSameJSON(v.Details, []byte(it.details)):
		bad(gpR4, "details %s, filed %s", v.Details, it.details)
	case !withDetails && len(v.Details) != 0:
		bad(gpR4, "details %s shown below a full grant", v.Details)
	}
	return out
}

// gpCheckOverlap checks that o is the shared band and window of a
// conflicting pair (one of mine, one of theirs), in coarse cells covering
// the pair's meeting area (which holds the centre of mine).
func gpCheckOverlap(o server.Overlap, mine, theirs []gpVol) string {
	if o.CellLevel < 1 || o.CellLevel > server.DefaultCellLevel {
		return fmt.Sprintf("cell level %d is finer than %d", o.CellLevel, server.DefaultCellLevel)
	}
	if len(o.Cells) == 0 {
		return "no cells"
	}
	var cells []s2.CellID
	for _, tok := range o.Cells {
		id := s2.CellIDFromToken(tok)
		if !id.IsValid() || id.Level() != o.CellLevel {
			return fmt.Sprintf("cell %q is not a valid cell of level %d", tok, o.CellLevel)
		}
		cells = append(cells, id)
	}
	for _, a := range mine {
		for _, b := range theirs {
			if !gpConflict(a, b) {
				continue
			}
			lo, hi := max(a.spec.AltLoM, b.spec.AltLoM), min(a.spec.AltHiM, b.spec.AltHiM)
			start, end := a.spec.Start, a.spec.End
			if b.spec.Start.After(start) {
				start = b.spec.Start
			}
			if b.spec.End.Before(end) {
				end = b.spec.End
			}
			if o.AltLoM != lo || o.AltHiM != hi || !o.Start.Equal(start) || !o.End.Equal(end) {
				continue
			}
			at := s2.CellIDFromLatLng(s2.LatLngFromDegrees(float64(a.spec.Circle.Lat), float64(a.spec.Circle.Lng)))
			for _, cid := range cells {
				if cid.Contains(at) {
					return ""
				}
			}
			return fmt.Sprintf("cells %v do not cover the meeting area", o.Cells)
		}
	}
	return fmt.Sprintf("band [%v, %v] and window [%v, %v) are not those shared by any conflicting pair", o.AltLoM, o.AltHiM, o.Start, o.End)
}

func gpSameSpec(a, b geo.VolumeSpec) bool {
	return a.Circle != nil && b.Circle != nil && *a.Circle == *b.Circle && len(a.Polygon) == 0 &&
		a.AltLoM == b.AltLoM && a.AltHiM == b.AltHiM && a.Start.Equal(b.Start) && a.End.Equal(b.End)
}

func gpSameJSON(a, b []byte) bool {
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return false
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}

// gpEmptyJSON reports whether a field carries no value.
func gpEmptyJSON(b json.RawMessage) bool {
	switch strings.TrimSpace(string(b)) {
	case "null", `""`, "[]", "{}":
		return true
	}
	return false
}

// checkAlert checks an alert shown to viewer (rule 5: pairs only under an
// operational or full grant of the party that caused it).
func (m *gpModel) checkAlert(viewer registry.PartyID, a server.AlertView, where string) []gpViolation {
	var out []gpViolation
	if a.To != viewer {
		out = append(out, gpV(gpRModel, "%s: alert %s to %s shown to %s", where, a.ID, a.To, viewer))
	}
	if it := m.intents[a.Intent]; it == nil || it.owner != viewer {
		out = append(out, gpV(gpRModel, "%s: alert %s to %s is about intent %s, not one of its own", where, a.ID, viewer, a.Intent))
	}
	if a.ByParty != "" && a.ByParty != viewer && len(a.Pairs) > 0 {
		if g := m.grant(a.ByParty, viewer); gpRank(g) < gpRank(registry.LevelOperational) {
			out = append(out, gpV(gpR5, "%s: alert %s to %s caused by %s (grant %s) shows pairs %v", where, a.ID, viewer, a.ByParty, g, a.Pairs))
		}
	}
	return out
}

// keyOwners returns the owners of the OVNs in key as far as they are the
// current OVNs of the intents the entry names (shown); any other OVN (an
// old version's, or an intent not named) counts as an unknown owner "?",
// as the service cannot tell whose it is.
func keyOwners(key []registry.OVN, shown []*gpIntent) map[registry.PartyID]bool {
	out := map[registry.PartyID]bool{}
	for _, k := range key {
		owner := registry.PartyID("?")
		for _, it := range shown {
			if it.ovn == k {
				owner = it.owner
			}
		}
		out[owner] = true
	}
	return out
}

// mayReadContent is the oracle's rule 6: the author, authorities, and a
// party the entry alerted if the author's grant to it is full and the
// entry names no intent of a third party (the content holds the whole
// command and signed request).
func (m *gpModel) mayReadContent(viewer registry.PartyID, viewerIsAuthority bool, index uint64) (bool, string) {
	en := m.entries[index]
	if en == nil {
		return false, "unknown entry"
	}
	switch {
	case viewerIsAuthority:
		return true, "authority"
	case en.author == viewer:
		return true, "author"
	case !en.alerted[viewer]:
		return false, "not alerted"
	case en.batch:
		return false, "alerted by a batch item"
	case m.grant(en.author, viewer) != registry.LevelFull:
		return false, fmt.Sprintf("alerted, grant %s", m.grant(en.author, viewer))
	}
	for o := range en.named {
		if o != viewer && o != en.author {
			return false, fmt.Sprintf("alerted, but the entry names %s's intent", o)
		}
	}
	for o := range en.keyOwners {
		if o != viewer {
			return false, fmt.Sprintf("alerted, but the entry's key holds an OVN of %s", o)
		}
	}
	return true, "alerted, grant full, nobody else named"
}

// checkContentStatus checks the answer to viewer's GET of an entry's
// content against rule 6.
func (m *gpModel) checkContentStatus(viewer registry.PartyID, viewerIsAuthority bool, index uint64, status int) []gpViolation {
	en := m.entries[index]
	may, why := m.mayReadContent(viewer, viewerIsAuthority, index)
	want := http.StatusForbidden
	if may {
		want = http.StatusOK
	}
	if status != want {
		author, what := registry.PartyID("?"), "?"
		if en != nil {
			author, what = en.author, en.what
		}
		return []gpViolation{gpV(gpR6, "content of entry %d (%s by %q) to %s (%s): status %d, want %d", index, what, author, viewer, why, status, want)}
	}
	return nil
}

// scan checks a whole answer to viewer, raw (with the base64 JSON inside
// it decoded, as log content holds its record so): no other party's
// secret without its full grant, no other party's volume centre without
// its operational grant, and no id or OVN of another party's intent under
// deconfliction unless that intent conflicts with a filing of viewer's
// (skip: an intent id the viewer itself asked about).
func (m *gpModel) scan(viewer registry.PartyID, body []byte, where string, skip registry.IntentID) []gpViolation {
	var out []gpViolation
	text := gpExpand(body)
	for _, a := range m.attempts {
		if a.owner == viewer {
			continue
		}
		g := m.grant(a.owner, viewer)
		if g != registry.LevelFull && bytes.Contains(text, []byte(a.secret)) {
			out = append(out, gpV(gpR1Secret, "%s: %s's secret %q shown to %s (grant %s)", where, a.owner, a.secret, viewer, g))
		}
		if gpRank(g) < gpRank(registry.LevelOperational) {
			for _, v := range a.vols {
				lat, _ := json.Marshal(v.spec.Circle.Lat)
				lng, _ := json.Marshal(v.spec.Circle.Lng)
				if gpContainsNumber(text, string(lat)) || gpContainsNumber(text, string(lng)) {
					out = append(out, gpV(gpR1Centre, "%s: centre (%s, %s) of a volume of %s shown to %s (grant %s)", where, lat, lng, a.owner, viewer, g))
				}
			}
		}
	}
	for _, id := range m.order {
		it := m.intents[id]
		if it.owner == viewer || id == skip {
			continue
		}
		g := m.grant(it.owner, viewer)
		if gpRank(g) >= gpRank(registry.LevelOperational) || m.everConflicted(viewer, it) {
			continue
		}
		if bytes.Contains(text, []byte(id)) {
			out = append(out, gpV(gpRLeakID, "%s: id of intent %s of %s (grant %s) shown to %s, which never filed anything conflicting with it", where, id, it.owner, g, viewer))
		}
		for _, ovn := range it.ovns {
			if bytes.Contains(text, []byte(ovn)) {
				out = append(out, gpV(gpRLeakID, "%s: OVN %s of intent %s of %s (grant %s) shown to %s, which never filed anything conflicting with it", where, ovn, id, it.owner, g, viewer))
			}
		}
	}
	return out
}

// gpExpand returns body followed by every JSON document found base64-encoded
// in its strings, recursively.
func gpExpand(body []byte) []byte {
	out := append([]byte(nil), body...)
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		switch x := v.(type) {
		case map[string]any:
			for _, y := range x {
				walk(y, depth)
			}
		case []any:
			for _, y := range x {
				walk(y, depth)
			}
		case string:
			if depth > 4 || len(x) < 4 {
				return
			}
			d, err := base64.StdEncoding.DecodeString(x)
			if err != nil {
				return
			}
			d = bytes.TrimSpace(d)
			if len(d) == 0 || (d[0] != '{' && d[0] != '[') {
				return
			}
			out = append(append(out, '\n'), d...)
			var inner any
			if json.Unmarshal(d, &inner) == nil {
				walk(inner, depth+1)
			}
		}
	}
	var v any
	if json.Unmarshal(body, &v) == nil {
		walk(v, 0)
	}
	return out
}

// gpContainsNumber reports whether num occurs in text as a whole number.
func gpContainsNumber(text []byte, num string) bool {
	isDigit := func(c byte) bool { return c >= '0' && c <= '9' }
	for i := 0; ; {
		j := bytes.Index(text[i:], []byte(num))
		if j < 0 {
			return false
		}
		j += i
		end := j + len(num)
		if (j == 0 || !isDigit(text[j-1]) && text[j-1] != '.') && (end == len(text) || !isDigit(text[end])) {
			return true
		}
		i = j + 1
	}
}

// gpStats counts what the property test exercised.
type gpStats struct {
	mu     sync.Mutex
	counts map[string]int
}

func (s *gpStats) add(k string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.counts == nil {
		s.counts = map[string]int{}
	}
	s.counts[k] += n
}

// gpRun is one random world: an env, the model and a random source.
type gpRun struct {
	t       *testing.T
	e       *env
	rng     *rand.Rand
	m       *gpModel
	members []registry.PartyID
	spots   []spot
	known   map[registry.PartyID]map[registry.OVN]bool // OVNs each party was shown
	nvol    int
	nsecret int
	stats   *gpStats
	counts  map[string]int // violations by rule
}

// report reports violations, the first few of each rule in full.
func (r *gpRun) report(vs []gpViolation) {
	r.t.Helper()
	for _, v := range vs {
		r.counts[v.rule]++
		if r.counts[v.rule] <= 3 {
			r.t.Errorf("[%s] %s", v.rule, v.msg)
		}
	}
}

func (r *gpRun) newVol(spotIdx int) gpVol {
	r.nvol++
	if r.nvol >= 400 {
		r.t.Fatal("too many volumes: the jitter would move centres too far")
	}
	s := r.spots[spotIdx]
	band := gpBands[r.rng.IntN(len(gpBands))]
	win := gpWindows[r.rng.IntN(len(gpWindows))]
	spec := r.e.volAt(s, band[0], band[1])
	c := *spec.Circle
	// A unique shift of at most ~45 m: circles at a spot still overlap
	// (radius 100 m); spots are over a kilometre apart.
	c.Lat += geo.Degrees(float64(r.nvol) * 1e-6)
	c.Lng += geo.Degrees(float64(r.nvol) * 1e-6)
	spec.Circle = &c
	spec.Start, spec.End = r.e.start.Add(win[0]), r.e.start.Add(win[1])
	return gpVol{spot: spotIdx, spec: spec}
}

// gpFiling is one filing to make: the request and what the model knows.
type gpFiling struct {
	a     *gpAttempt
	fr    server.FileRequest
	batch bool // filed in a batch request
}

func (r *gpRun) newFiling(owner registry.PartyID) *gpFiling {
	n := 1
	if r.rng.IntN(4) == 0 {
		n = 2
	}
	var vols []gpVol
	var specs []geo.VolumeSpec
	for range n {
		v := r.newVol(r.rng.IntN(len(r.spots)))
		vols, specs = append(vols, v), append(specs, v.spec)
	}
	r.nsecret++
	secret := fmt.Sprintf("%s-%04d", owner, r.nsecret)
	state := registry.StateAccepted
	switch r.rng.IntN(10) {
	case 0:
		state = registry.StateActivated
	case 1:
		state = registry.StateContingent
	}
	fr := server.FileRequest{Priority: 10 * (1 + r.rng.IntN(5)), State: state, Volumes: specs,
		Details: json.RawMessage(fmt.Sprintf(`{"secret":%q,"n":%d}`, secret, r.nsecret))}
	if r.rng.IntN(2) == 0 {
		fr.Key = r.knownKey(owner)
	}
	a := &gpAttempt{owner: owner, vols: vols, secret: secret}
	r.m.attempts = append(r.m.attempts, a)
	return &gpFiling{a: a, fr: fr}
}

func (r *gpRun) knownKey(p registry.PartyID) []registry.OVN {
	var key []registry.OVN
	for o := range r.known[p] {
		key = append(key, o)
	}
	slices.Sort(key)
	return key
}

func (r *gpRun) setGrant(from, to registry.PartyID, l registry.Level) {
	r.t.Helper()
	var wr server.WriteResponse
	wantJSON(r.t, r.e.do(r.t, request{as: from, method: "PUT", path: "/v1/grants/" + string(to), body: server.GrantRequest{Party: to, Level: l}}), http.StatusOK, &wr)
	r.m.grants[[2]registry.PartyID{from, to}] = l
	r.m.entries[wr.Entry] = &gpEntry{author: from, what: "set_grant"}
}

// gpRawFiled and gpRawProblem decode answers to filings keeping each view
// raw.
type gpRawFiled struct {
	Intent    json.RawMessage   `json:"intent"`
	Conflicts []json.RawMessage `json:"conflicts"`
	Entry     uint64            `json:"entry"`
}

type gpRawProblem struct {
	Type       string                `json:"type"`
	Status     int                   `json:"status"`
	Intents    []json.RawMessage     `json:"intents"`
	Disclosure *server.DisclosureRef `json:"disclosure"`
}

// decide is what the model predicts for a filing: accepted (refusal ""),
// or refused with the problem type, and the intents listed or alerted.
func (r *gpRun) decide(f *gpFiling) (refusal string, shown []*gpIntent) {
	cs := r.m.conflicting(f.a.owner, f.a.vols)
	if f.fr.State == registry.StateContingent || len(cs) == 0 {
		return "", cs
	}
	var missing, blockers []*gpIntent
	for _, c := range cs {
		if !slices.Contains(f.fr.Key, c.ovn) {
			missing = append(missing, c)
		}
		if c.prio >= f.fr.Priority {
			blockers = append(blockers, c)
		}
	}
	if len(missing) > 0 {
		return server.TypeMissingKey, missing
	}
	if len(blockers) > 0 {
		return server.TypeConflict, blockers
	}
	return "", cs
}

func gpIDs(its []*gpIntent) []string {
	var out []string
	for _, it := range its {
		out = append(out, string(it.id))
	}
	sort.Strings(out)
	return out
}

func gpViewIDs(raws []json.RawMessage) []string {
	var out []string
	for _, raw := range raws {
		var v struct {
			ID string `json:"id"`
		}
		json.Unmarshal(raw, &v)
		out = append(out, v.ID)
	}
	sort.Strings(out)
	return out
}

// handle checks the answer to filing f (status and the raw filed view or
// problem) and updates the model. It returns the problem, if refused.
func (r *gpRun) handle(f *gpFiling, status int, raw json.RawMessage, where string) *gpRawProblem {
	r.t.Helper()
	owner := f.a.owner
	wantType, shown := r.decide(f)
	switch status {
	case http.StatusCreated:
		r.stats.add("filing accepted", 1)
		var fv gpRawFiled
		if err := json.Unmarshal(raw, &fv); err != nil {
			r.t.Fatalf("%s: decoding %s: %v", where, raw, err)
		}
		if wantType != "" {
			r.report([]gpViolation{gpV(gpRModel, "%s: %s's filing accepted, the model refuses it (%s) for %v", where, owner, wantType, gpIDs(shown))})
		}
		if got, want := gpViewIDs(fv.Conflicts), gpIDs(shown); !slices.Equal(got, want) {
			r.report([]gpViolation{gpV(gpRModel, "%s: accepted filing lists conflicts %v, the model has %v", where, got, want)})
		}
		for _, c := range fv.Conflicts {
			r.report(r.m.checkView(gpCtx{kind: "filed", viewer: owner, ref: f.a.vols, where: where + " conflicts"}, c))
			r.countView("filed", owner, c)
		}
		var own server.IntentView
		if err := json.Unmarshal(fv.Intent, &own); err != nil {
			r.t.Fatalf("%s: decoding %s: %v", where, fv.Intent, err)
		}
		it := &gpIntent{id: own.ID, owner: owner, prio: f.fr.Priority, state: f.fr.State, vols: f.a.vols,
			details: string(f.fr.Details), ovn: own.OVN, ovns: []registry.OVN{own.OVN}}
		if it.state == "" {
			it.state = registry.StateAccepted
		}
		r.m.add(it)
		kind := "own"
		if f.batch {
			kind = "brief"
		}
		r.report(r.m.checkView(gpCtx{kind: kind, viewer: owner, where: where + " intent"}, fv.Intent))
		alerted := map[registry.PartyID]bool{}
		for _, c := range shown {
			alerted[c.owner] = true
			r.known[owner][c.ovn] = true
		}
		r.m.entries[fv.Entry] = &gpEntry{author: owner, alerted: alerted, what: "file",
			named: r.m.ownersOf(shown), keyOwners: keyOwners(f.fr.Key, shown), batch: f.batch}
		return nil
	case http.StatusConflict:
		var p gpRawProblem
		if err := json.Unmarshal(raw, &p); err != nil {
			r.t.Fatalf("%s: decoding %s: %v", where, raw, err)
		}
		r.stats.add("refusal "+p.Type, 1)
		if p.Type != wantType {
			r.report([]gpViolation{gpV(gpRModel, "%s: %s's filing refused as %s, the model says %q (%v)", where, owner, p.Type, wantType, gpIDs(shown))})
		}
		if got, want := gpViewIDs(p.Intents), gpIDs(shown); wantType != "" && !slices.Equal(got, want) {
			r.report([]gpViolation{gpV(gpRModel, "%s: refusal lists %v, the model has %v", where, got, want)})
		}
		for _, c := range p.Intents {
			r.report(r.m.checkView(gpCtx{kind: "refusal", viewer: owner, ref: f.a.vols, where: where + " 409"}, c))
			r.countView("refusal", owner, c)
			var v server.IntentView
			json.Unmarshal(c, &v)
			r.known[owner][v.OVN] = true
		}
		if p.Disclosure == nil {
			r.report([]gpViolation{gpV(gpRModel, "%s: refusal names no disclosure entry", where)})
		} else {
			alerted := map[registry.PartyID]bool{}
			for _, c := range shown {
				alerted[c.owner] = true
			}
			r.m.entries[p.Disclosure.Entry] = &gpEntry{author: owner, alerted: alerted, what: "disclose",
				named: r.m.ownersOf(shown), keyOwners: keyOwners(f.fr.Key, shown), batch: f.batch}
		}
		return &p
	default:
		r.t.Fatalf("%s: filing answered %d: %s", where, status, raw)
	}
	return nil
}

func (r *gpRun) countView(ctx string, viewer registry.PartyID, raw json.RawMessage) {
	var v server.IntentView
	json.Unmarshal(raw, &v)
	r.stats.add(fmt.Sprintf("view %s/%s", ctx, v.Level), 1)
}

// file makes filing f (retrying with the OVNs learned from a missing-key
// refusal, or a higher priority after a conflict, now and then).
func (r *gpRun) file(f *gpFiling) {
	r.t.Helper()
	for try := 0; ; try++ {
		where := fmt.Sprintf("%s filing %s (try %d)", f.a.owner, f.a.secret, try)
		rp := r.e.do(r.t, request{as: f.a.owner, method: "POST", path: "/v1/intents", body: f.fr})
		r.stats.add("responses", 1)
		p := r.handle(f, rp.status, rp.body, where)
		r.report(r.m.scan(f.a.owner, rp.body, where, ""))
		if p == nil || try >= 3 {
			return
		}
		switch {
		case p.Type == server.TypeMissingKey && r.rng.IntN(10) < 7:
			f.fr.Key = r.knownKey(f.a.owner)
		case p.Type == server.TypeConflict && r.rng.IntN(2) == 0:
			f.fr.Priority = min(registry.MaxPriority, f.fr.Priority+10+10*r.rng.IntN(3))
		default:
			return
		}
	}
}

// fileBatch files two intents of owner in one batch.
func (r *gpRun) fileBatch(owner registry.PartyID) {
	r.t.Helper()
	fs := []*gpFiling{r.newFiling(owner), r.newFiling(owner)}
	fs[0].batch, fs[1].batch = true, true
	rp := r.e.do(r.t, request{as: owner, method: "POST", path: "/v1/intents/batch",
		body: server.BatchRequest{Intents: []server.FileRequest{fs[0].fr, fs[1].fr}}})
	r.stats.add("responses", 1)
	var br struct {
		Results []struct {
			Status  int             `json:"status"`
			Filed   json.RawMessage `json:"filed"`
			Problem json.RawMessage `json:"problem"`
		} `json:"results"`
	}
	wantJSON(r.t, rp, http.StatusOK, &br)
	if len(br.Results) != 2 {
		r.t.Fatalf("batch answered %d results: %s", len(br.Results), rp.body)
	}
	for i, res := range br.Results {
		raw := res.Filed
		if res.Status != http.StatusCreated {
			raw = res.Problem
		}
		r.handle(fs[i], res.Status, raw, fmt.Sprintf("%s batch item %d (%s)", owner, i, fs[i].a.secret))
	}
	r.report(r.m.scan(owner, rp.body, string(owner)+" batch", ""))
}

// end ends intent it.
func (r *gpRun) end(it *gpIntent) {
	r.t.Helper()
	var fv server.FiledView
	wantJSON(r.t, r.e.do(r.t, request{as: it.owner, method: "POST", path: intentPath(it.id, "/end"), body: server.EndRequest{OVN: it.ovn}}), http.StatusOK, &fv)
	it.ended, it.ovn = true, fv.Intent.OVN
	it.ovns = append(it.ovns, fv.Intent.OVN)
	r.m.entries[fv.Entry] = &gpEntry{author: it.owner, what: "end"}
}

func (r *gpRun) randomLevel() registry.Level {
	return []registry.Level{registry.LevelDeconfliction, registry.LevelOperational, registry.LevelFull}[r.rng.IntN(3)]
}

// build makes the world: grants, filings (some refused), grant changes,
// more filings, ends, a few more filings.
func (r *gpRun) build() {
	for _, from := range r.members {
		for _, to := range r.members {
			if from != to && r.rng.IntN(3) != 0 {
				r.setGrant(from, to, r.randomLevel())
			}
		}
	}
	phase := func(n int) {
		for range n {
			owner := r.members[r.rng.IntN(len(r.members))]
			if r.rng.IntN(6) == 0 {
				r.fileBatch(owner)
			} else {
				r.file(r.newFiling(owner))
			}
		}
	}
	phase(16)
	for _, from := range r.members {
		for _, to := range r.members {
			if from != to && r.rng.IntN(3) == 0 {
				r.setGrant(from, to, r.randomLevel())
			}
		}
	}
	phase(10)
	for _, id := range r.m.order {
		if it := r.m.intents[id]; it.live() && r.rng.IntN(4) == 0 {
			r.end(it)
		}
	}
	phase(4)
}

// collect reads, as each member, every answer that may show another
// party's intent, and checks each against the oracle.
func (r *gpRun) collect() {
	t, e, m := r.t, r.e, r.m
	queryVols := make([]gpVol, len(r.spots))
	for i, s := range r.spots {
		queryVols[i] = gpVol{spot: i, spec: e.vol(s)}
	}
	for _, viewer := range r.members {
		live := m.liveVols(viewer)

		// GET /v1/intents/{id} of every intent filed.
		for _, id := range m.order {
			it := m.intents[id]
			where := fmt.Sprintf("GET %s as %s", id, viewer)
			rp := e.do(t, request{as: viewer, method: "GET", path: intentPath(id, "")})
			r.stats.add("responses", 1)
			r.report(m.scan(viewer, rp.body, where, id))
			g := m.grant(it.owner, viewer)
			visible := it.owner == viewer || gpRank(g) >= gpRank(registry.LevelOperational) ||
				it.live() && gpAnyConflict(live, it.vols)
			switch rp.status {
			case http.StatusOK:
				r.report(m.checkView(gpCtx{kind: "read", viewer: viewer, ref: live, where: where}, rp.body))
				r.countView("read", viewer, rp.body)
				if !visible {
					// checkView reports the broken rule; nothing to add.
					r.stats.add("read shown though hidden", 1)
				}
			case http.StatusNotFound:
				if visible {
					r.report([]gpViolation{gpV(gpRModel, "%s: 404, but the viewer may see it (owner %s, grant %s, live %v)", where, it.owner, g, it.live())})
				}
				r.stats.add("read 404", 1)
			default:
				t.Fatalf("%s: status %d: %s", where, rp.status, rp.body)
			}
		}

		// POST /v1/intents/query at each spot.
		for i, s := range r.spots {
			where := fmt.Sprintf("query of spot %d as %s", i, viewer)
			rp := e.do(t, request{as: viewer, method: "POST", path: "/v1/intents/query", body: server.QueryRequest{Volume: e.vol(s)}})
			r.stats.add("responses", 1)
			r.report(m.scan(viewer, rp.body, where, ""))
			var q struct {
				Intents []json.RawMessage `json:"intents"`
			}
			wantJSON(t, rp, http.StatusOK, &q)
			for _, raw := range q.Intents {
				r.report(m.checkView(gpCtx{kind: "query", viewer: viewer, ref: []gpVol{queryVols[i]}, where: where}, raw))
				r.countView("query", viewer, raw)
			}
			var want []*gpIntent
			for _, id := range m.order {
				it := m.intents[id]
				if it.live() && gpAnyConflict([]gpVol{queryVols[i]}, it.vols) &&
					(it.owner == viewer || gpRank(m.grant(it.owner, viewer)) >= gpRank(registry.LevelOperational)) {
					want = append(want, it)
				}
			}
			if got, want := gpViewIDs(q.Intents), gpIDs(want); !slices.Equal(got, want) {
				r.report([]gpViolation{gpV(gpRModel, "%s: shows %v, the model has %v", where, got, want)})
			}
		}

		// GET /v1/conflicts.
		{
			where := "conflicts of " + string(viewer)
			rp := e.do(t, request{as: viewer, method: "GET", path: "/v1/conflicts"})
			r.stats.add("responses", 1)
			r.report(m.scan(viewer, rp.body, where, ""))
			var cv struct {
				Conflicts []struct {
					ID    registry.ConflictID `json:"id"`
					Mine  registry.IntentID   `json:"mine"`
					Other json.RawMessage     `json:"other"`
				} `json:"conflicts"`
			}
			wantJSON(t, rp, http.StatusOK, &cv)
			var got []string
			for _, c := range cv.Conflicts {
				mine := m.intents[c.Mine]
				if mine == nil || mine.owner != viewer || !mine.live() {
					r.report([]gpViolation{gpV(gpRModel, "%s: conflict %s is about %s, not a live intent of the viewer's", where, c.ID, c.Mine)})
					continue
				}
				r.report(m.checkView(gpCtx{kind: "conflict", viewer: viewer, ref: mine.vols, where: where}, c.Other))
				r.countView("conflict", viewer, c.Other)
				var o struct {
					ID string `json:"id"`
				}
				json.Unmarshal(c.Other, &o)
				got = append(got, string(c.Mine)+"~"+o.ID)
			}
			var want []string
			for _, id := range m.order {
				mine := m.intents[id]
				if mine.owner != viewer || !mine.live() {
					continue
				}
				for _, o := range m.conflicting(viewer, mine.vols) {
					want = append(want, string(mine.id)+"~"+string(o.id))
				}
			}
			sort.Strings(got)
			sort.Strings(want)
			if !slices.Equal(got, want) {
				r.report([]gpViolation{gpV(gpRModel, "%s: lists %v, the model has %v", where, got, want)})
			}
		}

		// GET /v1/alerts: pairs only under operational or full; and one
		// alert entry per entry the model says alerted the viewer.
		{
			where := "alerts of " + string(viewer)
			rp := e.do(t, request{as: viewer, method: "GET", path: "/v1/alerts"})
			r.stats.add("responses", 1)
			r.report(m.scan(viewer, rp.body, where, ""))
			var av struct {
				Alerts []server.AlertView `json:"alerts"`
			}
			wantJSON(t, rp, http.StatusOK, &av)
			got := map[uint64]bool{}
			for _, a := range av.Alerts {
				r.report(m.checkAlert(viewer, a, where))
				got[a.Entry] = true
				if len(a.Pairs) > 0 {
					r.stats.add("alerts with pairs", 1)
				} else {
					r.stats.add("alerts without pairs", 1)
				}
			}
			for idx := range got {
				if m.entries[idx] == nil {
					r.report([]gpViolation{gpV(gpRModel, "%s: alert of entry %d, unknown to the model", where, idx)})
				}
			}
			for idx, en := range m.entries {
				if en.alerted[viewer] != got[idx] {
					r.report([]gpViolation{gpV(gpRModel, "%s: entry %d (%s by %s) alerted the viewer: %v, the model says %v", where, idx, en.what, en.author, got[idx], en.alerted[viewer])})
				}
			}
		}

		// GET /v1/disclosures: only the viewer's own intents.
		{
			where := "disclosures of " + string(viewer)
			rp := e.do(t, request{as: viewer, method: "GET", path: "/v1/disclosures"})
			r.stats.add("responses", 1)
			r.report(m.scan(viewer, rp.body, where, ""))
			var dv struct {
				Disclosures []registry.Disclosure `json:"disclosures"`
			}
			wantJSON(t, rp, http.StatusOK, &dv)
			for _, d := range dv.Disclosures {
				if it := m.intents[d.Intent]; d.Owner != viewer || it == nil || it.owner != viewer || d.To == viewer {
					r.report([]gpViolation{gpV(gpRModel, "%s: disclosure %+v is not about one of the viewer's intents shown to another party", where, d)})
				}
			}
		}

		// GET /v1/intents (own list): nothing of others.
		{
			rp := e.do(t, request{as: viewer, method: "GET", path: "/v1/intents?ended=true"})
			r.stats.add("responses", 1)
			r.report(m.scan(viewer, rp.body, "own intents of "+string(viewer), ""))
		}
	}

	// Log content, every entry up to the latest checkpoint, as every member
	// and the authority: 200 exactly where rule 6 allows.
	cp := e.do(t, request{as: authority, method: "GET", path: "/v1/log/checkpoint"})
	lines := strings.Split(string(cp.body), "\n")
	if cp.status != http.StatusOK || len(lines) < 2 {
		t.Fatalf("checkpoint: %d %s", cp.status, cp.body)
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil {
		t.Fatalf("checkpoint size %q: %v", lines[1], err)
	}
	var leaves server.EntriesResponse
	lr := e.do(t, request{as: authority, method: "GET", path: fmt.Sprintf("/v1/log/entries?start=1&count=%d", size)})
	wantJSON(t, lr, http.StatusOK, &leaves)
	for _, viewer := range r.members {
		r.report(m.scan(viewer, lr.body, "public leaves", ""))
	}
	if uint64(len(leaves.Entries)) != size {
		t.Fatalf("%d public leaves, checkpoint size %d", len(leaves.Entries), size)
	}
	for _, pe := range leaves.Entries {
		l, err := ledger.ParseLeaf([]byte(pe.Leaf))
		if err != nil {
			t.Fatalf("leaf %d: %v", pe.Index, err)
		}
		en := m.entries[pe.Index]
		switch {
		case en == nil && l.Kind == string(registry.KindAddParty):
			m.entries[pe.Index] = &gpEntry{author: registry.PartyID(l.Party), what: l.Kind}
		case en == nil:
			t.Errorf("entry %d (%s by %q) is unknown to the model", pe.Index, l.Kind, l.Party)
		case string(en.author) != l.Party || l.Kind != en.what:
			t.Errorf("entry %d is %s by %q, the model has %s by %s", pe.Index, l.Kind, l.Party, en.what, en.author)
		}
	}
	for idx := uint64(1); idx <= size; idx++ {
		for _, viewer := range append([]registry.PartyID{authority}, r.members...) {
			_, why := m.mayReadContent(viewer, viewer == authority, idx)
			where := fmt.Sprintf("content of entry %d (%s by %s) as %s (%s)", idx, m.entries[idx].what, m.entries[idx].author, viewer, why)
			rp := e.do(t, request{as: viewer, method: "GET", path: fmt.Sprintf("/v1/log/entries/%d/content", idx)})
			r.stats.add("responses", 1)
			r.report(m.checkContentStatus(viewer, viewer == authority, idx, rp.status))
			if rp.status != http.StatusOK && rp.status != http.StatusForbidden {
				t.Fatalf("%s: status %d: %s", where, rp.status, rp.body)
			}
			if rp.status == http.StatusOK {
				r.stats.add("content 200", 1)
			} else {
				r.stats.add("content 403", 1)
			}
			if viewer != authority {
				if en := m.entries[idx]; rp.status == http.StatusOK && en != nil && en.author != viewer {
					r.stats.add("content 200 to an alerted party", 1)
				}
				r.report(m.scan(viewer, rp.body, where, ""))
			}
		}
	}
}

// TestGrantsProperty builds random worlds of grants, intents (some refused,
// some preempting, some ended) and checks every answer that can show one
// party's intent to another against the oracle above.
func TestGrantsProperty(t *testing.T) {
	t.Parallel()
	stats := &gpStats{}
	t.Run("seeds", func(t *testing.T) {
		for seed := uint64(1); seed <= gpSeeds; seed++ {
			t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
				t.Parallel()
				gpRunSeed(t, seed, stats)
			})
		}
	})
	var keys []string
	for k := range stats.counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("%-40s %d", k, stats.counts[k])
	}
	// The worlds must exercise every kind of view, or the property says
	// little.
	for _, k := range []string{"refusal " + server.TypeMissingKey, "refusal " + server.TypeConflict,
		"view refusal/deconfliction", "view refusal/operational", "view refusal/full",
		"view filed/deconfliction", "view filed/operational", "view filed/full",
		"view read/deconfliction", "view read/operational", "view read/full", "view read/own", "read 404",
		"view query/operational", "view query/full", "view query/own",
		"view conflict/deconfliction", "view conflict/operational", "view conflict/full",
		"alerts with pairs", "alerts without pairs", "content 200 to an alerted party", "content 403"} {
		if stats.counts[k] == 0 {
			t.Errorf("no %q in %d worlds: the property is not exercised", k, gpSeeds)
		}
	}
}

func gpRunSeed(t *testing.T, seed uint64, stats *gpStats) {
	e := newEnv(t, envConfig{})
	members := []registry.PartyID{"alpha", "bravo", "charlie", "delta"}[:3+seed%2]
	e.addMembers(t, members...)
	r := &gpRun{t: t, e: e, rng: rand.New(rand.NewPCG(seed, 0x6772616e7473)), m: newGPModel(), members: members,
		known: map[registry.PartyID]map[registry.OVN]bool{}, stats: stats, counts: map[string]int{}}
	for _, p := range members {
		r.known[p] = map[registry.OVN]bool{}
	}
	for range 4 {
		r.spots = append(r.spots, e.spot())
	}
	r.build()
	r.collect()
	if len(r.counts) > 0 {
		var rules []string
		for k, n := range r.counts {
			rules = append(rules, fmt.Sprintf("%d × %s", n, k))
		}
		sort.Strings(rules)
		t.Errorf("seed %d: violations:\n  %s", seed, strings.Join(rules, "\n  "))
	}
}

// TestGrantsPropertyGeometry checks the oracle's conflict rule (same spot,
// overlapping band and window) against geo.Conflict with the registry's
// default (zero) separation, for every pair of the test's bands, windows
// and spots, centres moved as the property test moves them.
func TestGrantsPropertyGeometry(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	r := &gpRun{t: t, e: e, rng: rand.New(rand.NewPCG(1, 2)), m: newGPModel()}
	r.spots = []spot{e.spot(), e.spot(), e.spot()}
	var vols []gpVol
	for s := range r.spots {
		for b := range gpBands {
			for w := range gpWindows {
				v := r.newVol(s)
				v.spec = e.volAt(r.spots[s], gpBands[b][0], gpBands[b][1])
				c := *v.spec.Circle
				c.Lat += geo.Degrees(float64(len(vols)%2*399) * 1e-6) // the farthest apart two centres get
				c.Lng += geo.Degrees(float64(len(vols)%2*399) * 1e-6)
				v.spec.Circle = &c
				v.spec.Start, v.spec.End = e.start.Add(gpWindows[w][0]), e.start.Add(gpWindows[w][1])
				vols = append(vols, v)
			}
		}
	}
	for _, s := range r.spots {
		vols = append(vols, gpVol{spot: slices.Index(r.spots, s), spec: e.vol(s)}) // the query volumes
	}
	gv := make([]*geo.Volume, len(vols))
	for i, v := range vols {
		var err error
		if gv[i], err = geo.NewVolume(v.spec, geo.Limits{}); err != nil {
			t.Fatalf("volume %+v: %v", v.spec, err)
		}
	}
	for i := range vols {
		for j := range vols {
			if got, want := geo.Conflict(gv[i], gv[j], geo.Separation{}), gpConflict(vols[i], vols[j]); got != want {
				t.Errorf("volumes %+v and %+v: geo.Conflict %v, oracle %v", vols[i].spec, vols[j].spec, got, want)
			}
		}
	}
}

// TestGrantsPropertyCheckerCatches is the negative control: hand-made
// answers that break each rule must be reported by the checker, and a
// correct one must not.
func TestGrantsPropertyCheckerCatches(t *testing.T) {
	t.Parallel()
	start := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	vol := func(spotIdx int, lat float64, lo, hi geo.Meters) gpVol {
		return gpVol{spot: spotIdx, spec: geo.VolumeSpec{Circle: &geo.CircleSpec{Lat: geo.Degrees(lat), Lng: 20.000123, RadiusM: 100},
			AltLoM: lo, AltHiM: hi, Start: start, End: start.Add(time.Hour)}}
	}
	m := newGPModel()
	// bravo's intent at spot 0, alpha's conflicting one there, charlie's
	// far away at spot 1.
	b := &gpIntent{id: "b1", owner: "bravo", prio: 30, state: registry.StateAccepted, vols: []gpVol{vol(0, 10.000101, 0, 40)},
		details: `{"secret":"bravo-0001"}`, ovn: "ovn-b1", ovns: []registry.OVN{"ovn-b1"}}
	a := &gpIntent{id: "a1", owner: "alpha", prio: 20, state: registry.StateAccepted, vols: []gpVol{vol(0, 10.000102, 30, 60)},
		details: `{"secret":"alpha-0002"}`, ovn: "ovn-a1", ovns: []registry.OVN{"ovn-a1"}}
	c := &gpIntent{id: "c1", owner: "charlie", prio: 10, state: registry.StateAccepted, vols: []gpVol{vol(1, 10.010103, 0, 40)},
		details: `{"secret":"charlie-0003"}`, ovn: "ovn-c1", ovns: []registry.OVN{"ovn-c1"}}
	for _, it := range []*gpIntent{b, a, c} {
		m.add(it)
		m.attempts = append(m.attempts, &gpAttempt{owner: it.owner, vols: it.vols, secret: strings.Split(it.details, `"`)[3]})
	}
	m.grants[[2]registry.PartyID{"charlie", "alpha"}] = registry.LevelOperational
	overlap := server.Overlap{Cells: []string{s2.CellIDFromLatLng(s2.LatLngFromDegrees(10.000102, 20.000123)).Parent(13).ToToken()},
		CellLevel: 13, AltLoM: 30, AltHiM: 40, Start: start, End: start.Add(time.Hour)}
	view := func(v server.IntentView) json.RawMessage {
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	good := server.IntentView{ID: "b1", Owner: "bravo", OVN: "ovn-b1", Level: "deconfliction", Overlaps: []server.Overlap{overlap}}
	read := gpCtx{kind: "read", viewer: "alpha", ref: a.vols, where: "negative control"}
	prio := 30
	cPrio := 10
	cases := []struct {
		name string
		rule string
		got  []gpViolation
	}{
		{"correct deconfliction view", "", m.checkView(read, view(good))},
		{"correct operational query view", "", m.checkView(gpCtx{kind: "query", viewer: "alpha", ref: c.vols, where: "negative control"},
			view(server.IntentView{ID: "c1", Owner: "charlie", OVN: "ovn-c1", Level: "operational", State: registry.StateAccepted, Priority: &cPrio,
				Volumes: []geo.VolumeSpec{c.vols[0].spec}}))},
		{"clean answer", "", m.scan("alpha", view(good), "negative control", "")},
		{"deconfliction view with volumes, priority and details", gpR1Fields, m.checkView(read, view(server.IntentView{
			ID: "b1", Owner: "bravo", OVN: "ovn-b1", Level: "deconfliction", Priority: &prio, State: registry.StateAccepted,
			Volumes: []geo.VolumeSpec{b.vols[0].spec}, Details: json.RawMessage(b.details), Overlaps: []server.Overlap{overlap}}))},
		{"priority 0 is a value", gpR1Fields, m.checkView(read, []byte(`{"id":"b1","owner":"bravo","ovn":"ovn-b1","level":"deconfliction","priority":0,"overlaps":[]}`))},
		{"deconfliction view on a read without a conflict", gpR2, m.checkView(gpCtx{kind: "read", viewer: "delta", ref: nil, where: "negative control"},
			view(server.IntentView{ID: "b1", Owner: "bravo", OVN: "ovn-b1", Level: "deconfliction"}))},
		{"query shows a deconfliction intent", gpR3, m.checkView(gpCtx{kind: "query", viewer: "alpha", ref: b.vols, where: "negative control"}, view(good))},
		{"operational view with details", gpR4, m.checkView(gpCtx{kind: "query", viewer: "alpha", ref: c.vols, where: "negative control"},
			view(server.IntentView{ID: "c1", Owner: "charlie", OVN: "ovn-c1", Level: "operational", State: registry.StateAccepted, Priority: &cPrio,
				Volumes: []geo.VolumeSpec{c.vols[0].spec}, Details: json.RawMessage(c.details)}))},
		{"level says full under an operational grant", gpR7, m.checkView(gpCtx{kind: "query", viewer: "alpha", ref: c.vols, where: "negative control"},
			view(server.IntentView{ID: "c1", Owner: "charlie", OVN: "ovn-c1", Level: "full", State: registry.StateAccepted, Priority: &cPrio,
				Volumes: []geo.VolumeSpec{c.vols[0].spec}}))},
		{"alert pairs under deconfliction", gpR5, m.checkAlert("alpha", server.AlertView{Alert: registry.Alert{ID: "9-1", To: "alpha", Kind: registry.AlertConflict,
			Intent: "a1", By: "b1", ByParty: "bravo", Entry: 9, Pairs: []registry.Pair{{Mine: 0, Theirs: 0}}}}, "negative control")},
		{"secret in a raw answer", gpR1Secret, m.scan("alpha", []byte(`{"note":"bravo-0001"}`), "negative control", "")},
		{"secret in base64 log content", gpR1Secret, m.scan("alpha", []byte(`{"content":"`+base64.StdEncoding.EncodeToString([]byte(`{"details":"`+
			base64.StdEncoding.EncodeToString([]byte(`{"secret":"bravo-0001"}`))+`"}`))+`"}`), "negative control", "")},
		{"volume centre in a raw answer", gpR1Centre, m.scan("alpha", []byte(`{"circle":{"lat":10.000101,"lng":1}}`), "negative control", "")},
		{"id of a never-conflicting intent", gpRLeakID, m.scan("delta", []byte(`{"intents":[{"intent":"a1"}]}`), "negative control", "")},
	}
	m.entries[5] = &gpEntry{author: "bravo", alerted: map[registry.PartyID]bool{"alpha": true}, what: "file"}
	cases = append(cases,
		struct {
			name string
			rule string
			got  []gpViolation
		}{"content read under deconfliction", gpR6, m.checkContentStatus("alpha", false, 5, http.StatusOK)},
		struct {
			name string
			rule string
			got  []gpViolation
		}{"content refused to its author", gpR6, m.checkContentStatus("bravo", false, 5, http.StatusForbidden)},
		struct {
			name string
			rule string
			got  []gpViolation
		}{"content refused to the authority", gpR6, m.checkContentStatus(authority, true, 5, http.StatusForbidden)},
		struct {
			name string
			rule string
			got  []gpViolation
		}{"content refused as it should be", "", m.checkContentStatus("alpha", false, 5, http.StatusForbidden)},
	)
	for _, tc := range cases {
		var rules []string
		for _, v := range tc.got {
			rules = append(rules, v.rule)
		}
		switch {
		case tc.rule == "" && len(tc.got) > 0:
			t.Errorf("%s: the checker reports %v", tc.name, tc.got)
		case tc.rule != "" && !slices.Contains(rules, tc.rule):
			t.Errorf("%s: the checker reports %v, want a violation of %q", tc.name, tc.got, tc.rule)
		}
	}
}

// TestGrantsPropertyFindings replays, deterministically, the smallest cases
// of the violations the property test first found in the log content (an
// alerted party with an operational grant could read an entry holding
// the author's private details, and entries naming a third party's
// intent), now regression tests: such content is refused, and readable
// only under a full grant when it names nobody else.
func TestGrantsPropertyFindings(t *testing.T) {
	t.Parallel()
	content := func(t *testing.T, e *env, as registry.PartyID, index uint64) (int, []byte) {
		t.Helper()
		rp := e.do(t, request{as: as, method: "GET", path: fmt.Sprintf("/v1/log/entries/%d/content", index)})
		if rp.status != http.StatusOK {
			wantProblem(t, rp, http.StatusForbidden, server.TypeForbidden)
		}
		return rp.status, gpExpand(rp.body)
	}
	grant := func(t *testing.T, e *env, from, to registry.PartyID, l registry.Level) {
		t.Helper()
		wantJSON(t, e.do(t, request{as: from, method: "PUT", path: "/v1/grants/" + string(to), body: server.GrantRequest{Party: to, Level: l}}), http.StatusOK, nil)
	}

	// alpha (operational grant to bravo) files over bravo's intent: bravo
	// is alerted but may not read the entry (it holds alpha's details);
	// under a full grant it may.
	t.Run("file entry and an operational reader", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, envConfig{})
		e.addMembers(t, "alpha", "bravo")
		s := e.spot()
		grant(t, e, "alpha", "bravo", registry.LevelOperational)
		v := e.file(t, "bravo", server.FileRequest{Priority: 10, Volumes: []geo.VolumeSpec{e.vol(s)}})
		a := e.file(t, "alpha", server.FileRequest{Priority: 50, Volumes: []geo.VolumeSpec{e.vol(s)}, Key: []registry.OVN{v.Intent.OVN},
			Details: json.RawMessage(`{"secret":"alpha-private"}`)})
		if got := e.getIntent(t, "bravo", a.Intent.ID); len(got.Details) != 0 {
			t.Fatalf("GET shows details under operational: %s", got.Details)
		}
		if st, c := content(t, e, "bravo", a.Entry); st == http.StatusOK || bytes.Contains(c, []byte("alpha-private")) {
			t.Errorf("content of alpha's file entry %d readable by bravo (operational grant): %d\n%s", a.Entry, st, c)
		}
		grant(t, e, "alpha", "bravo", registry.LevelFull)
		if st, c := content(t, e, "bravo", a.Entry); st != http.StatusOK || !bytes.Contains(c, []byte("alpha-private")) {
			t.Errorf("content of alpha's file entry %d to bravo under a full grant: %d\n%s", a.Entry, st, c)
		}
	})

	// alpha's filing is refused for bravo's intent: the disclose entry
	// alerts bravo, who may not read it under an operational grant.
	t.Run("disclose entry and an operational reader", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, envConfig{})
		e.addMembers(t, "alpha", "bravo")
		s := e.spot()
		grant(t, e, "alpha", "bravo", registry.LevelOperational)
		e.file(t, "bravo", server.FileRequest{Priority: 10, Volumes: []geo.VolumeSpec{e.vol(s)}})
		p := wantProblem(t, e.do(t, request{as: "alpha", method: "POST", path: "/v1/intents",
			body: server.FileRequest{Priority: 50, Volumes: []geo.VolumeSpec{e.vol(s)}, Details: json.RawMessage(`{"secret":"alpha-private"}`)}}),
			http.StatusConflict, server.TypeMissingKey)
		if p.Disclosure == nil {
			t.Fatal("no disclosure entry")
		}
		if st, c := content(t, e, "bravo", p.Disclosure.Entry); st == http.StatusOK || bytes.Contains(c, []byte("alpha-private")) {
			t.Errorf("content of alpha's disclose entry %d readable by bravo (operational grant): %d\n%s", p.Disclosure.Entry, st, c)
		}
	})

	// charlie's intent (0-40 m) and bravo's (80-120 m) do not conflict;
	// charlie grants bravo nothing. alpha's filing (30-90 m) conflicts
	// with both: even under a full grant from alpha, bravo may not read
	// alpha's entries, which name charlie's intent.
	t.Run("entries naming a third party's intent", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, envConfig{})
		e.addMembers(t, "alpha", "bravo", "charlie")
		s := e.spot()
		x := e.file(t, "charlie", server.FileRequest{Priority: 10, Volumes: []geo.VolumeSpec{e.volAt(s, 0, 40)}})
		v := e.file(t, "bravo", server.FileRequest{Priority: 10, Volumes: []geo.VolumeSpec{e.volAt(s, 80, 120)}})
		wantProblem(t, e.do(t, request{as: "bravo", method: "GET", path: intentPath(x.Intent.ID, "")}), http.StatusNotFound, server.TypeNotFound)
		grant(t, e, "alpha", "bravo", registry.LevelFull)
		mine := server.FileRequest{Priority: 50, Volumes: []geo.VolumeSpec{e.volAt(s, 30, 90)}}
		p := wantProblem(t, e.do(t, request{as: "alpha", method: "POST", path: "/v1/intents", body: mine}), http.StatusConflict, server.TypeMissingKey)
		if p.Disclosure == nil || len(p.Intents) != 2 {
			t.Fatalf("refusal %+v, want both intents listed and a disclosure entry", p)
		}
		if st, c := content(t, e, "bravo", p.Disclosure.Entry); st == http.StatusOK || bytes.Contains(c, []byte(x.Intent.ID)) {
			t.Errorf("alpha's disclose entry %d, which names charlie's intent, readable by bravo: %d\n%s", p.Disclosure.Entry, st, c)
		}
		mine.Key = []registry.OVN{x.Intent.OVN, v.Intent.OVN}
		a := e.file(t, "alpha", mine)
		if st, c := content(t, e, "bravo", a.Entry); st == http.StatusOK || bytes.Contains(c, []byte(x.Intent.OVN)) {
			t.Errorf("alpha's file entry %d, whose key holds charlie's OVN, readable by bravo: %d\n%s", a.Entry, st, c)
		}
	})
}

// ownersOf returns the owners of intents.
func (m *gpModel) ownersOf(its []*gpIntent) map[registry.PartyID]bool {
	out := map[registry.PartyID]bool{}
	for _, it := range its {
		out[it.owner] = true
	}
	return out
}
