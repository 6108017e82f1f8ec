package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deconflict/deconflict/registry"
)

// hub wakes up the alert streams of the parties a batch of alerts is for.
type hub struct {
	mu   sync.Mutex
	subs map[registry.PartyID]map[chan struct{}]struct{}
}

// MaxStreamsPerParty bounds the alert streams one party may hold open.
const MaxStreamsPerParty = 8

func newHub() *hub { return &hub{subs: map[registry.PartyID]map[chan struct{}]struct{}{}} }

// subscribe registers a stream of p; ok is false if p has too many.
func (h *hub) subscribe(p registry.PartyID) (chan struct{}, func(), bool) {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	if len(h.subs[p]) >= MaxStreamsPerParty {
		h.mu.Unlock()
		return nil, nil, false
	}
	if h.subs[p] == nil {
		h.subs[p] = map[chan struct{}]struct{}{}
	}
	h.subs[p][ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.subs[p], ch)
		if len(h.subs[p]) == 0 {
			delete(h.subs, p)
		}
		h.mu.Unlock()
	}, true
}

func (h *hub) publish(alerts []registry.Alert) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, a := range alerts {
		for ch := range h.subs[a.To] {
			select {
			case ch <- struct{}{}:
			default: // already woken
			}
		}
	}
}

// alertPos is an alert's position: entry index, then number in it.
type alertPos struct{ entry, n uint64 }

func parseAlertID(id string) (alertPos, bool) {
	e, n, ok := strings.Cut(id, "-")
	if !ok {
		return alertPos{}, false
	}
	ei, err1 := strconv.ParseUint(e, 10, 64)
	ni, err2 := strconv.ParseUint(n, 10, 64)
	return alertPos{ei, ni}, err1 == nil && err2 == nil
}

func (a alertPos) less(b alertPos) bool { return a.entry < b.entry || a.entry == b.entry && a.n < b.n }

// alertStream serves GET /v1/alerts/stream: Server-Sent Events, one
// "alert" event per alert, its id the alert id. A client that reconnects
// with Last-Event-ID gets every alert after that one; a new one gets
// every unacknowledged alert first. Unacknowledged alerts are sent again
// every RedeliverEvery (at least once: a client may see an alert twice and
// must not act twice on one id).
func (s *Server) alertStream(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := noBody(c); err != nil {
		return err
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		return fmt.Errorf("server: streaming not supported by the connection")
	}
	var cursor alertPos
	resume := r.Header.Get("Last-Event-ID")
	if resume == "" {
		resume = r.URL.Query().Get("last_event_id")
	}
	if resume != "" {
		pos, ok := parseAlertID(resume)
		if !ok {
			return invalidf("Last-Event-ID %q is not an alert id", resume)
		}
		cursor = pos
	}
	wake, cancel, ok := s.hub.subscribe(c.party)
	if !ok {
		return &Problem{Type: TypeRateLimited, Title: "too many alert streams", Status: http.StatusTooManyRequests,
			Detail: fmt.Sprintf("at most %d alert streams per party are open at once; close one", MaxStreamsPerParty), retryAfter: "10"}
	}
	defer cancel()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	send := func(v AlertView) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "id: %s\nevent: alert\ndata: %s\n\n", v.ID, b)
		return err
	}
	// newer sends the alerts after the cursor (or, on a fresh start, the
	// unacknowledged ones) and moves it.
	newer := func(unackedOnly bool) error {
		after := uint64(0)
		if cursor.entry > 0 {
			after = cursor.entry - 1
		}
		for _, v := range s.alertViews(c.party, after, unackedOnly) {
			pos, _ := parseAlertID(v.ID)
			if !cursor.less(pos) {
				continue
			}
			if err := send(v); err != nil {
				return err
			}
			cursor = pos
		}
		fl.Flush()
		return nil
	}
	if err := newer(resume == ""); err != nil {
		return nil // the client went away
	}
	if resume == "" {
		// Started with the unacknowledged alerts: go on after the latest
		// alert, acknowledged or not.
		if as := s.svc.Alerts(c.party, 0); len(as) > 0 {
			if pos, ok := parseAlertID(as[len(as)-1].ID); ok && cursor.less(pos) {
				cursor = pos
			}
		}
	}
	redeliver := time.NewTicker(s.cfg.RedeliverEvery)
	defer redeliver.Stop()
	heartbeat := time.NewTicker(15 * time.Second)
	defer heartbeat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-s.streamsDone:
			return nil
		case <-wake:
			if newer(false) != nil {
				return nil
			}
		case <-redeliver.C:
			for _, v := range s.alertViews(c.party, 0, true) {
				pos, _ := parseAlertID(v.ID)
				if !cursor.less(pos) && send(v) != nil {
					return nil
				}
			}
			fl.Flush()
		case <-heartbeat.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return nil
			}
			fl.Flush()
		}
	}
}
