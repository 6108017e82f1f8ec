package main

// End-to-end fork tests: a service that shows two parties two different
// histories is caught when the checkpoints the parties cosigned meet in a
// gossip directory.
//
// The forking operator runs two servers from copies of one data
// directory: the same service key and origin, so every checkpoint either
// server signs verifies with the one log key the parties hold. france
// talks only to server A, usa only to server B. After a common start (the
// entries of init) each server records different filings.

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/deconflict/deconflict/ledger"
)

// fork is a forked service: france's view on a, usa's on b.
type fork struct {
	dirA, dirB string
	a, b       *testServer
}

// newFork inits one data directory, copies it (the operator's second,
// forked service) and serves both.
func newFork(t *testing.T) *fork {
	t.Helper()
	f := &fork{dirA: initDir(t)}
	f.dirB = filepath.Join(t.TempDir(), "forked")
	copyDir(t, f.dirA, f.dirB)
	f.a, f.b = serveDir(t, f.dirA), serveDir(t, f.dirB)
	return f
}

// watchFrance and watchUSA run one round of each party's watch against its
// own server, with gossip directory g.
func (f *fork) watchFrance(g string) (string, error) {
	return dc(watchArgs(f.dirA, f.a.addr, "france", "-gossip", g)...)
}

func (f *fork) watchUSA(g string) (string, error) {
	return dc(watchArgs(f.dirB, f.b.addr, "usa", "-gossip", g)...)
}

// diverge files nA intents as france on server A and nB as usa on B.
func (f *fork) diverge(t *testing.T, nA, nB int) {
	t.Helper()
	for i := range nA {
		fileIntent(t, f.dirA, f.a.addr, "france", i)
	}
	for i := range nB {
		fileIntent(t, f.dirB, f.b.addr, "usa", i)
	}
}

// checkForkError asserts that err reports the fork: an
// *ledger.InconsistencyError (ledger.ErrInconsistent) naming the fork,
// whose two checkpoints are both signed by the log. If sameSize, the two
// checkpoints have the same size and different roots: the pair alone
// proves the fork to anyone holding the log key.
func checkForkError(t *testing.T, who, out string, err error, logKey string, sameSize bool) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s's watch did not notice the fork:\n%s", who, out)
	}
	if !errors.Is(err, ledger.ErrInconsistent) {
		t.Fatalf("%s's watch failed, but not with ledger.ErrInconsistent: %v\n%s", who, err, out)
	}
	if !strings.Contains(out, "FORK") {
		t.Errorf("%s's watch error does not say FORK:\n%s", who, out)
	}
	var ie *ledger.InconsistencyError
	if !errors.As(err, &ie) {
		t.Fatalf("%s: no *ledger.InconsistencyError in %v", who, err)
	}
	v, verr := note.NewVerifier(logKey)
	if verr != nil {
		t.Fatal(verr)
	}
	oc, _, oerr := ledger.OpenCheckpoint(ie.Old, v)
	nc, _, nerr := ledger.OpenCheckpoint(ie.New, v)
	if oerr != nil || nerr != nil {
		t.Fatalf("%s: the evidence is not two checkpoints signed by the log: %v, %v", who, oerr, nerr)
	}
	if sameSize && (oc.Size != nc.Size || oc.Root == nc.Root) {
		t.Errorf("%s: the evidence is checkpoints of %d (root %v) and %d (root %v), want one size and two roots", who, oc.Size, oc.Root, nc.Size, nc.Root)
	}
	if !sameSize && oc.Size == nc.Size {
		t.Errorf("%s: the evidence is two checkpoints of size %d, want two sizes", who, oc.Size)
	}
	t.Logf("%s: %v", who, err)
}

func readLogKey(t *testing.T, dir string) string {
	t.Helper()
	k, err := logKey(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// testFork runs the fork scenarios with france's history nA entries past
// the common start and usa's nB.
func testFork(t *testing.T, nA, nB int) {
	sameSize := nA == nB

	// One gossip directory shared from the start. Before the servers
	// diverge both parties watch once and publish the common checkpoint
	// (no fork yet). Then france files on A and usa on B; france's watch
	// meets usa's pre-fork checkpoint (a prefix of its log: fine) and
	// publishes its own; usa's watch meets france's checkpoint and must
	// report the fork.
	t.Run("shared gossip", func(t *testing.T) {
		f := newFork(t)
		g := t.TempDir()
		for _, w := range []func(string) (string, error){f.watchFrance, f.watchUSA} {
			if out, err := w(g); err != nil {
				t.Fatalf("watch before the fork: %v\n%s", err, out)
			}
		}
		f.diverge(t, nA, nB)
		if out, err := f.watchFrance(g); err != nil {
			t.Fatalf("france's watch failed before any post-fork checkpoint of usa's was published: %v\n%s", err, out)
		}
		if _, err := os.Stat(filepath.Join(g, "france.checkpoint")); err != nil {
			t.Fatalf("france's watch published no checkpoint: %v", err)
		}
		out, err := f.watchUSA(g)
		// usa's view (nB entries) is shorter than or as long as france's:
		// either the roots at france's size differ (FORK) or server B
		// cannot prove france's checkpoint extends usa's (FORK?). With
		// equal sizes, usa's last accepted checkpoint and france's are the
		// self-proving pair.
		checkForkError(t, "usa", out, err, readLogKey(t, f.dirB), sameSize)
		// And it stays caught.
		out, err = f.watchUSA(g)
		checkForkError(t, "usa (again)", out, err, readLogKey(t, f.dirB), sameSize)
		// usa published the checkpoint it was shown before comparing, so
		// france's next watch meets it and sees the fork too.
		out, err = f.watchFrance(g)
		checkForkError(t, "france (next)", out, err, readLogKey(t, f.dirB), sameSize)
	})

	// Each party has its own gossip directory while the servers diverge,
	// so each accepts, cosigns and publishes its own view. Then the
	// directories are merged (the cosigned checkpoints meet): the next
	// watch of either party must report the fork.
	t.Run("gossip merged later", func(t *testing.T) {
		f := newFork(t)
		ga, gb := t.TempDir(), t.TempDir()
		f.diverge(t, nA, nB)
		if out, err := f.watchFrance(ga); err != nil {
			t.Fatalf("france: %v\n%s", err, out)
		}
		if out, err := f.watchUSA(gb); err != nil {
			t.Fatalf("usa: %v\n%s", err, out)
		}
		for _, m := range []struct{ from, to, name string }{{ga, gb, "france.checkpoint"}, {gb, ga, "usa.checkpoint"}} {
			b, err := os.ReadFile(filepath.Join(m.from, m.name))
			if err != nil {
				t.Fatalf("no cosigned checkpoint published: %v", err)
			}
			if err := os.WriteFile(filepath.Join(m.to, m.name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		out, err := f.watchFrance(ga)
		checkForkError(t, "france", out, err, readLogKey(t, f.dirA), sameSize)
		out, err = f.watchUSA(gb)
		checkForkError(t, "usa", out, err, readLogKey(t, f.dirB), sameSize)
	})
}

// TestForkSameSize: both servers have the same number of entries, with
// different roots.
func TestForkSameSize(t *testing.T) { testFork(t, 2, 2) }

// TestForkDifferentSize: france's server has more entries than usa's.
func TestForkDifferentSize(t *testing.T) { testFork(t, 3, 1) }

// TestForkNoneOnOneServer: two parties following one honest server with
// a shared gossip directory never see a fork, over several rounds of
// filings and watches in varying order (so that each often meets a
// checkpoint larger or smaller than its own).
func TestForkNoneOnOneServer(t *testing.T) {
	dir := initDir(t)
	srv := serveDir(t, dir)
	g := t.TempDir()
	watch := func(p string) {
		t.Helper()
		if out, err := dc(watchArgs(dir, srv.addr, p, "-gossip", g)...); err != nil {
			t.Fatalf("round watch as %s on an honest server: %v\n%s", p, err, out)
		}
	}
	n := 0
	for round := range 4 {
		fileIntent(t, dir, srv.addr, "france", n)
		n++
		if round%2 == 0 {
			watch("france") // france is ahead of usa's published checkpoint
		}
		fileIntent(t, dir, srv.addr, "usa", n)
		n++
		watch("usa") // usa is ahead of france's
		watch("france")
		if round%2 == 1 {
			watch("usa") // nothing new: checks the gossip again
		}
	}
	for _, p := range []string{"france", "usa"} {
		if _, err := os.Stat(filepath.Join(g, p+".checkpoint")); err != nil {
			t.Errorf("%s published no checkpoint: %v", p, err)
		}
		mustDC(t, "verify", "-dir", dir, "-as", p)
	}
	srv.stop()
	for _, p := range []string{"france", "usa"} {
		mustDC(t, "verify", "-dir", dir, "-store", "-as", p)
	}
}
