package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/deconflict/deconflict/auth"
	"github.com/deconflict/deconflict/geo"
	"github.com/deconflict/deconflict/registry"
	"github.com/deconflict/deconflict/service"
)

// TestWatchCatchesForgedEntries: an operator who writes entries in a
// party's name, without a request that party signed (none at all, or one
// signed by another party's key), is caught by that party's watch; its
// genuine entries pass.
func TestWatchCatchesForgedEntries(t *testing.T) {
	cases := []struct {
		name  string
		forge func(t *testing.T, dir string, cmd *service.Command)
	}{
		{"no request", func(t *testing.T, dir string, cmd *service.Command) {}},
		{"request signed by usa", func(t *testing.T, dir string, cmd *service.Command) {
			key, err := auth.ReadPrivateKey(keyPath(dir, "usa"))
			if err != nil {
				t.Fatal(err)
			}
			cfg, _ := loadDir(dir)
			body := []byte(`{"priority":1,"volumes":[]}`)
			tok, err := auth.Sign(key, "france", cfg.ServiceID, body, time.Now(), time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			cmd.Request = &service.Request{Method: "POST", Path: "/v1/intents", Token: tok, Body: body}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			dir, addr, r := serveParties(t, ctx, "france", "usa")
			t0 := time.Now().UTC().Add(time.Hour).Truncate(time.Minute)
			vol := `[{"circle":{"lat":34.8,"lng":33.0,"radius_m":2000},"alt_lo_m":0,"alt_hi_m":100,"start":"` +
				t0.Format(time.RFC3339) + `","end":"` + t0.Add(time.Hour).Format(time.RFC3339) + `"}]`
			f := writeFile(t, t.TempDir(), "v.json", vol)
			var out bytes.Buffer
			if err := run(ctx, []string{"intent", "file", "-dir", dir, "-server", addr, "-as", "france", "-f", f}, nil, &out, &out); err != nil {
				t.Fatalf("genuine filing: %v\n%s", err, out.String())
			}
			watch := func() (string, error) {
				var out bytes.Buffer
				err := run(ctx, []string{"watch", "-dir", dir, "-server", addr, "-as", "france", "-once"}, nil, &out, &out)
				return out.String(), err
			}
			if o, err := watch(); err != nil {
				t.Fatalf("watch over genuine entries: %v\n%s", err, o)
			}

			// The operator files in france's name, bypassing the API.
			v, err := geo.NewVolume(geo.VolumeSpec{Circle: &geo.CircleSpec{Lat: 10, Lng: 10, RadiusM: 100}, AltLoM: 0, AltHiM: 100,
				Start: t0, End: t0.Add(time.Hour)}, geo.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			cmd := service.Command{Entry: registry.Entry{Party: "france", Kind: registry.KindFile,
				File: &registry.File{Priority: 1, Volumes: []*geo.Volume{v}}}}
			tc.forge(t, dir, &cmd)
			o, err := r.svc.Submit(ctx, cmd)
			if err != nil {
				t.Fatal(err)
			}
			msg, err := watch()
			if err == nil || !strings.Contains(err.Error(), "FORGED ENTRY") || !strings.Contains(err.Error(), itoa(int(o.Entry.Index))) {
				t.Fatalf("watch after a forged entry %d: err = %v, want FORGED ENTRY naming it\n%s", o.Entry.Index, err, msg)
			}
		})
	}
}

// TestWatchCatchesForgedPartyEntries: request-less party entries in the
// authority's name are the set-up's only; after the authority's first
// signed request, one is a forgery.
func TestWatchCatchesForgedPartyEntries(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir, addr, r := serveParties(t, ctx, "france")
	watch := func() (string, error) {
		var out bytes.Buffer
		err := run(ctx, []string{"watch", "-dir", dir, "-server", addr, "-as", "authority", "-once"}, nil, &out, &out)
		return out.String(), err
	}
	if o, err := watch(); err != nil {
		t.Fatalf("watch over the set-up: %v\n%s", err, o)
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"party", "add", "-dir", dir, "-server", addr, "-id", "italy", "-generate"}, nil, &out, &out); err != nil {
		t.Fatalf("party add: %v\n%s", err, out.String())
	}
	if o, err := watch(); err != nil {
		t.Fatalf("watch after a signed party add: %v\n%s", err, o)
	}
	pub, _, _ := auth.GenerateKey()
	o, err := r.svc.Submit(ctx, service.Command{Entry: registry.Entry{Party: "authority", Kind: registry.KindAddParty,
		AddParty: &registry.AddParty{Party: registry.Party{ID: "mole", Name: "mole", Role: registry.RoleMember, PublicKey: pub}}}})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := watch()
	if err == nil || !strings.Contains(err.Error(), "FORGED ENTRY") || !strings.Contains(err.Error(), itoa(int(o.Entry.Index))) {
		t.Fatalf("watch after a forged party entry %d: err = %v\n%s", o.Entry.Index, err, msg)
	}
}
