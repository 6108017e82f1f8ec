package main

// End-to-end tamper tests: the operator of the service rewrites its store
// and a party's watch, or an offline verify, must say so.
//
// The attacker is the operator: it can change the Pebble store in
// DIR/log at will and holds the service key (DIR/service.key), so it can
// recompute checksums, tree hashes and sign new checkpoints. Three kinds
// of attacker are modelled:
//
//   - naive: changes stored records in place (patchEntry, swapRecords,
//     rawLog.del; recomputing the record's CRC or not) and keeps the
//     stored tree hashes. The service's own start-up checks, and verify
//     -store, catch this.
//   - consistent: rewrites the whole log into a new store whose leaves,
//     commitments, contents and tree hashes all agree (reseal,
//     rewriteLog). The service starts and signs checkpoints of the new
//     history; verify -store alone finds nothing, only the parties'
//     evidence (their chain files of accepted checkpoints and their
//     receipts) can show that the history changed.
//   - lying server: the service starts on the honest store, then serves
//     changed records (serveLying), as a modified server would; only the
//     parties' watch sees what it serves.
//
// Every case runs on a fresh copy of one data directory (newLogFixture),
// which verifies cleanly before it is tampered with.

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/deconflict/deconflict/ledger"
	pebblestore "github.com/deconflict/deconflict/ledger/pebble"
	"github.com/deconflict/deconflict/server"
	"github.com/deconflict/deconflict/service"
)

// ---------------------------------------------------------------------
// Running the CLI and a server

// dc runs one deconflict command in-process. The text it returns is its
// stdout, its stderr and, if it failed, "error: " and the error, so that
// a test can look for a message wherever the command put it.
func dc(args ...string) (string, error) {
	var out, errb bytes.Buffer
	err := run(context.Background(), args, nil, &out, &errb)
	s := out.String() + errb.String()
	if err != nil {
		s += "error: " + err.Error() + "\n"
	}
	return s, err
}

// mustDC runs a command that must succeed.
func mustDC(t *testing.T, args ...string) string {
	t.Helper()
	out, err := dc(args...)
	if err != nil {
		t.Fatalf("deconflict %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// mustFail runs a command that must fail and whose output or error must
// contain every one of wants. It returns the error.
func mustFail(t *testing.T, wants []string, args ...string) error {
	t.Helper()
	out, err := dc(args...)
	if err == nil {
		t.Errorf("deconflict %s succeeded; it should have failed naming %q\n%s", strings.Join(args, " "), wants, out)
		return nil
	}
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("deconflict %s failed but does not say %q:\n%s", strings.Join(args, " "), w, out)
		}
	}
	return err
}

// testServer is "deconflict serve" of a data directory, in this process.
type testServer struct {
	addr string
	stop func()
}

// serveDir serves dir on a free loopback port until stop (or the end of
// the test). The service starts as "serve" starts it (startService).
func serveDir(t *testing.T, dir string) *testServer {
	t.Helper()
	s, err := tryServe(dir)
	if err != nil {
		t.Fatalf("serve %s: %v", dir, err)
	}
	t.Cleanup(s.stop)
	return s
}

func tryServe(dir string) (*testServer, error) {
	cfg, err := loadDir(dir)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	r, err := startService(ctx, dir, cfg, slog.New(slog.DiscardHandler), service.DefaultSnapshotEvery, &env{stderr: io.Discard})
	if err != nil {
		cancel()
		ln.Close()
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		r.serve(ctx, ln)
		close(done)
	}()
	var once sync.Once
	return &testServer{addr: "http://" + ln.Addr().String(), stop: func() {
		once.Do(func() {
			cancel()
			<-done
			r.close()
		})
	}}, nil
}

// serveRefuses runs "deconflict serve" on dir, which must refuse to start;
// it returns the command's output and error.
func serveRefuses(t *testing.T, dir string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var out bytes.Buffer
	err := run(ctx, []string{"serve", "-dir", dir, "-listen", "127.0.0.1:0"}, nil, &out, &out)
	if err == nil {
		t.Fatalf("serve started on the tampered store (and served until the timeout):\n%s", out.String())
	}
	return out.String() + "error: " + err.Error()
}

// lyingStore is the store of a running service whose operator changes
// what it reads from the log once the service has started (as a modified
// server, or an operator editing the log under a running service, would):
// the service's start-up checks have passed by then, so it serves what
// the lie gives it.
type lyingStore struct {
	ledger.Store
	lie atomic.Pointer[func(ledger.Record) (ledger.Record, bool)]
}

// Read implements ledger.Store: each record goes through the lie, which
// may change it or drop it (false).
func (s *lyingStore) Read(ctx context.Context, from uint64, fn func(ledger.Record) error) error {
	lie := s.lie.Load()
	if lie == nil {
		return s.Store.Read(ctx, from, fn)
	}
	return s.Store.Read(ctx, from, func(r ledger.Record) error {
		r, keep := (*lie)(r)
		if !keep {
			return nil
		}
		return fn(r)
	})
}

// serveLying serves dir like serveDir, from a lyingStore; the lie starts
// once the server is up.
func serveLying(t *testing.T, dir string, lie func(ledger.Record) (ledger.Record, bool)) *testServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cfg, err := loadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := openStore(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	ls := &lyingStore{Store: st}
	scfg, err := serviceConfig(dir, cfg, ls)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.Open(ctx, scfg)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Service: svc, Audience: cfg.ServiceID, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		hs.Serve(ln)
		close(done)
	}()
	ls.lie.Store(&lie)
	var once sync.Once
	s := &testServer{addr: "http://" + ln.Addr().String(), stop: func() {
		once.Do(func() {
			cancel()
			hs.Shutdown(context.Background())
			<-done
			svc.Close(context.Background())
			st.Close(context.Background())
		})
	}}
	t.Cleanup(s.stop)
	return s
}

// ---------------------------------------------------------------------
// A data directory with some history

// logFixture is a data directory with france and usa, after two rounds of
// filings, each followed by both parties' watch: both have chain files of
// two checkpoints and every receipt linked. The server is stopped.
type logFixture struct {
	dir   string
	size  uint64              // entries in the log
	filed map[string][]uint64 // party -> entries of its filings, in order
	// chainSizes are the sizes of the checkpoints in each chain file.
	chainSizes []uint64
}

var entryRE = regexp.MustCompile(`\(state \S+, ovn \S+, entry (\d+)\)`)

// fileIntent files one intent as party on the server at addr, a circle
// far from every other filing of the tests, and returns its entry.
func fileIntent(t *testing.T, dir, addr, party string, n int) uint64 {
	t.Helper()
	lng := map[string]float64{"france": 2, "usa": -100}[party]
	start := time.Now().UTC().Add(24 * time.Hour).Truncate(time.Minute)
	vol := fmt.Sprintf(`[{"circle":{"lat":%g,"lng":%g,"radius_m":1000},"alt_lo_m":0,"alt_hi_m":500,"start":%q,"end":%q}]`,
		-60+float64(n)*0.5, lng, start.Format(time.RFC3339), start.Add(time.Hour).Format(time.RFC3339))
	f := filepath.Join(t.TempDir(), "vol.json")
	if err := os.WriteFile(f, []byte(vol), 0o600); err != nil {
		t.Fatal(err)
	}
	out := mustDC(t, "intent", "file", "-dir", dir, "-server", addr, "-as", party, "-f", f, "-priority", strconv.Itoa(10+n%50))
	m := entryRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no entry in the output of intent file:\n%s", out)
	}
	i, _ := strconv.ParseUint(m[1], 10, 64)
	return i
}

// watchArgs are the arguments of "watch -once" as party against addr.
func watchArgs(dir, addr, party string, extra ...string) []string {
	return append([]string{"watch", "-dir", dir, "-server", addr, "-as", party, "-once"}, extra...)
}

func initDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	mustDC(t, "init", "-dir", dir, "-party", "france", "-party", "usa", "-listen", "127.0.0.1:1")
	return dir
}

func newLogFixture(t *testing.T) *logFixture {
	t.Helper()
	f := &logFixture{dir: initDir(t), filed: map[string][]uint64{}}
	srv := serveDir(t, f.dir)
	n := 0
	for round := 0; round < 2; round++ {
		for i := 0; i < 2; i++ {
			for _, p := range []string{"france", "usa"} {
				f.filed[p] = append(f.filed[p], fileIntent(t, f.dir, srv.addr, p, n))
				n++
			}
		}
		for _, p := range []string{"france", "usa"} {
			mustDC(t, watchArgs(f.dir, srv.addr, p)...)
		}
	}
	srv.stop()
	f.size = uint64(len(readLog(t, f.dir)))
	if want := uint64(3 + n); f.size != want { // init: authority, france, usa
		t.Fatalf("the log has %d entries, want %d", f.size, want)
	}
	links, err := readJSONLines[chainLink](chainPath(f.dir, "france"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		c, err := ledger.ParseCheckpoint([]byte(strings.SplitN(l.Checkpoint, "\n\n", 2)[0] + "\n"))
		if err != nil {
			t.Fatal(err)
		}
		f.chainSizes = append(f.chainSizes, c.Size)
	}
	if len(f.chainSizes) != 2 || f.chainSizes[1] != f.size {
		t.Fatalf("france's chain has checkpoints of %v entries, want two, the last of %d", f.chainSizes, f.size)
	}
	// Before any tampering everything verifies: the failures the tests
	// expect come from the tampering, not from the set-up.
	for _, p := range []string{"france", "usa"} {
		out := mustDC(t, "verify", "-dir", f.dir, "-as", p)
		if !strings.Contains(out, "4 linked to the chain, 0 not yet") {
			t.Fatalf("verify -as %s: not every receipt is linked:\n%s", p, out)
		}
		mustDC(t, "verify", "-dir", f.dir, "-store", "-as", p)
	}
	mustDC(t, "verify", "-dir", f.dir, "-store")
	return f
}

// copy returns a fresh copy of the fixture's data directory.
func (f *logFixture) copy(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "data")
	copyDir(t, f.dir, dst)
	return dst
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(to, info.Mode().Perm()|0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// ---------------------------------------------------------------------
// The attacker's tools

// readLog returns every entry of the (closed) store in DIR/log, in order.
func readLog(t *testing.T, dir string) []*ledger.Entry {
	t.Helper()
	ctx := context.Background()
	st, err := pebblestore.Open(ctx, filepath.Join(dir, "log"), pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	var out []*ledger.Entry
	err = st.Read(ctx, 1, func(rec ledger.Record) error {
		e, err := ledger.UnmarshalEntry(rec.Data)
		if err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// rewriteLog replaces DIR/log with a new store holding entries, numbered
// from 1, with tree hashes computed from their leaves: a log that is
// consistent in itself (no snapshots: the service replays it all).
func rewriteLog(t *testing.T, dir string, entries []*ledger.Entry) {
	t.Helper()
	ctx := context.Background()
	tmp := filepath.Join(dir, "log.rewritten")
	st, err := pebblestore.Open(ctx, tmp, pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var tree ledger.Tree
	recs := make([]ledger.Record, 0, len(entries))
	for i, e := range entries {
		hs, err := tree.Add(tlog.RecordHash(e.Leaf))
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, ledger.Record{Index: uint64(i + 1), Data: e.Marshal(), Hashes: hs})
	}
	if err := st.Append(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "log")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "log")); err != nil {
		t.Fatal(err)
	}
}

// reseal returns entry e as the consistent attacker would store it at
// index: its record's content re-encoded with that index (and whatever
// edit changes), a commitment to the new content with the same salt, and
// a leaf that agrees with it. The record's signed request is kept as is.
func reseal(t *testing.T, e *ledger.Entry, index uint64, edit func(*service.Record)) *ledger.Entry {
	t.Helper()
	r, err := service.DecodeRecord(e.Content)
	if err != nil {
		t.Fatal(err)
	}
	r.Entry.Index = index
	if edit != nil {
		edit(r)
	}
	content, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	nl := ledger.Leaf{Index: index, Time: r.Entry.Time, Kind: string(r.Entry.Kind), Party: string(r.Entry.Party),
		Commitment: ledger.Commit(e.Salt, content)}
	return &ledger.Entry{Leaf: nl.Marshal(), Salt: e.Salt, Readers: e.Readers, Content: content}
}

// rawLog is the Pebble database under DIR/log, opened directly, to change
// stored records in place. The record framing is pebblestore's (formats 2 and 3): key
// "r/" || big-endian index, value CRC-32C(big-endian index || data) || data.
type rawLog struct {
	t  *testing.T
	db *pebble.DB
}

func openRaw(t *testing.T, dir string) *rawLog {
	t.Helper()
	db, err := pebble.Open(filepath.Join(dir, "log"), &pebble.Options{Logger: quietPebble{}})
	if err != nil {
		t.Fatal(err)
	}
	return &rawLog{t: t, db: db}
}

// quietPebble keeps Pebble's informational messages out of the test output.
type quietPebble struct{}

func (quietPebble) Infof(string, ...any)         {}
func (quietPebble) Errorf(f string, args ...any) { fmt.Fprintf(os.Stderr, "pebble: "+f+"\n", args...) }
func (quietPebble) Fatalf(f string, args ...any) { panic(fmt.Sprintf("pebble: "+f, args...)) }

func rawKey(i uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte("r/"), i)
}

func rawCRC(i uint64, data []byte) uint32 {
	tab := crc32.MakeTable(crc32.Castagnoli)
	return crc32.Update(crc32.Checksum(binary.BigEndian.AppendUint64(nil, i), tab), tab, data)
}

// get returns record i's data and stored checksum.
func (r *rawLog) get(i uint64) ([]byte, uint32) {
	r.t.Helper()
	v, closer, err := r.db.Get(rawKey(i))
	if err != nil {
		r.t.Fatalf("record %d: %v", i, err)
	}
	defer closer.Close()
	return bytes.Clone(v[4:]), binary.BigEndian.Uint32(v)
}

// put stores data as record i with checksum crc.
func (r *rawLog) put(i uint64, data []byte, crc uint32) {
	r.t.Helper()
	v := binary.BigEndian.AppendUint32(nil, crc)
	if err := r.db.Set(rawKey(i), append(v, data...), pebble.Sync); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rawLog) del(i uint64) {
	r.t.Helper()
	if err := r.db.Delete(rawKey(i), pebble.Sync); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rawLog) close() {
	r.t.Helper()
	if err := r.db.Close(); err != nil {
		r.t.Fatal(err)
	}
}

// patchEntry changes stored entry i in place: edit gets its decoded
// envelope; with fixCRC the record's checksum is recomputed, otherwise
// the old one is kept. Tree hashes and snapshots are left as they are.
func patchEntry(t *testing.T, dir string, i uint64, fixCRC bool, edit func(e *ledger.Entry)) {
	t.Helper()
	raw := openRaw(t, dir)
	defer raw.close()
	data, crc := raw.get(i)
	e, err := ledger.UnmarshalEntry(data)
	if err != nil {
		t.Fatal(err)
	}
	e = &ledger.Entry{Leaf: bytes.Clone(e.Leaf), Salt: e.Salt, Readers: e.Readers, Content: bytes.Clone(e.Content)}
	edit(e)
	nd := e.Marshal()
	if bytes.Equal(nd, data) {
		t.Fatal("patchEntry: the edit changed nothing")
	}
	if fixCRC {
		crc = rawCRC(i, nd)
	}
	raw.put(i, nd, crc)
}

// flipPriority changes one byte of a record's content: a digit of its
// priority. The JSON stays valid; only the commitment can tell.
func flipPriority(t *testing.T, content []byte) {
	t.Helper()
	k := bytes.Index(content, []byte(`"priority":`))
	if k < 0 {
		t.Fatalf("no priority in the content %s", content)
	}
	d := &content[k+len(`"priority":`)]
	if *d < '0' || *d > '9' {
		t.Fatalf("priority does not start with a digit in %s", content)
	}
	*d = '0' + (*d-'0'+1)%10
}

func leafOf(t *testing.T, e *ledger.Entry) ledger.Leaf {
	t.Helper()
	l, err := ledger.ParseLeaf(e.Leaf)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// ---------------------------------------------------------------------
// a. One byte of an entry's content changes.

// TestTamperContent changes one byte of the content of france's entry
// (its priority), keeping the entry's public leaf. The commitment in the
// leaf no longer matches, whatever else the operator recomputes.
func TestTamperContent(t *testing.T) {
	f := newLogFixture(t)
	k := f.filed["france"][1]
	where := fmt.Sprintf("entry %d", k)

	// The operator changes the record in place, with a valid checksum;
	// the leaf, and so the stored tree hashes, are unchanged. verify
	// -store opens every entry and reports the commitment mismatch; the
	// service refuses to start because it checks the commitment of every
	// entry it replays.
	t.Run("in place", func(t *testing.T) {
		dir := f.copy(t)
		patchEntry(t, dir, k, true, func(e *ledger.Entry) { flipPriority(t, e.Content) })
		mustFail(t, []string{"FAIL " + where, "content does not match the leaf's commitment"}, "verify", "-dir", dir, "-store")
		mustFail(t, []string{"FAIL " + where, "commitment"}, "verify", "-dir", dir, "-store", "-as", "usa")
		out := serveRefuses(t, dir)
		for _, w := range []string{where, "content does not match the leaf's commitment"} {
			if !strings.Contains(out, w) {
				t.Errorf("serve refused to start but does not say %q:\n%s", w, out)
			}
		}
	})

	// The operator's server serves the changed content (the change is
	// made after the service's start-up checks). France's watch checks
	// the content of its own entries against their commitments: CONTENT
	// TAMPERED.
	t.Run("served", func(t *testing.T) {
		dir := f.copy(t)
		es := readLog(t, dir)
		flipPriority(t, es[k-1].Content)
		changed := es[k-1].Marshal()
		srv := serveLying(t, dir, func(r ledger.Record) (ledger.Record, bool) {
			if r.Index == k {
				r.Data = changed
			}
			return r, true
		})
		mustFail(t, []string{"CONTENT TAMPERED: your " + where, "commitment"}, watchArgs(dir, srv.addr, "france")...)
		// usa may not read france's content: its watch has no way to
		// notice (the leaves and the tree are unchanged).
		if out, err := dc(watchArgs(dir, srv.addr, "usa")...); err != nil {
			t.Logf("usa's watch also failed: %v\n%s", err, out)
		}
	})

	// A byte flipped without fixing the record's checksum: the store
	// itself reports the corrupt record.
	t.Run("in place, bad checksum", func(t *testing.T) {
		dir := f.copy(t)
		patchEntry(t, dir, k, false, func(e *ledger.Entry) { flipPriority(t, e.Content) })
		mustFail(t, []string{fmt.Sprintf("corrupt record %d", k), "checksum mismatch"}, "verify", "-dir", dir, "-store")
		out := serveRefuses(t, dir)
		if !strings.Contains(out, fmt.Sprintf("corrupt record %d", k)) {
			t.Errorf("serve refused to start but does not name the corrupt record %d:\n%s", k, out)
		}
	})
}

// ---------------------------------------------------------------------
// b. One byte of an entry's leaf changes.

// TestTamperLeaf changes the time of france's first filing.
func TestTamperLeaf(t *testing.T) {
	f := newLogFixture(t)
	k := f.filed["france"][0]
	where := fmt.Sprintf("entry %d", k)

	// The consistent operator moves the entry's time (within the gap to
	// the next entry, so the registry still replays) in its record and
	// its leaf, recomputes the commitment and the tree: the store is
	// consistent in itself, the service starts and signs the new history.
	// Both parties' chains hold checkpoints covering the entry: watch
	// (which rebuilds its tree from the served leaves at start) and
	// verify -store against a chain report the rewrite; france's receipt
	// for the entry no longer matches.
	t.Run("rewritten consistently", func(t *testing.T) {
		dir := f.copy(t)
		es := readLog(t, dir)
		t0, t1 := leafOf(t, es[k-1]).Time, leafOf(t, es[k]).Time
		if t1.Sub(t0) < 2 {
			t.Fatalf("entries %d and %d are %v apart: no room to move the time", k, k+1, t1.Sub(t0))
		}
		es[k-1] = reseal(t, es[k-1], k, func(r *service.Record) { r.Entry.Time = t0.Add(t1.Sub(t0) / 2) })
		rewriteLog(t, dir, es)

		// The attack is consistent: an audit of the store alone, with no
		// party's evidence, finds nothing.
		mustDC(t, "verify", "-dir", dir, "-store")

		mustFail(t, []string{"LOG REWRITTEN: chain link 1", "LOG REWRITTEN: chain link 2", "ENTRY CHANGED: " + where},
			"verify", "-dir", dir, "-store", "-as", "france")
		mustFail(t, []string{"LOG REWRITTEN"}, "verify", "-dir", dir, "-store", "-as", "usa")
		srv := serveDir(t, dir)
		for _, p := range []string{"france", "usa"} {
			mustFail(t, []string{"LOG REWRITTEN", fmt.Sprintf("the first %d entries", f.size)}, watchArgs(dir, srv.addr, p)...)
		}
	})

	// The naive operator changes the leaf in place and keeps the stored
	// tree hashes: verify -store finds the leaf disagreeing with its
	// content and with the tree, and the service does not start.
	t.Run("in place", func(t *testing.T) {
		dir := f.copy(t)
		patchEntry(t, dir, k, true, func(e *ledger.Entry) {
			l := leafOf(t, e)
			l.Time = l.Time.Add(time.Microsecond)
			e.Leaf = l.Marshal()
		})
		mustFail(t, []string{"FAIL " + where, "content does not match the leaf's metadata", "LOG REWRITTEN", "ENTRY CHANGED: " + where},
			"verify", "-dir", dir, "-store", "-as", "france")
		out := serveRefuses(t, dir)
		if !strings.Contains(out, where) || !strings.Contains(out, "does not match the leaf's metadata") {
			t.Errorf("serve refused to start but does not say why:\n%s", out)
		}
	})

	// The naive operator who also recomputes the commitment (so the leaf
	// and its content agree) but keeps the stored tree: the leaf no longer
	// matches the stored tree hashes.
	t.Run("in place, commitment recomputed", func(t *testing.T) {
		dir := f.copy(t)
		es := readLog(t, dir)
		t0, t1 := leafOf(t, es[k-1]).Time, leafOf(t, es[k]).Time
		ne := reseal(t, es[k-1], k, func(r *service.Record) { r.Entry.Time = t0.Add(t1.Sub(t0) / 2) })
		patchEntry(t, dir, k, true, func(e *ledger.Entry) { *e = *ne })
		mustFail(t, []string{"FAIL " + where + ": its leaf does not match the stored Merkle tree"}, "verify", "-dir", dir, "-store")
		out := serveRefuses(t, dir)
		if !strings.Contains(out, fmt.Sprintf("record %d", k)) || !strings.Contains(out, "does not match the Merkle tree") {
			t.Errorf("serve refused to start but does not say why:\n%s", out)
		}
	})
}

// ---------------------------------------------------------------------
// c. An entry is dropped.

// TestTamperDrop drops one of france's entries from the log.
func TestTamperDrop(t *testing.T) {
	f := newLogFixture(t)
	k := f.filed["france"][0] // in the first round: both chain links cover it

	// The consistent operator removes the entry and renumbers every later
	// one (leaf and record), so the store is consistent and one entry
	// shorter. verify -store against either chain: the first checkpoint's
	// prefix changed, the last checkpoint is longer than the log, and the
	// receipts from k on are for other leaves now. watch: the log cannot
	// serve the entries of the checkpoint the party accepted; once the log
	// has grown back to that size, the rebuilt tree has another root.
	t.Run("rewritten consistently", func(t *testing.T) {
		dir := f.copy(t)
		es := readLog(t, dir)
		var out []*ledger.Entry
		for i, e := range es {
			switch idx := uint64(i + 1); {
			case idx < k:
				out = append(out, e)
			case idx > k:
				out = append(out, reseal(t, e, idx-1, nil))
			}
		}
		rewriteLog(t, dir, out)
		mustDC(t, "verify", "-dir", dir, "-store") // consistent in itself

		mustFail(t, []string{
			"LOG REWRITTEN: chain link 1",
			fmt.Sprintf("ENTRIES MISSING: chain link 2 has a checkpoint of %d entries, the store holds %d", f.size, f.size-1),
			fmt.Sprintf("ENTRY CHANGED: entry %d ", k),
		}, "verify", "-dir", dir, "-store", "-as", "france")
		mustFail(t, []string{"LOG REWRITTEN: chain link 1", "ENTRIES MISSING", "ENTRY CHANGED"}, "verify", "-dir", dir, "-store", "-as", "usa")

		srv := serveDir(t, dir)
		mustFail(t, []string{"ENTRIES WITHHELD", fmt.Sprintf("checkpoint of %d entries", f.size)}, watchArgs(dir, srv.addr, "usa")...)
		// The log grows back to its old size with a new filing: the
		// first f.size entries now hash to another root.
		if got := fileIntent(t, dir, srv.addr, "usa", 90); got != f.size {
			t.Fatalf("the new filing is entry %d, want %d", got, f.size)
		}
		mustFail(t, []string{"LOG REWRITTEN", fmt.Sprintf("the first %d entries", f.size)}, watchArgs(dir, srv.addr, "france")...)
		mustFail(t, []string{"LOG REWRITTEN"}, watchArgs(dir, srv.addr, "usa")...)
	})

	// The consistent operator drops the last entry (which both chains
	// cover): the log is a prefix of what the parties accepted.
	t.Run("last entry", func(t *testing.T) {
		dir := f.copy(t)
		es := readLog(t, dir)
		rewriteLog(t, dir, es[:len(es)-1])
		mustFail(t, []string{"ENTRIES MISSING: chain link 2"}, "verify", "-dir", dir, "-store", "-as", "usa")
		srv := serveDir(t, dir)
		for _, p := range []string{"france", "usa"} {
			mustFail(t, []string{"ENTRIES WITHHELD"}, watchArgs(dir, srv.addr, p)...)
		}
	})

	// The operator's server leaves the entry out of what it serves
	// (after its start-up checks), under its old checkpoint.
	t.Run("served", func(t *testing.T) {
		dir := f.copy(t)
		srv := serveLying(t, dir, func(r ledger.Record) (ledger.Record, bool) { return r, r.Index != k })
		for _, p := range []string{"france", "usa"} {
			mustFail(t, []string{"LOG INCONSISTENT", fmt.Sprintf("asked for entry %d, the log served entry %d", k, k+1)},
				watchArgs(dir, srv.addr, p)...)
		}
	})

	// The naive operator deletes the record in place: the store reports
	// the gap, and the service does not start.
	t.Run("in place", func(t *testing.T) {
		dir := f.copy(t)
		raw := openRaw(t, dir)
		raw.del(k)
		raw.close()
		mustFail(t, []string{fmt.Sprintf("corrupt record %d: missing", k)}, "verify", "-dir", dir, "-store")
		out := serveRefuses(t, dir)
		if !strings.Contains(out, fmt.Sprintf("corrupt record %d: missing", k)) {
			t.Errorf("serve refused to start but does not name the missing record %d:\n%s", k, out)
		}
	})
}

// ---------------------------------------------------------------------
// d. Two entries change places.

// TestTamperReorder swaps france's first filing with usa's, which follows
// it.
func TestTamperReorder(t *testing.T) {
	f := newLogFixture(t)
	i, j := f.filed["france"][0], f.filed["usa"][0]
	if j != i+1 {
		t.Fatalf("france's first filing is entry %d, usa's %d: want adjacent", i, j)
	}

	// The consistent operator swaps them, renumbering both and giving
	// each the time of its new position (times must not go back): the
	// store is consistent, the service starts. Each party's receipt for
	// its entry is now another leaf; both chains' checkpoints changed.
	t.Run("rewritten consistently", func(t *testing.T) {
		dir := f.copy(t)
		es := readLog(t, dir)
		ti, tj := leafOf(t, es[i-1]).Time, leafOf(t, es[j-1]).Time
		a := reseal(t, es[j-1], i, func(r *service.Record) { r.Entry.Time = ti })
		b := reseal(t, es[i-1], j, func(r *service.Record) { r.Entry.Time = tj })
		es[i-1], es[j-1] = a, b
		rewriteLog(t, dir, es)
		mustDC(t, "verify", "-dir", dir, "-store") // consistent in itself

		mustFail(t, []string{"LOG REWRITTEN: chain link 1", "LOG REWRITTEN: chain link 2", fmt.Sprintf("ENTRY CHANGED: entry %d ", i)},
			"verify", "-dir", dir, "-store", "-as", "france")
		mustFail(t, []string{"LOG REWRITTEN: chain link 1", fmt.Sprintf("ENTRY CHANGED: entry %d ", j)},
			"verify", "-dir", dir, "-store", "-as", "usa")
		srv := serveDir(t, dir)
		for _, p := range []string{"france", "usa"} {
			mustFail(t, []string{"LOG REWRITTEN", fmt.Sprintf("the first %d entries", f.size)}, watchArgs(dir, srv.addr, p)...)
		}
	})

	// The naive operator swaps the two stored records (fixing their
	// checksums) and keeps the tree hashes: each leaf names the other
	// index. The service, which opens every entry it replays, refuses to
	// start.
	t.Run("in place", func(t *testing.T) {
		dir := f.copy(t)
		swapRecords(t, dir, i, j)
		mustFail(t, []string{fmt.Sprintf("FAIL entry %d: ledger: the entry stored at %d says it is entry %d", i, i, j),
			fmt.Sprintf("FAIL entry %d: ledger: the entry stored at %d says it is entry %d", j, j, i)}, "verify", "-dir", dir, "-store")
		out := serveRefuses(t, dir)
		if !strings.Contains(out, fmt.Sprintf("the entry stored at %d says it is entry %d", i, j)) {
			t.Errorf("serve refused to start but does not say why:\n%s", out)
		}
	})

	// The operator's server serves the two entries swapped (after its
	// start-up checks), under its old, unchanged checkpoint. watch checks
	// that each served leaf names its index.
	t.Run("served", func(t *testing.T) {
		dir := f.copy(t)
		es := readLog(t, dir)
		di, dj := es[i-1].Marshal(), es[j-1].Marshal()
		srv := serveLying(t, dir, func(r ledger.Record) (ledger.Record, bool) {
			switch r.Index {
			case i:
				r.Data = dj
			case j:
				r.Data = di
			}
			return r, true
		})
		for _, p := range []string{"france", "usa"} {
			mustFail(t, []string{"LOG INCONSISTENT", fmt.Sprintf("the leaf served as entry %d says it is entry %d", i, j), "reordered"},
				watchArgs(dir, srv.addr, p)...)
		}
	})
}

// swapRecords swaps stored records i and j in place, with valid checksums.
func swapRecords(t *testing.T, dir string, i, j uint64) {
	t.Helper()
	raw := openRaw(t, dir)
	defer raw.close()
	di, _ := raw.get(i)
	dj, _ := raw.get(j)
	raw.put(i, dj, rawCRC(i, dj))
	raw.put(j, di, rawCRC(j, di))
}

// ---------------------------------------------------------------------
// Receipts not yet linked to a chain
//
// A party's receipts are signed evidence too: each carries a checkpoint
// of the log and the inclusion proof of the party's entry in it. These
// tests change the log after a party filed (and kept the receipt) but
// before its watch linked the receipt to its chain. At commit 1971eb2
// the first two passed unnoticed by verify -store (and the second by
// watch too); commit 82371a9 added the checks that catch them.

// TestTamperUnlinkedReceiptChanged: france files an intent and keeps its
// receipt, but its watch has not run since. The consistent operator then
// changes that entry (its time). france's receipt, signed by the log,
// proves the old leaf at that index.
func TestTamperUnlinkedReceiptChanged(t *testing.T) {
	f := newLogFixture(t)
	dir := f.copy(t)
	srv := serveDir(t, dir)
	k := fileIntent(t, dir, srv.addr, "france", 91)
	srv.stop()

	es := readLog(t, dir)
	es[k-1] = reseal(t, es[k-1], k, func(r *service.Record) { r.Entry.Time = r.Entry.Time.Add(time.Millisecond) })
	rewriteLog(t, dir, es)

	// verify -store -as france has the store and the receipt in hand:
	// the receipt's leaf is not the store's.
	mustFail(t, []string{fmt.Sprintf("ENTRY CHANGED: your receipt for entry %d", k)}, "verify", "-dir", dir, "-store", "-as", "france")
	// watch links the receipt to the new checkpoint and compares leaves.
	srv = serveDir(t, dir)
	mustFail(t, []string{fmt.Sprintf("ENTRY CHANGED: your receipt for entry %d", k)}, watchArgs(dir, srv.addr, "france")...)
}

// TestTamperDropUnlinkedTail: france files an intent and keeps its
// receipt (a checkpoint of N+1 entries signed by the log, with the
// inclusion proof of entry N+1), but its watch has not run since. The
// operator then drops that last entry: the log is back to the N entries
// france's chain ends with, so the chain alone shows nothing wrong. A
// checkpoint smaller than one of the party's receipts is a roll-back.
func TestTamperDropUnlinkedTail(t *testing.T) {
	f := newLogFixture(t)
	dir := f.copy(t)
	srv := serveDir(t, dir)
	k := fileIntent(t, dir, srv.addr, "france", 92)
	srv.stop()
	if k != f.size+1 {
		t.Fatalf("the new filing is entry %d, want %d", k, f.size+1)
	}
	es := readLog(t, dir)
	rewriteLog(t, dir, es[:k-1])

	mustFail(t, []string{fmt.Sprintf("ENTRIES MISSING: your receipt for entry %d carries a checkpoint of %d entries, the store holds %d", k, k, k-1)},
		"verify", "-dir", dir, "-store", "-as", "france")
	srv = serveDir(t, dir)
	err := mustFail(t, []string{"LOG ROLLED BACK", fmt.Sprintf("your receipt for entry %d", k)}, watchArgs(dir, srv.addr, "france")...)
	if err != nil && !errors.Is(err, ledger.ErrInconsistent) {
		t.Errorf("the roll-back is not reported as ledger.ErrInconsistent: %v", err)
	}

	// Once the log grows past the dropped entry again, watch still
	// notices (the receipt's leaf is not the one at that index).
	fileIntent(t, dir, srv.addr, "usa", 93)
	mustFail(t, []string{fmt.Sprintf("ENTRY CHANGED: your receipt for entry %d", k)}, watchArgs(dir, srv.addr, "france")...)
}

// TestTamperUnlinkedReceiptPrefix: usa files entry N+1, france entry N+2
// (france's receipt carries the log's checkpoint of N+2 entries, root R);
// neither watches. The consistent operator then changes usa's entry N+1
// (its time) and the service signs a checkpoint of N+2 entries with
// another root R'. france's own entry is untouched, so its receipt's leaf
// and inclusion proof still match the new tree, and the chain (N entries)
// covers neither entry. But france holds two checkpoints signed by the
// log, of one size with two roots: its receipt's and the one the log
// serves now. That pair alone proves the rewrite.
func TestTamperUnlinkedReceiptPrefix(t *testing.T) {
	f := newLogFixture(t)
	dir := f.copy(t)
	srv := serveDir(t, dir)
	u := fileIntent(t, dir, srv.addr, "usa", 94)
	k := fileIntent(t, dir, srv.addr, "france", 95)
	srv.stop()
	if u != f.size+1 || k != f.size+2 {
		t.Fatalf("the new filings are entries %d and %d, want %d and %d", u, k, f.size+1, f.size+2)
	}
	es := readLog(t, dir)
	tu, tk := leafOf(t, es[u-1]).Time, leafOf(t, es[k-1]).Time
	if tk.Sub(tu) < 2 {
		t.Fatalf("entries %d and %d are %v apart: no room to move the time", u, k, tk.Sub(tu))
	}
	es[u-1] = reseal(t, es[u-1], u, func(r *service.Record) { r.Entry.Time = tu.Add(tk.Sub(tu) / 2) })
	rewriteLog(t, dir, es)

	mustFail(t, []string{fmt.Sprintf("LOG REWRITTEN: your receipt for entry %d carries a checkpoint of %d entries", k, k)},
		"verify", "-dir", dir, "-store", "-as", "france")

	srv = serveDir(t, dir)
	out, err := dc(watchArgs(dir, srv.addr, "france")...)
	if err == nil || !errors.Is(err, ledger.ErrInconsistent) || !strings.Contains(err.Error(), "LOG REWRITTEN") {
		t.Errorf("france's watch: err = %v, want an inconsistency (LOG REWRITTEN) from its receipt's checkpoint of %d entries:\n%s", err, k, out)
	}
	// usa's receipt for its own entry catches it from usa's side.
	mustFail(t, []string{fmt.Sprintf("ENTRY CHANGED: your receipt for entry %d", u)}, watchArgs(dir, srv.addr, "usa")...)
}
