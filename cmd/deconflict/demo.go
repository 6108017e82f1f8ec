package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/deconflict/deconflict/auth"
	"github.com/deconflict/deconflict/client"
	"github.com/deconflict/deconflict/geo"
	"github.com/deconflict/deconflict/ledger"
	"github.com/deconflict/deconflict/registry"
	"github.com/deconflict/deconflict/server"
	"github.com/deconflict/deconflict/service"
)

func runDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "demo", "[-keep] [-dir DIR]")
	keep := fs.Bool("keep", false, "leave the server running after the story and print how to talk to it")
	dir := fs.String("dir", "", "data directory to use (default: a new temporary one, removed at exit unless -keep)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "deconflict-demo-")
		if err != nil {
			return err
		}
		*dir = filepath.Join(d, "data")
		if !*keep {
			defer os.RemoveAll(d)
		}
	}
	quiet := &env{stdin: e.stdin, stdout: io.Discard, stderr: e.stderr}
	if err := runInit(ctx, quiet, []string{"-dir", *dir, "-listen", "127.0.0.1:0",
		"-party", "france", "-party", "usa", "-party", "russia"}); err != nil {
		return fmt.Errorf("setting up the demo: %w", err)
	}
	cfg, err := loadDir(*dir)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	run, err := startService(ctx, *dir, cfg, slog.New(slog.DiscardHandler), service.DefaultSnapshotEvery, quiet)
	if err != nil {
		ln.Close()
		return err
	}
	defer run.close()
	go run.serve(ctx, ln)
	addr := "http://" + ln.Addr().String()

	d := &demo{e: e, ctx: ctx, dir: *dir, clients: map[string]*client.Client{}, receipts: map[string]int{}, keys: map[string]ed25519.PrivateKey{}}
	lk, err := logKey(*dir, "")
	if err != nil {
		return err
	}
	for _, p := range []string{"france", "usa", "russia"} {
		key, err := auth.ReadPrivateKey(keyPath(*dir, p))
		if err != nil {
			return err
		}
		d.keys[p] = key
		keep := receiptSink(e, filepath.Join(*dir, "receipts", p+".jsonl"))
		c, err := client.New(client.Config{BaseURL: addr, Party: p, Key: key, Audience: cfg.ServiceID, LogKey: lk,
			OnReceipt: func(r *ledger.Receipt) { d.receipts[p]++; keep(r) }})
		if err != nil {
			return err
		}
		d.clients[p] = c
	}
	fmt.Fprintf(e.stdout, "deconflict demo: a service on %s (embedded store in %s)\n", addr, *dir)
	fmt.Fprintf(e.stdout, "parties: authority, france, usa, russia; policy strict; every request signed by its party's key\n\n")
	if err := d.story(); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if !*keep {
		fmt.Fprintln(e.stdout, "\ndemo complete.")
		return nil
	}
	fmt.Fprintf(e.stdout, "\nthe server keeps running at %s until you press Ctrl-C (the data directory stays in %s). Try:\n", addr, *dir)
	fmt.Fprintf(e.stdout, "  go run ./cmd/deconflict intent list -dir %s -server %s -as france\n", *dir, addr)
	fmt.Fprintf(e.stdout, "  go run ./cmd/deconflict intent get -dir %s -server %s -as france INTENT_ID   (full ids are in intent list)\n", *dir, addr)
	fmt.Fprintf(e.stdout, "  go run ./cmd/deconflict party list -dir %s -server %s\n", *dir, addr)
	fmt.Fprintf(e.stdout, "  go run ./cmd/deconflict watch -dir %s -server %s -as usa          (verify the log as usa, cosign, follow it)\n", *dir, addr)
	fmt.Fprintf(e.stdout, "  go run ./cmd/deconflict verify -dir %s -as france                  (check france's receipts and chain offline)\n", *dir)
	fmt.Fprintf(e.stdout, "  curl %s/v1/openapi.json\n", addr)
	<-ctx.Done()
	return nil
}

type demo struct {
	e       *env
	ctx     context.Context
	dir     string
	keys    map[string]ed25519.PrivateKey
	clients map[string]*client.Client
	step    int
	// receipts counts the verified receipts each party kept (the clients
	// verify every write's receipt against the log key).
	receipts map[string]int
}

func (d *demo) say(format string, args ...any) {
	fmt.Fprintf(d.e.stdout, format+"\n", args...)
}

func (d *demo) title(s string) {
	d.step++
	d.say("%d. %s", d.step, s)
}

// area is a volume over the eastern Mediterranean, starting in an hour.
func area(lat, lng, radiusM, lo, hi float64, startIn, dur time.Duration) geo.VolumeSpec {
	t0 := time.Now().UTC().Truncate(time.Minute).Add(time.Hour)
	return geo.VolumeSpec{Circle: &geo.CircleSpec{Lat: geo.Degrees(lat), Lng: geo.Degrees(lng), RadiusM: geo.Meters(radiusM)},
		AltLoM: geo.Meters(lo), AltHiM: geo.Meters(hi), Start: t0.Add(startIn), End: t0.Add(startIn + dur)}
}

func (d *demo) story() error {
	ctx, fr, us, ru := d.ctx, d.clients["france"], d.clients["usa"], d.clients["russia"]

	d.title("france and usa grant each other operational visibility; russia keeps the default (deconfliction) with both")
	for _, g := range [][2]string{{"france", "usa"}, {"usa", "france"}} {
		if _, err := d.clients[g[0]].SetGrant(ctx, registry.PartyID(g[1]), registry.LevelOperational); err != nil {
			return err
		}
	}
	d.say("   france -> usa: operational; usa -> france: operational; russia: deconfliction (sees others only where they conflict, as coarse cells)")

	d.title("france files a patrol (priority 10): a 20 km circle at 34.8N 33.0E, 3000-6000 m, for 2 h, with private details")
	a, err := fr.File(ctx, server.FileRequest{Priority: 10, Volumes: []geo.VolumeSpec{area(34.8, 33.0, 20_000, 3000, 6000, 0, 2*time.Hour)},
		Details: []byte(`{"callsign":"RAFALE 21"}`)})
	if err != nil {
		return err
	}
	d.say("   accepted: intent %s, ovn %s", short(a.Intent.ID), a.Intent.OVN)

	d.title("usa files a transit (priority 30) through the same airspace, without a key")
	transit := []geo.VolumeSpec{
		area(34.9, 32.7, 10_000, 4000, 5000, 30*time.Minute, 30*time.Minute),
		area(34.9, 33.3, 10_000, 4000, 5000, time.Hour, 30*time.Minute),
	}
	_, err = us.File(ctx, server.FileRequest{Priority: 30, Volumes: transit})
	var p *server.Problem
	if !errors.As(err, &p) || p.Type != server.TypeMissingKey {
		return fmt.Errorf("expected a missing-key refusal, got %v", err)
	}
	d.say("   refused (409 %s). usa is shown (france's grant: operational):", p.Type)
	var key []registry.OVN
	for _, it := range p.Intents {
		d.say("     %s", describe(it))
		key = append(key, it.OVN)
	}
	d.say("   what usa was shown is recorded in entry %d; france is told", p.Disclosure.Entry)

	d.title("usa re-files with the key (the OVN it was shown): higher priority, so france's patrol is preempted")
	b, err := us.File(ctx, server.FileRequest{Priority: 30, Volumes: transit, Key: key})
	if err != nil {
		return err
	}
	d.say("   accepted: intent %s; preempted: %s", short(b.Intent.ID), ids(b.Conflicts))

	d.title("russia files a survey (priority 5) across usa's transit, without a key")
	survey := []geo.VolumeSpec{area(34.9, 33.3, 5_000, 4500, 6000, time.Hour, time.Hour)}
	_, err = ru.File(ctx, server.FileRequest{Priority: 5, Volumes: survey})
	if !errors.As(err, &p) || p.Type != server.TypeMissingKey {
		return fmt.Errorf("expected a missing-key refusal, got %v", err)
	}
	d.say("   refused (409 %s). russia is shown only what it needs to deconflict (usa's grant: deconfliction):", p.Type)
	for _, it := range p.Intents {
		d.say("     %s", describe(it))
	}
	d.say("   (no extents, priority or details; usa is told that russia was shown its transit)")

	d.title("russia declares an emergency: a contingent operation across both is accepted at once")
	emergency := []geo.VolumeSpec{area(34.85, 33.0, 30_000, 0, 8000, 15*time.Minute, 75*time.Minute)}
	c, err := ru.File(ctx, server.FileRequest{Priority: 0, State: registry.StateContingent, Volumes: emergency})
	if err != nil {
		return err
	}
	d.say("   accepted: intent %s (contingent); owners alerted: %s", short(c.Intent.ID), ids(c.Conflicts))

	d.title("usa and russia talk on the hotline of their conflict, and russia moves its emergency below the transit")
	cid := registry.ConflictIDOf(b.Intent.ID, c.Intent.ID)
	if _, err := us.PostMessage(ctx, cid, "our transit crosses at 4000-5000 m: can your emergency stay below 3500 m?"); err != nil {
		return err
	}
	if _, err := ru.PostMessage(ctx, cid, "yes: descending to 0-3500 m now"); err != nil {
		return err
	}
	emergency[0].AltHiM = 3500
	if _, err := ru.Update(ctx, c.Intent.ID, server.UpdateRequest{OVN: c.Intent.OVN, Priority: 0, Volumes: emergency}); err != nil {
		return err
	}
	h, err := us.Hotline(ctx, cid)
	if err != nil {
		return err
	}
	for _, m := range h.Messages {
		d.say("   %s: %s", m.From, m.Text)
	}
	d.say("   conflict %s...: %s (the two intents no longer conflict)", short(b.Intent.ID), h.Status)

	d.title("france moves its patrol north, out of the way (update with its current OVN)")
	moved := []geo.VolumeSpec{area(35.6, 33.0, 20_000, 3000, 6000, 0, 2*time.Hour)}
	cur, err := fr.Get(ctx, a.Intent.ID)
	if err != nil {
		return err
	}
	up, err := fr.Update(ctx, a.Intent.ID, server.UpdateRequest{OVN: cur.OVN, Priority: 10, Volumes: moved})
	if err != nil {
		return err
	}
	d.say("   updated: new ovn %s, no conflicts left", up.Intent.OVN)

	d.title("france retries an update with the OVN it had before: refused as stale")
	_, err = fr.Update(ctx, a.Intent.ID, server.UpdateRequest{OVN: cur.OVN, Priority: 10, Volumes: moved})
	if !errors.As(err, &p) || p.Type != server.TypeStaleOVN {
		return fmt.Errorf("expected a stale-ovn refusal, got %v", err)
	}
	d.say("   refused (409 %s): %s", p.Type, p.Title)

	d.say("\nwhat each party sees of the others now:")
	for _, look := range []struct {
		who  string
		id   registry.IntentID
		what string
	}{
		{"usa", a.Intent.ID, "france's patrol"},
		{"france", b.Intent.ID, "usa's transit"},
		{"russia", b.Intent.ID, "usa's transit"},
		{"usa", c.Intent.ID, "russia's emergency"},
	} {
		v, err := d.clients[look.who].Get(ctx, look.id)
		switch {
		case errors.As(err, &p) && p.Type == server.TypeNotFound:
			d.say("  %-7s %s: nothing (deconfliction grant, and no conflict with its own intents)", look.who, look.what)
		case err != nil:
			return err
		default:
			d.say("  %-7s %s: %s", look.who, look.what, describe(*v))
		}
	}

	d.say("\nthe alerts each party received, then acknowledged (each acknowledgement is a log entry):")
	for _, name := range []string{"france", "usa", "russia"} {
		as, err := d.clients[name].Alerts(ctx, 0, false)
		if err != nil {
			return err
		}
		if len(as) == 0 {
			d.say("  %-7s no alerts", name)
		}
		for _, a := range as {
			r, err := d.clients[name].Ack(ctx, a.ID)
			if err != nil {
				return err
			}
			d.say("  %-7s %s -> acknowledged in entry %d", name, alertLine(a), r.Entry)
		}
	}
	return d.witness()
}

// witness shows the verifiable record: the receipts each party's client
// verified and kept, then each party checking the log as a witness and
// cosigning its checkpoint.
func (d *demo) witness() error {
	d.say("\nthe record (a Merkle log; every answer to a write carried a receipt its client verified against the log key):")
	for _, name := range []string{"france", "usa", "russia"} {
		d.say("  %-7s %s kept in %s", name, plural(d.receipts[name], "receipt"), filepath.Join(d.dir, "receipts", name+".jsonl"))
	}
	d.say("each party checks the log (signature, every public leaf against the tree, its own entries' content, its receipts) and cosigns:")
	for _, name := range []string{"france", "usa", "russia"} {
		var out strings.Builder
		w, err := makeWatcher(&out, d.clients[name], d.keys[name], chainPath(d.dir, name),
			filepath.Join(d.dir, "receipts", name+".jsonl"), filepath.Join(d.dir, "gossip"), filepath.Join(d.dir, "keys"))
		if err != nil {
			return err
		}
		if err := w.start(d.ctx); err != nil {
			return err
		}
		if err := w.step(d.ctx); err != nil {
			return fmt.Errorf("%s witnessing the log: %w", name, err)
		}
		d.say("  %-7s %s", name, strings.ReplaceAll(strings.TrimSpace(out.String()), "\n", "; "))
	}
	signed, err := d.clients["france"].Checkpoint(d.ctx, client.WitnessedCheckpoint)
	if err != nil {
		return err
	}
	c, err := ledger.ParseCheckpoint(signed)
	if err != nil {
		return err
	}
	d.say("the service now serves a witnessed checkpoint of %d entries carrying %d signatures (the log's and the parties'); anyone with %s can check it offline:",
		c.Size, strings.Count(string(signed), "\n— "), filepath.Join(d.dir, "log.vkey"))
	for _, l := range strings.Split(strings.TrimSpace(string(signed)), "\n") {
		d.say("    %s", l)
	}
	return nil
}

func short(id registry.IntentID) string {
	if len(id) > 8 {
		return string(id[:8])
	}
	return string(id)
}

func ids(vs []server.IntentView) string {
	if len(vs) == 0 {
		return "none"
	}
	var s []string
	for _, v := range vs {
		s = append(s, short(v.ID)+" ("+string(v.Owner)+")")
	}
	return strings.Join(s, ", ")
}
