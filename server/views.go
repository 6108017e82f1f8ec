package server

import (
	"encoding/json"
	"time"

	"github.com/deconflict/deconflict/geo"
	"github.com/deconflict/deconflict/ledger"
	"github.com/deconflict/deconflict/registry"
	"github.com/deconflict/deconflict/service"
)

// IntentView is what a party is shown of an intent. Its owner sees all of
// it (Level "own"). Another party sees what the owner's grant to it allows
// (see policy.go): at level deconfliction only the id, owner, current OVN
// (to present as key) and, where the intent conflicts with the viewer's,
// the overlaps (coarse cells, altitude band, time window); at operational
// also the state, priority and every volume's extent; at full also the
// private details.
type IntentView struct {
	ID          registry.IntentID   `json:"id"`
	Owner       registry.PartyID    `json:"owner"`
	OVN         registry.OVN        `json:"ovn"`
	Level       string              `json:"level"` // own, deconfliction, operational or full
	State       registry.State      `json:"state,omitempty"`
	Priority    *int                `json:"priority,omitempty"`
	Volumes     []geo.VolumeSpec    `json:"volumes,omitempty"`
	Overlaps    []Overlap           `json:"overlaps,omitempty"`
	Details     json.RawMessage     `json:"details,omitempty"`
	Created     *time.Time          `json:"created,omitempty"`
	Updated     *time.Time          `json:"updated,omitempty"`
	PreemptedBy []registry.IntentID `json:"preempted_by,omitempty"`
}

// Overlap is where one of the viewer's volumes and one of the other
// party's come too close: S2 cells (tokens) covering it, the altitude band
// and the time window both share (widened by the separation minima: when
// they only come within the minima, the gap between them). Cells is empty
// at level 0 when even level 1 would need too many; Cells and CellLevel
// are absent (nil, 0) in answers asked for with ?overlaps=extent.
type Overlap struct {
	Cells     []string   `json:"cells,omitzero"`
	CellLevel int        `json:"cell_level,omitzero"`
	AltLoM    geo.Meters `json:"alt_lo_m"`
	AltHiM    geo.Meters `json:"alt_hi_m"`
	Start     time.Time  `json:"start"`
	End       time.Time  `json:"end"`
}

// ownView is the owner's view of its intent.
func ownView(it *registry.Intent) IntentView {
	v := briefView(it)
	v.Details = json.RawMessage(it.Details)
	for _, vol := range it.Volumes {
		v.Volumes = append(v.Volumes, vol.Spec())
	}
	return v
}

// briefView is ownView without the volumes and details.
func briefView(it *registry.Intent) IntentView {
	pr := it.Priority
	return IntentView{ID: it.ID, Owner: it.Owner, OVN: it.OVN, Level: "own", State: it.State, Priority: &pr,
		Created: &it.Created, Updated: &it.Updated, PreemptedBy: it.PreemptedBy}
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

// filedView builds the answer; levels are the owners' grants to the
// filer, one per conflict (looked up under the service's lock by the
// caller, so that the overlaps are computed outside it); brief leaves out
// the intent's volumes and details (batch answers).
func filedView(pol policy, levels []registry.Level, o service.Outcome, brief bool) FiledView {
	f := FiledView{Entry: o.Entry.Index, Receipt: o.Receipt}
	if o.Result.Intent != nil {
		if brief {
			f.Intent = briefView(o.Result.Intent)
		} else {
			f.Intent = ownView(o.Result.Intent)
		}
		if len(o.Result.Conflicts) > 0 {
			f.Conflicts = make([]IntentView, 0, len(o.Result.Conflicts))
		}
		for i, c := range o.Result.Conflicts {
			f.Conflicts = append(f.Conflicts, pol.conflictViewAt(levels[i], c.Intent, o.Result.Intent.Volumes, c.Pairs))
		}
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
