package registry_test

// This file tests that the registry is deterministic (two registries fed the
// same entries agree at every step, and Snapshot/Restore round-trips the
// state byte for byte and keeps deciding the same), and checks its conflict
// search against a brute-force loop over every live intent with
// geo.Conflict.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/deconflict/deconflict/geo"
	"github.com/deconflict/deconflict/registry"
)

// resultOpts compares Results: intents by their exported fields, volumes by
// their specs.
var resultOpts = cmp.Options{
	cmpopts.IgnoreUnexported(registry.Intent{}),
	cmp.Comparer(func(a, b *geo.Volume) bool {
		if a == nil || b == nil {
			return a == b
		}
		return cmp.Equal(a.Spec(), b.Spec())
	}),
	cmpopts.EquateEmpty(),
}

// sameResult is cmp.Equal(a, b, resultOpts), only much faster: the
// simulation compares thousands of results.
func sameResult(a, b registry.Result) bool {
	return sameIntent(a.Intent, b.Intent) &&
		slices.EqualFunc(a.Conflicts, b.Conflicts, func(x, y registry.Conflict) bool {
			return sameIntent(x.Intent, y.Intent) && slices.Equal(x.Pairs, y.Pairs)
		}) &&
		slices.EqualFunc(a.Alerts, b.Alerts, func(x, y registry.Alert) bool {
			return x.ID == y.ID && x.To == y.To && x.Kind == y.Kind && x.Intent == y.Intent && x.By == y.By &&
				x.ByParty == y.ByParty && x.Entry == y.Entry && x.Time.Equal(y.Time) && slices.Equal(x.Pairs, y.Pairs)
		})
}

func sameIntent(a, b *registry.Intent) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.ID == b.ID && a.Owner == b.Owner && a.Priority == b.Priority && a.State == b.State && a.OVN == b.OVN &&
		a.Created.Equal(b.Created) && a.Updated.Equal(b.Updated) && slices.Equal(a.PreemptedBy, b.PreemptedBy) &&
		slices.EqualFunc(a.Volumes, b.Volumes, sameVolume)
}

func sameVolume(a, b *geo.Volume) bool {
	if a == b {
		return true
	}
	if a == nil || b == nil {
		return false
	}
	x, y := a.Spec(), b.Spec()
	return (x.Circle == nil) == (y.Circle == nil) && (x.Circle == nil || *x.Circle == *y.Circle) &&
		slices.Equal(x.Polygon, y.Polygon) && x.AltLoM == y.AltLoM && x.AltHiM == y.AltHiM &&
		x.Start.Equal(y.Start) && x.End.Equal(y.End)
}

// simulation makes random entries. It consults model, the registry it
// assumes every entry is applied to, to find intents, OVNs and the keys a
// command needs, so that many entries are accepted.
type simulation struct {
	rng     *rand.Rand
	model   *registry.Registry
	now     time.Time
	n       int                 // ids made so far
	intents []registry.IntentID // filed and accepted, in order
	stale   []registry.OVN      // OVNs that were current once
}

func newSimulation(seed uint64, model *registry.Registry) *simulation {
	return &simulation{rng: rand.New(rand.NewPCG(seed, seed^0x5eed)), model: model, now: t0}
}

func (s *simulation) id(prefix string) string {
	s.n++
	return prefix + strconv.Itoa(s.n)
}

// members are the parties the simulation adds first.
var members = []registry.PartyID{"alpha", "bravo", "charlie", "delta", "echo"}

// party picks a party to act: mostly a known one, sometimes an unknown one.
func (s *simulation) party() registry.PartyID {
	if s.rng.IntN(100) == 0 {
		return "zulu"
	}
	ps := s.model.Parties()
	return ps[s.rng.IntN(len(ps))].ID
}

// activeMember picks a party that is not revoked.
func (s *simulation) activeMember() registry.PartyID {
	var ok []registry.PartyID
	for _, p := range s.model.Parties() {
		if !p.Revoked {
			ok = append(ok, p.ID)
		}
	}
	return ok[s.rng.IntN(len(ok))]
}

// volume is a random circle or star-shaped polygon in a 3 km square, with a
// window near now and a low altitude band, so that conflicts are common.
func (s *simulation) volume() *geo.Volume {
	r := s.rng
	for {
		start := s.now.Add(time.Duration(r.IntN(200)-20) * time.Minute)
		spec := geo.VolumeSpec{
			AltLoM: geo.Meters(r.IntN(400)),
			Start:  start,
			End:    start.Add(time.Duration(2+r.IntN(60)) * time.Minute),
		}
		spec.AltHiM = spec.AltLoM + geo.Meters(20+r.IntN(200))
		if r.IntN(10) == 0 { // on a 10-minute grid, to hit back-to-back windows
			spec.Start = spec.Start.Truncate(10 * time.Minute)
			spec.End = spec.Start.Add(10 * time.Minute)
		}
		lat, lng := baseLat+0.027*r.Float64(), baseLng+0.04*r.Float64()
		radius := 30 + 600*r.Float64()
		if r.IntN(5) < 3 {
			spec.Circle = &geo.CircleSpec{Lat: geo.Degrees(lat), Lng: geo.Degrees(lng), RadiusM: geo.Meters(radius)}
		} else {
			k := 3 + r.IntN(6)
			rot := r.Float64() * 2 * math.Pi
			for j := 0; j < k; j++ {
				b := rot + (float64(j)+0.1+0.8*r.Float64())*2*math.Pi/float64(k)
				d := radius * (0.4 + 0.6*r.Float64()) / float64(geo.EarthRadius)
				plat, plng := destination(lat, lng, b, d)
				spec.Polygon = append(spec.Polygon, [2]geo.Degrees{geo.Degrees(plat), geo.Degrees(plng)})
			}
		}
		if v, err := geo.NewVolume(spec, geo.Limits{}); err == nil {
			return v
		}
	}
}

func (s *simulation) volumes() []*geo.Volume {
	out := make([]*geo.Volume, 1+s.rng.IntN(3))
	for i := range out {
		out[i] = s.volume()
	}
	return out
}

// destination is the point at angular distance d (radians) from (lat, lng)
// in direction bearing (radians).
func destination(lat, lng, bearing, d float64) (float64, float64) {
	φ1, λ1 := lat*math.Pi/180, lng*math.Pi/180
	φ2 := math.Asin(math.Sin(φ1)*math.Cos(d) + math.Cos(φ1)*math.Sin(d)*math.Cos(bearing))
	λ2 := λ1 + math.Atan2(math.Sin(bearing)*math.Sin(d)*math.Cos(φ1), math.Cos(d)-math.Sin(φ1)*math.Sin(φ2))
	return φ2 * 180 / math.Pi, math.Remainder(λ2*180/math.Pi, 360)
}

// key returns a key for e: none, the exact one, one with an OVN missing or
// one padded with stale OVNs, as the model sees it.
func (s *simulation) key(e registry.Entry) []registry.OVN {
	p := s.rng.IntN(10)
	if p < 2 {
		return nil
	}
	_, err := s.model.Check(e)
	var re *registry.RefusalError
	if !errors.As(err, &re) || re.Reason != registry.ErrMissingKey {
		return nil
	}
	var k []registry.OVN
	for _, c := range re.Intents {
		k = append(k, c.Intent.OVN)
	}
	switch {
	case p < 3 && len(k) > 0:
		i := s.rng.IntN(len(k))
		k = slices.Delete(k, i, i+1)
	case p < 5 && len(s.stale) > 0:
		for range 1 + s.rng.IntN(20) {
			k = append(k, s.stale[s.rng.IntN(len(s.stale))])
		}
	}
	s.rng.Shuffle(len(k), func(i, j int) { k[i], k[j] = k[j], k[i] })
	return k
}

// target picks a filed intent, usually one that is still live.
func (s *simulation) target() *registry.Intent {
	if len(s.intents) == 0 {
		return nil
	}
	for range 5 {
		// Prefer recent intents: old ones have mostly ended.
		i := len(s.intents) - 1 - min(len(s.intents)-1, int(s.rng.ExpFloat64()*30))
		it := s.model.Intent(s.intents[i])
		if it.State != registry.StateEnded {
			return it
		}
	}
	return s.model.Intent(s.intents[s.rng.IntN(len(s.intents))])
}

// ovn is usually the current OVN of it, sometimes a stale one.
func (s *simulation) ovn(it *registry.Intent) registry.OVN {
	if s.rng.IntN(12) == 0 && len(s.stale) > 0 {
		return s.stale[s.rng.IntN(len(s.stale))]
	}
	return it.OVN
}

// owner is usually the owner of it, sometimes another party.
func (s *simulation) owner(it *registry.Intent) registry.PartyID {
	if s.rng.IntN(15) == 0 {
		return s.party()
	}
	return it.Owner
}

func (s *simulation) priority() int { return 10 * s.rng.IntN(11) }

// next makes the next entry.
func (s *simulation) next() registry.Entry {
	r := s.rng
	switch p := r.IntN(100); {
	case p < 60:
		s.now = s.now.Add(time.Duration(r.IntN(90_000)) * time.Millisecond)
	case p < 90:
	default:
		s.now = s.now.Add(time.Duration(r.IntN(20)) * time.Minute)
	}
	e := registry.Entry{Index: s.model.LastIndex() + 1, Time: s.now}

	// The parties first.
	if n := len(s.model.Parties()); n == 0 {
		e.Party, e.Kind = "root", registry.KindAddParty
		e.AddParty = addParty("root", registry.RoleAuthority)
		return e
	} else if n <= len(members) {
		e.Party, e.Kind = "root", registry.KindAddParty
		e.AddParty = addParty(members[n-1], registry.RoleMember)
		return e
	}

	switch p := r.IntN(1000); {
	case p < 30: // something invalid
		e.Party = s.activeMember()
		e.Kind, e.File = registry.KindFile, file(registry.IntentID(s.id("x")), s.priority(), nil, s.volumes()...)
		switch r.IntN(6) {
		case 0:
			e.Index++
		case 1:
			e.Time = s.model.LastTime().Add(-time.Second)
		case 2:
			e.Kind = registry.KindUpdate
		case 3:
			e.File.Priority = 101
		case 4:
			e.File.Volumes = nil
		case 5:
			if it := s.target(); it != nil {
				e.File.Intent = it.ID
			}
		}
	case p < 40: // add a party, usually by an authority
		by := registry.PartyID("root")
		if r.IntN(3) == 0 {
			by = s.party()
		}
		role := registry.RoleMember
		if r.IntN(4) == 0 {
			role = registry.RoleAuthority
		}
		e.Party, e.Kind, e.AddParty = by, registry.KindAddParty, addParty(registry.PartyID(s.id("p")), role)
	case p < 50: // revoke a party, never root, usually by root
		ps := s.model.Parties()
		victim := ps[r.IntN(len(ps))].ID
		if victim == "root" {
			victim = "zulu"
		}
		by := registry.PartyID("root")
		if r.IntN(2) == 0 {
			by = s.party()
		}
		e.Party, e.Kind, e.RevokeParty = by, registry.KindRevokeParty, &registry.RevokeParty{Party: victim}
	case p < 650: // file
		f := file(registry.IntentID(s.id("i")), s.priority(), nil, s.volumes()...)
		f.NewOVN = registry.OVN(s.id("o"))
		switch q := r.IntN(20); {
		case q < 2:
			f.State = registry.StateActivated
		case q < 3:
			f.State = registry.StateContingent
		case q < 4:
			f.State = registry.StateAccepted
		}
		e.Party, e.Kind, e.File = s.activeMember(), registry.KindFile, f
		if r.IntN(50) == 0 {
			e.Party = s.party()
		}
		f.Key = s.key(e)
	case p < 850: // update
		it := s.target()
		if it == nil {
			return s.next()
		}
		u := update(it.ID, s.ovn(it), registry.OVN(s.id("o")), s.priority(), nil, s.volumes()...)
		if r.IntN(4) == 0 { // move it a little, keeping the rest
			u.Volumes = append(slices.Clone(it.Volumes[:len(it.Volumes)-1]), s.volume())
		}
		switch q := r.IntN(20); {
		case q < 1:
			u.State = registry.StateContingent
		case q < 2:
			u.State = registry.StateActivated
		case q < 3:
			u.State = registry.StateAccepted
		}
		e.Party, e.Kind, e.Update = s.owner(it), registry.KindUpdate, u
		u.Key = s.key(e)
	case p < 940: // set state
		it := s.target()
		if it == nil {
			return s.next()
		}
		states := []registry.State{registry.StateAccepted, registry.StateActivated, registry.StateActivated, registry.StateContingent, registry.StateEnded}
		e.Party, e.Kind = s.owner(it), registry.KindSetState
		e.SetState = setState(it.ID, s.ovn(it), registry.OVN(s.id("o")), states[r.IntN(len(states))])
	default: // end
		it := s.target()
		if it == nil {
			return s.next()
		}
		e.Party, e.Kind, e.End = s.owner(it), registry.KindEnd, end(it.ID, s.ovn(it), registry.OVN(s.id("o")))
	}
	return e
}

// observe records what an applied entry changed, before the model sees the
// next one. old is the intent the entry named, as it was before.
func (s *simulation) observe(e registry.Entry, old *registry.Intent, err error) {
	if err != nil {
		return
	}
	if e.Kind == registry.KindFile {
		s.intents = append(s.intents, e.File.Intent)
	}
	if old != nil {
		s.stale = append(s.stale, old.OVN)
	}
}

// named is the intent an entry names, as the registry holds it now.
func named(reg *registry.Registry, e registry.Entry) *registry.Intent {
	switch {
	case e.Update != nil:
		return reg.Intent(e.Update.Intent)
	case e.SetState != nil:
		return reg.Intent(e.SetState.Intent)
	case e.End != nil:
		return reg.Intent(e.End.Intent)
	}
	return nil
}

// stats counts what a simulation did, so that a generator that stops making
// interesting entries fails the test instead of passing it vacuously.
type stats struct {
	accepted  map[registry.Kind]int
	refused   map[string]int
	alerts    map[registry.AlertKind]int
	conflicts int // accepted results with conflicts
}

func newStats() *stats {
	return &stats{accepted: map[registry.Kind]int{}, refused: map[string]int{}, alerts: map[registry.AlertKind]int{}}
}

func (st *stats) add(e registry.Entry, res registry.Result, err error) {
	if err != nil {
		for _, sentinel := range []error{registry.ErrInvalid, registry.ErrNotFound, registry.ErrForbidden, registry.ErrStaleOVN, registry.ErrMissingKey, registry.ErrConflict, registry.ErrExists} {
			if errors.Is(err, sentinel) {
				st.refused[sentinel.Error()]++
				return
			}
		}
		st.refused["other: "+err.Error()]++
		return
	}
	st.accepted[e.Kind]++
	for _, a := range res.Alerts {
		st.alerts[a.Kind]++
	}
	if len(res.Conflicts) > 0 {
		st.conflicts++
	}
}

// applyBoth applies e to each registry and fails unless they decide alike.
func applyBoth(t *testing.T, step int, e registry.Entry, regs ...*registry.Registry) (registry.Result, error) {
	t.Helper()
	res, err := regs[0].Apply(e)
	for i, reg := range regs[1:] {
		res2, err2 := reg.Apply(e)
		if errString(err) != errString(err2) {
			t.Fatalf("step %d (%s by %s): registries 0 and %d disagree:\n%v\n%v", step, e.Kind, e.Party, i+1, err, err2)
		}
		if !sameResult(res, res2) {
			t.Fatalf("step %d (%s by %s): results of registries 0 and %d differ (-0 +%d):\n%s", step, e.Kind, e.Party, i+1, i+1, cmp.Diff(res, res2, resultOpts))
		}
		// A cheap look at the whole state after every entry; the snapshots
		// are compared every simSnapEvery entries.
		if reg.LastIndex() != regs[0].LastIndex() || !reg.LastTime().Equal(regs[0].LastTime()) ||
			reg.NumIntents() != regs[0].NumIntents() || reg.NumVolumes() != regs[0].NumVolumes() || len(reg.Parties()) != len(regs[0].Parties()) {
			t.Fatalf("step %d (%s by %s): registries 0 and %d differ in size or last entry", step, e.Kind, e.Party, i+1)
		}
		if it, it2 := named(regs[0], e), named(reg, e); !sameIntent(it, it2) {
			t.Fatalf("step %d (%s by %s): the intent differs in registries 0 and %d (-0 +%d):\n%s", step, e.Kind, e.Party, i+1, i+1, cmp.Diff(it, it2, resultOpts))
		}
	}
	return res, err
}

func sameSnapshots(t *testing.T, step int, regs ...*registry.Registry) []byte {
	t.Helper()
	want := snapshot(t, regs[0])
	for i, reg := range regs[1:] {
		if got := snapshot(t, reg); !bytes.Equal(got, want) {
			t.Fatalf("step %d: snapshots of registries 0 and %d differ:\n%s\n%s", step, i+1, want, got)
		}
	}
	return want
}

var simConfigs = []struct {
	name string
	cfg  registry.Config
	seed uint64
	// what the run must have produced at least once
	wantRefused []error
	wantAlerts  []registry.AlertKind
}{
	{
		name:        "strict",
		cfg:         registry.Config{},
		seed:        1,
		wantRefused: []error{registry.ErrMissingKey, registry.ErrConflict, registry.ErrStaleOVN, registry.ErrForbidden, registry.ErrExists, registry.ErrInvalid},
		wantAlerts:  []registry.AlertKind{registry.AlertPreempted, registry.AlertContingent},
	},
	{
		name:        "aware with separation",
		cfg:         registry.Config{Policy: registry.PolicyAware, Separation: geo.Separation{Horizontal: 100, Vertical: 30, Time: 5 * time.Minute}},
		seed:        2,
		wantRefused: []error{registry.ErrMissingKey, registry.ErrStaleOVN},
		wantAlerts:  []registry.AlertKind{registry.AlertConflict, registry.AlertContingent},
	},
	{
		name:        "detect",
		cfg:         registry.Config{Policy: registry.PolicyDetect},
		seed:        3,
		wantRefused: []error{registry.ErrStaleOVN, registry.ErrInvalid},
	},
}

const (
	simSteps  = 2000 // entries applied to two fresh registries
	simMore   = 500  // further entries applied to the original and a restored copy
	simProbes = 300  // probe volumes for the differential check

	// simSnapEvery: snapshots are compared every so many entries (and
	// after the last). Results are compared after every entry; snapshots
	// of a thousand intents at every step would take minutes.
	simSnapEvery = 50
)

func TestDeterminism(t *testing.T) {
	for _, sc := range simConfigs {
		t.Run(sc.name, func(t *testing.T) {
			// cold takes no snapshot until the end: its snapshot encodes
			// every intent afresh, while a's and b's reuse the encodings
			// of the intents their last snapshot held.
			a, b, cold := newRegistry(t, sc.cfg), newRegistry(t, sc.cfg), newRegistry(t, sc.cfg)
			sim := newSimulation(sc.seed, a)
			st := newStats()
			for i := range simSteps {
				e := sim.next()
				old := named(a, e)
				res, err := applyBoth(t, i, e, a, b, cold)
				sim.observe(e, old, err)
				st.add(e, res, err)
				if i%simSnapEvery == 0 || i == simSteps-1 {
					sameSnapshots(t, i, a, b)
				}
			}
			sameSnapshots(t, simSteps, a, cold)

			// Restore into a fresh registry: the same bytes.
			snap := snapshot(t, a)
			c := newRegistry(t, sc.cfg)
			if err := c.Restore(snap); err != nil {
				t.Fatalf("Restore: %v", err)
			}
			if got := snapshot(t, c); !bytes.Equal(got, snap) {
				t.Fatalf("Snapshot after Restore differs:\n%s\n%s", snap, got)
			}
			if c.LastIndex() != a.LastIndex() || !c.LastTime().Equal(a.LastTime()) || c.NumVolumes() != a.NumVolumes() || c.NumIntents() != a.NumIntents() {
				t.Fatalf("restored: last %d at %v, %d intents, %d volumes; original: last %d at %v, %d intents, %d volumes",
					c.LastIndex(), c.LastTime(), c.NumIntents(), c.NumVolumes(), a.LastIndex(), a.LastTime(), a.NumIntents(), a.NumVolumes())
			}

			// The original and the restored copy keep deciding alike.
			for i := simSteps; i < simSteps+simMore; i++ {
				e := sim.next()
				old := named(a, e)
				res, err := applyBoth(t, i, e, a, c)
				sim.observe(e, old, err)
				st.add(e, res, err)
				if i%simSnapEvery == 0 {
					sameSnapshots(t, i, a, c)
				}
			}
			sameSnapshots(t, simSteps+simMore, a, c)

			t.Logf("accepted %v; refused %v; alerts %v; %d results with conflicts; %d intents, %d live volumes",
				st.accepted, st.refused, st.alerts, st.conflicts, a.NumIntents(), a.NumVolumes())
			for _, k := range []registry.Kind{registry.KindFile, registry.KindUpdate, registry.KindSetState, registry.KindEnd, registry.KindAddParty, registry.KindRevokeParty} {
				if st.accepted[k] < 3 {
					t.Errorf("only %d %s entries accepted: the simulation is too tame", st.accepted[k], k)
				}
			}
			for _, err := range sc.wantRefused {
				if st.refused[err.Error()] < 3 {
					t.Errorf("only %d entries refused with %v: the simulation is too tame", st.refused[err.Error()], err)
				}
			}
			for _, k := range sc.wantAlerts {
				if st.alerts[k] < 3 {
					t.Errorf("only %d %s alerts: the simulation is too tame", st.alerts[k], k)
				}
			}
			if st.conflicts < 50 {
				t.Errorf("only %d accepted entries had conflicts: the simulation is too sparse", st.conflicts)
			}
			for reason := range st.refused {
				if len(reason) > 6 && reason[:6] == "other:" {
					t.Errorf("refused with an error wrapping no sentinel: %s", reason)
				}
			}

			checkAgainstBruteForce(t, a, sim)
		})
	}
}

// liveIntents is every intent the registry holds that has not ended, by
// state or by time, sorted by id.
func liveIntents(reg *registry.Registry) []*registry.Intent {
	var out []*registry.Intent
	now := reg.LastTime().UnixNano()
	reg.Intents(func(it *registry.Intent) bool {
		if it.State != registry.StateEnded && intentEnd(it) > now {
			out = append(out, it)
		}
		return true
	})
	slices.SortFunc(out, func(a, b *registry.Intent) int { return cmpIDs(a.ID, b.ID) })
	return out
}

func cmpIDs(a, b registry.IntentID) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func intentEnd(it *registry.Intent) int64 {
	var e int64
	for _, v := range it.Volumes {
		e = max(e, v.EndNano())
	}
	return e
}

// bruteConflicts is the oracle: every live intent (of other parties than
// owner unless all) with a volume that conflicts with one of vols under sep,
// with the pairs, by a loop over all of them.
func bruteConflicts(live []*registry.Intent, owner registry.PartyID, all bool, vols []*geo.Volume, sep geo.Separation) []conflictPairs {
	var out []conflictPairs
	for _, it := range live {
		if !all && it.Owner == owner {
			continue
		}
		var ps []registry.Pair
		for i, q := range vols {
			for j, v := range it.Volumes {
				if geo.Conflict(q, v, sep) {
					ps = append(ps, registry.Pair{Mine: i, Theirs: j})
				}
			}
		}
		if ps != nil {
			out = append(out, conflictPairs{it.ID, ps})
		}
	}
	return out
}

// checkAgainstBruteForce compares, for random probe volumes, the conflicts
// the registry finds (by Search, by Check under the registry's policy and
// by Check of a restored copy under policy detect) with bruteConflicts.
func checkAgainstBruteForce(t *testing.T, reg *registry.Registry, sim *simulation) {
	t.Helper()
	cfg := reg.Config()
	live := liveIntents(reg)

	// Invariants of the live set: every intent not ended has a volume
	// ending after the last entry, and its volumes are all indexed.
	nVols, nNotEnded := 0, 0
	reg.Intents(func(it *registry.Intent) bool {
		if it.State != registry.StateEnded {
			nNotEnded++
			nVols += len(it.Volumes)
			if intentEnd(it) <= reg.LastTime().UnixNano() {
				t.Errorf("intent %s is %s but its last volume ended at %v, before the last entry at %v",
					it.ID, it.State, time.Unix(0, intentEnd(it)).UTC(), reg.LastTime())
			}
		}
		return true
	})
	if nNotEnded != len(live) || reg.NumVolumes() != nVols {
		t.Errorf("%d live intents, %d not ended; %d volumes indexed, want %d", len(live), nNotEnded, reg.NumVolumes(), nVols)
	}
	if len(live) < 20 {
		t.Fatalf("only %d live intents: too few to test anything", len(live))
	}

	detect := newRegistry(t, registry.Config{Policy: registry.PolicyDetect, Separation: cfg.Separation})
	if err := detect.Restore(snapshot(t, reg)); err != nil {
		t.Fatalf("Restore into a detect registry: %v", err)
	}
	seps := []geo.Separation{cfg.Separation, {}, {Horizontal: 250, Vertical: 50, Time: 15 * time.Minute}}
	found := 0
	for i := range simProbes {
		// Search, one volume at a time, under several separations.
		q := sim.volume()
		sep := seps[i%len(seps)]
		var got []conflictPairs
		reg.Search(q, sep, func(it *registry.Intent, vol int) bool {
			got = append(got, conflictPairs{it.ID, pairs(0, vol)})
			return true
		})
		got = mergePairs(got)
		want := bruteConflicts(live, "", true, []*geo.Volume{q}, sep)
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("probe %d: Search(%s, %+v) differs from brute force (-want +got):\n%s", i, volumeJSON(q), sep, diff)
		}
		found += len(want)

		// Check of a File under the registry's own policy and under detect.
		vols := sim.volumes()
		party := sim.activeMember()
		e := registry.Entry{Index: reg.LastIndex() + 1, Time: reg.LastTime(), Party: party, Kind: registry.KindFile,
			File: &registry.File{Intent: "probe", NewOVN: "probe-v1", Priority: 50, Volumes: vols}}
		if intentEndOf(vols) <= reg.LastTime().UnixNano() {
			continue // not a valid intent
		}
		res, err := detect.Check(e)
		if err != nil {
			t.Fatalf("probe %d: detect Check: %v", i, err)
		}
		want = bruteConflicts(live, party, true, vols, cfg.Separation)
		if diff := cmp.Diff(want, pairsOf(res.Conflicts), cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("probe %d: detect Check differs from brute force (-want +got):\n%s", i, diff)
		}

		res, err = reg.Check(e)
		want = bruteConflicts(live, party, cfg.Policy == registry.PolicyDetect, vols, cfg.Separation)
		var re *registry.RefusalError
		switch {
		case len(want) == 0 || cfg.Policy == registry.PolicyDetect:
			if err != nil {
				t.Fatalf("probe %d: Check: %v, want accepted", i, err)
			}
			if diff := cmp.Diff(want, pairsOf(res.Conflicts), cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("probe %d: Check differs from brute force (-want +got):\n%s", i, diff)
			}
		case errors.As(err, &re) && re.Reason == registry.ErrMissingKey:
			if diff := cmp.Diff(want, pairsOf(re.Intents), cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("probe %d: Check with no key refused for other intents than brute force finds (-want +got):\n%s", i, diff)
			}
		default:
			t.Fatalf("probe %d: Check with no key: %v, want ErrMissingKey for %d intents", i, err, len(want))
		}
	}
	if found == 0 {
		t.Fatal("no probe found any conflict: the differential check tests nothing")
	}
	t.Logf("%d live intents; probes found %d conflicting intents by Search", len(live), found)
}

func intentEndOf(vols []*geo.Volume) int64 {
	var e int64
	for _, v := range vols {
		e = max(e, v.EndNano())
	}
	return e
}

// mergePairs sorts Search hits by intent and merges those of one intent.
func mergePairs(hits []conflictPairs) []conflictPairs {
	slices.SortStableFunc(hits, func(a, b conflictPairs) int { return cmpIDs(a.ID, b.ID) })
	var out []conflictPairs
	for _, h := range hits {
		if n := len(out); n > 0 && out[n-1].ID == h.ID {
			out[n-1].Pairs = append(out[n-1].Pairs, h.Pairs...)
			continue
		}
		out = append(out, conflictPairs{h.ID, slices.Clone(h.Pairs)})
	}
	for _, c := range out {
		slices.SortFunc(c.Pairs, func(a, b registry.Pair) int { return a.Theirs - b.Theirs })
	}
	return out
}

func volumeJSON(v *geo.Volume) string {
	b, err := v.MarshalJSON()
	if err != nil {
		return fmt.Sprint(err)
	}
	return string(b)
}

// TestRestoreErrors: Restore refuses what Snapshot cannot have made, and
// leaves the state as it was.
func TestRestoreErrors(t *testing.T) {
	reg := newRegistry(t, registry.Config{})
	for _, s := range append(baseParties(), at(time.Minute, "alpha", file("a1", 10, nil, std(0)))) {
		mustApply(t, reg, s)
	}
	good := snapshot(t, reg)
	for _, tc := range []struct {
		name string
		snap string
	}{
		{"empty", ""},
		{"not JSON", "{"},
		{"unknown field", `{"version":1,"last":0,"last_time":"2026-01-01T00:00:00Z","parties":[],"intents":[],"extra":1}`},
		{"another version", `{"version":2,"last":0,"last_time":"2026-01-01T00:00:00Z","parties":[],"intents":[]}`},
		{"a repeated party", `{"version":1,"last":0,"last_time":"2026-01-01T00:00:00Z","parties":[{"id":"a","name":"A","role":"member","public_key":null,"added":"2026-01-01T00:00:00Z"},{"id":"a","name":"A","role":"member","public_key":null,"added":"2026-01-01T00:00:00Z"}],"intents":[]}`},
		{"a null party", `{"version":1,"last":0,"last_time":"2026-01-01T00:00:00Z","parties":[null],"intents":[]}`},
		{"an intent without volumes", `{"version":1,"last":0,"last_time":"2026-01-01T00:00:00Z","parties":[],"intents":[{"id":"x","owner":"a","priority":0,"state":"accepted","volumes":[],"ovn":"1","created":"2026-01-01T00:00:00Z","updated":"2026-01-01T00:00:00Z"}]}`},
		{"an invalid volume", `{"version":1,"last":0,"last_time":"2026-01-01T00:00:00Z","parties":[],"intents":[{"id":"x","owner":"a","priority":0,"state":"accepted","volumes":[{"circle":{"lat":95,"lng":0,"radius_m":10},"alt_lo_m":0,"alt_hi_m":1,"start":"2026-01-01T00:00:00Z","end":"2026-01-01T01:00:00Z"}],"ovn":"1","created":"2026-01-01T00:00:00Z","updated":"2026-01-01T00:00:00Z"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := reg.Restore([]byte(tc.snap)); err == nil {
				t.Fatal("Restore accepted it")
			}
			if got := snapshot(t, reg); !bytes.Equal(got, good) {
				t.Fatalf("a failed Restore changed the state:\n%s\n%s", good, got)
			}
		})
	}
}

// TestRefusedEntryExpiry: a refused entry is not in the log (the next entry
// takes its index), so it must change nothing, not even end the intents
// whose time is up by its time: replaying the log must rebuild the same
// state, and an entry applied after a refused one must be decided as if the
// refused one never came, even if it is earlier.
func TestRefusedEntryExpiry(t *testing.T) {
	const m, h = time.Minute, time.Hour
	setup := append(baseParties(), at(1*m, "alpha", file("a1", 10, nil, std(0)))) // a1 ends at t0+2h
	refused := at(3*h, "bravo", end("a9", "a9-v1", "a9-v2"))                      // ErrNotFound
	for _, tc := range []struct {
		name string
		next step // applied after the refused entry, at its index
	}{
		{"a later entry is decided as on replay", at(4*h, "bravo", file("b1", 0, nil, window(4*h, 5*h)))},
		{"an earlier entry still sees the intent live", at(90*m, "bravo", file("b1", 0, nil, window(90*m, 3*h)))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			live, replay := newRegistry(t, registry.Config{}), newRegistry(t, registry.Config{})
			for _, s := range setup {
				mustApply(t, live, s)
				mustApply(t, replay, s)
			}
			if _, err := live.Apply(refused.entry(live.LastIndex() + 1)); !errors.Is(err, registry.ErrNotFound) {
				t.Fatalf("the refused entry: %v, want ErrNotFound", err)
			}
			e := tc.next.entry(live.LastIndex() + 1)
			res1, err1 := live.Apply(e)
			res2, err2 := replay.Apply(e)
			if errString(err1) != errString(err2) {
				t.Fatalf("after a refused entry: %v; without it: %v", err1, err2)
			}
			if diff := cmp.Diff(res2, res1, resultOpts); diff != "" {
				t.Errorf("results differ (-without +after a refused entry):\n%s", diff)
			}
			if s1, s2 := snapshot(t, live), snapshot(t, replay); !bytes.Equal(s1, s2) {
				t.Errorf("snapshots differ:\nafter a refused entry: %s\nwithout it:            %s", s1, s2)
			}
		})
	}
}

// TestSameResult: the fast comparison the simulation relies on tells apart
// results that differ in any field.
func TestSameResult(t *testing.T) {
	base := func() registry.Result {
		it := &registry.Intent{ID: "a1", Owner: "alpha", Priority: 10, State: registry.StateAccepted, OVN: "a1-v1",
			Volumes: []*geo.Volume{std(0)}, Created: t0, Updated: t0, PreemptedBy: []registry.IntentID{"b1"}}
		return registry.Result{
			Intent:    it,
			Conflicts: []registry.Conflict{{Intent: it, Pairs: pairs(0, 0)}},
			Alerts:    []registry.Alert{{ID: "1-1", To: "alpha", Kind: registry.AlertPreempted, Intent: "a1", By: "b1", ByParty: "bravo", Entry: 1, Time: t0, Pairs: pairs(0, 0)}},
		}
	}
	if !sameResult(base(), base()) {
		t.Fatal("equal results compare different")
	}
	for _, tc := range []struct {
		name   string
		mutate func(r *registry.Result)
	}{
		{"no intent", func(r *registry.Result) { r.Intent = nil }},
		{"priority", func(r *registry.Result) { r.Intent.Priority++ }},
		{"ovn", func(r *registry.Result) { r.Intent.OVN = "x" }},
		{"state", func(r *registry.Result) { r.Intent.State = registry.StateEnded }},
		{"updated", func(r *registry.Result) { r.Intent.Updated = t0.Add(1) }},
		{"preempted by", func(r *registry.Result) { r.Intent.PreemptedBy = nil }},
		{"volume", func(r *registry.Result) { r.Intent.Volumes = []*geo.Volume{std(1)} }},
		{"volume window", func(r *registry.Result) { r.Intent.Volumes = []*geo.Volume{window(time.Hour, 3*time.Hour)} }},
		{"conflict pair", func(r *registry.Result) { r.Conflicts[0].Pairs = pairs(0, 1) }},
		{"no conflicts", func(r *registry.Result) { r.Conflicts = nil }},
		{"alert id", func(r *registry.Result) { r.Alerts[0].ID = "1-2" }},
		{"alert kind", func(r *registry.Result) { r.Alerts[0].Kind = registry.AlertConflict }},
		{"alert time", func(r *registry.Result) { r.Alerts[0].Time = t0.Add(1) }},
		{"alert pairs", func(r *registry.Result) { r.Alerts[0].Pairs = nil }},
		{"alert by party", func(r *registry.Result) { r.Alerts[0].ByParty = "charlie" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := base()
			tc.mutate(&r)
			if sameResult(base(), r) || sameResult(r, base()) {
				t.Fatal("different results compare equal")
			}
			if cmp.Equal(base(), r, resultOpts) {
				t.Fatal("cmp.Equal with resultOpts finds them equal too: the case tests nothing")
			}
		})
	}
}

// TestRestoreManyChunks: Restore builds volumes on several goroutines in
// chunks while it indexes them in order; a snapshot of several chunks
// round-trips, and an invalid volume in a late chunk is reported (and
// changes nothing) however far the builders have got.
func TestRestoreManyChunks(t *testing.T) {
	reg := newRegistry(t, registry.Config{})
	for _, s := range baseParties() {
		mustApply(t, reg, s)
	}
	const n, bad = 3000, 2200
	for i := range n {
		radius := 100.0
		if i == bad {
			radius = 123.25 // a value no other volume has, to find its bytes
		}
		id := registry.IntentID(fmt.Sprintf("i%04d", i))
		mustApply(t, reg, at(time.Minute, "alpha", file(id, 0, nil, circle(float64(i)*1000, radius, 0, 120, time.Hour, 2*time.Hour))))
	}
	good := snapshot(t, reg)
	again := newRegistry(t, registry.Config{})
	if err := again.Restore(good); err != nil {
		t.Fatal(err)
	}
	if got := snapshot(t, again); !bytes.Equal(got, good) {
		t.Fatal("a snapshot of several chunks does not round-trip")
	}
	var mark [8]byte
	binary.LittleEndian.PutUint64(mark[:], math.Float64bits(123.25))
	if bytes.Count(good, mark[:]) != 1 {
		t.Fatalf("the marked radius occurs %d times in the snapshot", bytes.Count(good, mark[:]))
	}
	broken := bytes.Replace(good, mark[:], make([]byte, 8), 1) // radius 0: invalid
	err := again.Restore(broken)
	if err == nil || !strings.Contains(err.Error(), "i2200") {
		t.Fatalf("Restore of a snapshot with an invalid volume in intent i2200: %v", err)
	}
	if got := snapshot(t, again); !bytes.Equal(got, good) {
		t.Fatal("a failed Restore changed the state")
	}
	// Decoding runs ahead of building in the background: a snapshot cut
	// short in a late chunk, or with bytes after the last intent, fails.
	for name, b := range map[string][]byte{
		"cut short":   good[:len(good)*6/10],
		"extra bytes": append(bytes.Clone(good), 0),
	} {
		if err := again.Restore(b); err == nil || !strings.Contains(err.Error(), "decoding snapshot") {
			t.Fatalf("Restore of a snapshot %s: %v", name, err)
		}
		if got := snapshot(t, again); !bytes.Equal(got, good) {
			t.Fatalf("a failed Restore (%s) changed the state", name)
		}
	}
}
