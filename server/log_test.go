package server_test

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/deconflict/deconflict/geo"
	"github.com/deconflict/deconflict/ledger"
	"github.com/deconflict/deconflict/registry"
	"github.com/deconflict/deconflict/server"
	"github.com/deconflict/deconflict/service"
)

// checkpointOf reads and verifies the latest checkpoint as party p.
func (e *env) checkpointOf(t *testing.T, p registry.PartyID, query string, others ...note.Verifier) (ledger.Checkpoint, *note.Note, []byte) {
	t.Helper()
	r := e.do(t, request{as: p, method: "GET", path: "/v1/log/checkpoint" + query})
	if r.status != http.StatusOK {
		t.Fatalf("GET checkpoint%s: %d %s", query, r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("checkpoint Content-Type %q, want text/plain", ct)
	}
	v, err := note.NewVerifier(e.logVKey(t))
	if err != nil {
		t.Fatal(err)
	}
	c, n, err := ledger.OpenCheckpoint(r.body, v, others...)
	if err != nil {
		t.Fatalf("checkpoint does not verify: %v\n%s", err, r.body)
	}
	return c, n, r.body
}

func (e *env) cosigVerifier(t *testing.T, p registry.PartyID) note.Verifier {
	t.Helper()
	v, err := ledger.NewCosignatureVerifier(string(p), e.key(p).Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestLogEndpoints: receipts, checkpoints, public leaves, proofs, content
// for those entitled, cosignatures and witnessed checkpoints, across a
// restart.
func TestLogEndpoints(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	e.addMembers(t, "alpha", "bravo", "carol")
	s := e.spot()
	a := e.file(t, "alpha", server.FileRequest{Priority: 10, Volumes: []geo.VolumeSpec{e.vol(s)}})
	b := e.file(t, "bravo", server.FileRequest{Priority: 20, Volumes: []geo.VolumeSpec{e.vol(s)}, Key: []registry.OVN{a.Intent.OVN}})
	for _, f := range []*server.FiledView{a, b} {
		if f.Receipt == nil {
			t.Fatalf("entry %d answered without a receipt", f.Entry)
		}
	}

	c1, _, _ := e.checkpointOf(t, "carol", "")
	if c1.Size != b.Entry || c1.Origin != logOrigin {
		t.Fatalf("checkpoint %+v, want origin %s and size %d", c1, logOrigin, b.Entry)
	}

	// Public leaves rebuild the checkpoint's root and hold no content.
	var entries server.EntriesResponse
	wantJSON(t, e.do(t, request{as: "carol", method: "GET", path: "/v1/log/entries?start=1"}), http.StatusOK, &entries)
	if uint64(len(entries.Entries)) != c1.Size {
		t.Fatalf("%d public entries, want %d", len(entries.Entries), c1.Size)
	}
	var tree ledger.Tree
	for i, pe := range entries.Entries {
		l, err := ledger.ParseLeaf([]byte(pe.Leaf))
		if err != nil || l.Index != uint64(i+1) || pe.Index != l.Index {
			t.Fatalf("entry %d: leaf %q: %v", i+1, pe.Leaf, err)
		}
		if strings.Contains(pe.Leaf, string(a.Intent.ID)) || strings.Contains(pe.Leaf, string(a.Intent.OVN)) {
			t.Errorf("public leaf %d shows an intent id or OVN: %q", pe.Index, pe.Leaf)
		}
		tree.Add(tlog.RecordHash([]byte(pe.Leaf)))
	}
	if root, _ := tree.Root(c1.Size); root != c1.Root {
		t.Fatalf("public leaves hash to %v, checkpoint says %v", root, c1.Root)
	}
	var page server.EntriesResponse
	wantJSON(t, e.do(t, request{as: "carol", method: "GET", path: "/v1/log/entries?start=2&count=2"}), http.StatusOK, &page)
	if len(page.Entries) != 2 || page.Entries[0].Index != 2 {
		t.Errorf("start=2&count=2 gave %+v", page.Entries)
	}

	// Inclusion proof of bravo's entry, checked with tlog directly.
	var ip server.InclusionProof
	wantJSON(t, e.do(t, request{as: "carol", method: "GET", path: fmt.Sprintf("/v1/log/proof/inclusion?index=%d&size=%d", b.Entry, c1.Size)}), http.StatusOK, &ip)
	if ip.LeafHash != b.Receipt.LeafHash {
		t.Errorf("inclusion proof leaf hash %v, receipt says %v", ip.LeafHash, b.Receipt.LeafHash)
	}
	if err := tlog.CheckRecord(ip.Proof, int64(c1.Size), c1.Root, int64(b.Entry-1), ip.LeafHash); err != nil {
		t.Errorf("inclusion proof: %v", err)
	}

	// Content: the author, the authority, and the alerted party once the
	// author's grant lets it see the whole command (full); nobody else.
	content := func(as registry.PartyID, index uint64) *reply {
		return e.do(t, request{as: as, method: "GET", path: fmt.Sprintf("/v1/log/entries/%d/content", index)})
	}
	wantProblem(t, content("alpha", b.Entry), http.StatusForbidden, server.TypeForbidden)
	wantJSON(t, e.do(t, request{as: "bravo", method: "PUT", path: "/v1/grants/alpha", body: server.GrantRequest{Party: "alpha", Level: registry.LevelOperational}}), http.StatusOK, nil)
	wantProblem(t, content("alpha", b.Entry), http.StatusForbidden, server.TypeForbidden) // content holds details: full only
	wantJSON(t, e.do(t, request{as: "bravo", method: "PUT", path: "/v1/grants/alpha", body: server.GrantRequest{Party: "alpha", Level: registry.LevelFull}}), http.StatusOK, nil)
	for _, as := range []registry.PartyID{"bravo", "alpha", authority} {
		var c service.Content
		wantJSON(t, content(as, b.Entry), http.StatusOK, &c)
		l, err := ledger.ParseLeaf([]byte(c.Leaf))
		if err != nil {
			t.Fatal(err)
		}
		if err := ledger.CheckContent(l, c.Salt, c.Content); err != nil {
			t.Errorf("%s: content of entry %d: %v", as, b.Entry, err)
		}
		if !bytes.Contains(c.Content, []byte(b.Intent.ID)) {
			t.Errorf("%s: content of entry %d does not name the intent", as, b.Entry)
		}
	}
	wantProblem(t, content("carol", b.Entry), http.StatusForbidden, server.TypeForbidden)
	wantProblem(t, content("bravo", a.Entry), http.StatusForbidden, server.TypeForbidden)
	wantProblem(t, content("alpha", 999), http.StatusNotFound, server.TypeNotFound)
	// An entry of a batch is never readable by the alerted party: the
	// batch's body holds the other items (their volumes, details and
	// keys), whatever the query of the request; a single filing with the
	// same query is, under the full grant.
	for _, path := range []string{"/v1/intents/batch", "/v1/intents/batch?overlaps=extent", "/v1/intents/batch?overlaps=cells", "/v1/intents?overlaps=extent"} {
		s := e.spot()
		x := e.file(t, "alpha", server.FileRequest{Priority: 10, Volumes: []geo.VolumeSpec{e.vol(s)}})
		fr := server.FileRequest{ID: service.NewUUID(), Priority: 20, Volumes: []geo.VolumeSpec{e.vol(s)}, Key: []registry.OVN{x.Intent.OVN}}
		var entry uint64
		if batch := strings.Contains(path, "batch"); batch {
			var resp server.BatchResponse
			wantJSON(t, e.do(t, request{as: "bravo", method: "POST", path: path, body: server.BatchRequest{Intents: []server.FileRequest{fr}}}), http.StatusOK, &resp)
			if len(resp.Results) != 1 || resp.Results[0].Filed == nil {
				t.Fatalf("%s: %+v", path, resp.Results)
			}
			entry = resp.Results[0].Filed.Entry
			wantProblem(t, content("alpha", entry), http.StatusForbidden, server.TypeForbidden)
		} else {
			var f server.FiledView
			wantJSON(t, e.do(t, request{as: "bravo", method: "POST", path: path, body: fr}), http.StatusCreated, &f)
			entry = f.Entry
			wantJSON(t, content("alpha", entry), http.StatusOK, nil)
		}
		if got := e.alertsOf(t, "alpha", entry-1); len(got) == 0 {
			t.Errorf("%s: alpha was not alerted by entry %d", path, entry)
		}
		wantJSON(t, content("bravo", entry), http.StatusOK, nil) // the author
	}

	// More entries; consistency from the first checkpoint.
	c := e.file(t, "carol", server.FileRequest{Priority: 1, Volumes: []geo.VolumeSpec{e.vol(e.spot())}})
	c2, _, _ := e.checkpointOf(t, "alpha", "")
	if c2.Size != c.Entry {
		t.Fatalf("checkpoint size %d, want %d", c2.Size, c.Entry)
	}
	var cp server.ConsistencyProof
	wantJSON(t, e.do(t, request{as: "alpha", method: "GET", path: fmt.Sprintf("/v1/log/proof/consistency?old=%d&size=%d", c1.Size, c2.Size)}), http.StatusOK, &cp)
	if err := tlog.CheckTree(cp.Proof, int64(c2.Size), c2.Root, int64(c1.Size), c1.Root); err != nil {
		t.Errorf("consistency proof: %v", err)
	}

	// Cosignatures: one is not enough to be witnessed (2 needed), two are.
	wantProblem(t, e.do(t, request{as: "alpha", method: "GET", path: "/v1/log/checkpoint?witnessed=true"}), http.StatusNotFound, server.TypeNotFound)
	cosign := func(p registry.PartyID) {
		t.Helper()
		_, n, _ := e.checkpointOf(t, p, "")
		signer, err := ledger.NewCosigner(string(p), e.key(p), nil)
		if err != nil {
			t.Fatal(err)
		}
		cosigned, err := note.Sign(n, signer)
		if err != nil {
			t.Fatal(err)
		}
		var cr server.CosignResponse
		wantJSON(t, e.do(t, request{as: p, method: "POST", path: "/v1/log/cosignatures", body: server.CosignRequest{Checkpoint: string(cosigned)}}), http.StatusOK, &cr)
		if cr.Size != c2.Size {
			t.Errorf("cosignature recorded for size %d, want %d", cr.Size, c2.Size)
		}
	}
	cosign("alpha")
	_, n, _ := e.checkpointOf(t, "carol", "", e.cosigVerifier(t, "alpha"))
	if len(n.Sigs) != 2 {
		t.Errorf("checkpoint carries %d verified signatures, want the log's and alpha's", len(n.Sigs))
	}
	wantProblem(t, e.do(t, request{as: "alpha", method: "GET", path: "/v1/log/checkpoint?witnessed=true"}), http.StatusNotFound, server.TypeNotFound)
	cosign("bravo")
	wc, wn, _ := e.checkpointOf(t, "carol", "?witnessed=true", e.cosigVerifier(t, "alpha"), e.cosigVerifier(t, "bravo"))
	if wc.Size != c2.Size || len(wn.Sigs) != 3 {
		t.Errorf("witnessed checkpoint of %d with %d signatures, want %d with 3", wc.Size, len(wn.Sigs), c2.Size)
	}

	// Bad cosignatures are refused.
	_, n, signed := e.checkpointOf(t, "carol", "")
	wrongKey, _ := ledger.NewCosigner("carol", e.key("alpha"), nil)
	forged, _ := note.Sign(n, wrongKey)
	bogus := ledger.Checkpoint{Origin: logOrigin, Size: c2.Size, Root: tlog.Hash{1}}
	for name, body := range map[string]string{
		"someone else's key":       string(forged),
		"not a note":               "hello",
		"not signed by log":        string(bogus.Marshal()) + "\n— carol AAAA\n",
		"only the log's signature": string(signed),
	} {
		r := e.do(t, request{as: "carol", method: "POST", path: "/v1/log/cosignatures", body: server.CosignRequest{Checkpoint: body}})
		if r.status != http.StatusBadRequest {
			t.Errorf("cosignature with %s: status %d, want 400: %s", name, r.status, r.body)
		}
	}

	// Bad parameters.
	for _, path := range []string{
		"/v1/log/entries?start=0", "/v1/log/entries?start=1&count=5000", "/v1/log/entries",
		"/v1/log/proof/inclusion?index=3&size=2", "/v1/log/proof/inclusion?index=x&size=2",
		"/v1/log/proof/consistency?old=5&size=2", "/v1/log/entries/0/content", "/v1/log/checkpoint?witnessed=maybe",
	} {
		wantProblem(t, e.do(t, request{as: "alpha", method: "GET", path: path}), http.StatusBadRequest, server.TypeValidation)
	}
	wantProblem(t, e.do(t, request{as: "alpha", method: "GET", path: fmt.Sprintf("/v1/log/proof/inclusion?index=1&size=%d", c2.Size+10)}), http.StatusNotFound, server.TypeNotFound)

	// After a restart the log is the same tree: the old receipts are in
	// the new checkpoint.
	e.restart(t)
	c3, _, _ := e.checkpointOf(t, "alpha", "")
	if c3.Size != c2.Size || c3.Root != c2.Root {
		t.Fatalf("after restart checkpoint %d/%v, want %d/%v", c3.Size, c3.Root, c2.Size, c2.Root)
	}
	d := e.file(t, "alpha", server.FileRequest{Priority: 1, Volumes: []geo.VolumeSpec{e.vol(e.spot())}})
	c4, _, _ := e.checkpointOf(t, "alpha", "")
	for _, f := range []*server.FiledView{a, b, c, d} {
		var p server.InclusionProof
		wantJSON(t, e.do(t, request{as: "alpha", method: "GET", path: fmt.Sprintf("/v1/log/proof/inclusion?index=%d&size=%d", f.Entry, c4.Size)}), http.StatusOK, &p)
		if err := tlog.CheckRecord(p.Proof, int64(c4.Size), c4.Root, int64(f.Entry-1), f.Receipt.LeafHash); err != nil {
			t.Errorf("entry %d not in the checkpoint after restart: %v", f.Entry, err)
		}
	}
}
