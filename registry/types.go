// Package registry is deconflict's deterministic state machine: parties,
// operational intents, conflicts and the alerts they cause.
//
// Check decides a command against the current state without changing it;
// Apply decides an entry the same way and, if it is accepted, changes the
// state and returns the alerts to send. Apply depends only on the state and
// the entry: time, ids and OVNs come from the entry (the sequencer fixes
// them), never from the clock, so replaying a log rebuilds the same state,
// and Snapshot/Restore round-trip it byte for byte.
//
// # Conflict rules
//
// Let C be the intents of other parties, not ended, with a volume that
// conflicts (geo.Conflict under Config.Separation) with a volume of the
// intent being filed or updated.
//
//  1. Key: the command must carry the current OVN of every intent in C, or
//     it is refused with ErrMissingKey listing those it lacks.
//  2. Priority (policy strict only): if an intent in C has a priority at or
//     above the filer's, the command is refused with ErrConflict listing them.
//  3. Otherwise it is accepted; under strict, the intents in C are marked
//     preempted by it; every owner in C gets an alert.
//
// An intent filed or updated in state contingent (an emergency) is always
// accepted: rules 1 and 2 do not apply, and the owners in C are alerted.
// Policy aware applies rule 1 only (conflicts are allowed and alerted): it is
// what ASTM F3548 DSS pools do. Policy detect refuses nothing and reports the
// conflicts with every stored intent, the filer's own included: it is the
// benchmark's and auditors' mode.
//
// A Registry is not safe for concurrent use; the sequencer owns it.
package registry

import (
	"crypto/ed25519"
	"time"

	"github.com/deconflict/deconflict/geo"
)

// PartyID names a party: lowercase letters, digits and '-', '_', 1-64 chars.
type PartyID string

// Role is what a party may do.
type Role string

// Roles.
const (
	RoleMember    Role = "member"    // files and manages its own intents
	RoleAuthority Role = "authority" // also adds and revokes parties
)

// Party is a participant with its public key.
type Party struct {
	ID        PartyID           `json:"id"`
	Name      string            `json:"name"`
	Role      Role              `json:"role"`
	PublicKey ed25519.PublicKey `json:"public_key"`
	Revoked   bool              `json:"revoked,omitempty"`
	Added     time.Time         `json:"added"`
}

// IntentID names an intent (a UUID on the API).
type IntentID string

// OVN is an intent's opaque version number; it changes on every
// modification.
type OVN string

// State is an intent's lifecycle state.
type State string

// States.
const (
	StateAccepted   State = "accepted"   // planned
	StateActivated  State = "activated"  // flying
	StateContingent State = "contingent" // emergency: always accepted
	StateEnded      State = "ended"      // ended by its owner or by time
)

// Limits on intents.
const (
	MinPriority   = 0
	MaxPriority   = 100
	MaxVolumes    = 64
	MaxIDLength   = 64
	MaxNameLength = 200
	MaxKeyLength  = 10_000
	MaxDetails    = 16 << 10 // bytes of an intent's private details
	MaxMessage    = 4000     // bytes of a hotline message
)

// Intent is a party's planned operation. The registry replaces an Intent
// value on every change rather than modifying it, so a pointer it returned
// is a consistent snapshot; callers must not modify it.
type Intent struct {
	ID          IntentID      `json:"id"`
	Owner       PartyID       `json:"owner"`
	Priority    int           `json:"priority"`
	State       State         `json:"state"`
	Volumes     []*geo.Volume `json:"volumes"`
	OVN         OVN           `json:"ovn"`
	Created     time.Time     `json:"created"`
	Updated     time.Time     `json:"updated"`
	PreemptedBy []IntentID    `json:"preempted_by,omitempty"`
	Details     []byte        `json:"details,omitempty"` // private: a JSON object, at most MaxDetails bytes

	endNano int64 // end(), set when the intent is indexed; 0 before
}

// end is the end of the intent's last volume, in unix nanoseconds.
func (it *Intent) end() int64 {
	if it.endNano != 0 {
		return it.endNano
	}
	var e int64
	for _, v := range it.Volumes {
		e = max(e, v.EndNano())
	}
	return e
}

// Conflict is an intent that conflicts with the one being decided, and
// which of their volumes do.
type Conflict struct {
	Intent *Intent `json:"intent"`
	Pairs  []Pair  `json:"pairs"`
}

// Pair names two conflicting volumes by their indexes in their intents.
type Pair struct {
	Mine   int `json:"mine"`   // volume of the intent being decided
	Theirs int `json:"theirs"` // volume of the conflicting intent
}

// AlertKind says why a party is alerted.
type AlertKind string

// Alert kinds.
const (
	AlertConflict    AlertKind = "conflict"    // an intent now conflicts with yours
	AlertPreempted   AlertKind = "preempted"   // a higher-priority intent preempted yours
	AlertContingent  AlertKind = "contingent"  // an emergency operation conflicts with yours
	AlertDisclosed   AlertKind = "disclosed"   // a party was shown your intent when its filing was refused
	AlertMessage     AlertKind = "message"     // a message on the hotline of a conflict of yours
	AlertCoordinated AlertKind = "coordinated" // the other party marked a conflict of yours coordinated
)

// Alert is a notice to a party about one of its intents.
type Alert struct {
	ID      string    `json:"id"` // "<entry index>-<n>"
	To      PartyID   `json:"to"`
	Kind    AlertKind `json:"kind"`
	Intent  IntentID  `json:"intent"`   // the recipient's intent
	By      IntentID  `json:"by"`       // the intent that caused it
	ByParty PartyID   `json:"by_party"` // its owner
	Entry   uint64    `json:"entry"`    // the entry that caused it
	Time    time.Time `json:"time"`     // the entry's time
	Pairs   []Pair    `json:"pairs"`    // Mine: By's volume; Theirs: Intent's
	// Conflict names the hotline, for message alerts.
	Conflict ConflictID `json:"conflict,omitempty"`
}

// Result is what Apply and Check decided for an accepted command.
type Result struct {
	Intent    *Intent    // the intent after the change (nil for party commands)
	Conflicts []Conflict // C, sorted by intent id
	Alerts    []Alert    // to send, in order
}
