package registry

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/deconflict/deconflict/geo"
	"github.com/deconflict/deconflict/index"
)

// Policy chooses the conflict rules (see the package doc).
type Policy string

// Policies.
const (
	PolicyStrict Policy = "strict" // key and priority rules (the default)
	PolicyAware  Policy = "aware"  // key rule only: conflicts allowed and alerted
	PolicyDetect Policy = "detect" // no rule: store everything, report all conflicts
)

// Config configures a Registry. The zero value is policy strict with zero
// separation and the index defaults.
type Config struct {
	Policy     Policy
	Separation geo.Separation
	Index      index.Config
}

// Validate reports whether c is usable.
func (c Config) Validate() error {
	switch c.Policy {
	case "", PolicyStrict, PolicyAware, PolicyDetect:
	default:
		return fmt.Errorf("registry: unknown policy %q (want strict, aware or detect)", c.Policy)
	}
	if err := c.Separation.Validate(); err != nil {
		return err
	}
	return c.Index.Validate()
}

// Registry is the state machine. See the package doc.
type Registry struct {
	cfg Config

	parties map[PartyID]*Party
	intents map[IntentID]*Intent

	idx    *index.Index
	owners []volRef // by index.Ref: which intent and volume it is
	refs   map[IntentID][]index.Ref

	expiry expiryHeap // live intents by end time

	alerts map[PartyID][]Alert // sent to each party, oldest first, at most MaxAlerts

	grants      map[PartyID]map[PartyID]Level // from -> to -> level, defaults left out
	acks        map[string]AckRecord          // by alert id
	disclosures map[PartyID][]Disclosure      // by owner, oldest first, at most MaxAlerts
	hotlines    map[ConflictID]*Hotline
	webhooks    map[PartyID]string

	last     uint64    // index of the last applied entry
	lastTime time.Time // its time

	// snapCache keeps the encoding of intents between snapshots (shared
	// by the encoders SnapshotLater returns, which may run after the
	// registry moved on).
	snapCache *snapshotCache

	// Scratch space for decisions.
	hits    []hit
	touched byte // keeps the loads of conflicts
}

// volRef is what an index.Ref stands for: a volume of an intent, whose
// first volume is at first (a number no other indexed intent has) and
// which ends at end (unix ns).
type volRef struct {
	intent *Intent
	end    int64
	vol    int32
	first  index.Ref
}

// New returns an empty registry.
func New(cfg Config) (*Registry, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Policy == "" {
		cfg.Policy = PolicyStrict
	}
	idx, err := index.New(cfg.Index)
	if err != nil {
		return nil, err
	}
	return &Registry{
		cfg:     cfg,
		parties: make(map[PartyID]*Party),
		intents: make(map[IntentID]*Intent),
		idx:     idx,
		refs:    make(map[IntentID][]index.Ref),
		alerts:  make(map[PartyID][]Alert),

		grants:      make(map[PartyID]map[PartyID]Level),
		acks:        make(map[string]AckRecord),
		disclosures: make(map[PartyID][]Disclosure),
		hotlines:    make(map[ConflictID]*Hotline),
		webhooks:    make(map[PartyID]string),
		snapCache:   &snapshotCache{},
	}, nil
}

// Config returns the registry's configuration.
func (r *Registry) Config() Config { return r.cfg }

// LastIndex is the index of the last applied entry (0 if none).
func (r *Registry) LastIndex() uint64 { return r.last }

// LastTime is the time of the last applied entry.
func (r *Registry) LastTime() time.Time { return r.lastTime }

// Party returns a party, or nil.
func (r *Registry) Party(id PartyID) *Party { return r.parties[id] }

// Parties returns every party, sorted by id.
func (r *Registry) Parties() []*Party {
	out := make([]*Party, 0, len(r.parties))
	for _, p := range r.parties {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *Party) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Intent returns an intent (ended ones included), or nil.
func (r *Registry) Intent(id IntentID) *Intent { return r.intents[id] }

// Intents calls fn for every intent, in no particular order, until fn
// returns false.
func (r *Registry) Intents(fn func(*Intent) bool) {
	for _, it := range r.intents {
		if !fn(it) {
			return
		}
	}
}

// MaxAlerts is about how many alerts (and disclosures) the registry keeps
// per party: between MaxAlerts and MaxAlerts·5/4, the oldest dropped.
const MaxAlerts = 10_000

// Alerts returns the alerts sent to party by entries after index after,
// oldest first (at most the last MaxAlerts).
func (r *Registry) Alerts(party PartyID, after uint64) []Alert {
	var out []Alert
	for _, a := range r.alerts[party] {
		if a.Entry > after {
			out = append(out, a)
		}
	}
	return out
}

func (r *Registry) keepAlerts(as []Alert) {
	for _, a := range as {
		r.alerts[a.To] = keepLast(r.alerts[a.To], a)
	}
}

// keepLast appends x to l, dropping the oldest elements once l holds more
// than MaxAlerts·5/4, down to MaxAlerts: at most one copy per MaxAlerts/4
// appends.
func keepLast[T any](l []T, x T) []T {
	l = append(l, x)
	if len(l) > MaxAlerts+MaxAlerts/4 {
		l = append([]T(nil), l[len(l)-MaxAlerts:]...)
	}
	return l
}

// NumIntents is the number of intents held, ended ones included.
func (r *Registry) NumIntents() int { return len(r.intents) }

// NumVolumes is the number of indexed volumes (of intents not ended).
func (r *Registry) NumVolumes() int { return r.idx.Len() }

// Search calls fn for every live intent with a volume that conflicts with
// q under sep, once per (intent, volume) pair, until fn returns false.
func (r *Registry) Search(q *geo.Volume, sep geo.Separation, fn func(it *Intent, vol int) bool) {
	r.idx.Search(q, sep, func(ref index.Ref, _ *geo.Volume) bool {
		o := r.owners[ref]
		return fn(o.intent, int(o.vol))
	})
}

// ConflictsOf returns the live intents of other parties that conflict with
// intent id now, sorted by id.
func (r *Registry) ConflictsOf(id IntentID) ([]Conflict, error) {
	it := r.intents[id]
	if it == nil {
		return nil, fmt.Errorf("intent %s: %w", id, ErrNotFound)
	}
	if it.State == StateEnded {
		return nil, nil
	}
	return r.conflicts(it.Owner, r.refs[it.ID], it.Volumes, false, 0), nil
}

// conflicts lists the live intents with a volume conflicting with vols:
// those of other parties than owner (of any party if all), not the
// intent whose volumes' refs are self (nil for one being filed), and not
// ending at or before now (unix ns; they are about to expire).
func (r *Registry) conflicts(owner PartyID, self []index.Ref, vols []*geo.Volume, all bool, now int64) []Conflict {
	selfFirst := index.Ref(math.MaxUint32) // no ref
	if len(self) > 0 {
		selfFirst = self[0]
	}
	hits := r.hits[:0]
	r.idx.SearchAll(vols, r.cfg.Separation, func(mine int, ref index.Ref, _ *geo.Volume) bool {
		o := &r.owners[ref]
		if o.first == selfFirst || o.end <= now || (!all && o.intent.Owner == owner) {
			return true
		}
		hits = append(hits, hit{o.intent, o.first, int32(mine), o.vol})
		return true
	})
	defer func() { clear(hits); r.hits = hits[:0] }()
	if len(hits) == 0 {
		return nil
	}
	// Group the pairs by intent (its first ref), each in order.
	slices.SortFunc(hits, func(a, b hit) int {
		if c := cmp.Compare(a.first, b.first); c != 0 {
			return c
		}
		if c := cmp.Compare(a.mine, b.mine); c != 0 {
			return c
		}
		return cmp.Compare(a.theirs, b.theirs)
	})
	n := 1
	for i := 1; i < len(hits); i++ {
		if hits[i].first != hits[i-1].first {
			n++
		}
	}
	out := make([]Conflict, 0, n)
	pairs := make([]Pair, len(hits))
	start := 0
	for i, h := range hits {
		pairs[i] = Pair{Mine: int(h.mine), Theirs: int(h.theirs)}
		if i+1 == len(hits) || hits[i+1].first != h.first {
			out = append(out, Conflict{Intent: h.intent, Pairs: pairs[start : i+1 : i+1]})
			start = i + 1
		}
	}
	// Touch the intents' ids first: the loads do not depend on each
	// other, so their cache misses overlap instead of coming one after
	// the other in the sort.
	var t byte
	for i := range out {
		if id := out[i].Intent.ID; id != "" {
			t += id[0]
		}
	}
	r.touched = t
	slices.SortFunc(out, func(a, b Conflict) int { return cmp.Compare(a.Intent.ID, b.Intent.ID) })
	return out
}

// hit is a conflicting pair found by conflicts.
type hit struct {
	intent       *Intent
	first        index.Ref
	mine, theirs int32
}

// indexIntent adds it's volumes to the index.
func (r *Registry) indexIntent(it *Intent) { r.indexIntentWith(it, r.idx.Insert) }

// indexIntentWith is indexIntent with insert (Insert, or a restore's
// index.Bulk Add) storing each volume.
func (r *Registry) indexIntentWith(it *Intent, insert func(*geo.Volume) index.Ref) {
	it.endNano = it.end()
	refs := make([]index.Ref, len(it.Volumes))
	for i, v := range it.Volumes {
		ref := insert(v)
		refs[i] = ref
		if n := int(ref) + 1 - len(r.owners); n > 0 {
			r.owners = append(r.owners, make([]volRef, n)...)
		}
		r.owners[ref] = volRef{intent: it, end: it.endNano, vol: int32(i), first: refs[0]}
	}
	r.refs[it.ID] = refs
	r.expiry.push(expiryItem{end: it.end(), id: it.ID})
}

// unindexIntent removes it's volumes from the index.
func (r *Registry) unindexIntent(id IntentID) {
	for _, ref := range r.refs[id] {
		r.idx.Remove(ref)
		r.owners[ref] = volRef{}
	}
	delete(r.refs, id)
}

// replace installs a new version of an intent that keeps its volumes.
func (r *Registry) replace(it *Intent) {
	r.intents[it.ID] = it
	for _, ref := range r.refs[it.ID] {
		r.owners[ref].intent = it
	}
}

// expire ends the live intents whose last volume ends at or before now.
func (r *Registry) expire(now time.Time) {
	ns := now.UnixNano()
	for r.expiry.Len() > 0 && r.expiry[0].end <= ns {
		e := r.expiry.pop()
		it := r.intents[e.id]
		if it == nil || it.State == StateEnded || it.end() != e.end {
			continue // stale: ended or updated since
		}
		c := *it
		c.State, c.Updated = StateEnded, now
		r.unindexIntent(c.ID)
		r.intents[c.ID] = &c
	}
}

type expiryItem struct {
	end int64
	id  IntentID
}

// expiryHeap is a min-heap by end, then id (so ties pop deterministically).
type expiryHeap []expiryItem

func (h expiryHeap) Len() int { return len(h) }

func (h expiryHeap) less(i, j int) bool {
	if h[i].end != h[j].end {
		return h[i].end < h[j].end
	}
	return h[i].id < h[j].id
}

func (h *expiryHeap) push(x expiryItem) {
	*h = append(*h, x)
	q := *h
	for i := len(q) - 1; i > 0; {
		p := (i - 1) / 2
		if !q.less(i, p) {
			break
		}
		q[i], q[p] = q[p], q[i]
		i = p
	}
}

func (h *expiryHeap) pop() expiryItem {
	q := *h
	top := q[0]
	last := len(q) - 1
	q[0] = q[last]
	q[last] = expiryItem{}
	q = q[:last]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < len(q) && q.less(l, m) {
			m = l
		}
		if l+1 < len(q) && q.less(l+1, m) {
			m = l + 1
		}
		if m == i {
			break
		}
		q[i], q[m] = q[m], q[i]
		i = m
	}
	*h = q
	return top
}
