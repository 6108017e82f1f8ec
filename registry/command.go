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
	KindSetGrant    Kind = "set_grant"
	KindAck         Kind = "ack"
	KindDisclose    Kind = "disclose"
	KindMessage     Kind = "message"
	KindCoordinate  Kind = "coordinate"
	KindSetWebhook  Kind = "set_webhook"
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
	SetGrant    *SetGrant    `json:"set_grant,omitempty"`
	Ack         *Ack         `json:"ack,omitempty"`
	Disclose    *Disclose    `json:"disclose,omitempty"`
	Message     *Message     `json:"message,omitempty"`
	Coordinate  *Coordinate  `json:"coordinate,omitempty"`
	SetWebhook  *SetWebhook  `json:"set_webhook,omitempty"`
}

// SetGrant sets what the entry's party lets another party see of its
// intents.
type SetGrant struct {
	To    PartyID `json:"to"`
	Level Level   `json:"level"`
}

// Ack acknowledges an alert sent to the entry's party.
type Ack struct {
	Alert string `json:"alert"`
}

// Disclose records that the entry's party was shown other parties'
// intents when its filing was refused (made by the service, never asked
// for): each owner is alerted, so probing is visible.
type Disclose struct {
	Reason  string            `json:"reason"` // missing-key or conflict
	Intents []DisclosedIntent `json:"intents"`
}

// DisclosedIntent is one intent shown, as it was when shown.
type DisclosedIntent struct {
	Intent IntentID `json:"intent"`
	Owner  PartyID  `json:"owner"`
	OVN    OVN      `json:"ovn"`
	Level  Level    `json:"level"` // the grant it was shown under
}

// Message posts a message on a conflict's hotline.
type Message struct {
	Conflict ConflictID `json:"conflict"`
	Text     string     `json:"text"`
}

// Coordinate marks a conflict as coordinated by the entry's party.
type Coordinate struct {
	Conflict ConflictID `json:"conflict"`
}

// SetWebhook registers the HTTPS URL the entry's party's alerts are
// posted to ("" removes it).
type SetWebhook struct {
	URL string `json:"url"`
}

// File files a new intent.
type File struct {
	Intent   IntentID      `json:"intent"` // assigned (or proposed by the filer)
	NewOVN   OVN           `json:"new_ovn"`
	Priority int           `json:"priority"`
	State    State         `json:"state"` // accepted, activated or contingent; "" = accepted
	Volumes  []*geo.Volume `json:"volumes"`
	Key      []OVN         `json:"key,omitempty"`
	Details  []byte        `json:"details,omitempty"` // private details: a JSON object
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
	Details  []byte        `json:"details,omitempty"` // nil keeps them
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
