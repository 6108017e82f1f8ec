package server

import (
	"net/http"

	"github.com/deconflict/deconflict/registry"
	"github.com/deconflict/deconflict/service"
)

// RevokeRequest revokes a party (POST /v1/parties/{id}/revoke); Party
// must equal the path's id.
type RevokeRequest struct {
	Party registry.PartyID `json:"party"`
}

// AddPartyRequest adds a party (POST /v1/parties).
type AddPartyRequest struct {
	ID        registry.PartyID `json:"id"`
	Name      string           `json:"name"`
	Role      registry.Role    `json:"role"`
	PublicKey []byte           `json:"public_key"` // 32 bytes, base64 in JSON
}

func (s *Server) requireAuthority(c *call) error {
	var err error
	s.svc.View(func(reg *registry.Registry) {
		if p := reg.Party(c.party); p == nil || p.Role != registry.RoleAuthority {
			err = forbidden("only an authority may manage parties")
		}
	})
	return err
}

func forbidden(msg string) error {
	return &Problem{Type: TypeForbidden, Title: "forbidden", Status: http.StatusForbidden, Detail: msg}
}

func (s *Server) listParties(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.requireAuthority(c); err != nil {
		return err
	}
	var out []PartyView
	s.svc.View(func(reg *registry.Registry) {
		for _, p := range reg.Parties() {
			out = append(out, partyView(p))
		}
	})
	writeJSON(w, http.StatusOK, map[string]any{"parties": out})
	return nil
}

func (s *Server) addParty(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.requireAuthority(c); err != nil {
		return err
	}
	var ar AddPartyRequest
	if err := decode(c.body, &ar); err != nil {
		return err
	}
	o, err := s.svc.Submit(r.Context(), service.Command{Request: c.req, Entry: registry.Entry{
		Party: c.party, Kind: registry.KindAddParty,
		AddParty: &registry.AddParty{Party: registry.Party{ID: ar.ID, Name: ar.Name, Role: ar.Role, PublicKey: ar.PublicKey}},
	}})
	if err != nil {
		return err
	}
	var view PartyView
	s.svc.View(func(reg *registry.Registry) { view = partyView(reg.Party(ar.ID)) })
	view.Receipt = o.Receipt
	writeJSON(w, http.StatusCreated, view)
	return nil
}

func (s *Server) revokeParty(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.requireAuthority(c); err != nil {
		return err
	}
	// The body names the party again: the signed token covers the body,
	// not the path, so this is what makes the logged request say whom
	// the authority revoked.
	var rr RevokeRequest
	if err := decode(c.body, &rr); err != nil {
		return err
	}
	id := registry.PartyID(r.PathValue("id"))
	if rr.Party != id {
		return invalidf("the body names party %q, the path %q: they must be the same", rr.Party, id)
	}
	o, err := s.svc.Submit(r.Context(), service.Command{Request: c.req, Entry: registry.Entry{
		Party: c.party, Kind: registry.KindRevokeParty, RevokeParty: &registry.RevokeParty{Party: id},
	}})
	if err != nil {
		return err
	}
	var view PartyView
	s.svc.View(func(reg *registry.Registry) { view = partyView(reg.Party(id)) })
	view.Receipt = o.Receipt
	writeJSON(w, http.StatusOK, view)
	return nil
}
