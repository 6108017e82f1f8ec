package server

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/deconflict/deconflict/ledger"
	"github.com/deconflict/deconflict/registry"
	"github.com/deconflict/deconflict/service"
)

// AlertView is an alert as its recipient sees it: with its
// acknowledgement, its age, and its severity (overdue once unacknowledged
// past the deadline). Pairs (which volumes conflict) are shown only under
// an operational or full grant from the party that caused it.
type AlertView struct {
	registry.Alert
	Acked    *time.Time `json:"acked,omitempty"`
	AckEntry uint64     `json:"ack_entry,omitempty"`
	AgeS     int64      `json:"age_s"`
	Severity string     `json:"severity"` // normal or overdue
}

func (s *Server) alertView(reg *registry.Registry, a registry.Alert, now time.Time) AlertView {
	v := AlertView{Alert: a, AgeS: int64(now.Sub(a.Time) / time.Second), Severity: "normal"}
	if a.ByParty != "" && !reg.Grant(a.ByParty, a.To).AtLeast(registry.LevelOperational) {
		v.Pairs = nil
	}
	if ack, ok := reg.Acked(a.ID); ok {
		t := ack.Time
		v.Acked, v.AckEntry = &t, ack.Entry
	} else if now.Sub(a.Time) > s.cfg.AckDeadline {
		v.Severity = "overdue"
	}
	return v
}

// alertViews returns the party's alerts after entry after (unacked only,
// if asked), oldest first.
func (s *Server) alertViews(party registry.PartyID, after uint64, unacked bool) []AlertView {
	now := s.cfg.Now()
	out := []AlertView{}
	s.svc.View(func(reg *registry.Registry) {
		for _, a := range reg.Alerts(party, after) {
			if _, ok := reg.Acked(a.ID); ok && unacked {
				continue
			}
			out = append(out, s.alertView(reg, a, now))
		}
	})
	return out
}

func (s *Server) alerts(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := noBody(c); err != nil {
		return err
	}
	after, err := afterParam(r)
	if err != nil {
		return err
	}
	unacked := r.URL.Query().Get("unacked") == "true"
	writeJSON(w, http.StatusOK, map[string]any{"alerts": s.alertViews(c.party, after, unacked)})
	return nil
}

// afterParam reads the optional ?after=ENTRY (0 if absent).
func afterParam(r *http.Request) (uint64, error) {
	a := r.URL.Query().Get("after")
	if a == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(a, 10, 64)
	if err != nil {
		return 0, invalidf("after must be an entry index, not %q", a)
	}
	return n, nil
}

// AckResponse answers an acknowledgement: the entry that records it.
type AckResponse struct {
	Alert   string          `json:"alert"`
	Entry   uint64          `json:"entry"`
	Receipt *ledger.Receipt `json:"receipt,omitempty"`
}

func (s *Server) ackAlert(w http.ResponseWriter, r *http.Request, c *call) error {
	var ar AckRequest
	if err := decode(c.body, &ar); err != nil {
		return err
	}
	id := r.PathValue("id")
	if ar.Alert != id {
		return invalidf("the body names alert %q, the path %q: they must be the same", ar.Alert, id)
	}
	o, err := s.svc.Submit(r.Context(), service.Command{Request: c.req, Entry: registry.Entry{
		Party: c.party, Kind: registry.KindAck, Ack: &registry.Ack{Alert: id}}})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, AckResponse{Alert: id, Entry: o.Entry.Index, Receipt: o.Receipt})
	return nil
}

// GrantRequest sets the caller's grant to a party (PUT /v1/grants/{party}).
// Party repeats the path's party: the signed token covers the body, not
// the path, so this is what makes the logged request say whom.
type GrantRequest struct {
	Party registry.PartyID `json:"party"`
	Level registry.Level   `json:"level"`
}

// AckRequest acknowledges an alert (POST /v1/alerts/{id}/ack); Alert
// repeats the path's id, for the signed request to name it.
type AckRequest struct {
	Alert string `json:"alert"`
}

// CoordinateRequest marks a conflict coordinated (POST
// /v1/conflicts/{id}/coordinate); Conflict repeats the path's id.
type CoordinateRequest struct {
	Conflict registry.ConflictID `json:"conflict"`
}

// GrantsView lists the grants the caller gave and received that differ
// from the default (deconfliction).
type GrantsView struct {
	Given    []registry.GrantRecord `json:"given"`
	Received []registry.GrantRecord `json:"received"`
}

func (s *Server) listGrants(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := noBody(c); err != nil {
		return err
	}
	v := GrantsView{Given: []registry.GrantRecord{}, Received: []registry.GrantRecord{}}
	s.svc.View(func(reg *registry.Registry) {
		for _, g := range reg.Grants() {
			if g.From == c.party {
				v.Given = append(v.Given, g)
			}
			if g.To == c.party {
				v.Received = append(v.Received, g)
			}
		}
	})
	writeJSON(w, http.StatusOK, v)
	return nil
}

// WriteResponse answers the writes that only make an entry.
type WriteResponse struct {
	Entry   uint64          `json:"entry"`
	Receipt *ledger.Receipt `json:"receipt,omitempty"`
}

func (s *Server) submitSimple(w http.ResponseWriter, r *http.Request, c *call, e registry.Entry) error {
	e.Party = c.party
	o, err := s.svc.Submit(r.Context(), service.Command{Request: c.req, Entry: e})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, WriteResponse{Entry: o.Entry.Index, Receipt: o.Receipt})
	return nil
}

func (s *Server) setGrant(w http.ResponseWriter, r *http.Request, c *call) error {
	var gr GrantRequest
	if err := decode(c.body, &gr); err != nil {
		return err
	}
	if gr.Party != registry.PartyID(r.PathValue("party")) {
		return invalidf("the body names party %q, the path %q: they must be the same", gr.Party, r.PathValue("party"))
	}
	return s.submitSimple(w, r, c, registry.Entry{Kind: registry.KindSetGrant,
		SetGrant: &registry.SetGrant{To: registry.PartyID(r.PathValue("party")), Level: gr.Level}})
}

// WebhookRequest registers the caller's webhook (PUT /v1/webhook); an
// empty URL removes it.
type WebhookRequest struct {
	URL string `json:"url"`
}

func (s *Server) setWebhook(w http.ResponseWriter, r *http.Request, c *call) error {
	var wr WebhookRequest
	if err := decode(c.body, &wr); err != nil {
		return err
	}
	return s.submitSimple(w, r, c, registry.Entry{Kind: registry.KindSetWebhook, SetWebhook: &registry.SetWebhook{URL: wr.URL}})
}

func (s *Server) disclosures(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := noBody(c); err != nil {
		return err
	}
	after, err := afterParam(r)
	if err != nil {
		return err
	}
	var out []registry.Disclosure
	s.svc.View(func(reg *registry.Registry) { out = reg.Disclosures(c.party, after) })
	if out == nil {
		out = []registry.Disclosure{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"disclosures": out})
	return nil
}

// ConflictView is one conflict between an intent of the caller and one of
// another party, with its hotline's state: open, or coordinated (both
// parties marked it so). A conflict whose intents no longer conflict is
// resolved and not listed.
type ConflictView struct {
	ID          registry.ConflictID `json:"id"`
	Mine        registry.IntentID   `json:"mine"`
	Other       IntentView          `json:"other"`
	Status      string              `json:"status"` // open or coordinated
	Messages    int                 `json:"messages"`
	Coordinated []registry.PartyID  `json:"coordinated,omitempty"`
}

type ownerConflict struct {
	mine  registry.IntentID
	other registry.Conflict
}

func conflictsOfOwner(reg *registry.Registry, party registry.PartyID) []ownerConflict {
	var mine []*registry.Intent
	reg.Intents(func(it *registry.Intent) bool {
		if it.Owner == party && it.State != registry.StateEnded {
			mine = append(mine, it)
		}
		return true
	})
	slices.SortFunc(mine, func(a, b *registry.Intent) int { return strings.Compare(string(a.ID), string(b.ID)) })
	var out []ownerConflict
	for _, it := range mine {
		cs, _ := reg.ConflictsOf(it.ID)
		for _, c := range cs {
			out = append(out, ownerConflict{mine: it.ID, other: c})
		}
	}
	return out
}

func (s *Server) conflicts(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := noBody(c); err != nil {
		return err
	}
	out := []ConflictView{}
	s.svc.View(func(reg *registry.Registry) {
		pol := s.policyFor(reg, c.party)
		for _, oc := range conflictsOfOwner(reg, c.party) {
			id := registry.ConflictIDOf(oc.mine, oc.other.Intent.ID)
			v := ConflictView{ID: id, Mine: oc.mine, Status: "open",
				Other: pol.conflictView(oc.other.Intent, reg.Intent(oc.mine).Volumes, oc.other.Pairs)}
			if h := reg.Hotline(id); h != nil {
				v.Messages, v.Coordinated = len(h.Messages), slices.Clone(h.Coordinated)
				if len(h.Coordinated) == 2 {
					v.Status = "coordinated"
				}
			}
			out = append(out, v)
		}
	})
	writeJSON(w, http.StatusOK, map[string]any{"conflicts": out})
	return nil
}

// HotlineView is a conflict's hotline as one of its two parties sees it.
type HotlineView struct {
	ID          registry.ConflictID    `json:"id"`
	Status      string                 `json:"status"` // open, coordinated or resolved (no longer in conflict)
	Messages    []registry.HotlineNote `json:"messages"`
	Coordinated []registry.PartyID     `json:"coordinated,omitempty"`
}

// MessageRequest posts on a hotline; Conflict repeats the path's id.
type MessageRequest struct {
	Conflict registry.ConflictID `json:"conflict"`
	Text     string              `json:"text"`
}

func conflictParam(r *http.Request) registry.ConflictID {
	v, err := url.PathUnescape(r.PathValue("id"))
	if err != nil {
		return registry.ConflictID(r.PathValue("id"))
	}
	return registry.ConflictID(v)
}

func (s *Server) hotline(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := noBody(c); err != nil {
		return err
	}
	id := conflictParam(r)
	var view *HotlineView
	var err error
	s.svc.View(func(reg *registry.Registry) {
		a, b, ok := id.Intents()
		ia, ib := reg.Intent(a), reg.Intent(b)
		if !ok || ia == nil || ib == nil || (ia.Owner != c.party && ib.Owner != c.party) {
			err = fmt.Errorf("conflict %s: %w", id, registry.ErrNotFound)
			return
		}
		v := HotlineView{ID: id, Status: "open", Messages: []registry.HotlineNote{}}
		if h := reg.Hotline(id); h != nil {
			v.Messages, v.Coordinated = slices.Clone(h.Messages), slices.Clone(h.Coordinated)
			if len(h.Coordinated) == 2 {
				v.Status = "coordinated"
			}
		}
		if len(reg.ConflictBetween(a, b)) == 0 {
			v.Status = "resolved"
		}
		view = &v
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, view)
	return nil
}

func (s *Server) postMessage(w http.ResponseWriter, r *http.Request, c *call) error {
	var mr MessageRequest
	if err := decode(c.body, &mr); err != nil {
		return err
	}
	if mr.Conflict != conflictParam(r) {
		return invalidf("the body names conflict %q, the path %q: they must be the same", mr.Conflict, conflictParam(r))
	}
	return s.submitSimple(w, r, c, registry.Entry{Kind: registry.KindMessage,
		Message: &registry.Message{Conflict: conflictParam(r), Text: mr.Text}})
}

func (s *Server) coordinate(w http.ResponseWriter, r *http.Request, c *call) error {
	var cr CoordinateRequest
	if err := decode(c.body, &cr); err != nil {
		return err
	}
	if cr.Conflict != conflictParam(r) {
		return invalidf("the body names conflict %q, the path %q: they must be the same", cr.Conflict, conflictParam(r))
	}
	return s.submitSimple(w, r, c, registry.Entry{Kind: registry.KindCoordinate,
		Coordinate: &registry.Coordinate{Conflict: conflictParam(r)}})
}
