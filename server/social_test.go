package server_test

import (
	"bufio"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/deconflict/deconflict/geo"
	"github.com/deconflict/deconflict/notify"
	"github.com/deconflict/deconflict/registry"
	"github.com/deconflict/deconflict/server"
)

// TestGrantsAndDisclosures walks one conflict through the grant levels and
// checks what each party is shown, that refusals are recorded as
// disclosures the owner is told of, and acknowledgements.
func TestGrantsAndDisclosures(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{AckDeadline: time.Nanosecond})
	e.addMembers(t, "alpha", "bravo", "charlie")
	x := e.spot()
	a := e.file(t, "alpha", server.FileRequest{Priority: 10, Volumes: []geo.VolumeSpec{e.vol(x)}, Details: json.RawMessage(`{"callsign":"A1"}`)})

	// A refused filing shows the deconfliction view, and is logged.
	p := wantProblem(t, e.do(t, fileReq("bravo", server.FileRequest{Priority: 20, Volumes: []geo.VolumeSpec{e.vol(x)}})), http.StatusConflict, server.TypeMissingKey)
	if len(p.Intents) != 1 {
		t.Fatalf("refusal shows %d intents", len(p.Intents))
	}
	v := p.Intents[0]
	if v.Level != "deconfliction" || v.Priority != nil || v.State != "" || len(v.Volumes) != 0 || len(v.Details) != 0 || len(v.Overlaps) != 1 {
		t.Fatalf("deconfliction view shows more or less than id, owner, OVN and overlaps: %+v", v)
	}
	if p.Disclosure == nil || p.Disclosure.Receipt == nil {
		t.Fatalf("the refusal names no disclosure entry: %+v", p)
	}
	vk, _ := note.NewVerifier(e.logVKey(t))
	if leaf, _, err := p.Disclosure.Receipt.Verify(vk); err != nil || leaf.Kind != "disclose" || leaf.Party != "bravo" {
		t.Fatalf("disclosure receipt: %+v, %v", leaf, err)
	}
	alerts := e.alertsOf(t, "alpha", 0)
	if len(alerts) != 1 || alerts[0].Kind != registry.AlertDisclosed || alerts[0].ByParty != "bravo" || alerts[0].Intent != a.Intent.ID {
		t.Fatalf("alpha's alerts %+v, want one telling bravo was shown its intent", alerts)
	}
	var ds struct{ Disclosures []registry.Disclosure }
	wantJSON(t, e.do(t, request{as: "alpha", method: "GET", path: "/v1/disclosures"}), http.StatusOK, &ds)
	if len(ds.Disclosures) != 1 || ds.Disclosures[0].To != "bravo" || ds.Disclosures[0].Reason != "missing-key" {
		t.Fatalf("alpha's disclosures %+v", ds.Disclosures)
	}
	// Under deconfliction bravo cannot read or query alpha's intent.
	wantProblem(t, e.do(t, request{as: "bravo", method: "GET", path: intentPath(a.Intent.ID, "")}), http.StatusNotFound, server.TypeNotFound)
	query := func(as registry.PartyID) []server.IntentView {
		var out struct{ Intents []server.IntentView }
		wantJSON(t, e.do(t, request{as: as, method: "POST", path: "/v1/intents/query", body: server.QueryRequest{Volume: e.vol(x)}}), http.StatusOK, &out)
		return out.Intents
	}
	if got := query("bravo"); len(got) != 0 {
		t.Fatalf("bravo's query shows %+v under deconfliction", got)
	}

	// operational: extents, state and priority, in reads and queries.
	grant := func(from, to registry.PartyID, l registry.Level) {
		t.Helper()
		var wr server.WriteResponse
		wantJSON(t, e.do(t, request{as: from, method: "PUT", path: "/v1/grants/" + string(to), body: server.GrantRequest{Party: to, Level: l}}), http.StatusOK, &wr)
		if wr.Receipt == nil {
			t.Fatal("grant answered without a receipt")
		}
	}
	grant("alpha", "bravo", registry.LevelOperational)
	got := e.getIntent(t, "bravo", a.Intent.ID)
	if got.Level != "operational" || got.Priority == nil || *got.Priority != 10 || len(got.Volumes) != 1 || len(got.Details) != 0 {
		t.Fatalf("operational view %+v", got)
	}
	if q := query("bravo"); len(q) != 1 || q[0].ID != a.Intent.ID || len(q[0].Details) != 0 {
		t.Fatalf("bravo's query under operational: %+v", q)
	}
	// full: details too; charlie still sees nothing.
	grant("alpha", "bravo", registry.LevelFull)
	if got := e.getIntent(t, "bravo", a.Intent.ID); string(got.Details) != `{"callsign":"A1"}` {
		t.Fatalf("full view details %s", got.Details)
	}
	wantProblem(t, e.do(t, request{as: "charlie", method: "GET", path: intentPath(a.Intent.ID, "")}), http.StatusNotFound, server.TypeNotFound)
	if q := query("charlie"); len(q) != 0 {
		t.Fatalf("charlie's query shows %+v", q)
	}
	var gv server.GrantsView
	wantJSON(t, e.do(t, request{as: "bravo", method: "GET", path: "/v1/grants"}), http.StatusOK, &gv)
	if len(gv.Received) != 1 || gv.Received[0].From != "alpha" || gv.Received[0].Level != registry.LevelFull || len(gv.Given) != 0 {
		t.Fatalf("bravo's grants %+v", gv)
	}
	wantProblem(t, e.do(t, request{as: "alpha", method: "PUT", path: "/v1/grants/bravo", body: server.GrantRequest{Party: "bravo", Level: "everything"}}), http.StatusBadRequest, server.TypeValidation)

	// Acknowledgement: overdue before, acked after, once.
	var av struct{ Alerts []server.AlertView }
	wantJSON(t, e.do(t, request{as: "alpha", method: "GET", path: "/v1/alerts?unacked=true"}), http.StatusOK, &av)
	if len(av.Alerts) != 1 || av.Alerts[0].Severity != "overdue" || av.Alerts[0].Acked != nil {
		t.Fatalf("unacked alerts %+v, want one overdue", av.Alerts)
	}
	id := av.Alerts[0].ID
	wantProblem(t, e.do(t, request{as: "bravo", method: "POST", path: "/v1/alerts/" + id + "/ack", body: server.AckRequest{Alert: id}}), http.StatusNotFound, server.TypeNotFound)
	wantProblem(t, e.do(t, request{as: "alpha", method: "POST", path: "/v1/alerts/" + id + "/ack", body: server.AckRequest{Alert: "1-1"}}), http.StatusBadRequest, server.TypeValidation)
	wantProblem(t, e.do(t, request{as: "alpha", method: "PUT", path: "/v1/grants/bravo", body: server.GrantRequest{Party: "charlie", Level: registry.LevelFull}}), http.StatusBadRequest, server.TypeValidation)
	var ack server.AckResponse
	wantJSON(t, e.do(t, request{as: "alpha", method: "POST", path: "/v1/alerts/" + id + "/ack", body: server.AckRequest{Alert: id}}), http.StatusOK, &ack)
	if leaf, _, err := ack.Receipt.Verify(vk); err != nil || leaf.Kind != "ack" || leaf.Party != "alpha" {
		t.Fatalf("ack receipt %+v, %v", leaf, err)
	}
	wantProblem(t, e.do(t, request{as: "alpha", method: "POST", path: "/v1/alerts/" + id + "/ack", body: server.AckRequest{Alert: id}}), http.StatusConflict, server.TypeExists)
	wantJSON(t, e.do(t, request{as: "alpha", method: "GET", path: "/v1/alerts"}), http.StatusOK, &av)
	if len(av.Alerts) != 1 || av.Alerts[0].Acked == nil || av.Alerts[0].AckEntry != ack.Entry || av.Alerts[0].Severity != "normal" {
		t.Fatalf("alerts after the ack %+v", av.Alerts)
	}

	// Webhook registration is validated.
	wantProblem(t, e.do(t, request{as: "alpha", method: "PUT", path: "/v1/webhook", body: server.WebhookRequest{URL: "http://alpha.example/h"}}), http.StatusBadRequest, server.TypeValidation)
	wantJSON(t, e.do(t, request{as: "alpha", method: "PUT", path: "/v1/webhook", body: server.WebhookRequest{URL: "https://alpha.example/h"}}), http.StatusOK, nil)
}

// TestHotline: the two parties of a conflict talk on its hotline, nobody
// else sees it, both mark it coordinated, and it is resolved when one
// intent ends.
func TestHotline(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	e.addMembers(t, "alpha", "bravo", "charlie")
	x := e.spot()
	a := e.file(t, "alpha", server.FileRequest{Priority: 10, Volumes: []geo.VolumeSpec{e.vol(x)}})
	b := e.file(t, "bravo", server.FileRequest{Priority: 5, State: registry.StateContingent, Volumes: []geo.VolumeSpec{e.vol(x)}})
	var cs struct{ Conflicts []server.ConflictView }
	wantJSON(t, e.do(t, request{as: "alpha", method: "GET", path: "/v1/conflicts"}), http.StatusOK, &cs)
	if len(cs.Conflicts) != 1 || cs.Conflicts[0].Status != "open" || cs.Conflicts[0].Other.ID != b.Intent.ID {
		t.Fatalf("alpha's conflicts %+v", cs.Conflicts)
	}
	id := cs.Conflicts[0].ID
	path := "/v1/conflicts/" + string(id) + "/messages"
	wantJSON(t, e.do(t, request{as: "alpha", method: "POST", path: path, body: server.MessageRequest{Conflict: id, Text: "climb to 300 m?"}}), http.StatusOK, nil)
	wantProblem(t, e.do(t, request{as: "charlie", method: "POST", path: path, body: server.MessageRequest{Conflict: id, Text: "me too"}}), http.StatusForbidden, server.TypeForbidden)
	wantProblem(t, e.do(t, request{as: "charlie", method: "GET", path: path}), http.StatusNotFound, server.TypeNotFound)
	wantJSON(t, e.do(t, request{as: "bravo", method: "POST", path: path, body: server.MessageRequest{Conflict: id, Text: "ok"}}), http.StatusOK, nil)
	var h server.HotlineView
	wantJSON(t, e.do(t, request{as: "bravo", method: "GET", path: path}), http.StatusOK, &h)
	if len(h.Messages) != 2 || h.Messages[0].From != "alpha" || h.Messages[0].Text != "climb to 300 m?" || h.Status != "open" {
		t.Fatalf("hotline %+v", h)
	}
	if as := e.alertsOf(t, "bravo", 0); len(as) == 0 || as[len(as)-1].Kind != registry.AlertMessage || as[len(as)-1].Conflict != id {
		t.Fatalf("bravo's alerts %+v, want a message alert last", as)
	}
	for _, p := range []registry.PartyID{"alpha", "bravo"} {
		wantJSON(t, e.do(t, request{as: p, method: "POST", path: "/v1/conflicts/" + string(id) + "/coordinate", body: server.CoordinateRequest{Conflict: id}}), http.StatusOK, nil)
	}
	wantJSON(t, e.do(t, request{as: "alpha", method: "GET", path: path}), http.StatusOK, &h)
	if h.Status != "coordinated" {
		t.Fatalf("status %q after both coordinated", h.Status)
	}
	if _, err := e.client(t, "alpha").End(t.Context(), a.Intent.ID, a.Intent.OVN); err != nil {
		t.Fatal(err)
	}
	wantJSON(t, e.do(t, request{as: "bravo", method: "GET", path: path}), http.StatusOK, &h)
	if h.Status != "resolved" || len(h.Messages) != 2 {
		t.Fatalf("after alpha ended its intent: %+v", h)
	}
}

// sseEvent is one event of an alert stream.
type sseEvent struct{ id, data string }

// openStream connects party p's alert stream (resuming after last, if
// set) and returns its events on a channel.
func (e *env) openStream(t *testing.T, p registry.PartyID, last string) (<-chan sseEvent, func()) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", e.url()+"/v1/alerts/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.token(t, p, nil))
	if last != "" {
		req.Header.Set("Last-Event-ID", last)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	ch := make(chan sseEvent, 100)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "id: "):
				ev.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			case line == "" && ev.id != "":
				ch <- ev
				ev = sseEvent{}
			}
		}
	}()
	return ch, func() { resp.Body.Close() }
}

func next(t *testing.T, ch <-chan sseEvent) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("stream closed")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
	}
	return sseEvent{}
}

// TestAlertStream: a stream sends unacknowledged alerts on connect, then
// new ones as they happen; one resumed with Last-Event-ID gets exactly the
// alerts it missed; unacknowledged alerts are sent again.
func TestAlertStream(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{RedeliverEvery: 300 * time.Millisecond})
	e.addMembers(t, "alpha", "bravo")
	probe := func() string { // bravo is refused over a new intent of alpha's: alpha is alerted
		t.Helper()
		x := e.spot()
		e.file(t, "alpha", server.FileRequest{Priority: 10, Volumes: []geo.VolumeSpec{e.vol(x)}})
		wantProblem(t, e.do(t, fileReq("bravo", server.FileRequest{Priority: 1, Volumes: []geo.VolumeSpec{e.vol(x)}})), http.StatusConflict, server.TypeMissingKey)
		as := e.alertsOf(t, "alpha", 0)
		return as[len(as)-1].ID
	}
	first := probe()
	ch, stop := e.openStream(t, "alpha", "")
	if ev := next(t, ch); ev.id != first {
		t.Fatalf("first event %q, want the unacked alert %q", ev.id, first)
	}
	second := probe()
	ev := next(t, ch)
	for ev.id == first { // a redelivery of the first may come in between
		ev = next(t, ch)
	}
	if ev.id != second {
		t.Fatalf("live event %q, want %q", ev.id, second)
	}
	var av server.AlertView
	if err := json.Unmarshal([]byte(ev.data), &av); err != nil || av.Kind != registry.AlertDisclosed || av.ByParty != "bravo" {
		t.Fatalf("event data %s: %v", ev.data, err)
	}
	stop()

	// Missed while disconnected: exactly these come on resuming.
	third, fourth := probe(), probe()
	ch, stop = e.openStream(t, "alpha", second)
	defer stop()
	got := map[string]bool{}
	for len(got) < 2 {
		ev := next(t, ch)
		if ev.id == first || ev.id == second {
			continue // redelivery of unacked alerts is allowed (at least once)
		}
		got[ev.id] = true
	}
	if !got[third] || !got[fourth] {
		t.Fatalf("resumed stream gave %v, want %s and %s", got, third, fourth)
	}
	// Unacknowledged alerts come again; acknowledged ones stop.
	for _, id := range []string{first, second, third} {
		wantJSON(t, e.do(t, request{as: "alpha", method: "POST", path: "/v1/alerts/" + id + "/ack", body: server.AckRequest{Alert: id}}), http.StatusOK, nil)
	}
	deadline := time.Now().Add(3 * time.Second)
	seenFourth := false
	for time.Now().Before(deadline) && !seenFourth {
		ev := next(t, ch)
		seenFourth = ev.id == fourth
	}
	if !seenFourth {
		t.Fatalf("the unacknowledged alert %s was not sent again", fourth)
	}
}

// TestQuotas: a party whose refused filings keep showing it others'
// intents is limited (429 with Retry-After) and the owners are told each
// time; sweeping filings hit the area × time quota.
func TestQuotas(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{QuotaDisclosures: 2, QuotaAreaTime: 2000})
	e.addMembers(t, "alpha", "bravo", "charlie")
	x := e.spot()
	e.file(t, "alpha", server.FileRequest{Priority: 10, Volumes: []geo.VolumeSpec{e.vol(x)}})
	for i := range 2 {
		r := e.do(t, fileReq("bravo", server.FileRequest{Priority: 1, Volumes: []geo.VolumeSpec{e.vol(x)}}))
		wantProblem(t, r, http.StatusConflict, server.TypeMissingKey)
		_ = i
	}
	r := e.do(t, fileReq("bravo", server.FileRequest{Priority: 1, Volumes: []geo.VolumeSpec{e.vol(x)}}))
	wantProblem(t, r, http.StatusTooManyRequests, server.TypeRateLimited)
	if r.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	if as := e.alertsOf(t, "alpha", 0); len(as) != 2 {
		t.Fatalf("alpha was told %d times, want 2 (one per refusal)", len(as))
	}
	// Area × time: a 20 km circle for an hour is about 1257 km²·h; the
	// second such filing is over a quota of 2000, and a single filing
	// larger than the quota is refused outright.
	big := geo.VolumeSpec{Circle: &geo.CircleSpec{Lat: 45, Lng: 45, RadiusM: 20_000}, AltLoM: 0, AltHiM: 100, Start: e.start, End: e.end}
	e.file(t, "charlie", server.FileRequest{Priority: 1, Volumes: []geo.VolumeSpec{big}})
	big.Circle.Lat = 46
	r = e.do(t, fileReq("charlie", server.FileRequest{Priority: 1, Volumes: []geo.VolumeSpec{big}}))
	if p := wantProblem(t, r, http.StatusTooManyRequests, server.TypeRateLimited); !strings.Contains(p.Detail, "area") {
		t.Errorf("quota problem %q does not say which quota", p.Detail)
	}
	e.addMembers(t, "delta")
	huge := geo.VolumeSpec{Circle: &geo.CircleSpec{Lat: 40, Lng: 40, RadiusM: 100_000}, AltLoM: 0, AltHiM: 100, Start: e.start, End: e.end}
	if p := wantProblem(t, e.do(t, fileReq("delta", server.FileRequest{Priority: 1, Volumes: []geo.VolumeSpec{huge}})), http.StatusTooManyRequests, server.TypeRateLimited); !strings.Contains(p.Detail, "on its own") {
		t.Errorf("a first filing larger than the quota: %q", p.Detail)
	}
	// A batch is checked too.
	br := server.BatchRequest{Intents: []server.FileRequest{{Priority: 1, Volumes: []geo.VolumeSpec{e.vol(x)}}}}
	var bres server.BatchResponse
	wantJSON(t, e.do(t, request{as: "bravo", method: "POST", path: "/v1/intents/batch", body: br}), http.StatusOK, &bres)
	if len(bres.Results) != 1 || bres.Results[0].Status != http.StatusTooManyRequests {
		t.Errorf("bravo's batch over its disclosure quota: %+v", bres.Results)
	}
}

// fileReq is a request filing fr as party as.
func fileReq(as registry.PartyID, fr server.FileRequest) request {
	return request{as: as, method: "POST", path: "/v1/intents", body: fr}
}

// TestWebhookDelivery: a party's HTTPS webhook that fails several times
// and then succeeds gets each alert exactly once per idempotency key,
// signed by the service key, with no attempt after the success; after a
// restart, unacknowledged alerts are posted again with the same key, and
// a receiver that dedupes by it processes each alert once.
func TestWebhookDelivery(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	attempts, processed, duplicates := map[string]int{}, map[string]int{}, map[string]int{}
	var pub ed25519.PublicKey
	failFirst := 3
	recv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		id, err := notify.Verify(pub, r.Header, body, time.Now(), time.Minute)
		if err != nil {
			t.Errorf("webhook does not verify: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		attempts[id]++
		if attempts[id] <= failFirst {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if processed[id] > 0 { // the receiver dedupes by idempotency key
			duplicates[id]++
			return
		}
		processed[id]++
		var a server.AlertView
		if err := json.Unmarshal(body, &a); err != nil || a.ID != id || a.To != "alpha" || a.Kind != registry.AlertDisclosed {
			t.Errorf("webhook body %s for id %s", body, id)
		}
	}))
	defer recv.Close()
	e := newEnv(t, envConfig{WebhookClient: recv.Client()})
	pub = e.logKey.Public().(ed25519.PublicKey)
	e.addMembers(t, "alpha", "bravo")
	wantJSON(t, e.do(t, request{as: "alpha", method: "PUT", path: "/v1/webhook", body: server.WebhookRequest{URL: recv.URL + "/hook"}}), http.StatusOK, nil)
	x := e.spot()
	e.file(t, "alpha", server.FileRequest{Priority: 10, Volumes: []geo.VolumeSpec{e.vol(x)}})
	wantProblem(t, e.do(t, fileReq("bravo", server.FileRequest{Priority: 1, Volumes: []geo.VolumeSpec{e.vol(x)}})), http.StatusConflict, server.TypeMissingKey)
	id := e.alertsOf(t, "alpha", 0)[0].ID
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			mu.Lock()
			done := ok()
			mu.Unlock()
			if done {
				return
			}
		}
		t.Fatalf("timed out waiting for %s", what)
	}
	waitFor("the delivery", func() bool { return processed[id] == 1 })
	time.Sleep(500 * time.Millisecond) // longer than the largest backoff: no attempt may follow a success
	mu.Lock()
	if attempts[id] != failFirst+1 || processed[id] != 1 || duplicates[id] != 0 || len(attempts) != 1 {
		t.Errorf("alert %s: %d attempts, processed %d, duplicates %d (all: %v); want %d, 1, 0", id, attempts[id], processed[id], duplicates[id], attempts, failFirst+1)
	}
	mu.Unlock()

	e.restart(t)
	if n := e.server().RedeliverWebhooks(); n != 1 {
		t.Fatalf("after the restart %d unacknowledged alerts queued again, want 1", n)
	}
	waitFor("the redelivery", func() bool { return duplicates[id] == 1 })
	mu.Lock()
	if processed[id] != 1 {
		t.Errorf("processed %d times, want once", processed[id])
	}
	mu.Unlock()
}
