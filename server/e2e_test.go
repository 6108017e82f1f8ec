package server_test

// End-to-end tests of the HTTP API: a real Pebble store, the service, the
// server over HTTP, and parties that sign their requests.

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deconflict/deconflict/auth"
	"github.com/deconflict/deconflict/geo"
	"github.com/deconflict/deconflict/registry"
	"github.com/deconflict/deconflict/server"
	"github.com/deconflict/deconflict/service"
	"github.com/google/go-cmp/cmp"
)

// routesUsed lists every route the tests of this file send requests to;
// TestOpenAPI checks that the OpenAPI document lists exactly these.
var routesUsed = []string{
	"GET /healthz",
	"GET /metrics",
	"GET /v1/openapi.json",
	"POST /v1/intents",
	"POST /v1/intents/batch",
	"POST /v1/intents/query",
	"GET /v1/intents",
	"GET /v1/intents/{id}",
	"PUT /v1/intents/{id}",
	"POST /v1/intents/{id}/state",
	"POST /v1/intents/{id}/end",
	"GET /v1/conflicts",
	"GET /v1/alerts",
	"GET /v1/parties",
	"POST /v1/parties",
	"POST /v1/parties/{id}/revoke",
	"GET /v1/log/checkpoint",
	"GET /v1/log/entries",
	"GET /v1/log/entries/{index}/content",
	"GET /v1/log/proof/inclusion",
	"GET /v1/log/proof/consistency",
	"POST /v1/log/cosignatures",
	"GET /v1/alerts/stream",
	"POST /v1/alerts/{id}/ack",
	"GET /v1/grants",
	"PUT /v1/grants/{party}",
	"GET /v1/disclosures",
	"GET /v1/conflicts/{id}/messages",
	"POST /v1/conflicts/{id}/messages",
	"POST /v1/conflicts/{id}/coordinate",
	"PUT /v1/webhook",
}

// decodeAs decodes the body of r.
func decodeAs[T any](t *testing.T, r *reply) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
	return v
}

// alertsOf returns the alerts of party p after entry index after.
func (e *env) alertsOf(t *testing.T, p registry.PartyID, after uint64) []registry.Alert {
	t.Helper()
	var out struct{ Alerts []registry.Alert }
	wantJSON(t, e.do(t, request{as: p, method: "GET", path: fmt.Sprintf("/v1/alerts?after=%d", after)}), http.StatusOK, &out)
	return out.Alerts
}

// getIntent reads intent id as party p, which must see it.
func (e *env) getIntent(t *testing.T, p registry.PartyID, id registry.IntentID) server.IntentView {
	t.Helper()
	var v server.IntentView
	wantJSON(t, e.do(t, request{as: p, method: "GET", path: intentPath(id, "")}), http.StatusOK, &v)
	return v
}

// disclosed is what another party may see of intent f under the default
// (deconfliction) grant: its id, owner and OVN, and one overlap per
// conflicting volume (vols: both sides alike, so the overlap has their
// band and window; idx is their positions in f, not shown). Compare with
// stripCells applied to what was shown.
func disclosed(f *server.FiledView, vols []geo.VolumeSpec, idx []int) server.IntentView {
	it := f.Intent
	v := server.IntentView{ID: it.ID, Owner: it.Owner, OVN: it.OVN, Level: string(registry.LevelDeconfliction)}
	for _, vol := range vols {
		v.Overlaps = append(v.Overlaps, server.Overlap{AltLoM: vol.AltLoM, AltHiM: vol.AltHiM, Start: vol.Start, End: vol.End})
	}
	_ = idx
	return v
}

// stripCells clears the cells of the overlaps shown (checking there are
// some), so views compare with disclosed.
func stripCells(t *testing.T, vs ...server.IntentView) []server.IntentView {
	t.Helper()
	out := make([]server.IntentView, len(vs))
	for i, v := range vs {
		v.Overlaps = slices.Clone(v.Overlaps)
		for k := range v.Overlaps {
			if len(v.Overlaps[k].Cells) == 0 || v.Overlaps[k].CellLevel == 0 {
				t.Errorf("intent %s: overlap %d shows no cells", v.ID, k)
			}
			v.Overlaps[k].Cells, v.Overlaps[k].CellLevel = nil, 0
		}
		out[i] = v
	}
	return out
}

func ovns(vs []server.IntentView) []registry.OVN {
	var out []registry.OVN
	for _, v := range vs {
		out = append(out, v.OVN)
	}
	return out
}

// padded is a JSON object of exactly n bytes.
func padded(n int) []byte {
	const head, tail = `{"pad":"`, `"}`
	return []byte(head + strings.Repeat("x", n-len(head)-len(tail)) + tail)
}

// TestRefusals sends one request per rule of the API that refuses (or,
// where the rule lets it through, accepts) a request, and checks the
// status, the problem type and what the answer discloses.
func TestRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	e.addMembers(t, "alpha", "bravo")
	fileAlpha := func(t *testing.T, prio int, vols ...geo.VolumeSpec) *server.FiledView {
		return e.file(t, "alpha", server.FileRequest{Priority: prio, Volumes: vols})
	}
	fileReq := func(as registry.PartyID, fr server.FileRequest) request {
		return request{as: as, method: "POST", path: "/v1/intents", body: fr}
	}
	someID := registry.IntentID(service.NewUUID())

	tests := []refusalCase{
		{
			name: "missing key lists the conflicting intent with only its conflicting volume",
			setup: func(t *testing.T) (request, func(*testing.T, *reply)) {
				x, y := e.spot(), e.spot()
				a := fileAlpha(t, 10, e.vol(y), e.vol(x))
				n := e.numIntents()
				return fileReq("bravo", server.FileRequest{Priority: 20, Volumes: []geo.VolumeSpec{e.vol(x)}}),
					func(t *testing.T, r *reply) {
						p := decodeAs[server.Problem](t, r)
						want := []server.IntentView{disclosed(a, []geo.VolumeSpec{e.vol(x)}, []int{1})}
						if d := cmp.Diff(want, stripCells(t, p.Intents...)); d != "" {
							t.Errorf("intents in the problem (-want +got):\n%s", d)
						}
						if !strings.Contains(p.Detail, string(a.Intent.ID)) {
							t.Errorf("detail %q does not name intent %s", p.Detail, a.Intent.ID)
						}
						if got := e.numIntents(); got != n {
							t.Errorf("%d intents after the refusal, want %d", got, n)
						}
					}
			},
			wantStatus: http.StatusConflict, wantType: server.TypeMissingKey,
		},
		{
			name: "key with one of two conflicting OVNs lists only the missing one",
			setup: func(t *testing.T) (request, func(*testing.T, *reply)) {
				x := e.spot()
				a1, a2 := fileAlpha(t, 10, e.vol(x)), fileAlpha(t, 10, e.vol(x))
				return fileReq("bravo", server.FileRequest{Priority: 20, Volumes: []geo.VolumeSpec{e.vol(x)}, Key: []registry.OVN{a1.Intent.OVN}}),
					func(t *testing.T, r *reply) {
						p := decodeAs[server.Problem](t, r)
						want := []server.IntentView{disclosed(a2, []geo.VolumeSpec{e.vol(x)}, []int{0})}
						if d := cmp.Diff(want, stripCells(t, p.Intents...)); d != "" {
							t.Errorf("intents in the problem (-want +got):\n%s", d)
						}
					}
			},
			wantStatus: http.StatusConflict, wantType: server.TypeMissingKey,
		},
		{
			name: "refiling with the key from the refusal is accepted",
			setup: func(t *testing.T) (request, func(*testing.T, *reply)) {
				x := e.spot()
				a := fileAlpha(t, 10, e.vol(x))
				fr := server.FileRequest{Priority: 20, Volumes: []geo.VolumeSpec{e.vol(x)}}
				p := wantProblem(t, e.do(t, fileReq("bravo", fr)), http.StatusConflict, server.TypeMissingKey)
				fr.Key = ovns(p.Intents)
				return fileReq("bravo", fr), func(t *testing.T, r *reply) {
					f := decodeAs[server.FiledView](t, r)
					if f.Intent.Owner != "bravo" || f.Intent.Level != "own" || len(f.Intent.Volumes) != 1 {
						t.Errorf("filed intent %+v, want bravo's in full", f.Intent)
					}
					if len(f.Conflicts) != 1 || f.Conflicts[0].ID != a.Intent.ID || f.Conflicts[0].Level != "deconfliction" || len(f.Conflicts[0].Volumes) != 0 {
						t.Errorf("conflicts %+v, want alpha's %s, disclosed", f.Conflicts, a.Intent.ID)
					}
				}
			},
			wantStatus: http.StatusCreated,
		},
		{
			name: "equal priority under strict is a conflict",
			setup: func(t *testing.T) (request, func(*testing.T, *reply)) {
				x := e.spot()
				a := fileAlpha(t, 10, e.vol(x))
				return fileReq("bravo", server.FileRequest{Priority: 10, Volumes: []geo.VolumeSpec{e.vol(x)}, Key: []registry.OVN{a.Intent.OVN}}),
					func(t *testing.T, r *reply) {
						p := decodeAs[server.Problem](t, r)
						want := []server.IntentView{disclosed(a, []geo.VolumeSpec{e.vol(x)}, []int{0})}
						if d := cmp.Diff(want, stripCells(t, p.Intents...)); d != "" {
							t.Errorf("intents in the problem (-want +got):\n%s", d)
						}
					}
			},
			wantStatus: http.StatusConflict, wantType: server.TypeConflict,
		},
		{
			name: "lower priority under strict is a conflict",
			setup: func(t *testing.T) (request, func(*testing.T, *reply)) {
				x := e.spot()
				a := fileAlpha(t, 10, e.vol(x))
				return fileReq("bravo", server.FileRequest{Priority: 9, Volumes: []geo.VolumeSpec{e.vol(x)}, Key: []registry.OVN{a.Intent.OVN}}), nil
			},
			wantStatus: http.StatusConflict, wantType: server.TypeConflict,
		},
		{
			name: "higher priority preempts the lower one and alerts its owner",
			setup: func(t *testing.T) (request, func(*testing.T, *reply)) {
				x := e.spot()
				a := fileAlpha(t, 10, e.vol(x))
				return fileReq("bravo", server.FileRequest{Priority: 50, Volumes: []geo.VolumeSpec{e.vol(x)}, Key: []registry.OVN{a.Intent.OVN}}),
					func(t *testing.T, r *reply) {
						b := decodeAs[server.FiledView](t, r)
						got := e.getIntent(t, "alpha", a.Intent.ID)
						if !slices.Equal(got.PreemptedBy, []registry.IntentID{b.Intent.ID}) {
							t.Errorf("alpha's intent preempted_by %v, want [%s]", got.PreemptedBy, b.Intent.ID)
						}
						want := []registry.Alert{{ID: fmt.Sprintf("%d-1", b.Entry), To: "alpha", Kind: registry.AlertPreempted,
							Intent: a.Intent.ID, By: b.Intent.ID, ByParty: "bravo", Entry: b.Entry,
							Pairs: nil}} // pairs are shown under an operational grant only
						alerts := e.alertsOf(t, "alpha", b.Entry-1)
						if d := cmp.Diff(want, alerts, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Time" }, cmp.Ignore())); d != "" {
							t.Errorf("alpha's alerts (-want +got):\n%s", d)
						}
						if n := len(e.alertsOf(t, "bravo", b.Entry-1)); n != 0 {
							t.Errorf("bravo got %d alerts, want none", n)
						}
					}
			},
			wantStatus: http.StatusCreated,
		},
		{
			name: "contingent intent is accepted without key and alerts the owner",
			setup: func(t *testing.T) (request, func(*testing.T, *reply)) {
				x := e.spot()
				a := fileAlpha(t, 90, e.vol(x))
				return fileReq("bravo", server.FileRequest{Priority: 0, State: registry.StateContingent, Volumes: []geo.VolumeSpec{e.vol(x)}}),
					func(t *testing.T, r *reply) {
						b := decodeAs[server.FiledView](t, r)
						if b.Intent.State != registry.StateContingent {
							t.Errorf("state %q, want contingent", b.Intent.State)
						}
						alerts := e.alertsOf(t, "alpha", b.Entry-1)
						if len(alerts) != 1 || alerts[0].Kind != registry.AlertContingent || alerts[0].Intent != a.Intent.ID || alerts[0].By != b.Intent.ID {
							t.Errorf("alpha's alerts %+v, want one contingent alert about %s by %s", alerts, a.Intent.ID, b.Intent.ID)
						}
					}
			},
			wantStatus: http.StatusCreated,
		},
		{
			name: "update with a stale OVN",
			setup: func(t *testing.T) (request, func(*testing.T, *reply)) {
				x := e.spot()
				a := fileAlpha(t, 10, e.vol(x))
				ur := server.UpdateRequest{OVN: a.Intent.OVN, Priority: 11, Volumes: []geo.VolumeSpec{e.vol(x)}}
				if _, err := e.client(t, "alpha").Update(t.Context(), a.Intent.ID, ur); err != nil {
					t.Fatalf("first update: %v", err)
				}
				return request{as: "alpha", method: "PUT", path: intentPath(a.Intent.ID, ""), body: ur}, nil
			},
			wantStatus: http.StatusConflict, wantType: server.TypeStaleOVN,
		},
		{
			name: "end with a stale OVN",
			setup: func(t *testing.T) (request, func(*testing.T, *reply)) {
				a := fileAlpha(t, 10, e.vol(e.spot()))
				if _, err := e.client(t, "alpha").SetState(t.Context(), a.Intent.ID, a.Intent.OVN, registry.StateActivated); err != nil {
					t.Fatalf("activating: %v", err)
				}
				return request{as: "alpha", method: "POST", path: intentPath(a.Intent.ID, "/end"), body: server.EndRequest{OVN: a.Intent.OVN}}, nil
			},
			wantStatus: http.StatusConflict, wantType: server.TypeStaleOVN,
		},
		{
			name: "update of another party's intent",
			setup: func(t *testing.T) (request, func(*testing.T, *reply)) {
				x := e.spot()
				a := fileAlpha(t, 10, e.vol(x))
				ur := server.UpdateRequest{OVN: a.Intent.OVN, Priority: 99, Volumes: []geo.VolumeSpec{e.vol(x)}}
				return request{as: "bravo", method: "PUT", path: intentPath(a.Intent.ID, ""), body: ur},
					func(t *testing.T, r *reply) {
						if got := e.getIntent(t, "alpha", a.Intent.ID); got.OVN != a.Intent.OVN || got.Priority == nil || *got.Priority != 10 {
							t.Errorf("alpha's intent changed to %+v", got)
						}
					}
			},
			wantStatus: http.StatusForbidden, wantType: server.TypeForbidden,
		},
		{
			name: "end of another party's intent",
			setup: func(t *testing.T) (request, func(*testing.T, *reply)) {
				a := fileAlpha(t, 10, e.vol(e.spot()))
				return request{as: "bravo", method: "POST", path: intentPath(a.Intent.ID, "/end"), body: server.EndRequest{OVN: a.Intent.OVN}}, nil
			},
			wantStatus: http.StatusForbidden, wantType: server.TypeForbidden,
		},
		{
			name: "GET of an unknown intent",
			setup: func(t *testing.T) (request, func(*testing.T, *reply)) {
				return request{as: "alpha", method: "GET", path: intentPath(registry.IntentID(service.NewUUID()), "")}, nil
			},
			wantStatus: http.StatusNotFound, wantType: server.TypeNotFound,
		},
		{
			name: "update of an unknown intent",
			setup: func(t *testing.T) (request, func(*testing.T, *reply)) {
				ur := server.UpdateRequest{OVN: "whatever", Priority: 1, Volumes: []geo.VolumeSpec{e.vol(e.spot())}}
				return request{as: "alpha", method: "PUT", path: intentPath(registry.IntentID(service.NewUUID()), ""), body: ur}, nil
			},
			wantStatus: http.StatusNotFound, wantType: server.TypeNotFound,
		},
		{
			name: "member lists the parties",
			setup: func(t *testing.T) (request, func(*testing.T, *reply)) {
				return request{as: "alpha", method: "GET", path: "/v1/parties"}, nil
			},
			wantStatus: http.StatusForbidden, wantType: server.TypeForbidden,
		},
		{
			name: "member adds a party",
			setup: func(t *testing.T) (request, func(*testing.T, *reply)) {
				pub, _, _ := auth.GenerateKey()
				return request{as: "alpha", method: "POST", path: "/v1/parties",
					body: server.AddPartyRequest{ID: "mallory", Name: "mallory", Role: registry.RoleAuthority, PublicKey: pub}}, nil
			},
			wantStatus: http.StatusForbidden, wantType: server.TypeForbidden,
		},
		{
			name: "member revokes a party",
			setup: func(t *testing.T) (request, func(*testing.T, *reply)) {
				return request{as: "alpha", method: "POST", path: "/v1/parties/bravo/revoke", body: server.RevokeRequest{Party: "bravo"}}, nil
			},
			wantStatus: http.StatusForbidden, wantType: server.TypeForbidden,
		},
		{
			name: "duplicate intent id",
			setup: func(t *testing.T) (request, func(*testing.T, *reply)) {
				e.file(t, "alpha", server.FileRequest{ID: string(someID), Priority: 1, Volumes: []geo.VolumeSpec{e.vol(e.spot())}})
				return fileReq("alpha", server.FileRequest{ID: string(someID), Priority: 1, Volumes: []geo.VolumeSpec{e.vol(e.spot())}}), nil
			},
			wantStatus: http.StatusConflict, wantType: server.TypeExists,
		},
		{
			name: "another party's intent id",
			setup: func(t *testing.T) (request, func(*testing.T, *reply)) {
				id := service.NewUUID()
				e.file(t, "alpha", server.FileRequest{ID: id, Priority: 1, Volumes: []geo.VolumeSpec{e.vol(e.spot())}})
				return fileReq("bravo", server.FileRequest{ID: id, Priority: 1, Volumes: []geo.VolumeSpec{e.vol(e.spot())}}), nil
			},
			wantStatus: http.StatusConflict, wantType: server.TypeExists,
		},
		{
			name: "state change to ended",
			setup: func(t *testing.T) (request, func(*testing.T, *reply)) {
				a := fileAlpha(t, 10, e.vol(e.spot()))
				return request{as: "alpha", method: "POST", path: intentPath(a.Intent.ID, "/state"),
					body: server.StateRequest{OVN: a.Intent.OVN, State: registry.StateEnded}}, wantDetail("ended")
			},
			wantStatus: http.StatusBadRequest, wantType: server.TypeValidation,
		},
		{
			name: "alerts after a non-number",
			setup: func(t *testing.T) (request, func(*testing.T, *reply)) {
				return request{as: "alpha", method: "GET", path: "/v1/alerts?after=yesterday"}, wantDetail("after")
			},
			wantStatus: http.StatusBadRequest, wantType: server.TypeValidation,
		},
		{
			name: "authority adds a party",
			setup: func(t *testing.T) (request, func(*testing.T, *reply)) {
				pub, _, _ := auth.GenerateKey()
				return request{as: authority, method: "POST", path: "/v1/parties",
						body: server.AddPartyRequest{ID: "foxtrot", Name: "Foxtrot", Role: registry.RoleMember, PublicKey: pub}},
					func(t *testing.T, r *reply) {
						pv := decodeAs[server.PartyView](t, r)
						if pv.ID != "foxtrot" || pv.Role != registry.RoleMember || pv.Revoked || !bytes.Equal(pv.PublicKey, pub) {
							t.Errorf("added party %+v", pv)
						}
						var list struct{ Parties []server.PartyView }
						wantJSON(t, e.do(t, request{as: authority, method: "GET", path: "/v1/parties"}), http.StatusOK, &list)
						if !slices.ContainsFunc(list.Parties, func(p server.PartyView) bool { return p.ID == "foxtrot" }) {
							t.Errorf("foxtrot not listed in %+v", list.Parties)
						}
					}
			},
			wantStatus: http.StatusCreated,
		},
		{
			name: "authority adds an existing party",
			setup: func(t *testing.T) (request, func(*testing.T, *reply)) {
				pub, _, _ := auth.GenerateKey()
				return request{as: authority, method: "POST", path: "/v1/parties",
					body: server.AddPartyRequest{ID: "alpha", Name: "Alpha again", Role: registry.RoleMember, PublicKey: pub}}, nil
			},
			wantStatus: http.StatusConflict, wantType: server.TypeExists,
		},
		{
			name: "authority adds a party with a short key",
			setup: func(t *testing.T) (request, func(*testing.T, *reply)) {
				return request{as: authority, method: "POST", path: "/v1/parties",
					body: server.AddPartyRequest{ID: "golf", Name: "Golf", Role: registry.RoleMember, PublicKey: []byte("short")}}, wantDetail("key")
			},
			wantStatus: http.StatusBadRequest, wantType: server.TypeValidation,
		},
		{
			name: "authority revokes an unknown party",
			setup: func(t *testing.T) (request, func(*testing.T, *reply)) {
				return request{as: authority, method: "POST", path: "/v1/parties/nobody/revoke", body: server.RevokeRequest{Party: "nobody"}}, nil
			},
			wantStatus: http.StatusNotFound, wantType: server.TypeNotFound,
		},
		{
			name: "revoke body names another party",
			setup: func(t *testing.T) (request, func(*testing.T, *reply)) {
				return request{as: authority, method: "POST", path: "/v1/parties/alpha/revoke", body: server.RevokeRequest{Party: "bravo"}}, wantDetail("must be the same")
			},
			wantStatus: http.StatusBadRequest, wantType: server.TypeValidation,
		},
		{
			name: "revoke without a body",
			setup: func(t *testing.T) (request, func(*testing.T, *reply)) {
				return request{as: authority, method: "POST", path: "/v1/parties/alpha/revoke"}, wantDetail("body")
			},
			wantStatus: http.StatusBadRequest, wantType: server.TypeValidation,
		},
		{
			name: "authority revokes itself",
			setup: func(t *testing.T) (request, func(*testing.T, *reply)) {
				return request{as: authority, method: "POST", path: "/v1/parties/authority/revoke", body: server.RevokeRequest{Party: authority}}, nil
			},
			wantStatus: http.StatusBadRequest, wantType: server.TypeValidation,
		},
		{
			name: "unknown route",
			setup: func(t *testing.T) (request, func(*testing.T, *reply)) {
				return request{as: "alpha", method: "GET", path: "/v1/nothing-here"}, wantDetail("no route")
			},
			wantStatus: http.StatusNotFound, wantType: server.TypeNotFound,
		},
		{
			name: "unknown method on a known path",
			setup: func(t *testing.T) (request, func(*testing.T, *reply)) {
				return request{as: "alpha", method: "DELETE", path: intentPath(someID, "")}, wantDetail("no route")
			},
			wantStatus: http.StatusNotFound, wantType: server.TypeNotFound,
		},
	}
	for _, tc := range append(tests, validationCases(e)...) {
		t.Run(tc.name, func(t *testing.T) {
			rq, check := tc.setup(t)
			r := e.do(t, rq)
			if tc.wantType == "" {
				wantJSON(t, r, tc.wantStatus, nil)
			} else {
				wantProblem(t, r, tc.wantStatus, tc.wantType)
			}
			if check != nil {
				check(t, r)
			}
		})
	}
}

// wantDetail checks that a problem's detail holds each of parts.
func wantDetail(parts ...string) func(*testing.T, *reply) {
	return func(t *testing.T, r *reply) {
		t.Helper()
		p := decodeAs[server.Problem](t, r)
		for _, s := range parts {
			if !strings.Contains(p.Detail, s) {
				t.Errorf("detail %q does not mention %q", p.Detail, s)
			}
		}
	}
}

// refusalCase is one request of TestRefusals.
type refusalCase struct {
	name string
	// setup files what the case needs and returns the request to send
	// and further checks of the answer (nil: none).
	setup      func(t *testing.T) (request, func(t *testing.T, r *reply))
	wantStatus int
	wantType   string // "" for a success
}

// validationCases are the requests refused as invalid: 400 with a detail
// naming what is wrong, and nothing filed.
func validationCases(e *env) []refusalCase {
	type tc = refusalCase
	invalid := func(name string, body func() any, detail ...string) tc {
		return tc{name: name, wantStatus: http.StatusBadRequest, wantType: server.TypeValidation,
			setup: func(t *testing.T) (request, func(*testing.T, *reply)) {
				n := e.numIntents()
				return request{as: "alpha", method: "POST", path: "/v1/intents", body: body()},
					func(t *testing.T, r *reply) {
						wantDetail(detail...)(t, r)
						if got := e.numIntents(); got != n {
							t.Errorf("%d intents after the refusal, want %d", got, n)
						}
					}
			}}
	}
	good := func() server.FileRequest {
		return server.FileRequest{Priority: 1, Volumes: []geo.VolumeSpec{e.vol(e.spot())}}
	}
	return []tc{
		invalid("latitude 91", func() any {
			fr := good()
			fr.Volumes = append(fr.Volumes, e.vol(spot{lat: 91, lng: 0}))
			return fr
		}, "volumes[1].circle.lat"),
		invalid("altitude band upside down", func() any {
			fr := good()
			fr.Volumes[0].AltLoM, fr.Volumes[0].AltHiM = 200, 100
			return fr
		}, "volumes[0].alt_hi_m"),
		invalid("unknown JSON field", func() any {
			b, _ := json.Marshal(good())
			return append(b[:len(b)-1], `,"colour":"red"}`...)
		}, `unknown field "colour"`),
		invalid("empty body", func() any { return []byte{} }, "JSON body"),
		invalid("two JSON values", func() any {
			b, _ := json.Marshal(good())
			return append(b, b...)
		}, "more than one JSON value"),
		invalid("65 volumes", func() any {
			fr := good()
			for len(fr.Volumes) < 65 {
				fr.Volumes = append(fr.Volumes, e.vol(e.spot()))
			}
			return fr
		}, "volumes", "64", "65"),
		invalid("no volumes", func() any { fr := good(); fr.Volumes = nil; return fr }, "volumes", "0"),
		invalid("id not a UUID", func() any { fr := good(); fr.ID = "flight-1"; return fr }, "intent id", "flight-1"),
		invalid("id an upper-case UUID", func() any {
			fr := good()
			fr.ID = strings.ToUpper(service.NewUUID())
			return fr
		}, "intent id"),
		invalid("priority 101", func() any { fr := good(); fr.Priority = 101; return fr }, "priority"),
		invalid("unknown state", func() any { fr := good(); fr.State = "flying"; return fr }, "state", "flying"),
		invalid("volume already over", func() any {
			fr := good()
			fr.Volumes[0].Start, fr.Volumes[0].End = e.start.Add(-3*time.Hour), e.start.Add(-2*time.Hour)
			return fr
		}, "ends"),
	}
}

// TestBodyLimit checks the 1 MiB limit on request bodies, with and without
// a Content-Length.
func TestBodyLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	e.addMembers(t, "alpha")
	tests := []struct {
		name       string
		size       int
		chunked    bool
		wantStatus int
		wantType   string
	}{
		{"1 MiB with length is read", server.DefaultMaxBody, false, http.StatusBadRequest, server.TypeValidation},
		{"1 MiB + 1 with length", server.DefaultMaxBody + 1, false, http.StatusRequestEntityTooLarge, server.TypeTooLarge},
		{"1 MiB chunked is read", server.DefaultMaxBody, true, http.StatusBadRequest, server.TypeValidation},
		{"1 MiB + 1 chunked", server.DefaultMaxBody + 1, true, http.StatusRequestEntityTooLarge, server.TypeTooLarge},
		{"8 MiB chunked", 8 << 20, true, http.StatusRequestEntityTooLarge, server.TypeTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := padded(tc.size)
			var rd io.Reader = bytes.NewReader(body)
			if tc.chunked {
				rd = io.MultiReader(rd) // no length known: sent chunked
			}
			req, err := http.NewRequestWithContext(t.Context(), "POST", e.url()+"/v1/intents", rd)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+e.token(t, "alpha", body))
			p := wantProblem(t, send(t, req), tc.wantStatus, tc.wantType)
			if tc.wantType == server.TypeValidation && !strings.Contains(p.Detail, `unknown field "pad"`) {
				t.Errorf("detail %q: the body was not read to the end", p.Detail)
			}
		})
	}
}

// TestBodyShorterThanLength sends a filing whose body ends before the
// Content-Length it states: it must be refused as unreadable, not filed,
// and the server must not wait for the rest.
func TestBodyShorterThanLength(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	e.addMembers(t, "alpha")
	small := bodyOf(t, server.FileRequest{Priority: 1, Volumes: []geo.VolumeSpec{e.vol(e.spot())}})
	large := padded(200 << 10) // beyond what the server reserves before the bytes arrive
	for _, tc := range []struct {
		body    []byte
		missing int
	}{{small, 1}, {small, len(small) / 2}, {small, len(small)}, {large, 1}, {large, 50 << 10}} {
		body, missing := tc.body, tc.missing
		t.Run(fmt.Sprintf("%d-%d", len(body), missing), func(t *testing.T) {
			u, err := url.Parse(e.url())
			if err != nil {
				t.Fatal(err)
			}
			conn, err := net.Dial("tcp", u.Host)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(30 * time.Second))
			head := fmt.Sprintf("POST /v1/intents HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
				u.Host, e.token(t, "alpha", body), len(body))
			if _, err := io.WriteString(conn, head); err != nil {
				t.Fatal(err)
			}
			if _, err := conn.Write(body[:len(body)-missing]); err != nil {
				t.Fatal(err)
			}
			if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("reading the answer: %v", err)
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			p := wantProblem(t, &reply{status: resp.StatusCode, header: resp.Header, body: b}, http.StatusBadRequest, server.TypeValidation)
			if !strings.Contains(p.Detail, "reading the body") {
				t.Errorf("detail %q, want it to say the body could not be read", p.Detail)
			}
		})
	}
	if n := e.numIntents(); n != 0 {
		t.Errorf("%d intents filed from bodies cut short, want 0", n)
	}
}

// TestAuthFailures sends requests that must be refused as
// unauthenticated, each filing an intent that must not be filed.
func TestAuthFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	e.addMembers(t, "alpha", "charlie")
	body := func() []byte {
		return bodyOf(t, server.FileRequest{Priority: 1, Volumes: []geo.VolumeSpec{e.vol(e.spot())}})
	}
	sign := func(t *testing.T, key ed25519.PrivateKey, iss, aud string, body []byte, now time.Time) string {
		tok, err := auth.Sign(key, iss, aud, body, now, time.Minute)
		if err != nil {
			t.Fatalf("auth.Sign: %v", err)
		}
		return "Bearer " + tok
	}
	_, otherKey, _ := auth.GenerateKey()
	tests := []struct {
		name string
		// setup returns the body sent and the Authorization header.
		setup      func(t *testing.T) (body []byte, authz string)
		wantReason string
	}{
		{"no Authorization header", func(t *testing.T) ([]byte, string) { return body(), "" }, "missing Authorization"},
		{"Basic scheme", func(t *testing.T) ([]byte, string) {
			return body(), "Basic " + base64.StdEncoding.EncodeToString([]byte("alpha:secret"))
		}, "missing Authorization"},
		{"Bearer without token", func(t *testing.T) ([]byte, string) { return body(), "Bearer" }, "missing Authorization"},
		{"garbage token", func(t *testing.T) ([]byte, string) { return body(), "Bearer garbage.not.token" }, "malformed token"},
		{"token signed by another key", func(t *testing.T) ([]byte, string) {
			b := body()
			return b, sign(t, otherKey, "alpha", audience, b, time.Now())
		}, "bad signature"},
		{"expired token", func(t *testing.T) ([]byte, string) {
			b := body()
			return b, sign(t, e.key("alpha"), "alpha", audience, b, time.Now().Add(-10*time.Minute))
		}, "token expired"},
		{"token issued in the future", func(t *testing.T) ([]byte, string) {
			b := body()
			return b, sign(t, e.key("alpha"), "alpha", audience, b, time.Now().Add(2*time.Minute))
		}, "token issued in the future"},
		{"token for another audience", func(t *testing.T) ([]byte, string) {
			b := body()
			return b, sign(t, e.key("alpha"), "alpha", "other-svc", b, time.Now())
		}, "wrong audience"},
		{"replayed token", func(t *testing.T) ([]byte, string) {
			b := body()
			authz := sign(t, e.key("alpha"), "alpha", audience, b, time.Now())
			wantJSON(t, e.raw(t, "POST", "/v1/intents", b, authz), http.StatusCreated, nil)
			return b, authz
		}, "token replayed"},
		{"body changed after signing", func(t *testing.T) ([]byte, string) {
			authz := sign(t, e.key("alpha"), "alpha", audience, body(), time.Now())
			return body(), authz
		}, "body hash mismatch"},
		{"body without body hash", func(t *testing.T) ([]byte, string) {
			return body(), sign(t, e.key("alpha"), "alpha", audience, nil, time.Now())
		}, "missing body hash"},
		{"unknown party", func(t *testing.T) ([]byte, string) {
			b := body()
			return b, sign(t, otherKey, "zulu", audience, b, time.Now())
		}, "unknown party"},
		{"revoked party", func(t *testing.T) ([]byte, string) {
			var pv server.PartyView
			wantJSON(t, e.do(t, request{as: authority, method: "POST", path: "/v1/parties/charlie/revoke", body: server.RevokeRequest{Party: "charlie"}}), http.StatusOK, &pv)
			if pv.ID != "charlie" || !pv.Revoked {
				t.Fatalf("revoke answered %+v", pv)
			}
			b := body()
			return b, sign(t, e.key("charlie"), "charlie", audience, b, time.Now())
		}, "unknown party"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, authz := tc.setup(t)
			n := e.numIntents()
			p := wantProblem(t, e.raw(t, "POST", "/v1/intents", b, authz), http.StatusUnauthorized, server.TypeUnauthenticated)
			if !strings.Contains(p.Detail, tc.wantReason) {
				t.Errorf("detail %q, want it to say %q", p.Detail, tc.wantReason)
			}
			if got := e.numIntents(); got != n {
				t.Errorf("%d intents after the refusal, want %d", got, n)
			}
		})
	}
}

// TestUnauthorizedChallenge checks that a 401 names the scheme to use, as
// RFC 9110 §15.5.2 requires ("MUST send a WWW-Authenticate header field").
func TestUnauthorizedChallenge(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	r := e.raw(t, "GET", "/v1/intents", nil, "")
	wantProblem(t, r, http.StatusUnauthorized, server.TypeUnauthenticated)
	if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
		t.Errorf("WWW-Authenticate %q, want a Bearer challenge", got)
	}
}

// TestBatch files batches whose items are decided one by one.
func TestBatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	e.addMembers(t, "alpha", "bravo")
	type item struct {
		fr         server.FileRequest
		wantStatus int
		wantType   string // of the item's problem, if not 201
	}
	tests := []struct {
		name  string
		items func(t *testing.T) []item
	}{
		{"valid, invalid volume, conflicting without key", func(t *testing.T) []item {
			x := e.spot()
			e.file(t, "alpha", server.FileRequest{Priority: 10, Volumes: []geo.VolumeSpec{e.vol(x)}})
			return []item{
				{server.FileRequest{ID: service.NewUUID(), Priority: 20, Volumes: []geo.VolumeSpec{e.vol(e.spot())}}, http.StatusCreated, ""},
				{server.FileRequest{ID: service.NewUUID(), Priority: 20, Volumes: []geo.VolumeSpec{e.vol(spot{lat: 91})}}, http.StatusBadRequest, server.TypeValidation},
				{server.FileRequest{ID: service.NewUUID(), Priority: 20, Volumes: []geo.VolumeSpec{e.vol(x)}}, http.StatusConflict, server.TypeMissingKey},
			}
		}},
		{"same id twice", func(t *testing.T) []item {
			id := service.NewUUID()
			return []item{
				{server.FileRequest{ID: id, Priority: 1, Volumes: []geo.VolumeSpec{e.vol(e.spot())}}, http.StatusCreated, ""},
				{server.FileRequest{ID: id, Priority: 1, Volumes: []geo.VolumeSpec{e.vol(e.spot())}}, http.StatusConflict, server.TypeExists},
			}
		}},
		{"invalid id between two valid intents", func(t *testing.T) []item {
			return []item{
				{server.FileRequest{ID: service.NewUUID(), Priority: 1, Volumes: []geo.VolumeSpec{e.vol(e.spot())}}, http.StatusCreated, ""},
				{server.FileRequest{ID: "not-a-uuid", Priority: 1, Volumes: []geo.VolumeSpec{e.vol(e.spot())}}, http.StatusBadRequest, server.TypeValidation},
				{server.FileRequest{ID: service.NewUUID(), Priority: 1, Volumes: []geo.VolumeSpec{e.vol(e.spot())}}, http.StatusCreated, ""},
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			items := tc.items(t)
			var br server.BatchRequest
			for _, it := range items {
				br.Intents = append(br.Intents, it.fr)
			}
			var resp server.BatchResponse
			wantJSON(t, e.do(t, request{as: "bravo", method: "POST", path: "/v1/intents/batch", body: br}), http.StatusOK, &resp)
			if len(resp.Results) != len(items) {
				t.Fatalf("%d results for %d intents", len(resp.Results), len(items))
			}
			for i, it := range items {
				res := resp.Results[i]
				if res.Status != it.wantStatus {
					t.Errorf("item %d: status %d, want %d (%+v)", i, res.Status, it.wantStatus, res.Problem)
					continue
				}
				if it.wantStatus == http.StatusCreated {
					if res.Filed == nil || string(res.Filed.Intent.ID) != it.fr.ID {
						t.Errorf("item %d: filed %+v, want intent %s", i, res.Filed, it.fr.ID)
						continue
					}
					// Brief: no echo of the request's volumes or details.
					if in := res.Filed.Intent; in.OVN == "" || in.State == "" || in.Priority == nil || in.Volumes != nil || in.Details != nil {
						t.Errorf("item %d: intent %+v, want its id, OVN, state and priority without volumes or details", i, in)
					}
					continue
				}
				if res.Problem == nil || res.Problem.Type != it.wantType || res.Problem.Status != it.wantStatus {
					t.Errorf("item %d: problem %+v, want type %s", i, res.Problem, it.wantType)
				}
			}
			// Exactly the intents answered 201 exist, as their filer sees them.
			for _, it := range items {
				r := e.do(t, request{as: "bravo", method: "GET", path: intentPath(registry.IntentID(it.fr.ID), "")})
				switch {
				case it.wantStatus == http.StatusCreated:
					var v server.IntentView
					wantJSON(t, r, http.StatusOK, &v)
					if len(v.Volumes) != len(it.fr.Volumes) {
						t.Errorf("intent %s: %d volumes, filed %d", it.fr.ID, len(v.Volumes), len(it.fr.Volumes))
					}
				case it.wantType != server.TypeExists: // (that id is the first item's)
					wantProblem(t, r, http.StatusNotFound, server.TypeNotFound)
				}
			}
		})
	}
	t.Run("empty batch", func(t *testing.T) {
		r := e.do(t, request{as: "bravo", method: "POST", path: "/v1/intents/batch", body: server.BatchRequest{}})
		wantProblem(t, r, http.StatusBadRequest, server.TypeValidation)
	})
}

// TestVisibility checks what GET /v1/intents/{id} and the query show of an
// intent: all of it to its owner, to others only the conflicting volumes.
func TestVisibility(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	e.addMembers(t, "alpha", "bravo", "charlie", "delta", "echo")
	x, y, w := e.spot(), e.spot(), e.spot()
	a := e.file(t, "alpha", server.FileRequest{Priority: 10, Volumes: []geo.VolumeSpec{e.vol(x), e.vol(y)}})
	b := e.file(t, "bravo", server.FileRequest{Priority: 20, Volumes: []geo.VolumeSpec{e.vol(x)}, Key: []registry.OVN{a.Intent.OVN}})
	e.file(t, "delta", server.FileRequest{Priority: 20, Volumes: []geo.VolumeSpec{e.vol(e.spot())}})
	a2 := e.file(t, "alpha", server.FileRequest{Priority: 10, Volumes: []geo.VolumeSpec{e.vol(w)}})
	e2 := e.file(t, "echo", server.FileRequest{Priority: 20, Volumes: []geo.VolumeSpec{e.vol(w)}, Key: []registry.OVN{a2.Intent.OVN}})
	if _, err := e.client(t, "echo").End(t.Context(), e2.Intent.ID, e2.Intent.OVN); err != nil {
		t.Fatalf("ending echo's intent: %v", err)
	}
	a = &server.FiledView{Intent: e.getIntent(t, "alpha", a.Intent.ID)} // now preempted
	full := func(f *server.FiledView) server.IntentView { return f.Intent }
	query := func(s spot) any { return server.QueryRequest{Volume: e.vol(s)} }

	gets := []struct {
		name       string
		as         registry.PartyID
		id         registry.IntentID
		wantStatus int
		want       server.IntentView
	}{
		{"owner sees all volumes", "alpha", a.Intent.ID, http.StatusOK, full(a)},
		{"conflicting party sees only the conflicting volume", "bravo", a.Intent.ID, http.StatusOK, disclosed(a, []geo.VolumeSpec{e.vol(x)}, []int{0})},
		{"preempting party seen by the preempted one", "alpha", b.Intent.ID, http.StatusOK, disclosed(b, []geo.VolumeSpec{e.vol(x)}, []int{0})},
		{"party without intents", "charlie", a.Intent.ID, http.StatusNotFound, server.IntentView{}},
		{"party without conflicting intent", "delta", a.Intent.ID, http.StatusNotFound, server.IntentView{}},
		{"party whose conflicting intent ended", "echo", a2.Intent.ID, http.StatusNotFound, server.IntentView{}},
		{"owner of an ended intent", "echo", e2.Intent.ID, http.StatusOK, server.IntentView{}},
	}
	for _, tc := range gets {
		t.Run("GET/"+tc.name, func(t *testing.T) {
			r := e.do(t, request{as: tc.as, method: "GET", path: intentPath(tc.id, "")})
			if tc.wantStatus != http.StatusOK {
				wantProblem(t, r, tc.wantStatus, server.TypeNotFound)
				return
			}
			var got server.IntentView
			wantJSON(t, r, http.StatusOK, &got)
			if tc.want.ID == "" { // only the state is checked
				if got.State != registry.StateEnded || got.Level != "own" {
					t.Errorf("got %+v, want the owner's full view of an ended intent", got)
				}
				return
			}
			if d := cmp.Diff(tc.want, stripCells(t, got)[0]); d != "" {
				t.Errorf("view (-want +got):\n%s", d)
			}
		})
	}

	queries := []struct {
		name       string
		as         registry.PartyID
		body       any
		wantStatus int
		wantType   string
		want       []server.IntentView // sorted by id
	}{
		{"owner's query shows its intent, not the other's (deconfliction grant)", "alpha", query(x), http.StatusOK, "",
			[]server.IntentView{full(a)}},
		{"other party's query shows nothing under the default grant", "charlie", query(y), http.StatusOK, "", []server.IntentView{}},
		{"query of empty airspace", "charlie", query(e.spot()), http.StatusOK, "", []server.IntentView{}},
		{"query of an ended intent's volume", "charlie", query(w), http.StatusOK, "", []server.IntentView{}},
		{"query with latitude 91", "charlie", query(spot{lat: 91}), http.StatusBadRequest, server.TypeValidation, nil},
		{"query with an unknown field", "charlie", []byte(`{"volume":{},"radius":5}`), http.StatusBadRequest, server.TypeValidation, nil},
	}
	for _, tc := range queries {
		t.Run("query/"+tc.name, func(t *testing.T) {
			r := e.do(t, request{as: tc.as, method: "POST", path: "/v1/intents/query", body: tc.body})
			if tc.wantType != "" {
				wantProblem(t, r, tc.wantStatus, tc.wantType)
				return
			}
			var got struct{ Intents []server.IntentView }
			wantJSON(t, r, tc.wantStatus, &got)
			if d := cmp.Diff(tc.want, stripCells(t, got.Intents...)); d != "" {
				t.Errorf("intents (-want +got):\n%s", d)
			}
		})
	}
}

func sortViews(vs ...server.IntentView) []server.IntentView {
	slices.SortFunc(vs, func(a, b server.IntentView) int { return strings.Compare(string(a.ID), string(b.ID)) })
	return vs
}

// observation is everything the API shows each party, and the registry's
// snapshot: what a restart must not change.
type observation struct {
	snapshot  []byte
	health    map[string]any
	intents   map[registry.IntentID]server.IntentView // as their owners see them
	lists     map[registry.PartyID][]server.IntentView
	conflicts map[registry.PartyID][]server.ConflictView
	alerts    map[registry.PartyID][]registry.Alert
}

func (e *env) observe(t *testing.T, parties []registry.PartyID) observation {
	t.Helper()
	o := observation{intents: map[registry.IntentID]server.IntentView{}, lists: map[registry.PartyID][]server.IntentView{},
		conflicts: map[registry.PartyID][]server.ConflictView{}, alerts: map[registry.PartyID][]registry.Alert{}}
	var err error
	e.service().View(func(r *registry.Registry) { o.snapshot, err = r.Snapshot() })
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	wantJSON(t, e.do(t, request{method: "GET", path: "/healthz"}), http.StatusOK, &o.health)
	for _, p := range parties {
		var l struct{ Intents []server.IntentView }
		wantJSON(t, e.do(t, request{as: p, method: "GET", path: "/v1/intents?ended=true"}), http.StatusOK, &l)
		o.lists[p] = l.Intents
		for _, v := range l.Intents {
			o.intents[v.ID] = e.getIntent(t, p, v.ID)
		}
		var c struct{ Conflicts []server.ConflictView }
		wantJSON(t, e.do(t, request{as: p, method: "GET", path: "/v1/conflicts"}), http.StatusOK, &c)
		slices.SortFunc(c.Conflicts, func(a, b server.ConflictView) int {
			return thenCompare(string(a.Mine), string(b.Mine), string(a.Other.ID), string(b.Other.ID))
		})
		o.conflicts[p] = c.Conflicts
		o.alerts[p] = e.alertsOf(t, p, 0)
	}
	return o
}

// countAlerts is how many alerts each party has, and the entry of its
// oldest.
func countAlerts(m map[registry.PartyID][]registry.Alert) map[registry.PartyID]string {
	out := map[registry.PartyID]string{}
	for p, as := range m {
		if len(as) > 0 {
			out[p] = fmt.Sprintf("%d alerts, oldest from entry %d", len(as), as[0].Entry)
		}
	}
	return out
}

// firstLines is the first n lines of s, and how many more there are.
func firstLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) <= n {
		return s
	}
	return strings.Join(lines[:n], "") + fmt.Sprintf("... (%d more lines)\n", len(lines)-n)
}

// thenCompare orders by a, then by b.
func thenCompare(a1, b1, a2, b2 string) int {
	if c := strings.Compare(a1, b1); c != 0 {
		return c
	}
	return strings.Compare(a2, b2)
}

// TestRestartNoLoss files, updates and ends intents, restarts the service
// on the same store, and checks that nothing the API shows has changed.
func TestRestartNoLoss(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		snapshotEvery int
	}{
		{"snapshot every 50 entries", 50},
		{"default snapshot interval", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envConfig{SnapshotEvery: tc.snapshotEvery})
			parties := []registry.PartyID{"alpha", "bravo", "charlie"}
			e.addMembers(t, parties...)
			fileWorkload(t, e)
			if n := e.numIntents(); n != 300 {
				t.Fatalf("%d intents filed, want 300", n)
			}
			before := e.observe(t, parties)
			e.restart(t)
			after := e.observe(t, parties)

			t.Run("registry snapshot", func(t *testing.T) {
				if !bytes.Equal(before.snapshot, after.snapshot) {
					t.Errorf("snapshot after restart differs (%d vs %d bytes)", len(before.snapshot), len(after.snapshot))
				}
			})
			for _, part := range []struct {
				name          string
				before, after any
			}{
				{"healthz", before.health, after.health},
				{"intents", before.intents, after.intents},
				{"lists", before.lists, after.lists},
				{"conflicts", before.conflicts, after.conflicts},
				{"alert counts", countAlerts(before.alerts), countAlerts(after.alerts)},
				{"alerts", before.alerts, after.alerts},
			} {
				t.Run(part.name, func(t *testing.T) {
					if d := cmp.Diff(part.before, part.after); d != "" {
						t.Errorf("changed by the restart (-before +after):\n%s", firstLines(d, 40))
					}
				})
			}
			t.Run("writable with the OVNs read before", func(t *testing.T) {
				updated := 0
				for _, v := range before.lists["alpha"] {
					if v.State == registry.StateEnded {
						continue
					}
					ur := server.UpdateRequest{OVN: v.OVN, Priority: *v.Priority, Volumes: v.Volumes}
					r := e.do(t, request{as: "alpha", method: "PUT", path: intentPath(v.ID, ""), body: ur})
					if r.status == http.StatusConflict {
						if p := decodeAs[server.Problem](t, r); p.Type == server.TypeStaleOVN {
							t.Errorf("OVN %s of %s read before the restart is stale after it", v.OVN, v.ID)
						}
						continue // it needs a key: fine here
					}
					wantJSON(t, r, http.StatusOK, nil)
					updated++
				}
				if updated == 0 {
					t.Errorf("no intent of alpha could be updated after the restart")
				}
			})
		})
	}
}

// fileWorkload files 300 intents of alpha, bravo and charlie, a third of
// them conflicting (filed with keys, preempting or contingent), then
// updates, activates and ends some.
func fileWorkload(t *testing.T, e *env) {
	t.Helper()
	ca, cb := e.client(t, "alpha"), e.client(t, "bravo")
	type rec struct {
		id  registry.IntentID
		ovn registry.OVN
	}
	as, bs := make([]rec, 100), make([]rec, 100)
	spots := make([]spot, 100)
	for k := range 100 {
		spots[k] = e.spot()
		a := e.file(t, "alpha", server.FileRequest{Priority: 10, Volumes: []geo.VolumeSpec{e.vol(spots[k])}})
		as[k] = rec{a.Intent.ID, a.Intent.OVN}
		bSpot := e.spot()
		var key []registry.OVN
		if k%3 == 0 { // conflicts with alpha's, preempts it
			bSpot, key = spots[k], []registry.OVN{a.Intent.OVN}
		}
		b := e.file(t, "bravo", server.FileRequest{Priority: 20, Volumes: []geo.VolumeSpec{e.vol(bSpot), e.vol(e.spot())}, Key: key})
		bs[k] = rec{b.Intent.ID, b.Intent.OVN}
		cSpot, state := e.spot(), registry.State("")
		if k%4 == 0 { // an emergency over alpha's (and maybe bravo's)
			cSpot, state = spots[k], registry.StateContingent
		}
		e.file(t, "charlie", server.FileRequest{Priority: 0, State: state, Volumes: []geo.VolumeSpec{e.vol(cSpot)}})
	}
	for k := range 100 {
		switch {
		case k%5 == 0: // alpha climbs out of any conflict
			f, err := ca.Update(t.Context(), as[k].id, server.UpdateRequest{OVN: as[k].ovn, Priority: 15,
				Volumes: []geo.VolumeSpec{e.volAt(spots[k], 500, 600)}})
			if err != nil {
				t.Fatalf("updating alpha's %d: %v", k, err)
			}
			as[k].ovn = f.Intent.OVN
		case k%5 == 1:
			f, err := ca.SetState(t.Context(), as[k].id, as[k].ovn, registry.StateActivated)
			if err != nil {
				t.Fatalf("activating alpha's %d: %v", k, err)
			}
			as[k].ovn = f.Intent.OVN
		}
		switch {
		case k%7 == 0:
			if _, err := cb.End(t.Context(), bs[k].id, bs[k].ovn); err != nil {
				t.Fatalf("ending bravo's %d: %v", k, err)
			}
		case k%6 == 3: // bravo raises its priority, with the key it is told
			ur := server.UpdateRequest{OVN: bs[k].ovn, Priority: 30, Volumes: []geo.VolumeSpec{e.vol(spots[k])}}
			_, err := cb.Update(t.Context(), bs[k].id, ur)
			if p, ok := err.(*server.Problem); ok && p.Type == server.TypeMissingKey {
				ur.Key = ovns(p.Intents)
				_, err = cb.Update(t.Context(), bs[k].id, ur)
			}
			if err != nil {
				t.Fatalf("updating bravo's %d: %v", k, err)
			}
		}
	}
}

// TestReplayAcrossRestart sends a signed request again after the service
// restarted: the token was used once and must stay refused until it
// expires, restart or not.
func TestReplayAcrossRestart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	e.addMembers(t, "alpha")
	body := bodyOf(t, server.FileRequest{Priority: 1, Volumes: []geo.VolumeSpec{e.vol(e.spot())}})
	authz := "Bearer " + e.token(t, "alpha", body)
	wantJSON(t, e.raw(t, "POST", "/v1/intents", body, authz), http.StatusCreated, nil)
	e.restart(t)
	r := e.raw(t, "POST", "/v1/intents", body, authz)
	wantProblem(t, r, http.StatusUnauthorized, server.TypeUnauthenticated)
	if n := e.numIntents(); n != 1 {
		t.Errorf("%d intents after the replay, want 1", n)
	}
}

// TestOpenAPI checks that the OpenAPI document and the routes served
// agree.
func TestOpenAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			Summary  string `json:"summary"`
			Security []any  `json:"security"`
		} `json:"paths"`
	}
	wantJSON(t, e.do(t, request{method: "GET", path: "/v1/openapi.json"}), http.StatusOK, &doc)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			route := strings.ToUpper(method) + " " + path
			documented = append(documented, route)
			t.Run("served/"+route, func(t *testing.T) {
				if op.Summary == "" {
					t.Errorf("no summary")
				}
				concrete := strings.NewReplacer("{id}", service.NewUUID()).Replace(path)
				r := e.raw(t, strings.ToUpper(method), concrete, nil, "")
				if r.status == http.StatusNotFound && strings.Contains(string(r.body), "no route") {
					t.Fatalf("not served: %s", r.body)
				}
				// Without a token: refused if the document says a token is
				// needed, served otherwise.
				if op.Security != nil {
					wantProblem(t, r, http.StatusUnauthorized, server.TypeUnauthenticated)
				} else if r.status != http.StatusOK {
					t.Errorf("status %d without a token, want 200: %s", r.status, r.body)
				}
			})
		}
	}
	slices.Sort(documented)
	used := slices.Sorted(slices.Values(routesUsed))
	if d := cmp.Diff(used, documented); d != "" {
		t.Errorf("routes used by the tests (-) and documented (+) differ:\n%s", d)
	}
}

// TestConcurrentFiling files intents from 8 goroutines at once.
func TestConcurrentFiling(t *testing.T) {
	t.Parallel()
	const workers, each = 8, 200
	e := newEnv(t, envConfig{})
	parties := make([]registry.PartyID, workers)
	for i := range parties {
		parties[i] = registry.PartyID(fmt.Sprintf("party-%d", i))
	}
	e.addMembers(t, parties...)
	filed := make([][]registry.IntentID, workers)
	url := e.url()
	var wg sync.WaitGroup
	for i, p := range parties {
		key := e.key(p)
		wg.Go(func() {
			for range each {
				id, err := fileOnce(url, p, key, server.FileRequest{Priority: 1, Volumes: []geo.VolumeSpec{e.vol(e.spot())}})
				if err != nil {
					t.Errorf("%s: %v", p, err)
					return
				}
				filed[i] = append(filed[i], id)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if n := e.numIntents(); n != workers*each {
		t.Errorf("%d intents, want %d", n, workers*each)
	}
	for i, p := range parties {
		list, err := e.client(t, p).List(t.Context(), false)
		if err != nil {
			t.Fatalf("listing %s: %v", p, err)
		}
		var got []registry.IntentID
		for _, v := range list {
			got = append(got, v.ID)
		}
		if d := cmp.Diff(slices.Sorted(slices.Values(filed[i])), got); d != "" {
			t.Errorf("%s's intents (-filed +listed):\n%s", p, d)
		}
	}
}

// fileOnce files fr as party p with a hand-made request; it is safe to
// call from any goroutine, and fails unless the answer is a 201 without
// conflicts.
func fileOnce(url string, p registry.PartyID, key ed25519.PrivateKey, fr server.FileRequest) (registry.IntentID, error) {
	body, err := json.Marshal(fr)
	if err != nil {
		return "", err
	}
	tok, err := auth.Sign(key, string(p), audience, body, time.Now(), time.Minute)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequest("POST", url+"/v1/intents", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	var f server.FiledView
	if err := json.Unmarshal(b, &f); err != nil {
		return "", err
	}
	if len(f.Conflicts) != 0 || f.Intent.ID == "" {
		return "", fmt.Errorf("filed %s", b)
	}
	return f.Intent.ID, nil
}

// TestRateLimit checks that a party over its rate is refused with 429
// and told when to retry, while other parties are not.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{RateLimit: 0.001, RateBurst: 2})
	e.addMembers(t, "alpha", "bravo")
	tests := []struct {
		name       string
		as         registry.PartyID
		wantStatus int
	}{
		{"first of the burst", "alpha", http.StatusOK},
		{"second of the burst", "alpha", http.StatusOK},
		{"over the burst", "alpha", http.StatusTooManyRequests},
		{"another party", "bravo", http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, request{as: tc.as, method: "GET", path: "/v1/intents"})
			if tc.wantStatus == http.StatusOK {
				wantJSON(t, r, http.StatusOK, nil)
				return
			}
			wantProblem(t, r, tc.wantStatus, server.TypeRateLimited)
			if secs, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || secs < 1 {
				t.Errorf("Retry-After %q, want a number of seconds", r.header.Get("Retry-After"))
			}
		})
	}
}

// TestOverlapsExtent checks ?overlaps=extent on writes: their answers,
// refusals and batches show each overlap's band and window as the default
// answers do, without cells (not even the keys), and a bad value is
// refused before anything is written.
func TestOverlapsExtent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	e.addMembers(t, "alpha", "bravo")
	x, y := e.spot(), e.spot()
	a := e.file(t, "alpha", server.FileRequest{Priority: 10, Volumes: []geo.VolumeSpec{e.vol(x)}})
	a2 := e.file(t, "alpha", server.FileRequest{Priority: 10, Volumes: []geo.VolumeSpec{e.vol(y)}})
	noCells := func(t *testing.T, r *reply) {
		t.Helper()
		if bytes.Contains(r.body, []byte(`"cells"`)) || bytes.Contains(r.body, []byte(`"cell_level"`)) {
			t.Errorf("answer shows cells: %s", r.body)
		}
	}
	// seen is what bravo is shown of id by a read, without the cells.
	seen := func(t *testing.T, id registry.IntentID) []server.IntentView {
		return stripCells(t, e.getIntent(t, "bravo", id))
	}
	t.Run("refusal", func(t *testing.T) {
		fr := server.FileRequest{ID: service.NewUUID(), Priority: 20, Volumes: []geo.VolumeSpec{e.vol(x)}}
		r := e.do(t, request{as: "bravo", method: "POST", path: "/v1/intents?overlaps=extent", body: fr})
		p := wantProblem(t, r, http.StatusConflict, server.TypeMissingKey)
		noCells(t, r)
		want := []server.IntentView{disclosed(a, []geo.VolumeSpec{e.vol(x)}, nil)}
		if d := cmp.Diff(want, p.Intents); d != "" {
			t.Errorf("refusal with ?overlaps=extent (-want +got):\n%s", d)
		}
		// The same refusal by default shows the same, with cells.
		for _, path := range []string{"/v1/intents", "/v1/intents?overlaps=cells"} {
			p = wantProblem(t, e.do(t, request{as: "bravo", method: "POST", path: path, body: fr}), http.StatusConflict, server.TypeMissingKey)
			if d := cmp.Diff(want, stripCells(t, p.Intents...)); d != "" {
				t.Errorf("refusal of %s (-want +got):\n%s", path, d)
			}
		}
	})
	t.Run("filed", func(t *testing.T) {
		fr := server.FileRequest{ID: service.NewUUID(), Priority: 20, Volumes: []geo.VolumeSpec{e.vol(x)}, Key: []registry.OVN{a.Intent.OVN}}
		r := e.do(t, request{as: "bravo", method: "POST", path: "/v1/intents?overlaps=extent", body: fr})
		var f server.FiledView
		wantJSON(t, r, http.StatusCreated, &f)
		noCells(t, r)
		if d := cmp.Diff(seen(t, a.Intent.ID), f.Conflicts); d != "" || len(f.Conflicts) != 1 {
			t.Errorf("filed with ?overlaps=extent: conflicts (-read +answer):\n%s", d)
		}
		if len(f.Intent.Volumes) != 1 { // a single filing's answer still shows the intent in full
			t.Errorf("filed intent %+v: want its volume", f.Intent)
		}
		// An update of it with the query: its conflicts likewise.
		ur := server.UpdateRequest{OVN: f.Intent.OVN, Priority: 20, Volumes: []geo.VolumeSpec{e.vol(x)}, Key: []registry.OVN{a.Intent.OVN}}
		r = e.do(t, request{as: "bravo", method: "PUT", path: intentPath(f.Intent.ID, "?overlaps=extent"), body: ur})
		var u server.FiledView
		wantJSON(t, r, http.StatusOK, &u)
		noCells(t, r)
		if d := cmp.Diff(seen(t, a.Intent.ID), u.Conflicts); d != "" || len(u.Conflicts) != 1 {
			t.Errorf("updated with ?overlaps=extent: conflicts (-read +answer):\n%s", d)
		}
		// An update without the key is refused, its 409 without cells.
		ur.OVN, ur.Key = u.Intent.OVN, nil
		r = e.do(t, request{as: "bravo", method: "PUT", path: intentPath(f.Intent.ID, "?overlaps=extent"), body: ur})
		p := wantProblem(t, r, http.StatusConflict, server.TypeMissingKey)
		noCells(t, r)
		if d := cmp.Diff(seen(t, a.Intent.ID), p.Intents); d != "" {
			t.Errorf("refused update with ?overlaps=extent (-read +answer):\n%s", d)
		}
	})
	t.Run("batch", func(t *testing.T) {
		br := server.BatchRequest{Intents: []server.FileRequest{
			{ID: service.NewUUID(), Priority: 20, Volumes: []geo.VolumeSpec{e.vol(y)}, Key: []registry.OVN{a2.Intent.OVN}},
			{ID: service.NewUUID(), Priority: 20, Volumes: []geo.VolumeSpec{e.vol(e.spot())}},
			{ID: service.NewUUID(), Priority: 20, Volumes: []geo.VolumeSpec{e.vol(x)}}, // no key for a
		}}
		r := e.do(t, request{as: "bravo", method: "POST", path: "/v1/intents/batch?overlaps=extent", body: br})
		var resp server.BatchResponse
		wantJSON(t, r, http.StatusOK, &resp)
		noCells(t, r)
		if len(resp.Results) != 3 || resp.Results[0].Filed == nil || resp.Results[1].Filed == nil || resp.Results[2].Problem == nil {
			t.Fatalf("results %+v: want two filed and one refused", resp.Results)
		}
		if d := cmp.Diff(seen(t, a2.Intent.ID), resp.Results[0].Filed.Conflicts); d != "" {
			t.Errorf("batch item 0: conflicts (-read +answer):\n%s", d)
		}
		if c := resp.Results[1].Filed.Conflicts; len(c) != 0 {
			t.Errorf("batch item 1: conflicts %+v, want none", c)
		}
		if p := resp.Results[2].Problem; p.Type != server.TypeMissingKey || len(p.Intents) != 1 || p.Intents[0].ID != a.Intent.ID || len(p.Intents[0].Overlaps) != 1 {
			t.Errorf("batch item 2: problem %+v, want missing key for %s with its overlap", p, a.Intent.ID)
		}
	})
	t.Run("bad value", func(t *testing.T) {
		for _, q := range []string{"?overlaps=none", "?overlaps=", "?overlaps=cells&overlaps=extent", "?overlaps=EXTENT", "?overlaps=extent&x=1", "?x=1", "?overlaps=%zz"} {
			n := e.numIntents()
			fr := server.FileRequest{ID: service.NewUUID(), Priority: 1, Volumes: []geo.VolumeSpec{e.vol(e.spot())}}
			wantProblem(t, e.do(t, request{as: "bravo", method: "POST", path: "/v1/intents" + q, body: fr}), http.StatusBadRequest, server.TypeValidation)
			br := server.BatchRequest{Intents: []server.FileRequest{{ID: service.NewUUID(), Priority: 1, Volumes: []geo.VolumeSpec{e.vol(e.spot())}}}}
			wantProblem(t, e.do(t, request{as: "bravo", method: "POST", path: "/v1/intents/batch" + q, body: br}), http.StatusBadRequest, server.TypeValidation)
			if got := e.numIntents(); got != n {
				t.Errorf("%s: %d intents after two refused writes, want %d", q, got, n)
			}
		}
	})
}
