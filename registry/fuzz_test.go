package registry_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/deconflict/deconflict/geo"
	"github.com/deconflict/deconflict/registry"
)

// fuzzSetup is the state every fuzz input is applied to: the parties root,
// alpha and bravo, alpha's intent a1, bravo's b1 (preempting a1), and
// alpha's a2, activated. Its last entry is index 6 at t0+3m.
func fuzzSetup() []step {
	const m, h = time.Minute, time.Hour
	long := circle(0, 100, 0, 120, 1*h, 6*24*h)
	return []step{
		at(0, "root", addParty("root", registry.RoleAuthority)),
		at(0, "root", addParty("alpha", registry.RoleMember)),
		at(0, "root", addParty("bravo", registry.RoleMember)),
		at(1*m, "alpha", file("a1", 10, nil, long, std(5000))),
		at(2*m, "bravo", file("b1", 20, key("a1-v1"), std(0))),
		at(3*m, "alpha", &registry.File{Intent: "a2", NewOVN: "a2-v1", State: registry.StateActivated, Volumes: nVolumes(2)}),
	}
}

// fuzzSeeds are valid entries of every kind that follow fuzzSetup.
func fuzzSeeds() []registry.Entry {
	const m = time.Minute
	steps := []step{
		at(10*m, "bravo", file("b2", 30, key("a1-v1"), std(50), std(-50))),
		at(10*m, "bravo", file("b2", 5, nil, far())),
		at(10*m, "bravo", &registry.File{Intent: "b2", NewOVN: "b2-v1", State: registry.StateContingent, Volumes: []*geo.Volume{std(0)}}),
		at(10*m, "alpha", update("a1", "a1-v1", "a1-v2", 50, key("b1-v1"), std(0))),
		at(10*m, "alpha", setState("a1", "a1-v1", "a1-v2", registry.StateContingent)),
		at(10*m, "alpha", setState("a2", "a2-v1", "a2-v2", registry.StateContingent)),
		at(10*m, "bravo", end("b1", "b1-v1", "b1-v2")),
		at(10*m, "root", addParty("charlie", registry.RoleAuthority)),
		at(10*m, "root", &registry.RevokeParty{Party: "alpha"}),
		at(7*24*time.Hour, "root", &registry.RevokeParty{Party: "alpha"}),
	}
	out := make([]registry.Entry, len(steps))
	for i, s := range steps {
		out[i] = s.entry(7)
	}
	return out
}

// TestFuzzSeeds: the seeds of FuzzEntryJSON are accepted and survive a JSON
// round trip, so that fuzzing starts from entries that get deep.
func TestFuzzSeeds(t *testing.T) {
	for i, e := range fuzzSeeds() {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var d registry.Entry
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("seed %d: %v\n%s", i, err, b)
		}
		reg := newRegistry(t, registry.Config{})
		for _, s := range fuzzSetup() {
			mustApply(t, reg, s)
		}
		if _, err := reg.Apply(d); err != nil {
			t.Errorf("seed %d (%s by %s): %v", i, d.Kind, d.Party, err)
		}
	}
}

// FuzzEntryJSON decodes arbitrary bytes as an Entry and applies it. It must
// never panic; Check must decide as Apply does; a refused entry must leave
// the state as it was, even if its time is past the end of some intents; an
// accepted one must leave a state that Snapshot and Restore round-trip.
func FuzzEntryJSON(f *testing.F) {
	for _, e := range fuzzSeeds() {
		b, err := json.Marshal(e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{}`, `null`, `[]`, `{"index":7}`,
		`{"index":7,"time":"2026-01-01T00:10:00Z","party":"alpha","kind":"file","file":{"intent":"x","new_ovn":"1","volumes":[null]}}`,
		`{"index":7,"time":"2026-01-01T00:10:00Z","party":"alpha","kind":"end","end":{"intent":"a1","ovn":"a1-v1","new_ovn":"a1-v2"},"file":{}}`,
		`{"index":7,"time":"9999-12-31T23:59:59+23:59","party":"root","kind":"add_party","add_party":{"party":{"id":"z","name":"z","role":"member","public_key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var e registry.Entry
		if err := json.Unmarshal(data, &e); err != nil {
			return
		}
		reg := newRegistry(t, registry.Config{})
		for _, s := range fuzzSetup() {
			mustApply(t, reg, s)
		}
		last, lastTime := reg.LastIndex(), reg.LastTime()
		before := snapshot(t, reg)

		cres, cerr := reg.Check(e)
		if !bytes.Equal(before, snapshot(t, reg)) {
			t.Fatal("Check changed the state")
		}
		res, err := reg.Apply(e)
		if e.Index == last+1 {
			if errString(cerr) != errString(err) {
				t.Fatalf("Check and Apply disagree:\nCheck: %v\nApply: %v", cerr, err)
			}
			if diff := cmp.Diff(res.Alerts, cres.Alerts, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("Check and Apply alerts differ (-apply +check):\n%s", diff)
			}
		}
		if err != nil {
			if reg.LastIndex() != last || !reg.LastTime().Equal(lastTime) {
				t.Fatalf("refused (%v) but the last entry moved to %d", err, reg.LastIndex())
			}
			if !bytes.Equal(before, snapshot(t, reg)) {
				t.Fatalf("refused (%v) but the state changed", err)
			}
			return
		}
		if reg.LastIndex() != e.Index {
			t.Fatalf("accepted, but LastIndex is %d, not %d", reg.LastIndex(), e.Index)
		}
		snap, err := reg.Snapshot()
		if err != nil {
			t.Fatalf("accepted %s, then Snapshot: %v", data, err)
		}
		restored := newRegistry(t, registry.Config{})
		if err := restored.Restore(snap); err != nil {
			t.Fatalf("Restore of a Snapshot: %v\n%s", err, snap)
		}
		if again := snapshot(t, restored); !bytes.Equal(again, snap) {
			t.Fatalf("Snapshot/Restore does not round-trip:\n%s\n%s", snap, again)
		}
	})
}
