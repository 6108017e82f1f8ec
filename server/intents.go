package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/deconflict/deconflict/geo"
	"github.com/deconflict/deconflict/registry"
	"github.com/deconflict/deconflict/service"
)

// FileRequest files an intent (POST /v1/intents, and each item of a batch).
type FileRequest struct {
	ID       string           `json:"id,omitempty"` // a UUID; assigned if empty
	Priority int              `json:"priority"`
	State    registry.State   `json:"state,omitempty"` // accepted (default), activated or contingent
	Volumes  []geo.VolumeSpec `json:"volumes"`
	Key      []registry.OVN   `json:"key,omitempty"`
	// Details are private: a JSON object of at most 16 KiB, shown only to
	// parties with a full grant from you.
	Details json.RawMessage `json:"details,omitempty"`
}

// UpdateRequest replaces an intent's volumes and priority (PUT /v1/intents/{id}).
type UpdateRequest struct {
	OVN      registry.OVN     `json:"ovn"`
	Priority int              `json:"priority"`
	State    registry.State   `json:"state,omitempty"`
	Volumes  []geo.VolumeSpec `json:"volumes"`
	Key      []registry.OVN   `json:"key,omitempty"`
	Details  json.RawMessage  `json:"details,omitempty"` // absent: kept
}

// StateRequest changes an intent's state (POST /v1/intents/{id}/state).
type StateRequest struct {
	OVN   registry.OVN   `json:"ovn"`
	State registry.State `json:"state"`
}

// EndRequest ends an intent (POST /v1/intents/{id}/end).
type EndRequest struct {
	OVN registry.OVN `json:"ovn"`
}

// BatchRequest files many intents in one signed request; each is decided on
// its own (POST /v1/intents/batch).
type BatchRequest struct {
	Intents []FileRequest `json:"intents"`
}

// BatchItem is the result of one intent of a batch: Status 201 with Filed,
// or an error status with Problem. Filed's intent comes without its
// volumes and details: they are the request's, and a batch answer would
// otherwise repeat the whole request (GET /v1/intents/{id} shows them).
type BatchItem struct {
	Status  int        `json:"status"`
	Filed   *FiledView `json:"filed,omitempty"`
	Problem *Problem   `json:"problem,omitempty"`
}

// BatchResponse answers a batch, one item per intent, in request order.
type BatchResponse struct {
	Results []BatchItem `json:"results"`
}

// QueryRequest asks for the intents that conflict with a volume: an area,
// an altitude band and a time window.
type QueryRequest struct {
	Volume geo.VolumeSpec `json:"volume"`
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func checkIntentID(id string) error {
	if !uuidRE.MatchString(id) {
		return invalidf("intent id %q must be a lowercase UUID", id)
	}
	return nil
}

func (s *Server) volumes(specs []geo.VolumeSpec) ([]*geo.Volume, error) {
	if len(specs) == 0 || len(specs) > registry.MaxVolumes {
		return nil, invalidf("an intent needs 1 to %d volumes, not %d", registry.MaxVolumes, len(specs))
	}
	out := make([]*geo.Volume, len(specs))
	for i, sp := range specs {
		v, err := geo.NewVolume(sp, s.cfg.Limits)
		if err != nil {
			return nil, geo.Prefix(fmt.Sprintf("volumes[%d]", i), err)
		}
		out[i] = v
	}
	return out, nil
}

// fileCommand validates one file request into a command.
func (s *Server) fileCommand(c *call, fr *FileRequest) (service.Command, error) {
	if fr.ID != "" {
		if err := checkIntentID(fr.ID); err != nil {
			return service.Command{}, err
		}
	}
	vols, err := s.volumes(fr.Volumes)
	if err != nil {
		return service.Command{}, err
	}
	return service.Command{Request: c.req, Entry: registry.Entry{
		Party: c.party, Kind: registry.KindFile,
		File: &registry.File{Intent: registry.IntentID(fr.ID), Priority: fr.Priority, State: fr.State, Volumes: vols, Key: fr.Key, Details: fr.Details},
	}}, nil
}

func (s *Server) fileIntent(w http.ResponseWriter, r *http.Request, c *call) error {
	var fr FileRequest
	if f, ok := readFileRequest(c.body); ok {
		fr = *f
	} else if err := decode(c.body, &fr); err != nil {
		return err
	}
	cmd, err := s.fileCommand(c, &fr)
	if err != nil {
		return err
	}
	return s.submit(w, r, cmd, http.StatusCreated)
}

func (s *Server) submit(w http.ResponseWriter, r *http.Request, cmd service.Command, status int) error {
	extent, err := overlapsParam(r)
	if err != nil {
		return err
	}
	if err := s.checkQuota(cmd); err != nil {
		return err
	}
	o, err := s.svc.Submit(r.Context(), cmd)
	if err != nil {
		return s.refused(cmd, o, err, extent)
	}
	f := s.filed(cmd.Entry.Party, o, false, extent)
	bp := answerBufs.Get().(*[]byte)
	b, ok := AppendFiledView((*bp)[:0], &f)
	writeEncoded(w, status, b, ok, f)
	putAnswerBuf(bp, b)
	return nil
}

// overlapsParam reads the query parameter overlaps of a write: cells (the
// default) shows each overlap in the answer with its cells, extent only
// with its altitude band and time window, much cheaper to compute and to
// read (GET /v1/intents/{id} and /v1/conflicts still show the cells).
func overlapsParam(r *http.Request) (extent bool, err error) {
	if r.URL.RawQuery == "" {
		return false, nil
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return false, invalidf("malformed query: %v", err)
	}
	for k := range q {
		if k != "overlaps" {
			return false, invalidf("unknown query parameter %q: a write takes only overlaps", k)
		}
	}
	switch v := q["overlaps"]; {
	case len(v) == 0 || len(v) == 1 && v[0] == "cells":
		return false, nil
	case len(v) == 1 && v[0] == "extent":
		return true, nil
	default:
		return false, invalidf("query parameter overlaps=%q: want one of cells (the default) or extent", strings.Join(v, ","))
	}
}

// filed is the answer to an accepted write, as its filer may see it
// (extent: overlaps without cells).
func (s *Server) filed(party registry.PartyID, o service.Outcome, brief, extent bool) FiledView {
	var pol policy
	levels := make([]registry.Level, len(o.Result.Conflicts))
	s.svc.View(func(reg *registry.Registry) {
		pol = s.policyFor(reg, party)
		pol.extent = extent
		for i, c := range o.Result.Conflicts {
			levels[i] = pol.level(c.Intent.Owner)
		}
	})
	pol.reg = nil // not to be used outside the lock
	return filedView(pol, levels, o, brief)
}

// refused turns the error of a submitted command into its answer: a
// refusal shows the intents in question against the command's volumes
// and counts what it disclosed against the party's quota.
func (s *Server) refused(cmd service.Command, o service.Outcome, err error, extent bool) error {
	var ref *registry.RefusalError
	if !errors.As(err, &ref) {
		return err
	}
	var mine []*geo.Volume
	switch {
	case cmd.Entry.File != nil:
		mine = cmd.Entry.File.Volumes
	case cmd.Entry.Update != nil:
		mine = cmd.Entry.Update.Volumes
	}
	s.quotas.disclosed(cmd.Entry.Party, len(ref.Intents), s.cfg.Now())
	return s.refusal(cmd.Entry.Party, ref, mine, o, extent)
}

func (s *Server) fileBatch(w http.ResponseWriter, r *http.Request, c *call) error {
	extent, err := overlapsParam(r)
	if err != nil {
		return err
	}
	var br BatchRequest
	if b, ok := readBatchRequest(c.body); ok {
		br = *b
	} else if err := decode(c.body, &br); err != nil {
		return err
	}
	if len(br.Intents) == 0 || len(br.Intents) > s.cfg.MaxBatch {
		return invalidf("a batch holds 1 to %d intents, not %d", s.cfg.MaxBatch, len(br.Intents))
	}
	resp := BatchResponse{Results: make([]BatchItem, len(br.Intents))}
	var cmds []service.Command
	var at []int
	for i := range br.Intents {
		cmd, err := s.fileCommand(c, &br.Intents[i])
		if err != nil {
			p := s.problemFor(c.party, err)
			resp.Results[i] = BatchItem{Status: p.Status, Problem: p}
			continue
		}
		if err := s.checkQuota(cmd); err != nil {
			p := s.problemFor(c.party, err)
			resp.Results[i] = BatchItem{Status: p.Status, Problem: p}
			continue
		}
		cmd.Item = i
		cmds = append(cmds, cmd)
		at = append(at, i)
	}
	for k, o := range s.svc.SubmitAll(r.Context(), cmds) {
		i := at[k]
		if o.Err != nil {
			p := s.problemFor(c.party, s.refused(cmds[k], o, o.Err, extent))
			resp.Results[i] = BatchItem{Status: p.Status, Problem: p}
			continue
		}
		f := s.filed(c.party, o, true, extent)
		resp.Results[i] = BatchItem{Status: http.StatusCreated, Filed: &f}
	}
	bp := answerBufs.Get().(*[]byte)
	b, ok := AppendBatchResponse((*bp)[:0], &resp)
	writeEncoded(w, http.StatusOK, b, ok, resp)
	putAnswerBuf(bp, b)
	return nil
}

// answerBufs holds the buffers answers to filings are encoded into (one
// intent's grows with its conflicts and their cells, a batch's is often
// hundreds of KiB), for reuse; those above maxPooledAnswer are dropped.
var answerBufs = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

const maxPooledAnswer = 8 << 20

// putAnswerBuf returns bp to answerBufs once b, the answer encoded into it,
// is written.
func putAnswerBuf(bp *[]byte, b []byte) {
	if cap(b) <= maxPooledAnswer {
		*bp = b[:0]
		answerBufs.Put(bp)
	}
}

func (s *Server) getIntent(w http.ResponseWriter, r *http.Request, c *call) error {
	id := r.PathValue("id")
	var view IntentView
	var ok bool
	s.svc.View(func(reg *registry.Registry) {
		if it := reg.Intent(registry.IntentID(id)); it != nil {
			view, ok = s.policyFor(reg, c.party).readView(it)
		}
	})
	if !ok {
		return fmt.Errorf("intent %s: %w", id, registry.ErrNotFound)
	}
	writeJSON(w, http.StatusOK, view)
	return nil
}

func (s *Server) listIntents(w http.ResponseWriter, r *http.Request, c *call) error {
	var out []IntentView
	s.svc.View(func(reg *registry.Registry) {
		reg.Intents(func(it *registry.Intent) bool {
			if it.Owner == c.party && (it.State != registry.StateEnded || r.URL.Query().Get("ended") == "true") {
				out = append(out, ownView(it))
			}
			return true
		})
	})
	sortViews(out)
	writeJSON(w, http.StatusOK, map[string]any{"intents": nonNil(out)})
	return nil
}

func (s *Server) updateIntent(w http.ResponseWriter, r *http.Request, c *call) error {
	var ur UpdateRequest
	if err := decode(c.body, &ur); err != nil {
		return err
	}
	vols, err := s.volumes(ur.Volumes)
	if err != nil {
		return err
	}
	return s.submit(w, r, service.Command{Request: c.req, Entry: registry.Entry{
		Party: c.party, Kind: registry.KindUpdate,
		Update: &registry.Update{Intent: registry.IntentID(r.PathValue("id")), OVN: ur.OVN, Priority: ur.Priority, State: ur.State, Volumes: vols, Key: ur.Key, Details: ur.Details},
	}}, http.StatusOK)
}

func (s *Server) setState(w http.ResponseWriter, r *http.Request, c *call) error {
	var sr StateRequest
	if err := decode(c.body, &sr); err != nil {
		return err
	}
	return s.submit(w, r, service.Command{Request: c.req, Entry: registry.Entry{
		Party: c.party, Kind: registry.KindSetState,
		SetState: &registry.SetState{Intent: registry.IntentID(r.PathValue("id")), OVN: sr.OVN, State: sr.State},
	}}, http.StatusOK)
}

func (s *Server) endIntent(w http.ResponseWriter, r *http.Request, c *call) error {
	var er EndRequest
	if err := decode(c.body, &er); err != nil {
		return err
	}
	return s.submit(w, r, service.Command{Request: c.req, Entry: registry.Entry{
		Party: c.party, Kind: registry.KindEnd,
		End: &registry.End{Intent: registry.IntentID(r.PathValue("id")), OVN: er.OVN},
	}}, http.StatusOK)
}

// queryIntents lists the live intents that conflict with a volume: the
// caller's own, and others' where their owners' grants allow area
// queries (operational or full).
func (s *Server) queryIntents(w http.ResponseWriter, r *http.Request, c *call) error {
	var qr QueryRequest
	if err := decode(c.body, &qr); err != nil {
		return err
	}
	q, err := geo.NewVolume(qr.Volume, s.cfg.Limits)
	if err != nil {
		return geo.Prefix("volume", err)
	}
	var out []IntentView
	s.svc.View(func(reg *registry.Registry) {
		found := map[registry.IntentID]*registry.Conflict{}
		var order []registry.IntentID
		reg.Search(q, reg.Config().Separation, func(it *registry.Intent, vol int) bool {
			cf := found[it.ID]
			if cf == nil {
				cf = &registry.Conflict{Intent: it}
				found[it.ID] = cf
				order = append(order, it.ID)
			}
			cf.Pairs = append(cf.Pairs, registry.Pair{Theirs: vol})
			return true
		})
		pol := s.policyFor(reg, c.party)
		for _, id := range order {
			if v, ok := pol.areaView(found[id].Intent); ok {
				out = append(out, v)
			}
		}
	})
	sortViews(out)
	writeJSON(w, http.StatusOK, map[string]any{"intents": nonNil(out)})
	return nil
}

func sortViews(vs []IntentView) {
	slices.SortFunc(vs, func(a, b IntentView) int { return strings.Compare(string(a.ID), string(b.ID)) })
}

func nonNil(vs []IntentView) []IntentView {
	if vs == nil {
		return []IntentView{}
	}
	return vs
}
