package server

import (
	"net/http"
	"strings"
)

// summaries documents each route; the OpenAPI document is built from the
// route table and these, and a test checks that both list the same routes.
var summaries = map[string]string{
	"GET /healthz":                        "Liveness: ok and the last entry index.",
	"GET /metrics":                        "Prometheus metrics.",
	"GET /v1/openapi.json":                "This document.",
	"POST /v1/intents":                    "File an intent (FileRequest). 201 FiledView; 409 missing-key or conflict listing the intents in question. ?overlaps=extent: overlaps without cells.",
	"POST /v1/intents/batch":              "File many intents in one signed request (BatchRequest); each is decided on its own. 200 BatchResponse (each filed intent without its volumes and details, which are the request's). ?overlaps=extent: overlaps without cells, much cheaper for bulk filers.",
	"POST /v1/intents/query":              "Intents conflicting with a volume (QueryRequest): yours in full, others' conflicting volumes only.",
	"GET /v1/intents":                     "Your intents (add ?ended=true to include ended ones).",
	"GET /v1/intents/{id}":                "One intent: yours in full; another party's only where it conflicts with yours.",
	"PUT /v1/intents/{id}":                "Update an intent (UpdateRequest, with its current OVN). 409 stale-ovn, missing-key or conflict.",
	"POST /v1/intents/{id}/state":         "Change state (StateRequest): accepted→activated|contingent, activated→contingent, contingent→activated.",
	"POST /v1/intents/{id}/end":           "End an intent (EndRequest, with its current OVN).",
	"GET /v1/conflicts":                   "Conflicts of your live intents with other parties' intents.",
	"GET /v1/alerts":                      "Alerts sent to you, with acknowledgement, age and severity (overdue past the deadline); ?after=ENTRY, ?unacked=true.",
	"GET /v1/alerts/stream":               "Server-Sent Events: your alerts as they happen (event alert, id = alert id); resumable with Last-Event-ID; unacknowledged alerts are sent again periodically (at least once).",
	"POST /v1/alerts/{id}/ack":            "Acknowledge an alert sent to you: a log entry (WriteResponse with receipt).",
	"GET /v1/grants":                      "The grants you gave and received (those above deconfliction).",
	"PUT /v1/grants/{party}":              "Set what a party may see of your intents (GrantRequest: deconfliction, operational or full).",
	"GET /v1/disclosures":                 "Who was shown what of your intents, and when (?after=ENTRY).",
	"GET /v1/conflicts/{id}/messages":     "A conflict's hotline (its two parties only): messages and status (open, coordinated, resolved).",
	"POST /v1/conflicts/{id}/messages":    "Post on a conflict's hotline (MessageRequest); the other party is alerted.",
	"POST /v1/conflicts/{id}/coordinate":  "Mark a conflict coordinated on your side; with both sides it is coordinated.",
	"PUT /v1/webhook":                     "Register the HTTPS URL your alerts are posted to, signed by the service key (WebhookRequest; empty URL removes it).",
	"GET /v1/parties":                     "List parties (authority only).",
	"POST /v1/parties":                    "Add a party (AddPartyRequest; authority only).",
	"POST /v1/parties/{id}/revoke":        "Revoke a party (RevokeRequest naming the same party; authority only).",
	"GET /v1/log/checkpoint":              "The log's latest checkpoint (text/plain signed note, C2SP tlog-checkpoint) with the cosignatures collected for it; ?witnessed=true: the latest cosigned by enough parties; ?cosign=true: the one witnesses should cosign now (moves to the latest at most once a second, so witnesses meet on one size).",
	"GET /v1/log/entries":                 "Public leaves (index, time, kind, party, commitment) of entries ?start=N&count=M (at most 1000), within the latest checkpoint.",
	"GET /v1/log/entries/{index}/content": "An entry's content and salt, to check against its leaf's commitment: for its author, the parties its alerts went to, and authorities only.",
	"GET /v1/log/proof/inclusion":         "Inclusion proof of entry ?index=N in the tree of ?size=S entries (RFC 6962).",
	"GET /v1/log/proof/consistency":       "Consistency proof from the tree of ?old=N entries to the tree of ?size=S entries (RFC 6962).",
	"POST /v1/log/cosignatures":           "Record your cosignature (C2SP tlog-cosignature) of a checkpoint of this log (CosignRequest).",
}

// overlapsRoutes are the writes that take ?overlaps= (overlapsParam).
var overlapsRoutes = map[string]bool{
	"POST /v1/intents": true, "POST /v1/intents/batch": true, "PUT /v1/intents/{id}": true,
	"POST /v1/intents/{id}/state": true, "POST /v1/intents/{id}/end": true,
}

func (s *Server) openapiDoc() map[string]any {
	paths := map[string]any{}
	for _, rt := range s.routes {
		item, _ := paths[rt.pattern].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.pattern] = item
		}
		op := map[string]any{
			"summary": summaries[rt.method+" "+rt.pattern],
			"responses": map[string]any{
				"default": map[string]any{"description": "RFC 9457 problem (application/problem+json)"},
				"2XX":     map[string]any{"description": "success (application/json)"},
			},
		}
		if rt.auth {
			op["security"] = []any{map[string]any{"partyToken": []any{}}}
		}
		var params []any
		for _, seg := range strings.Split(rt.pattern, "/") {
			if strings.HasPrefix(seg, "{") {
				params = append(params, map[string]any{"name": strings.Trim(seg, "{}"), "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
			}
		}
		if overlapsRoutes[rt.method+" "+rt.pattern] {
			params = append(params, map[string]any{"name": "overlaps", "in": "query", "required": false,
				"description": "How the answer shows each overlap with another party's intent: cells (the default: S2 cells, altitude band, time window) or extent (band and window only; GET /v1/intents/{id} and /v1/conflicts still show the cells).",
				"schema":      map[string]any{"type": "string", "enum": []any{"cells", "extent"}, "default": "cells"}})
		}
		if params != nil {
			op["parameters"] = params
		}
		item[strings.ToLower(rt.method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":   "deconflict",
			"version": "1",
			"description": "Airspace deconfliction for parties that do not trust each other. Every /v1 request " +
				"but this document carries Authorization: Bearer <JWT> (EdDSA, signed by the party's key; claims iss, aud, iat, exp<=5 min, jti, bsh = SHA-256 of the body).",
		},
		"paths": paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{
				"partyToken": map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT (EdDSA)"},
			},
		},
	}
}

func (s *Server) openapi(w http.ResponseWriter, r *http.Request, c *call) error {
	writeJSON(w, http.StatusOK, s.openapiDoc())
	return nil
}
