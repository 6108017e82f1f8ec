package registry

import (
	"time"

	"github.com/deconflict/deconflict/geo"
)

// Kind says which command an entry holds.
type Kind string

// Entry kinds.
const (
	KindFile        Kind = "file"
	KindUpdate      Kind = "update"
	KindSetState    Kind = "set_state"
	KindEnd         Kind = "end"
	KindAddParty    Kind = "add_party"
	KindRevokeParty Kind = "revoke_party"
)

// Entry is one change, as the sequencer made it: its position, its time,
// the party that asked for it, and exactly one command (the one Kind names).
// Ids and OVNs that the change assigns are in the command.
type Entry struct {
	Index uint64    `json:"index"`
	Time  time.Time `json:"time"`
	Party PartyID   `json:"party"`
	Kind  Kind      `json:"kind"`

	File        *File        `json:"file,omitempty"`
	Update      *Update      `json:"update,omitempty"`
	SetState    *SetState    `json:"set_state,omitempty"`
	End         *End         `json:"end,omitempty"`
	AddParty    *AddParty    `json:"add_party,omitempty"`
	RevokeParty *RevokeParty `json:"revoke_party,omitempty"`
}

// File files a new intent.
type File struct {
	Intent   IntentID      `json:"intent"` // assigned (or proposed by the filer)
	NewOVN   OVN           `json:"new_ovn"`
	Priority int           `json:"priority"`
	State    State         `json:"state"` // accepted, activated or contingent; "" = accepted
	Volumes  []*geo.Volume `json:"volumes"`
	Key      []OVN         `json:"key,omitempty"`
}

// Update replaces an intent's volumes and priority.
type Update struct {
	Intent   IntentID      `json:"intent"`
	OVN      OVN           `json:"ovn"` // the current OVN, as the filer knows it
	NewOVN   OVN           `json:"new_ovn"`
	Priority int           `json:"priority"`
	State    State         `json:"state,omitempty"` // "" keeps the state
	Volumes  []*geo.Volume `json:"volumes"`
	Key      []OVN         `json:"key,omitempty"`
}

// SetState changes an intent's state (not to ended: see End).
type SetState struct {
	Intent IntentID `json:"intent"`
	OVN    OVN      `json:"ovn"`
	NewOVN OVN      `json:"new_ovn"`
	State  State    `json:"state"`
}

// End ends an intent.
type End struct {
	Intent IntentID `json:"intent"`
	OVN    OVN      `json:"ovn"`
	NewOVN OVN      `json:"new_ovn"`
}

// AddParty adds a party (authority only; the first party may be added by
// anyone and must be an authority).
type AddParty struct {
	Party Party `json:"party"`
}

// RevokeParty revokes a party: it can no longer act; its intents stay.
type RevokeParty struct {
	Party PartyID `json:"party"`
}
