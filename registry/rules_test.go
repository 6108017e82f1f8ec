package registry_test

// This file tests the conflict rules, the command checks and the party
// rules of the package doc, one named case each, and that Check never
// changes the state and that a refused Apply changes nothing.

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"math"
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

// t0 is the time of the first entry of every test.
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// The base point near which the test volumes lie.
const baseLat, baseLng = 47.0, 8.0

// circle is a volume: a circle of radius r metres centred x metres east of
// the base point (along its parallel), the band [lo, hi] and the window
// [t0+from, t0+to).
func circle(x, r float64, lo, hi geo.Meters, from, to time.Duration) *geo.Volume {
	metresPerDegree := float64(geo.EarthRadius) * math.Pi / 180
	lng := baseLng + x/(metresPerDegree*math.Cos(baseLat*math.Pi/180))
	v, err := geo.NewVolume(geo.VolumeSpec{
		Circle: &geo.CircleSpec{Lat: baseLat, Lng: geo.Degrees(lng), RadiusM: geo.Meters(r)},
		AltLoM: lo, AltHiM: hi, Start: t0.Add(from), End: t0.Add(to),
	}, geo.Limits{})
	if err != nil {
		panic(err) // a mistake in the test table
	}
	return v
}

// std is the standard test volume x metres east of the base point: radius
// 100 m, band [0, 120] m, window [t0+1h, t0+2h).
func std(x float64) *geo.Volume { return circle(x, 100, 0, 120, time.Hour, 2*time.Hour) }

// far is a standard volume that conflicts with no other near the base point.
func far() *geo.Volume { return std(50_000) }

// window is a standard volume at the base point with the window [t0+from, t0+to).
func window(from, to time.Duration) *geo.Volume { return circle(0, 100, 0, 120, from, to) }

// publicKey is a deterministic Ed25519 public key for a party.
func publicKey(id registry.PartyID) ed25519.PublicKey {
	seed := sha256.Sum256([]byte(id))
	return ed25519.NewKeyFromSeed(seed[:]).Public().(ed25519.PublicKey)
}

func addParty(id registry.PartyID, role registry.Role) *registry.AddParty {
	return &registry.AddParty{Party: registry.Party{ID: id, Name: "Party " + string(id), Role: role, PublicKey: publicKey(id)}}
}

// ovn1 is the OVN the test tables give an intent when filing it.
func ovn1(id registry.IntentID) registry.OVN { return registry.OVN(id) + "-v1" }

// file files intent id with OVN ovn1(id).
func file(id registry.IntentID, priority int, key []registry.OVN, vols ...*geo.Volume) *registry.File {
	return &registry.File{Intent: id, NewOVN: ovn1(id), Priority: priority, Volumes: vols, Key: key}
}

func update(id registry.IntentID, ovn, newOVN registry.OVN, priority int, key []registry.OVN, vols ...*geo.Volume) *registry.Update {
	return &registry.Update{Intent: id, OVN: ovn, NewOVN: newOVN, Priority: priority, Volumes: vols, Key: key}
}

func setState(id registry.IntentID, ovn, newOVN registry.OVN, s registry.State) *registry.SetState {
	return &registry.SetState{Intent: id, OVN: ovn, NewOVN: newOVN, State: s}
}

func end(id registry.IntentID, ovn, newOVN registry.OVN) *registry.End {
	return &registry.End{Intent: id, OVN: ovn, NewOVN: newOVN}
}

func key(ovns ...registry.OVN) []registry.OVN { return ovns }

// step is an entry of a test: its time as an offset from t0, its party
// and its command (*registry.File, *registry.Update, ...). Its index is the
// next one; edit, if set, changes the entry last.
type step struct {
	at    time.Duration
	party registry.PartyID
	cmd   any
	edit  func(e *registry.Entry)
}

func at(d time.Duration, party registry.PartyID, cmd any) step {
	return step{at: d, party: party, cmd: cmd}
}

func (s step) entry(index uint64) registry.Entry {
	e := registry.Entry{Index: index, Time: t0.Add(s.at), Party: s.party}
	switch c := s.cmd.(type) {
	case *registry.File:
		e.Kind, e.File = registry.KindFile, c
	case *registry.Update:
		e.Kind, e.Update = registry.KindUpdate, c
	case *registry.SetState:
		e.Kind, e.SetState = registry.KindSetState, c
	case *registry.End:
		e.Kind, e.End = registry.KindEnd, c
	case *registry.AddParty:
		e.Kind, e.AddParty = registry.KindAddParty, c
	case *registry.RevokeParty:
		e.Kind, e.RevokeParty = registry.KindRevokeParty, c
	case *registry.SetGrant:
		e.Kind, e.SetGrant = registry.KindSetGrant, c
	case *registry.Ack:
		e.Kind, e.Ack = registry.KindAck, c
	case *registry.Disclose:
		e.Kind, e.Disclose = registry.KindDisclose, c
	case *registry.Message:
		e.Kind, e.Message = registry.KindMessage, c
	case *registry.Coordinate:
		e.Kind, e.Coordinate = registry.KindCoordinate, c
	case *registry.SetWebhook:
		e.Kind, e.SetWebhook = registry.KindSetWebhook, c
	case nil:
	default:
		panic("step: unknown command type")
	}
	if s.edit != nil {
		s.edit(&e)
	}
	return e
}

func (s step) with(edit func(e *registry.Entry)) step { s.edit = edit; return s }

// baseParties are the parties of every rule test but those that start empty:
// the authority root and the members alpha, bravo and charlie, at t0.
func baseParties() []step {
	return []step{
		at(0, "root", addParty("root", registry.RoleAuthority)),
		at(0, "root", addParty("alpha", registry.RoleMember)),
		at(0, "root", addParty("bravo", registry.RoleMember)),
		at(0, "root", addParty("charlie", registry.RoleMember)),
	}
}

func newRegistry(t testing.TB, cfg registry.Config) *registry.Registry {
	t.Helper()
	reg, err := registry.New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	return reg
}

// mustApply applies s as the next entry; it must be accepted.
func mustApply(t testing.TB, reg *registry.Registry, s step) registry.Result {
	t.Helper()
	e := s.entry(reg.LastIndex() + 1)
	res, err := reg.Apply(e)
	if err != nil {
		t.Fatalf("setup entry %d (%s by %s at t0+%v): %v", e.Index, e.Kind, e.Party, s.at, err)
	}
	return res
}

func snapshot(t testing.TB, reg *registry.Registry) []byte {
	t.Helper()
	b, err := reg.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	return b
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func conflictIDs(cs []registry.Conflict) []registry.IntentID {
	var ids []registry.IntentID
	for _, c := range cs {
		ids = append(ids, c.Intent.ID)
	}
	return ids
}

// conflictPairs is a conflict list as comparable values.
type conflictPairs struct {
	ID    registry.IntentID
	Pairs []registry.Pair
}

func pairsOf(cs []registry.Conflict) []conflictPairs {
	var out []conflictPairs
	for _, c := range cs {
		out = append(out, conflictPairs{c.Intent.ID, c.Pairs})
	}
	return out
}

func ids(s ...registry.IntentID) []registry.IntentID { return s }

type ruleCase struct {
	name  string
	cfg   registry.Config
	empty bool   // start without the base parties
	setup []step // each must be accepted
	entry step   // the entry under test

	wantErr       error               // nil: accepted; else errors.Is must hold
	wantRefused   []registry.IntentID // the intents a *RefusalError lists
	wantConflicts []registry.IntentID // Result.Conflicts of an accepted entry
	wantAlerts    []registry.Alert    // Entry, Time and ID are filled in if zero
	check         func(t *testing.T, reg *registry.Registry, res registry.Result)
}

func TestRules(t *testing.T) {
	strict := registry.Config{}
	aware := registry.Config{Policy: registry.PolicyAware}
	detect := registry.Config{Policy: registry.PolicyDetect}
	const m = time.Minute
	const h = time.Hour

	// intentIs checks fields of a stored intent.
	intentIs := func(id registry.IntentID, state registry.State, ovn registry.OVN, preemptedBy ...registry.IntentID) func(*testing.T, *registry.Registry, registry.Result) {
		return func(t *testing.T, reg *registry.Registry, _ registry.Result) {
			t.Helper()
			it := reg.Intent(id)
			if it == nil {
				t.Fatalf("intent %s is missing", id)
			}
			if it.State != state || it.OVN != ovn {
				t.Errorf("intent %s: state %s, OVN %s; want %s, %s", id, it.State, it.OVN, state, ovn)
			}
			if diff := cmp.Diff(preemptedBy, it.PreemptedBy, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("intent %s: PreemptedBy (-want +got):\n%s", id, diff)
			}
		}
	}
	// a1 is alpha's standard intent, filed at t0+1m with priority 10.
	a1 := at(1*m, "alpha", file("a1", 10, nil, std(0)))

	cases := []ruleCase{
		// --- Rule 1: key.
		{
			name: "key/missing key lists exactly the conflicting intents not in the key",
			setup: []step{
				at(1*m, "alpha", file("a1", 10, nil, window(1*h, 2*h))),
				at(2*m, "charlie", file("c1", 10, nil, window(2*h, 3*h))), // back to back with a1: no conflict
				at(3*m, "charlie", file("c2", 10, nil, far())),
				at(4*m, "bravo", file("b0", 10, nil, std(10_000))),
			},
			entry:       at(10*m, "bravo", file("b1", 50, key("a1-v1"), window(90*m, 150*m), std(10_000))),
			wantErr:     registry.ErrMissingKey,
			wantRefused: ids("c1"),
		},
		{
			name: "key/no key lists every conflicting intent of other parties, sorted",
			setup: []step{
				at(1*m, "charlie", file("c1", 10, nil, window(2*h, 3*h))),
				at(2*m, "alpha", file("a1", 10, nil, window(1*h, 2*h))),
				at(4*m, "bravo", file("b0", 10, nil, std(10_000))),
			},
			entry:       at(10*m, "bravo", file("b1", 50, nil, window(90*m, 150*m), std(10_000))),
			wantErr:     registry.ErrMissingKey,
			wantRefused: ids("a1", "c1"),
		},
		{
			name: "key/the current OVN of every conflicting intent passes",
			setup: []step{
				at(1*m, "alpha", file("a1", 10, nil, window(1*h, 2*h))),
				at(2*m, "charlie", file("c1", 10, nil, window(2*h, 3*h))),
				at(3*m, "charlie", file("c2", 10, nil, far())),
			},
			entry:         at(10*m, "bravo", file("b1", 50, key("c1-v1", "zzz", "a1-v1"), window(90*m, 150*m))),
			wantConflicts: ids("a1", "c1"),
			wantAlerts: []registry.Alert{
				{To: "alpha", Kind: registry.AlertPreempted, Intent: "a1", By: "b1", ByParty: "bravo", Pairs: pairs(0, 0)},
				{To: "charlie", Kind: registry.AlertPreempted, Intent: "c1", By: "b1", ByParty: "bravo", Pairs: pairs(0, 0)},
			},
		},
		{
			name: "key/stale OVN after the other intent was updated is refused",
			setup: []step{
				a1,
				at(2*m, "alpha", update("a1", "a1-v1", "a1-v2", 10, nil, std(0))),
			},
			entry:       at(10*m, "bravo", file("b1", 50, key("a1-v1"), std(0))),
			wantErr:     registry.ErrMissingKey,
			wantRefused: ids("a1"),
		},
		{
			name: "key/the updated OVN passes",
			setup: []step{
				a1,
				at(2*m, "alpha", update("a1", "a1-v1", "a1-v2", 10, nil, std(0))),
			},
			entry:         at(10*m, "bravo", file("b1", 50, key("a1-v2"), std(0))),
			wantConflicts: ids("a1"),
			wantAlerts:    []registry.Alert{{To: "alpha", Kind: registry.AlertPreempted, Intent: "a1", By: "b1", ByParty: "bravo", Pairs: pairs(0, 0)}},
		},
		{
			name:  "key/stale OVN after the other intent changed state is refused",
			setup: []step{a1, at(2*m, "alpha", setState("a1", "a1-v1", "a1-v2", registry.StateActivated))},
			entry: at(10*m, "bravo", file("b1", 50, key("a1-v1"), std(0))), wantErr: registry.ErrMissingKey, wantRefused: ids("a1"),
		},
		{
			name:          "key/a key of more than 16 OVNs with the needed one last passes",
			setup:         []step{a1},
			entry:         at(10*m, "bravo", file("b1", 50, append(manyOVNs(20), "a1-v1"), std(0))),
			wantConflicts: ids("a1"),
			wantAlerts:    []registry.Alert{{To: "alpha", Kind: registry.AlertPreempted, Intent: "a1", By: "b1", ByParty: "bravo", Pairs: pairs(0, 0)}},
		},
		{
			name:  "key/a key of more than 16 OVNs without the needed one is refused",
			setup: []step{a1},
			entry: at(10*m, "bravo", file("b1", 50, manyOVNs(20), std(0))), wantErr: registry.ErrMissingKey, wantRefused: ids("a1"),
		},
		{
			name:  "key/the key rule comes before the priority rule",
			setup: []step{at(1*m, "alpha", file("a1", 50, nil, std(0)))},
			entry: at(10*m, "bravo", file("b1", 10, nil, std(0))), wantErr: registry.ErrMissingKey, wantRefused: ids("a1"),
		},
		{
			name:  "key/an update must carry the key too",
			setup: []step{a1, at(2*m, "bravo", file("b1", 50, nil, far()))},
			entry: at(10*m, "bravo", update("b1", "b1-v1", "b1-v2", 50, nil, std(0))), wantErr: registry.ErrMissingKey, wantRefused: ids("a1"),
		},
		{
			name:  "key/longer than MaxKeyLength is invalid",
			setup: []step{a1},
			entry: at(10*m, "bravo", file("b1", 50, append(manyOVNs(registry.MaxKeyLength), "a1-v1"), std(0))), wantErr: registry.ErrInvalid,
		},

		// --- Rule 2: priority, under strict.
		{
			name:  "priority/equal priority is refused under strict",
			cfg:   strict,
			setup: []step{a1},
			entry: at(10*m, "bravo", file("b1", 10, key("a1-v1"), std(0))), wantErr: registry.ErrConflict, wantRefused: ids("a1"),
		},
		{
			name:  "priority/lower priority is refused under strict",
			setup: []step{at(1*m, "alpha", file("a1", 50, nil, std(0)))},
			entry: at(10*m, "bravo", file("b1", 10, key("a1-v1"), std(0))), wantErr: registry.ErrConflict, wantRefused: ids("a1"),
		},
		{
			name: "priority/the refusal lists only the intents at or above the filer's priority",
			setup: []step{
				at(1*m, "alpha", file("a1", 10, nil, window(1*h, 2*h))),
				at(2*m, "charlie", file("c1", 20, nil, window(2*h, 3*h))),
				at(3*m, "charlie", file("c2", 30, nil, window(2*h, 3*h), std(20_000))),
			},
			entry:   at(10*m, "bravo", file("b1", 20, key("a1-v1", "c1-v1", "c2-v1"), window(90*m, 150*m))),
			wantErr: registry.ErrConflict, wantRefused: ids("c1", "c2"),
		},
		{
			name:          "priority/higher priority is accepted, preempts and alerts",
			setup:         []step{at(1*m, "alpha", file("a1", 10, nil, std(5000), std(0)))},
			entry:         at(10*m, "bravo", file("b1", 20, key("a1-v1"), std(50), std(120), std(-5000))),
			wantConflicts: ids("a1"),
			wantAlerts: []registry.Alert{{
				ID: "6-1", To: "alpha", Kind: registry.AlertPreempted, Intent: "a1", By: "b1", ByParty: "bravo",
				Entry: 6, Time: t0.Add(10 * m), Pairs: pairs(0, 1, 1, 1),
			}},
			check: func(t *testing.T, reg *registry.Registry, res registry.Result) {
				intentIs("a1", registry.StateAccepted, "a1-v1", "b1")(t, reg, res)
				intentIs("b1", registry.StateAccepted, "b1-v1")(t, reg, res)
				b1 := reg.Intent("b1")
				if b1.Owner != "bravo" || b1.Priority != 20 || !b1.Created.Equal(t0.Add(10*m)) || !b1.Updated.Equal(t0.Add(10*m)) || len(b1.Volumes) != 3 {
					t.Errorf("b1 = %+v", b1)
				}
				if res.Intent == nil || res.Intent.ID != "b1" {
					t.Errorf("Result.Intent = %+v, want b1", res.Intent)
				}
				if got := pairsOf(res.Conflicts); !cmp.Equal(got, []conflictPairs{{"a1", pairs(0, 1, 1, 1)}}) {
					t.Errorf("conflict pairs = %v", got)
				}
			},
		},
		{
			name: "priority/preemptions accumulate in order",
			setup: []step{
				a1,
				at(2*m, "bravo", file("b1", 20, key("a1-v1"), std(0))),
			},
			entry:         at(10*m, "charlie", file("c1", 30, key("a1-v1", "b1-v1"), std(0))),
			wantConflicts: ids("a1", "b1"),
			wantAlerts: []registry.Alert{
				{ID: "7-1", To: "alpha", Kind: registry.AlertPreempted, Intent: "a1", By: "c1", ByParty: "charlie", Pairs: pairs(0, 0)},
				{ID: "7-2", To: "bravo", Kind: registry.AlertPreempted, Intent: "b1", By: "c1", ByParty: "charlie", Pairs: pairs(0, 0)},
			},
			check: func(t *testing.T, reg *registry.Registry, res registry.Result) {
				intentIs("a1", registry.StateAccepted, "a1-v1", "b1", "c1")(t, reg, res)
				intentIs("b1", registry.StateAccepted, "b1-v1", "c1")(t, reg, res)
			},
		},
		{
			name:          "priority/an update to a higher priority preempts",
			setup:         []step{a1, at(2*m, "bravo", file("b1", 5, nil, far()))},
			entry:         at(10*m, "bravo", update("b1", "b1-v1", "b1-v2", 20, key("a1-v1"), std(0))),
			wantConflicts: ids("a1"),
			wantAlerts:    []registry.Alert{{To: "alpha", Kind: registry.AlertPreempted, Intent: "a1", By: "b1", ByParty: "bravo", Pairs: pairs(0, 0)}},
			check: func(t *testing.T, reg *registry.Registry, res registry.Result) {
				intentIs("a1", registry.StateAccepted, "a1-v1", "b1")(t, reg, res)
				intentIs("b1", registry.StateAccepted, "b1-v2")(t, reg, res)
			},
		},
		{
			name:  "priority/an update at equal priority is refused",
			setup: []step{a1, at(2*m, "bravo", file("b1", 10, nil, far()))},
			entry: at(10*m, "bravo", update("b1", "b1-v1", "b1-v2", 10, key("a1-v1"), std(0))), wantErr: registry.ErrConflict, wantRefused: ids("a1"),
		},

		// --- Policy aware: key rule only.
		{
			name:          "aware/a lower-priority conflict with the key is accepted and alerted",
			cfg:           aware,
			setup:         []step{at(1*m, "alpha", file("a1", 50, nil, std(0)))},
			entry:         at(10*m, "bravo", file("b1", 10, key("a1-v1"), std(0))),
			wantConflicts: ids("a1"),
			wantAlerts:    []registry.Alert{{To: "alpha", Kind: registry.AlertConflict, Intent: "a1", By: "b1", ByParty: "bravo", Pairs: pairs(0, 0)}},
			check:         intentIs("a1", registry.StateAccepted, "a1-v1"), // not preempted
		},
		{
			name:          "aware/a higher-priority conflict does not preempt",
			cfg:           aware,
			setup:         []step{a1},
			entry:         at(10*m, "bravo", file("b1", 50, key("a1-v1"), std(0))),
			wantConflicts: ids("a1"),
			wantAlerts:    []registry.Alert{{To: "alpha", Kind: registry.AlertConflict, Intent: "a1", By: "b1", ByParty: "bravo", Pairs: pairs(0, 0)}},
			check:         intentIs("a1", registry.StateAccepted, "a1-v1"),
		},
		{
			name:  "aware/a missing key is refused",
			cfg:   aware,
			setup: []step{a1},
			entry: at(10*m, "bravo", file("b1", 50, nil, std(0))), wantErr: registry.ErrMissingKey, wantRefused: ids("a1"),
		},

		// --- Contingent intents: always accepted.
		{
			name:  "contingent/filing bypasses the key and priority rules",
			setup: []step{at(1*m, "alpha", file("a1", 100, nil, std(0)))},
			entry: at(10*m, "bravo", &registry.File{Intent: "b1", NewOVN: "b1-v1", Priority: 0, State: registry.StateContingent, Volumes: []*geo.Volume{std(0)}}),

			wantConflicts: ids("a1"),
			wantAlerts:    []registry.Alert{{To: "alpha", Kind: registry.AlertContingent, Intent: "a1", By: "b1", ByParty: "bravo", Pairs: pairs(0, 0)}},
			check:         intentIs("b1", registry.StateContingent, "b1-v1"),
		},
		{
			name:          "contingent/an update to contingent bypasses the rules",
			setup:         []step{at(1*m, "alpha", file("a1", 100, nil, std(0))), at(2*m, "bravo", file("b1", 0, nil, far()))},
			entry:         at(10*m, "bravo", &registry.Update{Intent: "b1", OVN: "b1-v1", NewOVN: "b1-v2", State: registry.StateContingent, Volumes: []*geo.Volume{std(0)}}),
			wantConflicts: ids("a1"),
			wantAlerts:    []registry.Alert{{To: "alpha", Kind: registry.AlertContingent, Intent: "a1", By: "b1", ByParty: "bravo", Pairs: pairs(0, 0)}},
			check:         intentIs("b1", registry.StateContingent, "b1-v2"),
		},
		{
			name: "contingent/setting state contingent alerts the owners of conflicting intents",
			setup: []step{
				at(1*m, "bravo", file("b1", 0, nil, std(0))),
				at(2*m, "alpha", file("a1", 100, key("b1-v1"), std(0))), // preempts b1
			},
			entry:         at(10*m, "bravo", setState("b1", "b1-v1", "b1-v2", registry.StateContingent)),
			wantConflicts: ids("a1"),
			wantAlerts:    []registry.Alert{{To: "alpha", Kind: registry.AlertContingent, Intent: "a1", By: "b1", ByParty: "bravo", Pairs: pairs(0, 0)}},
			check:         intentIs("b1", registry.StateContingent, "b1-v2", "a1"),
		},
		{
			name:          "contingent/policy aware accepts it without a key",
			cfg:           aware,
			setup:         []step{a1},
			entry:         at(10*m, "bravo", &registry.File{Intent: "b1", NewOVN: "b1-v1", State: registry.StateContingent, Volumes: []*geo.Volume{std(0)}}),
			wantConflicts: ids("a1"),
			wantAlerts:    []registry.Alert{{To: "alpha", Kind: registry.AlertContingent, Intent: "a1", By: "b1", ByParty: "bravo", Pairs: pairs(0, 0)}},
		},

		// --- Same party, policy detect.
		{
			name:  "same party/an overlap with one's own intent is not a conflict",
			setup: []step{at(1*m, "alpha", file("a1", 100, nil, std(0)))},
			entry: at(10*m, "alpha", file("a2", 0, nil, std(0))),
		},
		{
			name:  "same party/an update overlapping one's own intents is not a conflict",
			setup: []step{at(1*m, "alpha", file("a1", 100, nil, std(0))), at(2*m, "alpha", file("a2", 0, nil, far()))},
			entry: at(10*m, "alpha", update("a2", "a2-v1", "a2-v2", 0, nil, std(0))),
		},
		{
			name: "detect/everything is accepted and conflicts with every party, own included",
			cfg:  detect,
			setup: []step{
				at(1*m, "alpha", file("a1", 100, nil, std(0))),
				at(2*m, "bravo", file("b1", 100, nil, std(0), std(10_000))),
				at(3*m, "charlie", file("c1", 100, nil, far())),
			},
			entry:         at(10*m, "alpha", file("a2", 0, nil, std(10_000), std(0))),
			wantConflicts: ids("a1", "b1"),
			check: func(t *testing.T, reg *registry.Registry, res registry.Result) {
				want := []conflictPairs{{"a1", pairs(1, 0)}, {"b1", pairs(0, 1, 1, 0)}}
				if diff := cmp.Diff(want, pairsOf(res.Conflicts)); diff != "" {
					t.Errorf("conflicts (-want +got):\n%s", diff)
				}
				intentIs("a1", registry.StateAccepted, "a1-v1")(t, reg, res)
				intentIs("b1", registry.StateAccepted, "b1-v1")(t, reg, res)
			},
		},
		{
			name:  "detect/an update does not conflict with the intent's own old version",
			cfg:   detect,
			setup: []step{a1},
			entry: at(10*m, "alpha", update("a1", "a1-v1", "a1-v2", 10, nil, std(0))),
		},

		// --- Separation and boundaries.
		{
			name:  "separation/a horizontal near miss is no conflict without separation",
			setup: []step{a1},
			entry: at(10*m, "bravo", file("b1", 0, nil, std(300))), // 100 m gap
		},
		{
			name:  "separation/horizontal widening makes a near miss conflict",
			cfg:   registry.Config{Separation: geo.Separation{Horizontal: 150}},
			setup: []step{a1},
			entry: at(10*m, "bravo", file("b1", 0, nil, std(300))), wantErr: registry.ErrMissingKey, wantRefused: ids("a1"),
		},
		{
			name:  "separation/a horizontal gap wider than the separation is no conflict",
			cfg:   registry.Config{Separation: geo.Separation{Horizontal: 50}},
			setup: []step{a1},
			entry: at(10*m, "bravo", file("b1", 0, nil, std(300))),
		},
		{
			name:  "separation/a vertical near miss is no conflict without separation",
			setup: []step{at(1*m, "alpha", file("a1", 10, nil, circle(0, 100, 0, 100, 1*h, 2*h)))},
			entry: at(10*m, "bravo", file("b1", 0, nil, circle(0, 100, 150, 200, 1*h, 2*h))),
		},
		{
			name:  "separation/vertical widening makes a near miss conflict",
			cfg:   registry.Config{Separation: geo.Separation{Vertical: 60}},
			setup: []step{at(1*m, "alpha", file("a1", 10, nil, circle(0, 100, 0, 100, 1*h, 2*h)))},
			entry: at(10*m, "bravo", file("b1", 0, nil, circle(0, 100, 150, 200, 1*h, 2*h))), wantErr: registry.ErrMissingKey, wantRefused: ids("a1"),
		},
		{
			name:  "separation/a time near miss is no conflict without separation",
			setup: []step{a1},
			entry: at(10*m, "bravo", file("b1", 0, nil, window(2*h+5*m, 3*h))),
		},
		{
			name:  "separation/time widening makes a near miss conflict",
			cfg:   registry.Config{Separation: geo.Separation{Time: 10 * m}},
			setup: []step{a1},
			entry: at(10*m, "bravo", file("b1", 0, nil, window(2*h+5*m, 3*h))), wantErr: registry.ErrMissingKey, wantRefused: ids("a1"),
		},
		{
			name:  "boundary/back-to-back windows do not conflict",
			setup: []step{a1},
			entry: at(10*m, "bravo", file("b1", 0, nil, window(2*h, 3*h))),
		},
		{
			name:  "boundary/back-to-back windows do not conflict, the other way round",
			setup: []step{a1},
			entry: at(10*m, "bravo", file("b1", 0, nil, window(30*m, 1*h))),
		},
		{
			name:  "boundary/touching altitude bands conflict",
			setup: []step{at(1*m, "alpha", file("a1", 10, nil, circle(0, 100, 0, 100, 1*h, 2*h)))},
			entry: at(10*m, "bravo", file("b1", 0, nil, circle(0, 100, 100, 200, 1*h, 2*h))), wantErr: registry.ErrMissingKey, wantRefused: ids("a1"),
		},

		// --- Ending by time.
		{
			name:  "auto end/an intent whose last volume ends at the entry time is ended and no conflict",
			setup: []step{a1},
			entry: at(2*h, "bravo", file("b1", 0, nil, window(90*m, 3*h))),
			check: func(t *testing.T, reg *registry.Registry, res registry.Result) {
				intentIs("a1", registry.StateEnded, "a1-v1")(t, reg, res)
				if got := reg.Intent("a1").Updated; !got.Equal(t0.Add(2 * h)) {
					t.Errorf("a1 updated %v, want the entry time", got)
				}
				if n := reg.NumVolumes(); n != 1 {
					t.Errorf("NumVolumes = %d, want 1 (b1's)", n)
				}
				if cs, err := reg.ConflictsOf("b1"); err != nil || len(cs) != 0 {
					t.Errorf("ConflictsOf(b1) = %v, %v; want none", conflictIDs(cs), err)
				}
			},
		},
		{
			name:  "auto end/an intent is live up to 1 ns before its end",
			setup: []step{a1},
			entry: at(2*h-1, "bravo", file("b1", 0, nil, window(90*m, 3*h))), wantErr: registry.ErrMissingKey, wantRefused: ids("a1"),
		},
		{
			name:  "auto end/an intent with a later volume stays live",
			setup: []step{at(1*m, "alpha", file("a1", 10, nil, std(0), circle(50_000, 100, 0, 120, 3*h, 4*h)))},
			entry: at(2*h, "bravo", file("b1", 0, nil, window(90*m, 3*h))), wantErr: registry.ErrMissingKey, wantRefused: ids("a1"),
		},
		{
			name:  "auto end/a refused entry after an intent's end changes nothing",
			setup: []step{a1},
			entry: at(3*h, "bravo", end("b9", "b9-v1", "b9-v2")), wantErr: registry.ErrNotFound,
			// The runner checks that the snapshot, a1 included, is unchanged.
		},
		{
			name:  "auto end/an accepted entry ends the intents whose time is up, after its change",
			setup: []step{a1},
			entry: at(3*h, "root", addParty("delta", registry.RoleMember)),
			check: intentIs("a1", registry.StateEnded, "a1-v1"),
		},
		{
			name:  "auto end/an intent ended by time cannot be updated",
			setup: []step{a1, at(2*h, "bravo", file("b9", 0, nil, window(2*h, 3*h)))},
			entry: at(2*h+1*m, "alpha", update("a1", "a1-v1", "a1-v2", 10, nil, window(2*h, 3*h))), wantErr: registry.ErrInvalid,
		},
		{
			name:  "auto end/an intent ended by time cannot be ended",
			setup: []step{a1, at(2*h, "bravo", file("b9", 0, nil, window(2*h, 3*h)))},
			entry: at(2*h+1*m, "alpha", end("a1", "a1-v1", "a1-v2")), wantErr: registry.ErrInvalid,
		},

		// --- Update.
		{
			name:  "update/replaces volumes and priority, keeps state and creation time",
			setup: []step{a1, at(2*m, "alpha", setState("a1", "a1-v1", "a1-v2", registry.StateActivated))},
			entry: at(10*m, "alpha", update("a1", "a1-v2", "a1-v3", 70, nil, far(), std(3000))),
			check: func(t *testing.T, reg *registry.Registry, res registry.Result) {
				intentIs("a1", registry.StateActivated, "a1-v3")(t, reg, res)
				it := reg.Intent("a1")
				if it.Priority != 70 || len(it.Volumes) != 2 || !it.Created.Equal(t0.Add(1*m)) || !it.Updated.Equal(t0.Add(10*m)) {
					t.Errorf("a1 = %+v", it)
				}
				if n := reg.NumVolumes(); n != 2 {
					t.Errorf("NumVolumes = %d, want 2", n)
				}
			},
		},
		{
			name:  "update/a stale OVN is refused",
			setup: []step{a1, at(2*m, "alpha", update("a1", "a1-v1", "a1-v2", 10, nil, std(0)))},
			entry: at(10*m, "alpha", update("a1", "a1-v1", "a1-v3", 10, nil, std(0))), wantErr: registry.ErrStaleOVN,
		},
		{
			name:  "update/only the owner may update",
			setup: []step{a1},
			entry: at(10*m, "bravo", update("a1", "a1-v1", "a1-v2", 10, nil, std(0))), wantErr: registry.ErrForbidden,
		},
		{
			name:  "update/an unknown intent is not found",
			setup: []step{a1},
			entry: at(10*m, "alpha", update("a9", "a9-v1", "a9-v2", 10, nil, std(0))), wantErr: registry.ErrNotFound,
		},
		{
			name:  "update/the same OVN is invalid",
			setup: []step{a1},
			entry: at(10*m, "alpha", update("a1", "a1-v1", "a1-v1", 10, nil, std(0))), wantErr: registry.ErrInvalid,
		},
		{
			name:  "update/an empty new OVN is invalid",
			setup: []step{a1},
			entry: at(10*m, "alpha", update("a1", "a1-v1", "", 10, nil, std(0))), wantErr: registry.ErrInvalid,
		},
		{
			name:  "update/an intent ended by its owner cannot be updated",
			setup: []step{a1, at(2*m, "alpha", end("a1", "a1-v1", "a1-v2"))},
			entry: at(10*m, "alpha", update("a1", "a1-v2", "a1-v3", 10, nil, std(0))), wantErr: registry.ErrInvalid,
		},
		{
			name:  "update/to state ended is invalid",
			setup: []step{a1},
			entry: at(10*m, "alpha", &registry.Update{Intent: "a1", OVN: "a1-v1", NewOVN: "a1-v2", State: registry.StateEnded, Volumes: []*geo.Volume{std(0)}}), wantErr: registry.ErrInvalid,
		},
		{
			name:  "update/all volumes in the past is invalid",
			setup: []step{a1},
			entry: at(10*m, "alpha", update("a1", "a1-v1", "a1-v2", 10, nil, window(0, 10*m))), wantErr: registry.ErrInvalid,
		},

		// --- SetState.
		{name: "set state/accepted to activated", setup: []step{a1}, entry: at(10*m, "alpha", setState("a1", "a1-v1", "a1-v2", registry.StateActivated)), check: intentIs("a1", registry.StateActivated, "a1-v2")},
		{name: "set state/accepted to contingent", setup: []step{a1}, entry: at(10*m, "alpha", setState("a1", "a1-v1", "a1-v2", registry.StateContingent)), check: intentIs("a1", registry.StateContingent, "a1-v2")},
		{
			name:  "set state/activated to contingent",
			setup: []step{a1, at(2*m, "alpha", setState("a1", "a1-v1", "a1-v2", registry.StateActivated))},
			entry: at(10*m, "alpha", setState("a1", "a1-v2", "a1-v3", registry.StateContingent)), check: intentIs("a1", registry.StateContingent, "a1-v3"),
		},
		{
			name:  "set state/contingent to activated",
			setup: []step{a1, at(2*m, "alpha", setState("a1", "a1-v1", "a1-v2", registry.StateContingent))},
			entry: at(10*m, "alpha", setState("a1", "a1-v2", "a1-v3", registry.StateActivated)), check: intentIs("a1", registry.StateActivated, "a1-v3"),
		},
		{
			name:  "set state/activated to accepted is invalid",
			setup: []step{a1, at(2*m, "alpha", setState("a1", "a1-v1", "a1-v2", registry.StateActivated))},
			entry: at(10*m, "alpha", setState("a1", "a1-v2", "a1-v3", registry.StateAccepted)), wantErr: registry.ErrInvalid,
		},
		{
			name:  "set state/contingent to accepted is invalid",
			setup: []step{a1, at(2*m, "alpha", setState("a1", "a1-v1", "a1-v2", registry.StateContingent))},
			entry: at(10*m, "alpha", setState("a1", "a1-v2", "a1-v3", registry.StateAccepted)), wantErr: registry.ErrInvalid,
		},
		{name: "set state/accepted to accepted is invalid", setup: []step{a1}, entry: at(10*m, "alpha", setState("a1", "a1-v1", "a1-v2", registry.StateAccepted)), wantErr: registry.ErrInvalid},
		{name: "set state/to ended is invalid (End ends)", setup: []step{a1}, entry: at(10*m, "alpha", setState("a1", "a1-v1", "a1-v2", registry.StateEnded)), wantErr: registry.ErrInvalid},
		{name: "set state/to an unknown state is invalid", setup: []step{a1}, entry: at(10*m, "alpha", setState("a1", "a1-v1", "a1-v2", "flying")), wantErr: registry.ErrInvalid},
		{name: "set state/a stale OVN is refused", setup: []step{a1}, entry: at(10*m, "alpha", setState("a1", "a1-v0", "a1-v2", registry.StateActivated)), wantErr: registry.ErrStaleOVN},
		{name: "set state/only the owner may", setup: []step{a1}, entry: at(10*m, "bravo", setState("a1", "a1-v1", "a1-v2", registry.StateActivated)), wantErr: registry.ErrForbidden},
		{name: "set state/the same OVN is invalid", setup: []step{a1}, entry: at(10*m, "alpha", setState("a1", "a1-v1", "a1-v1", registry.StateActivated)), wantErr: registry.ErrInvalid},
		{name: "set state/an empty new OVN is invalid", setup: []step{a1}, entry: at(10*m, "alpha", setState("a1", "a1-v1", "", registry.StateActivated)), wantErr: registry.ErrInvalid},
		{
			name:  "set state/an ended intent cannot change state",
			setup: []step{a1, at(2*m, "alpha", end("a1", "a1-v1", "a1-v2"))},
			entry: at(10*m, "alpha", setState("a1", "a1-v2", "a1-v3", registry.StateActivated)), wantErr: registry.ErrInvalid,
		},

		// --- End.
		{
			name:  "end/the owner ends with the current OVN",
			setup: []step{a1},
			entry: at(10*m, "alpha", end("a1", "a1-v1", "a1-v2")),
			check: func(t *testing.T, reg *registry.Registry, res registry.Result) {
				intentIs("a1", registry.StateEnded, "a1-v2")(t, reg, res)
				if n := reg.NumVolumes(); n != 0 {
					t.Errorf("NumVolumes = %d after End, want 0", n)
				}
				if res.Intent == nil || res.Intent.State != registry.StateEnded {
					t.Errorf("Result.Intent = %+v, want a1 ended", res.Intent)
				}
			},
		},
		{
			name:  "end/an ended intent is no conflict",
			setup: []step{a1, at(2*m, "alpha", end("a1", "a1-v1", "a1-v2"))},
			entry: at(10*m, "bravo", file("b1", 0, nil, std(0))),
		},
		{name: "end/a stale OVN is refused", setup: []step{a1}, entry: at(10*m, "alpha", end("a1", "a1-v0", "a1-v2")), wantErr: registry.ErrStaleOVN},
		{name: "end/only the owner may", setup: []step{a1}, entry: at(10*m, "bravo", end("a1", "a1-v1", "a1-v2")), wantErr: registry.ErrForbidden},
		{name: "end/an unknown intent is not found", setup: []step{a1}, entry: at(10*m, "alpha", end("a9", "a9-v1", "a9-v2")), wantErr: registry.ErrNotFound},
		{name: "end/the same OVN is invalid", setup: []step{a1}, entry: at(10*m, "alpha", end("a1", "a1-v1", "a1-v1")), wantErr: registry.ErrInvalid},
		{name: "end/an empty new OVN is invalid", setup: []step{a1}, entry: at(10*m, "alpha", end("a1", "a1-v1", "")), wantErr: registry.ErrInvalid},
		{
			name:  "end/twice is invalid",
			setup: []step{a1, at(2*m, "alpha", end("a1", "a1-v1", "a1-v2"))},
			entry: at(10*m, "alpha", end("a1", "a1-v2", "a1-v3")), wantErr: registry.ErrInvalid,
		},

		// --- Entries.
		{
			name:  "entry/an index that skips one is invalid",
			setup: []step{a1},
			entry: at(10*m, "bravo", file("b1", 0, nil, far())).with(func(e *registry.Entry) { e.Index++ }), wantErr: registry.ErrInvalid,
		},
		{
			name:  "entry/an index that repeats the last is invalid",
			setup: []step{a1},
			entry: at(10*m, "bravo", file("b1", 0, nil, far())).with(func(e *registry.Entry) { e.Index-- }), wantErr: registry.ErrInvalid,
		},
		{
			name:  "entry/index 0 is invalid",
			setup: []step{a1},
			entry: at(10*m, "bravo", file("b1", 0, nil, far())).with(func(e *registry.Entry) { e.Index = 0 }), wantErr: registry.ErrInvalid,
		},
		{
			name:  "entry/a time before the last entry's is invalid",
			setup: []step{at(5*m, "alpha", file("a1", 10, nil, std(0)))},
			entry: at(5*m-1, "bravo", file("b1", 0, nil, far())), wantErr: registry.ErrInvalid,
		},
		{
			name:  "entry/the same time as the last entry's is fine",
			setup: []step{at(5*m, "alpha", file("a1", 10, nil, std(0)))},
			entry: at(5*m, "bravo", file("b1", 0, nil, far())),
		},
		{
			name:  "entry/a time after the year 2200 is invalid",
			entry: at(time.Date(2201, 1, 1, 0, 0, 0, 0, time.UTC).Sub(t0), "root", addParty("delta", registry.RoleMember)), wantErr: registry.ErrInvalid,
		},
		{
			name:  "entry/a time in the year 2200 is fine",
			entry: at(time.Date(2200, 12, 31, 23, 59, 59, 0, time.UTC).Sub(t0), "root", addParty("delta", registry.RoleMember)),
		},
		{
			name:  "entry/a time before 1970 is invalid",
			empty: true,
			entry: at(0, "root", addParty("root", registry.RoleAuthority)).with(func(e *registry.Entry) { e.Time = time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC) }), wantErr: registry.ErrInvalid,
		},
		{
			name:  "entry/no time is invalid",
			empty: true,
			entry: at(0, "root", addParty("root", registry.RoleAuthority)).with(func(e *registry.Entry) { e.Time = time.Time{} }), wantErr: registry.ErrInvalid,
		},
		{
			name:  "entry/a kind naming another command is invalid",
			setup: []step{a1},
			entry: at(10*m, "bravo", file("b1", 0, nil, far())).with(func(e *registry.Entry) { e.Kind = registry.KindUpdate }), wantErr: registry.ErrInvalid,
		},
		{
			name:  "entry/two commands are invalid",
			setup: []step{a1},
			entry: at(10*m, "alpha", file("a2", 0, nil, far())).with(func(e *registry.Entry) { e.End = end("a1", "a1-v1", "a1-v2") }), wantErr: registry.ErrInvalid,
		},
		{
			name:  "entry/no command is invalid",
			setup: []step{a1},
			entry: at(10*m, "alpha", nil).with(func(e *registry.Entry) { e.Kind = registry.KindEnd }), wantErr: registry.ErrInvalid,
		},
		{
			name:  "entry/an unknown kind is invalid",
			setup: []step{a1},
			entry: at(10*m, "alpha", end("a1", "a1-v1", "a1-v2")).with(func(e *registry.Entry) { e.Kind = "stop" }), wantErr: registry.ErrInvalid,
		},

		// --- File checks.
		{name: "file/priority below 0 is invalid", entry: at(10*m, "alpha", file("a1", -1, nil, std(0))), wantErr: registry.ErrInvalid},
		{name: "file/priority above 100 is invalid", entry: at(10*m, "alpha", file("a1", 101, nil, std(0))), wantErr: registry.ErrInvalid},
		{name: "file/priority 0 is fine", entry: at(10*m, "alpha", file("a1", 0, nil, std(0)))},
		{name: "file/priority 100 is fine", entry: at(10*m, "alpha", file("a1", 100, nil, std(0)))},
		{name: "file/no volumes is invalid", entry: at(10*m, "alpha", file("a1", 10, nil)), wantErr: registry.ErrInvalid},
		{name: "file/65 volumes is invalid", entry: at(10*m, "alpha", file("a1", 10, nil, nVolumes(65)...)), wantErr: registry.ErrInvalid},
		{name: "file/64 volumes is fine", entry: at(10*m, "alpha", file("a1", 10, nil, nVolumes(64)...))},
		{name: "file/a missing volume is invalid", entry: at(10*m, "alpha", file("a1", 10, nil, std(0), nil)), wantErr: registry.ErrInvalid},
		{name: "file/a duplicate intent id already exists", setup: []step{a1}, entry: at(10*m, "alpha", file("a1", 10, nil, far())), wantErr: registry.ErrExists},
		{name: "file/another party's intent id already exists", setup: []step{a1}, entry: at(10*m, "bravo", file("a1", 10, nil, far())), wantErr: registry.ErrExists},
		{
			name:  "file/the id of an ended intent already exists",
			setup: []step{a1, at(2*m, "alpha", end("a1", "a1-v1", "a1-v2"))},
			entry: at(10*m, "alpha", file("a1", 10, nil, far())), wantErr: registry.ErrExists,
		},
		{name: "file/an empty OVN is invalid", entry: at(10*m, "alpha", &registry.File{Intent: "a1", Volumes: []*geo.Volume{std(0)}}), wantErr: registry.ErrInvalid},
		{name: "file/an OVN of 65 bytes is invalid", entry: at(10*m, "alpha", &registry.File{Intent: "a1", NewOVN: registry.OVN(strings.Repeat("v", 65)), Volumes: []*geo.Volume{std(0)}}), wantErr: registry.ErrInvalid},
		{name: "file/all volumes in the past is invalid", entry: at(30*m, "alpha", file("a1", 10, nil, window(0, 20*m), window(10*m, 30*m))), wantErr: registry.ErrInvalid},
		{name: "file/one volume in the past and one ahead is fine", entry: at(30*m, "alpha", file("a1", 10, nil, window(0, 20*m), far()))},
		{name: "file/a volume that has begun is fine", entry: at(90*m, "alpha", file("a1", 10, nil, std(0)))},
		{name: "file/state ended is invalid", entry: at(10*m, "alpha", &registry.File{Intent: "a1", NewOVN: "a1-v1", State: registry.StateEnded, Volumes: []*geo.Volume{std(0)}}), wantErr: registry.ErrInvalid},
		{name: "file/an unknown state is invalid", entry: at(10*m, "alpha", &registry.File{Intent: "a1", NewOVN: "a1-v1", State: "flying", Volumes: []*geo.Volume{std(0)}}), wantErr: registry.ErrInvalid},
		{
			name:  "file/state activated is kept",
			entry: at(10*m, "alpha", &registry.File{Intent: "a1", NewOVN: "a1-v1", State: registry.StateActivated, Volumes: []*geo.Volume{std(0)}}),
			check: intentIs("a1", registry.StateActivated, "a1-v1"),
		},
		{name: "file/no state means accepted", entry: at(10*m, "alpha", file("a1", 10, nil, std(0))), check: intentIs("a1", registry.StateAccepted, "a1-v1")},
		{name: "file/an empty intent id is invalid", entry: at(10*m, "alpha", file("", 10, nil, std(0))), wantErr: registry.ErrInvalid},
		{name: "file/an intent id with a space is invalid", entry: at(10*m, "alpha", file("a 1", 10, nil, std(0))), wantErr: registry.ErrInvalid},
		{name: "file/an intent id of 65 bytes is invalid", entry: at(10*m, "alpha", file(registry.IntentID(strings.Repeat("a", 65)), 10, nil, std(0))), wantErr: registry.ErrInvalid},
		{name: "file/a UUID intent id is fine", entry: at(10*m, "alpha", file("0f8fad5b-d9cb-469f-a165-70867728950e", 10, nil, std(0)))},
		{name: "file/an unknown party is forbidden", entry: at(10*m, "zulu", file("z1", 10, nil, std(0))), wantErr: registry.ErrForbidden},

		// --- Parties.
		{
			name:  "party/the first party must be an authority",
			empty: true,
			entry: at(0, "alpha", addParty("alpha", registry.RoleMember)), wantErr: registry.ErrInvalid,
		},
		{
			name:  "party/anyone may add the first authority",
			empty: true,
			entry: at(0, "nobody", addParty("root", registry.RoleAuthority)),
			check: func(t *testing.T, reg *registry.Registry, _ registry.Result) {
				p := reg.Party("root")
				if p == nil || p.Role != registry.RoleAuthority || p.Revoked || !p.Added.Equal(t0) || !p.PublicKey.Equal(publicKey("root")) {
					t.Errorf("root = %+v", p)
				}
			},
		},
		{
			name:  "party/an authority adds a member",
			entry: at(10*m, "root", addParty("delta", registry.RoleMember)),
			check: func(t *testing.T, reg *registry.Registry, _ registry.Result) {
				if p := reg.Party("delta"); p == nil || p.Role != registry.RoleMember || !p.Added.Equal(t0.Add(10*m)) {
					t.Errorf("delta = %+v", p)
				}
				if n := len(reg.Parties()); n != 5 {
					t.Errorf("%d parties, want 5", n)
				}
			},
		},
		{name: "party/an authority adds an authority", entry: at(10*m, "root", addParty("auth2", registry.RoleAuthority))},
		{name: "party/a new authority may add parties", setup: []step{at(1*m, "root", addParty("auth2", registry.RoleAuthority))}, entry: at(10*m, "auth2", addParty("delta", registry.RoleMember))},
		{name: "party/a member cannot add parties", entry: at(10*m, "alpha", addParty("delta", registry.RoleMember)), wantErr: registry.ErrForbidden},
		{name: "party/an unknown party cannot add parties", entry: at(10*m, "zulu", addParty("delta", registry.RoleMember)), wantErr: registry.ErrForbidden},
		{
			name: "party/a revoked authority cannot add parties",
			setup: []step{
				at(1*m, "root", addParty("auth2", registry.RoleAuthority)),
				at(2*m, "auth2", &registry.RevokeParty{Party: "root"}),
			},
			entry: at(10*m, "root", addParty("delta", registry.RoleMember)), wantErr: registry.ErrForbidden,
		},
		{name: "party/a duplicate id already exists", entry: at(10*m, "root", addParty("alpha", registry.RoleMember)), wantErr: registry.ErrExists},
		{name: "party/an id with a capital letter is invalid", entry: at(10*m, "root", addParty("Delta", registry.RoleMember)), wantErr: registry.ErrInvalid},
		{name: "party/an id starting with a digit is invalid", entry: at(10*m, "root", addParty("1delta", registry.RoleMember)), wantErr: registry.ErrInvalid},
		{name: "party/an id with a dot is invalid", entry: at(10*m, "root", addParty("del.ta", registry.RoleMember)), wantErr: registry.ErrInvalid},
		{name: "party/an empty id is invalid", entry: at(10*m, "root", addParty("", registry.RoleMember)), wantErr: registry.ErrInvalid},
		{name: "party/an id of 65 bytes is invalid", entry: at(10*m, "root", addParty(registry.PartyID(strings.Repeat("d", 65)), registry.RoleMember)), wantErr: registry.ErrInvalid},
		{name: "party/an id of 64 bytes is fine", entry: at(10*m, "root", addParty(registry.PartyID("d"+strings.Repeat("-_9", 21)), registry.RoleMember))},
		{name: "party/an empty name is invalid", entry: at(10*m, "root", withParty(addParty("delta", registry.RoleMember), func(p *registry.Party) { p.Name = "" })), wantErr: registry.ErrInvalid},
		{name: "party/a name of 201 bytes is invalid", entry: at(10*m, "root", withParty(addParty("delta", registry.RoleMember), func(p *registry.Party) { p.Name = strings.Repeat("n", 201) })), wantErr: registry.ErrInvalid},
		{name: "party/a name of 200 bytes is fine", entry: at(10*m, "root", withParty(addParty("delta", registry.RoleMember), func(p *registry.Party) { p.Name = strings.Repeat("n", 200) }))},
		{name: "party/a name that is not UTF-8 is invalid", entry: at(10*m, "root", withParty(addParty("delta", registry.RoleMember), func(p *registry.Party) { p.Name = "\xff" })), wantErr: registry.ErrInvalid},
		{name: "party/an unknown role is invalid", entry: at(10*m, "root", addParty("delta", "pilot")), wantErr: registry.ErrInvalid},
		{name: "party/a key of 31 bytes is invalid", entry: at(10*m, "root", withParty(addParty("delta", registry.RoleMember), func(p *registry.Party) { p.PublicKey = p.PublicKey[:31] })), wantErr: registry.ErrInvalid},
		{name: "party/a new party cannot be revoked", entry: at(10*m, "root", withParty(addParty("delta", registry.RoleMember), func(p *registry.Party) { p.Revoked = true })), wantErr: registry.ErrInvalid},
		{
			name:  "revoke/an authority revokes a member",
			entry: at(10*m, "root", &registry.RevokeParty{Party: "alpha"}),
			check: func(t *testing.T, reg *registry.Registry, _ registry.Result) {
				if p := reg.Party("alpha"); p == nil || !p.Revoked {
					t.Errorf("alpha = %+v, want revoked", p)
				}
			},
		},
		{name: "revoke/a member cannot revoke", entry: at(10*m, "alpha", &registry.RevokeParty{Party: "bravo"}), wantErr: registry.ErrForbidden},
		{name: "revoke/an unknown party is not found", entry: at(10*m, "root", &registry.RevokeParty{Party: "zulu"}), wantErr: registry.ErrNotFound},
		{name: "revoke/an authority cannot revoke itself", entry: at(10*m, "root", &registry.RevokeParty{Party: "root"}), wantErr: registry.ErrInvalid},
		{
			name:  "revoke/twice is invalid",
			setup: []step{at(1*m, "root", &registry.RevokeParty{Party: "alpha"})},
			entry: at(10*m, "root", &registry.RevokeParty{Party: "alpha"}), wantErr: registry.ErrInvalid,
		},
		{
			name:  "revoked/a revoked party cannot file",
			setup: []step{at(1*m, "root", &registry.RevokeParty{Party: "alpha"})},
			entry: at(10*m, "alpha", file("a1", 10, nil, std(0))), wantErr: registry.ErrForbidden,
		},
		{
			name:  "revoked/a revoked party cannot update",
			setup: []step{a1, at(2*m, "root", &registry.RevokeParty{Party: "alpha"})},
			entry: at(10*m, "alpha", update("a1", "a1-v1", "a1-v2", 10, nil, std(0))), wantErr: registry.ErrForbidden,
		},
		{
			name:  "revoked/a revoked party cannot set state",
			setup: []step{a1, at(2*m, "root", &registry.RevokeParty{Party: "alpha"})},
			entry: at(10*m, "alpha", setState("a1", "a1-v1", "a1-v2", registry.StateActivated)), wantErr: registry.ErrForbidden,
		},
		{
			name:  "revoked/a revoked party cannot end",
			setup: []step{a1, at(2*m, "root", &registry.RevokeParty{Party: "alpha"})},
			entry: at(10*m, "alpha", end("a1", "a1-v1", "a1-v2")), wantErr: registry.ErrForbidden,
		},
		{
			name: "revoked/a revoked authority cannot revoke",
			setup: []step{
				at(1*m, "root", addParty("auth2", registry.RoleAuthority)),
				at(2*m, "auth2", &registry.RevokeParty{Party: "root"}),
			},
			entry: at(10*m, "root", &registry.RevokeParty{Party: "alpha"}), wantErr: registry.ErrForbidden,
		},
		{
			name:  "revoked/the intents of a revoked party stay and still conflict",
			setup: []step{a1, at(2*m, "root", &registry.RevokeParty{Party: "alpha"})},
			entry: at(10*m, "bravo", file("b1", 50, nil, std(0))), wantErr: registry.ErrMissingKey, wantRefused: ids("a1"),
		},
	}

	names := map[string]bool{}
	for _, tc := range cases {
		if names[tc.name] {
			t.Fatalf("duplicate case name %q", tc.name)
		}
		names[tc.name] = true
		t.Run(tc.name, func(t *testing.T) { runRuleCase(t, tc) })
	}
}

func runRuleCase(t *testing.T, tc ruleCase) {
	reg := newRegistry(t, tc.cfg)
	setup := tc.setup
	if !tc.empty {
		setup = append(baseParties(), setup...)
	}
	for _, s := range setup {
		mustApply(t, reg, s)
	}
	last, lastTime := reg.LastIndex(), reg.LastTime()
	e := tc.entry.entry(last + 1)
	before := snapshot(t, reg)

	cres, cerr := reg.Check(e)
	if !bytes.Equal(before, snapshot(t, reg)) {
		t.Errorf("Check changed the snapshot")
	}
	res, err := reg.Apply(e)
	after := snapshot(t, reg)

	// Check decides as Apply does (it does not look at the index).
	if e.Index == last+1 {
		if errString(cerr) != errString(err) {
			t.Errorf("Check and Apply disagree:\nCheck: %v\nApply: %v", cerr, err)
		}
		if diff := cmp.Diff(res.Alerts, cres.Alerts, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("Check and Apply alerts differ (-apply +check):\n%s", diff)
		}
		if diff := cmp.Diff(pairsOf(res.Conflicts), pairsOf(cres.Conflicts)); diff != "" {
			t.Errorf("Check and Apply conflicts differ (-apply +check):\n%s", diff)
		}
	}

	if tc.wantErr == nil {
		if err != nil {
			t.Fatalf("Apply: %v, want accepted", err)
		}
		if reg.LastIndex() != e.Index || !reg.LastTime().Equal(e.Time) {
			t.Errorf("after Apply: last %d at %v, want %d at %v", reg.LastIndex(), reg.LastTime(), e.Index, e.Time)
		}
		checkAccepted(t, tc, e, res)
	} else {
		if !errors.Is(err, tc.wantErr) {
			t.Fatalf("Apply: %v, want %v", err, tc.wantErr)
		}
		if !bytes.Equal(before, after) {
			t.Errorf("a refused Apply changed the snapshot:\nbefore: %s\nafter:  %s", before, after)
		}
		if reg.LastIndex() != last || !reg.LastTime().Equal(lastTime) {
			t.Errorf("a refused Apply moved the last entry to %d at %v", reg.LastIndex(), reg.LastTime())
		}
		if res.Intent != nil || res.Conflicts != nil || res.Alerts != nil {
			t.Errorf("a refused Apply returned a result: %+v", res)
		}
	}
	checkRefusal(t, tc, err)
	if tc.check != nil {
		tc.check(t, reg, res)
	}
}

// checkAccepted compares the result of an accepted entry e with the case's.
func checkAccepted(t *testing.T, tc ruleCase, e registry.Entry, res registry.Result) {
	t.Helper()
	if diff := cmp.Diff(tc.wantConflicts, conflictIDs(res.Conflicts), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("conflicts (-want +got):\n%s", diff)
	}
	want := slices.Clone(tc.wantAlerts)
	for i := range want {
		if want[i].ID == "" {
			want[i].ID = strconv.FormatUint(e.Index, 10) + "-" + strconv.Itoa(i+1)
		}
		if want[i].Entry == 0 {
			want[i].Entry = e.Index
		}
		if want[i].Time.IsZero() {
			want[i].Time = e.Time
		}
	}
	if diff := cmp.Diff(want, res.Alerts, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("alerts (-want +got):\n%s", diff)
	}
}

// checkRefusal checks that err is a *RefusalError exactly when the case
// expects a refusal by a conflict rule, and that it lists the right intents.
func checkRefusal(t *testing.T, tc ruleCase, err error) {
	t.Helper()
	var re *registry.RefusalError
	isRefusal := errors.As(err, &re)
	if refusal := errors.Is(tc.wantErr, registry.ErrMissingKey) || errors.Is(tc.wantErr, registry.ErrConflict); refusal != isRefusal {
		t.Fatalf("Apply: %v (%T); a *RefusalError: %v, want %v", err, err, isRefusal, refusal)
	}
	if !isRefusal {
		return
	}
	if re.Reason != tc.wantErr {
		t.Errorf("refusal reason %v, want %v", re.Reason, tc.wantErr)
	}
	if diff := cmp.Diff(tc.wantRefused, conflictIDs(re.Intents)); diff != "" {
		t.Errorf("refused for (-want +got):\n%s", diff)
	}
	for _, c := range re.Intents {
		if len(c.Pairs) == 0 {
			t.Errorf("refusal lists %s without the volumes that conflict", c.Intent.ID)
		}
		if !strings.Contains(err.Error(), string(c.Intent.ID)) {
			t.Errorf("refusal message %q does not name %s", err, c.Intent.ID)
		}
	}
}

// pairs makes a pair list from (mine, theirs) numbers.
func pairs(mineTheirs ...int) []registry.Pair {
	var out []registry.Pair
	for i := 0; i+1 < len(mineTheirs); i += 2 {
		out = append(out, registry.Pair{Mine: mineTheirs[i], Theirs: mineTheirs[i+1]})
	}
	return out
}

// manyOVNs is n OVNs that no intent has.
func manyOVNs(n int) []registry.OVN {
	out := make([]registry.OVN, n)
	for i := range out {
		out[i] = registry.OVN("junk-" + strconv.Itoa(i))
	}
	return out
}

// nVolumes is n standard volumes far apart from each other and the base.
func nVolumes(n int) []*geo.Volume {
	out := make([]*geo.Volume, n)
	for i := range out {
		out[i] = std(float64(20_000 + 1000*i))
	}
	return out
}

func withParty(a *registry.AddParty, edit func(p *registry.Party)) *registry.AddParty {
	edit(&a.Party)
	return a
}

func TestCheckPartyID(t *testing.T) {
	for _, tc := range []struct {
		id registry.PartyID
		ok bool
	}{
		{"a", true},
		{"alpha", true},
		{"a1-b_2", true},
		{registry.PartyID("a" + strings.Repeat("0", 63)), true},
		{registry.PartyID("a" + strings.Repeat("0", 64)), false},
		{"", false},
		{"1a", false},
		{"-a", false},
		{"_a", false},
		{"Alpha", false},
		{"alpHa", false},
		{"al pha", false},
		{"al.pha", false},
		{"al:pha", false},
		{"alphä", false},
	} {
		t.Run(string(tc.id), func(t *testing.T) {
			err := registry.CheckPartyID(tc.id)
			if (err == nil) != tc.ok {
				t.Fatalf("CheckPartyID(%q) = %v, want ok %v", tc.id, err, tc.ok)
			}
			if err != nil && !errors.Is(err, registry.ErrInvalid) {
				t.Errorf("CheckPartyID(%q) = %v, does not wrap ErrInvalid", tc.id, err)
			}
		})
	}
}

// TestEntryTimeOutsideUnixNanoRange: entry times are used as unix
// nanoseconds, which int64 holds only for the years 1678 to 2262. An entry
// time outside that range must not be taken for another time.
func TestEntryTimeOutsideUnixNanoRange(t *testing.T) {
	year2300 := time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC).Sub(t0)
	for _, tc := range []struct {
		name    string
		setup   []step
		entry   step
		wantErr error
		check   func(t *testing.T, reg *registry.Registry)
	}{
		{
			name:    "a file in 2300 whose volumes are all in 2026 is invalid",
			entry:   at(year2300, "alpha", file("a1", 10, nil, std(0))),
			wantErr: registry.ErrInvalid,
		},
		{
			// Entry times are limited to the years geo accepts (1970-2200),
			// so an entry in 2300 is refused and changes nothing.
			name:    "an entry in 2300 is invalid and changes nothing",
			setup:   []step{at(time.Minute, "alpha", file("a1", 10, nil, std(0)))},
			entry:   at(year2300, "root", addParty("delta", registry.RoleMember)),
			wantErr: registry.ErrInvalid,
			check: func(t *testing.T, reg *registry.Registry) {
				if s := reg.Intent("a1").State; s != registry.StateAccepted {
					t.Errorf("a1 is %s after a refused entry, want accepted", s)
				}
				if reg.Party("delta") != nil {
					t.Error("party delta was added by a refused entry")
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := newRegistry(t, registry.Config{})
			for _, s := range append(baseParties(), tc.setup...) {
				mustApply(t, reg, s)
			}
			_, err := reg.Apply(tc.entry.entry(reg.LastIndex() + 1))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Apply: %v, want %v", err, tc.wantErr)
			}
			if tc.check != nil {
				tc.check(t, reg)
			}
		})
	}
}
