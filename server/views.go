package server

import (
	"time"

	"github.com/deconflict/deconflict/geo"
	"github.com/deconflict/deconflict/ledger"
	"github.com/deconflict/deconflict/registry"
	"github.com/deconflict/deconflict/service"
)

// IntentView is what a party is shown of an intent. Its owner sees all of
// it; another party sees only what it needs to deconflict: the id, owner,
// current OVN (to present as key), state and priority, and the extents of
// the volumes that conflict with its own (Volumes then holds only those,
// and Indexes their positions in the intent).
type IntentView struct {
	ID          registry.IntentID   `json:"id"`
	Owner       registry.PartyID    `json:"owner"`
	OVN         registry.OVN        `json:"ovn"`
	State       registry.State      `json:"state"`
	Priority    int                 `json:"priority"`
	Volumes     []geo.VolumeSpec    `json:"volumes"`
	Indexes     []int               `json:"volume_indexes,omitempty"`
	Created     *time.Time          `json:"created,omitempty"`
	Updated     *time.Time          `json:"updated,omitempty"`
	PreemptedBy []registry.IntentID `json:"preempted_by,omitempty"`
	Full        bool                `json:"full"` // all volumes shown
}

// ownView is the owner's view of its intent.
func ownView(it *registry.Intent) IntentView {
	v := IntentView{ID: it.ID, Owner: it.Owner, OVN: it.OVN, State: it.State, Priority: it.Priority,
		Created: &it.Created, Updated: &it.Updated, PreemptedBy: it.PreemptedBy, Full: true}
	for _, vol := range it.Volumes {
		v.Volumes = append(v.Volumes, vol.Spec())
	}
	return v
}

// disclose is another party's view of a conflicting intent: only the
// volumes that conflict.
func disclose(c registry.Conflict) IntentView {
	it := c.Intent
	v := IntentView{ID: it.ID, Owner: it.Owner, OVN: it.OVN, State: it.State, Priority: it.Priority}
	seen := map[int]bool{}
	for _, p := range c.Pairs {
		if !seen[p.Theirs] {
			seen[p.Theirs] = true
			v.Indexes = append(v.Indexes, p.Theirs)
			v.Volumes = append(v.Volumes, it.Volumes[p.Theirs].Spec())
		}
	}
	return v
}

// FiledView answers a successful write: the intent as its owner sees it,
// and the intents of others it conflicts with (alerted, preempted).
type FiledView struct {
	Intent    IntentView   `json:"intent"`
	Conflicts []IntentView `json:"conflicts,omitempty"`
	Entry     uint64       `json:"entry"`
	// Receipt proves the entry is in the log (absent if the log signs no
	// checkpoints).
	Receipt *ledger.Receipt `json:"receipt,omitempty"`
}

func filedView(o service.Outcome) FiledView {
	f := FiledView{Entry: o.Entry.Index, Receipt: o.Receipt}
	if o.Result.Intent != nil {
		f.Intent = ownView(o.Result.Intent)
	}
	for _, c := range o.Result.Conflicts {
		f.Conflicts = append(f.Conflicts, disclose(c))
	}
	return f
}

// PartyView is a party as listed.
type PartyView struct {
	ID        registry.PartyID `json:"id"`
	Name      string           `json:"name"`
	Role      registry.Role    `json:"role"`
	PublicKey []byte           `json:"public_key"`
	Revoked   bool             `json:"revoked"`
	Added     time.Time        `json:"added"`
	// Receipt, in the answer to adding or revoking a party only.
	Receipt *ledger.Receipt `json:"receipt,omitempty"`
}

func partyView(p *registry.Party) PartyView {
	return PartyView{ID: p.ID, Name: p.Name, Role: p.Role, PublicKey: p.PublicKey, Revoked: p.Revoked, Added: p.Added}
}
