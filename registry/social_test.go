package registry_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/deconflict/deconflict/registry"
)

// socialSetup: alpha files a1, bravo files b1 over it with the key (lower
// priority first so nothing is refused): alpha is alerted (entry 6).
func socialSetup(t *testing.T) *registry.Registry {
	t.Helper()
	reg := newRegistry(t, registry.Config{Policy: registry.PolicyAware})
	for _, s := range baseParties() {
		mustApply(t, reg, s)
	}
	mustApply(t, reg, at(time.Minute, "alpha", file("a1", 10, nil, std(0))))
	mustApply(t, reg, at(2*time.Minute, "bravo", file("b1", 10, key(ovn1("a1")), std(50))))
	return reg
}

func apply(reg *registry.Registry, d time.Duration, party registry.PartyID, cmd any) (registry.Result, error) {
	return reg.Apply(at(d, party, cmd).entry(reg.LastIndex() + 1))
}

func TestGrants(t *testing.T) {
	reg := socialSetup(t)
	if l := reg.Grant("alpha", "bravo"); l != registry.LevelDeconfliction {
		t.Fatalf("default grant %q, want deconfliction", l)
	}
	for _, tc := range []struct {
		name  string
		party registry.PartyID
		g     registry.SetGrant
		want  error
	}{
		{"unknown level", "alpha", registry.SetGrant{To: "bravo", Level: "secret"}, registry.ErrInvalid},
		{"unknown party", "alpha", registry.SetGrant{To: "zulu", Level: registry.LevelFull}, registry.ErrNotFound},
		{"to itself", "alpha", registry.SetGrant{To: "alpha", Level: registry.LevelFull}, registry.ErrInvalid},
		{"unknown granter", "zulu", registry.SetGrant{To: "alpha", Level: registry.LevelFull}, registry.ErrForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := tc.g
			if _, err := apply(reg, 3*time.Minute, tc.party, &g); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	mustApply(t, reg, at(3*time.Minute, "alpha", &registry.SetGrant{To: "bravo", Level: registry.LevelOperational}))
	if l := reg.Grant("alpha", "bravo"); l != registry.LevelOperational {
		t.Fatalf("grant %q, want operational", l)
	}
	if l := reg.Grant("bravo", "alpha"); l != registry.LevelDeconfliction {
		t.Fatalf("grants are directed: bravo->alpha is %q", l)
	}
	mustApply(t, reg, at(3*time.Minute, "alpha", &registry.SetGrant{To: "bravo", Level: registry.LevelDeconfliction}))
	if gs := reg.Grants(); len(gs) != 0 {
		t.Fatalf("back to the default, grants list %v", gs)
	}
}

func TestAck(t *testing.T) {
	reg := socialSetup(t)
	as := reg.Alerts("alpha", 0)
	if len(as) != 1 {
		t.Fatalf("alpha has %d alerts, want 1", len(as))
	}
	id := as[0].ID
	if _, err := apply(reg, 3*time.Minute, "bravo", &registry.Ack{Alert: id}); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("bravo acking alpha's alert: %v, want not found", err)
	}
	if _, err := apply(reg, 3*time.Minute, "alpha", &registry.Ack{Alert: "99-1"}); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("unknown alert: %v", err)
	}
	mustApply(t, reg, at(3*time.Minute, "alpha", &registry.Ack{Alert: id}))
	a, ok := reg.Acked(id)
	if !ok || a.Entry != reg.LastIndex() {
		t.Fatalf("ack record %+v, %v", a, ok)
	}
	if _, err := apply(reg, 4*time.Minute, "alpha", &registry.Ack{Alert: id}); !errors.Is(err, registry.ErrExists) {
		t.Fatalf("second ack: %v, want exists", err)
	}
}

func TestDisclose(t *testing.T) {
	reg := socialSetup(t)
	a1 := reg.Intent("a1")
	// Filing and alert disclosures were recorded by b1's filing.
	ds := reg.Disclosures("alpha", 0)
	if len(ds) != 1 || ds[0].To != "bravo" || ds[0].Intent != "a1" || ds[0].Reason != "filing" {
		t.Fatalf("alpha's disclosures %+v, want a1 shown to bravo by its filing", ds)
	}
	if ds := reg.Disclosures("bravo", 0); len(ds) != 1 || ds[0].To != "alpha" || ds[0].Reason != "alert" {
		t.Fatalf("bravo's disclosures %+v, want b1 shown to alpha in an alert", ds)
	}
	bad := []registry.Disclose{
		{Reason: "curiosity", Intents: []registry.DisclosedIntent{{Intent: "a1", Owner: "alpha", OVN: a1.OVN, Level: registry.LevelDeconfliction}}},
		{Reason: "missing-key"},
		{Reason: "missing-key", Intents: []registry.DisclosedIntent{{Intent: "a1", Owner: "bravo", OVN: a1.OVN, Level: registry.LevelDeconfliction}}},
		{Reason: "missing-key", Intents: []registry.DisclosedIntent{{Intent: "a1", Owner: "alpha", OVN: a1.OVN, Level: "x"}}},
	}
	for i, d := range bad {
		if _, err := apply(reg, 3*time.Minute, "charlie", &d); !errors.Is(err, registry.ErrInvalid) {
			t.Errorf("bad disclosure %d: %v, want invalid", i, err)
		}
	}
	res := mustApply(t, reg, at(3*time.Minute, "charlie", &registry.Disclose{Reason: "missing-key",
		Intents: []registry.DisclosedIntent{{Intent: "a1", Owner: "alpha", OVN: a1.OVN, Level: registry.LevelDeconfliction}}}))
	if len(res.Alerts) != 1 || res.Alerts[0].To != "alpha" || res.Alerts[0].Kind != registry.AlertDisclosed || res.Alerts[0].ByParty != "charlie" {
		t.Fatalf("alerts %+v, want alpha told charlie was shown a1", res.Alerts)
	}
	ds = reg.Disclosures("alpha", 6)
	if len(ds) != 1 || ds[0].To != "charlie" || ds[0].Reason != "missing-key" {
		t.Fatalf("disclosures after the refusal %+v", ds)
	}
}

func TestHotline(t *testing.T) {
	reg := socialSetup(t)
	id := registry.ConflictIDOf("b1", "a1")
	if id != "a1~b1" {
		t.Fatalf("conflict id %q", id)
	}
	for _, tc := range []struct {
		name  string
		party registry.PartyID
		cmd   any
		want  error
	}{
		{"not a party to it", "charlie", &registry.Message{Conflict: id, Text: "hi"}, registry.ErrForbidden},
		{"malformed id", "alpha", &registry.Message{Conflict: "b1~a1", Text: "hi"}, registry.ErrInvalid},
		{"unknown intents", "alpha", &registry.Message{Conflict: "a1~zz", Text: "hi"}, registry.ErrNotFound},
		{"empty text", "alpha", &registry.Message{Conflict: id, Text: ""}, registry.ErrInvalid},
		{"text too long", "alpha", &registry.Message{Conflict: id, Text: string(bytes.Repeat([]byte("x"), registry.MaxMessage+1))}, registry.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := apply(reg, 3*time.Minute, tc.party, tc.cmd); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	res := mustApply(t, reg, at(3*time.Minute, "alpha", &registry.Message{Conflict: id, Text: "can you climb 500 m?"}))
	if len(res.Alerts) != 1 || res.Alerts[0].To != "bravo" || res.Alerts[0].Kind != registry.AlertMessage || res.Alerts[0].Conflict != id {
		t.Fatalf("message alerts %+v", res.Alerts)
	}
	mustApply(t, reg, at(4*time.Minute, "bravo", &registry.Message{Conflict: id, Text: "yes"}))
	mustApply(t, reg, at(5*time.Minute, "bravo", &registry.Coordinate{Conflict: id}))
	if _, err := apply(reg, 5*time.Minute, "bravo", &registry.Coordinate{Conflict: id}); !errors.Is(err, registry.ErrExists) {
		t.Fatalf("coordinating twice: %v", err)
	}
	mustApply(t, reg, at(6*time.Minute, "alpha", &registry.Coordinate{Conflict: id}))
	h := reg.Hotline(id)
	if h == nil || len(h.Messages) != 2 || h.Messages[0].From != "alpha" || len(h.Coordinated) != 2 {
		t.Fatalf("hotline %+v", h)
	}
	if len(reg.ConflictBetween("a1", "b1")) == 0 {
		t.Fatal("a1 and b1 should still conflict")
	}
}

func TestWebhookAndDetails(t *testing.T) {
	reg := socialSetup(t)
	for _, u := range []string{"http://example.com/x", "https://", "https://u:p@example.com/", "ftp://x", "https://example.com/#frag", "/relative"} {
		if _, err := apply(reg, 3*time.Minute, "alpha", &registry.SetWebhook{URL: u}); !errors.Is(err, registry.ErrInvalid) {
			t.Errorf("webhook %q: %v, want invalid", u, err)
		}
	}
	mustApply(t, reg, at(3*time.Minute, "alpha", &registry.SetWebhook{URL: "https://alpha.example/hook"}))
	if reg.Webhook("alpha") != "https://alpha.example/hook" {
		t.Fatal("webhook not kept")
	}
	for _, d := range []string{"[1]", "not json", `"s"`, "{" + string(bytes.Repeat([]byte(" "), registry.MaxDetails)) + "}"} {
		f := file("a9", 10, nil, far())
		f.Details = []byte(d)
		if _, err := apply(reg, 3*time.Minute, "alpha", f); !errors.Is(err, registry.ErrInvalid) {
			t.Errorf("details %.20q: %v, want invalid", d, err)
		}
	}
	f := file("a9", 10, nil, far())
	f.Details = []byte(`{"callsign":"RAFALE 21"}`)
	mustApply(t, reg, at(3*time.Minute, "alpha", f))
	u := update("a9", ovn1("a9"), "a9-v2", 10, nil, far())
	mustApply(t, reg, at(4*time.Minute, "alpha", u))
	if string(reg.Intent("a9").Details) != `{"callsign":"RAFALE 21"}` {
		t.Fatalf("an update without details keeps them; got %s", reg.Intent("a9").Details)
	}
}

// TestSocialSnapshot: grants, acks, disclosures, hotlines, webhooks and
// details survive a snapshot round trip byte for byte.
func TestSocialSnapshot(t *testing.T) {
	reg := socialSetup(t)
	id := registry.ConflictIDOf("a1", "b1")
	mustApply(t, reg, at(3*time.Minute, "alpha", &registry.SetGrant{To: "bravo", Level: registry.LevelFull}))
	mustApply(t, reg, at(3*time.Minute, "alpha", &registry.Ack{Alert: reg.Alerts("alpha", 0)[0].ID}))
	mustApply(t, reg, at(3*time.Minute, "alpha", &registry.Message{Conflict: id, Text: "hello"}))
	mustApply(t, reg, at(3*time.Minute, "bravo", &registry.Coordinate{Conflict: id}))
	mustApply(t, reg, at(3*time.Minute, "bravo", &registry.SetWebhook{URL: "https://b.example/h"}))
	f := file("c1", 5, nil, far())
	f.Details = []byte(`{"a":1}`)
	mustApply(t, reg, at(3*time.Minute, "charlie", f))
	snap := snapshot(t, reg)
	again := newRegistry(t, registry.Config{Policy: registry.PolicyAware})
	if err := again.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(snapshot(t, again), snap) {
		t.Fatal("snapshot round trip differs")
	}
	if again.Grant("alpha", "bravo") != registry.LevelFull || again.Webhook("bravo") == "" || again.Hotline(id) == nil ||
		string(again.Intent("c1").Details) != `{"a":1}` || len(again.Disclosures("alpha", 0)) == 0 {
		t.Fatal("restored state lacks what was snapshotted")
	}
	if _, ok := again.Acked(reg.Alerts("alpha", 0)[0].ID); !ok {
		t.Fatal("ack lost")
	}
}

// TestAlertsKeptBounded: a party's alerts and disclosures are bounded
// (between MaxAlerts and MaxAlerts·5/4, the newest kept), however many
// come.
func TestAlertsKeptBounded(t *testing.T) {
	reg := newRegistry(t, registry.Config{Policy: registry.PolicyAware})
	for _, s := range baseParties() {
		mustApply(t, reg, s)
	}
	mustApply(t, reg, at(time.Minute, "alpha", file("a1", 10, nil, std(0))))
	a1 := reg.Intent("a1")
	n := registry.MaxAlerts*2 + 7
	for i := range n {
		mustApply(t, reg, at(time.Minute, "bravo", &registry.Disclose{Reason: "missing-key",
			Intents: []registry.DisclosedIntent{{Intent: "a1", Owner: "alpha", OVN: a1.OVN, Level: registry.LevelDeconfliction}}}))
		_ = i
	}
	as, ds := reg.Alerts("alpha", 0), reg.Disclosures("alpha", 0)
	for name, got := range map[string]int{"alerts": len(as), "disclosures": len(ds)} {
		if got < registry.MaxAlerts || got > registry.MaxAlerts+registry.MaxAlerts/4 {
			t.Errorf("%d %s kept, want %d to %d", got, name, registry.MaxAlerts, registry.MaxAlerts+registry.MaxAlerts/4)
		}
	}
	if last := as[len(as)-1]; last.Entry != reg.LastIndex() {
		t.Errorf("the newest alert (entry %d) was not kept (last %d)", reg.LastIndex(), last.Entry)
	}
}
