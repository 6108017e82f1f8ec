package registry

import (
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/deconflict/deconflict/geo"
	"github.com/deconflict/deconflict/index"
)

// Apply decides e and, if it is accepted, changes the state: the change
// itself, then the ending of the intents whose last volume ended by e.Time.
// A refused or invalid entry changes nothing at all, so that replaying the
// log (which holds accepted entries only) rebuilds the same state.
// Entries must come in index order, each at or after the time of the one
// before.
func (r *Registry) Apply(e Entry) (Result, error) {
	if e.Index != r.last+1 {
		return Result{}, invalid("entry index %d does not follow %d", e.Index, r.last)
	}
	if e.Time.Before(r.lastTime) {
		return Result{}, invalid("entry time %s is before the last entry's %s", e.Time.Format(time.RFC3339Nano), r.lastTime.Format(time.RFC3339Nano))
	}
	// Deciding already treats intents that ended by e.Time as ended, so
	// ending them after the change is the same as before it.
	res, err := r.decide(&e, true)
	if err != nil {
		return Result{}, err
	}
	r.expire(e.Time)
	r.keepAlerts(res.Alerts)
	if r.cfg.Policy != PolicyDetect { // detect (benchmarks, audits) shows nobody anything
		r.keepDisclosures(disclosuresOf(&e, res))
	}
	r.last, r.lastTime = e.Index, e.Time
	return res, nil
}

// Check decides e as Apply would if it were applied next, without changing
// anything. e.Index is not checked.
func (r *Registry) Check(e Entry) (Result, error) {
	if e.Time.Before(r.lastTime) {
		return Result{}, invalid("entry time %s is before the last entry's %s", e.Time.Format(time.RFC3339Nano), r.lastTime.Format(time.RFC3339Nano))
	}
	return r.decide(&e, false)
}

func (r *Registry) decide(e *Entry, commit bool) (Result, error) {
	if err := e.checkShape(); err != nil {
		return Result{}, err
	}
	switch e.Kind {
	case KindFile:
		return r.file(e, commit)
	case KindUpdate:
		return r.update(e, commit)
	case KindSetState:
		return r.setState(e, commit)
	case KindEnd:
		return r.end(e, commit)
	case KindAddParty:
		return Result{}, r.addParty(e, commit)
	case KindRevokeParty:
		return Result{}, r.revokeParty(e, commit)
	case KindSetGrant:
		return Result{}, r.setGrant(e, commit)
	case KindAck:
		return Result{}, r.ack(e, commit)
	case KindDisclose:
		return r.disclose(e, commit)
	case KindMessage:
		return r.message(e, commit)
	case KindCoordinate:
		return r.coordinate(e, commit)
	case KindSetWebhook:
		return Result{}, r.setWebhook(e, commit)
	}
	return Result{}, invalid("unknown entry kind %q", e.Kind)
}

// checkShape checks that exactly the command Kind names is present.
func (e *Entry) checkShape() error {
	n := 0
	for _, present := range []bool{e.File != nil, e.Update != nil, e.SetState != nil, e.End != nil, e.AddParty != nil, e.RevokeParty != nil,
		e.SetGrant != nil, e.Ack != nil, e.Disclose != nil, e.Message != nil, e.Coordinate != nil, e.SetWebhook != nil} {
		if present {
			n++
		}
	}
	var ok bool
	switch e.Kind {
	case KindFile:
		ok = e.File != nil
	case KindUpdate:
		ok = e.Update != nil
	case KindSetState:
		ok = e.SetState != nil
	case KindEnd:
		ok = e.End != nil
	case KindAddParty:
		ok = e.AddParty != nil
	case KindRevokeParty:
		ok = e.RevokeParty != nil
	case KindSetGrant:
		ok = e.SetGrant != nil
	case KindAck:
		ok = e.Ack != nil
	case KindDisclose:
		ok = e.Disclose != nil
	case KindMessage:
		ok = e.Message != nil
	case KindCoordinate:
		ok = e.Coordinate != nil
	case KindSetWebhook:
		ok = e.SetWebhook != nil
	default:
		return invalid("unknown entry kind %q", e.Kind)
	}
	if !ok || n != 1 {
		return invalid("entry of kind %s must hold exactly that command", e.Kind)
	}
	if y := e.Time.UTC().Year(); y < geo.MinYear || y > geo.MaxYear {
		return invalid("entry time %s is outside the years %d to %d", e.Time.Format(time.RFC3339), geo.MinYear, geo.MaxYear)
	}
	return nil
}

// actor returns the party acting, which must exist and not be revoked.
func (r *Registry) actor(id PartyID) (*Party, error) {
	p := r.parties[id]
	if p == nil {
		return nil, fmt.Errorf("party %q: %w", id, ErrForbidden)
	}
	if p.Revoked {
		return nil, fmt.Errorf("party %q is revoked: %w", id, ErrForbidden)
	}
	return p, nil
}

func (r *Registry) file(e *Entry, commit bool) (Result, error) {
	f := e.File
	if _, err := r.actor(e.Party); err != nil {
		return Result{}, err
	}
	if err := checkID("intent", string(f.Intent)); err != nil {
		return Result{}, err
	}
	if r.intents[f.Intent] != nil {
		return Result{}, fmt.Errorf("intent %s: %w", f.Intent, ErrExists)
	}
	state := f.State
	if state == "" {
		state = StateAccepted
	}
	it := &Intent{
		ID: f.Intent, Owner: e.Party, Priority: f.Priority, State: state, Volumes: f.Volumes,
		OVN: f.NewOVN, Created: e.Time, Updated: e.Time, Details: slices.Clone(f.Details),
	}
	if err := checkDetails(f.Details); err != nil {
		return Result{}, err
	}
	if err := r.checkIntent(it, e.Time); err != nil {
		return Result{}, err
	}
	if err := checkKey(f.Key); err != nil {
		return Result{}, err
	}
	res, err := r.rules(e, it, f.Key, commit)
	if err != nil || !commit {
		return res, err
	}
	r.intents[it.ID] = it
	r.indexIntent(it)
	return res, nil
}

func (r *Registry) update(e *Entry, commit bool) (Result, error) {
	u := e.Update
	old, err := r.owned(e, u.Intent, u.OVN)
	if err != nil {
		return Result{}, err
	}
	state := u.State
	if state == "" {
		state = old.State
	}
	if state != old.State && !slices.Contains(transitions[old.State], state) {
		return Result{}, invalid("intent %s cannot go from %s to %q (allowed: %v)", old.ID, old.State, state, transitions[old.State])
	}
	it := &Intent{
		ID: old.ID, Owner: old.Owner, Priority: u.Priority, State: state, Volumes: u.Volumes,
		OVN: u.NewOVN, Created: old.Created, Updated: e.Time, Details: old.Details,
	}
	if u.Details != nil {
		if err := checkDetails(u.Details); err != nil {
			return Result{}, err
		}
		it.Details = slices.Clone(u.Details)
	}
	if err := r.checkIntent(it, e.Time); err != nil {
		return Result{}, err
	}
	if it.OVN == old.OVN {
		return Result{}, invalid("new OVN must differ from the current one")
	}
	if err := checkKey(u.Key); err != nil {
		return Result{}, err
	}
	res, err := r.rules(e, it, u.Key, commit)
	if err != nil || !commit {
		return res, err
	}
	r.unindexIntent(it.ID)
	r.intents[it.ID] = it
	r.indexIntent(it)
	return res, nil
}

// transitions lists the states each state may change to by SetState.
var transitions = map[State][]State{
	StateAccepted:   {StateActivated, StateContingent},
	StateActivated:  {StateContingent},
	StateContingent: {StateActivated},
}

func (r *Registry) setState(e *Entry, commit bool) (Result, error) {
	s := e.SetState
	old, err := r.owned(e, s.Intent, s.OVN)
	if err != nil {
		return Result{}, err
	}
	if !slices.Contains(transitions[old.State], s.State) {
		return Result{}, invalid("intent %s cannot go from %s to %q (allowed: %v; to end it, use end)", old.ID, old.State, s.State, transitions[old.State])
	}
	if err := checkOVN(s.NewOVN, old.OVN); err != nil {
		return Result{}, err
	}
	it := *old
	it.State, it.OVN, it.Updated = s.State, s.NewOVN, e.Time
	var res Result
	if s.State == StateContingent {
		// Tell those near an emergency; no rule can refuse it.
		res, _ = r.rules(e, &it, nil, false)
	}
	res.Intent = &it
	if commit {
		r.replace(&it)
	}
	return res, nil
}

func (r *Registry) end(e *Entry, commit bool) (Result, error) {
	s := e.End
	old, err := r.owned(e, s.Intent, s.OVN)
	if err != nil {
		return Result{}, err
	}
	if err := checkOVN(s.NewOVN, old.OVN); err != nil {
		return Result{}, err
	}
	it := *old
	it.State, it.OVN, it.Updated = StateEnded, s.NewOVN, e.Time
	if commit {
		r.unindexIntent(it.ID)
		r.intents[it.ID] = &it
	}
	return Result{Intent: &it}, nil
}

// owned returns the live intent id, checking that e's party owns it and
// that ovn is its current OVN.
func (r *Registry) owned(e *Entry, id IntentID, ovn OVN) (*Intent, error) {
	if _, err := r.actor(e.Party); err != nil {
		return nil, err
	}
	it := r.intents[id]
	if it == nil {
		return nil, fmt.Errorf("intent %s: %w", id, ErrNotFound)
	}
	if it.Owner != e.Party {
		return nil, fmt.Errorf("intent %s belongs to %s, not %s: %w", id, it.Owner, e.Party, ErrForbidden)
	}
	if it.State == StateEnded || it.end() <= e.Time.UnixNano() {
		return nil, invalid("intent %s has ended", id)
	}
	if ovn != it.OVN {
		return nil, fmt.Errorf("intent %s: OVN %q is not the current one: %w", id, ovn, ErrStaleOVN)
	}
	return it, nil
}

// checkIntent validates the fields of a new intent version.
func (r *Registry) checkIntent(it *Intent, now time.Time) error {
	if it.Priority < MinPriority || it.Priority > MaxPriority {
		return invalid("priority %d must be in [%d, %d]", it.Priority, MinPriority, MaxPriority)
	}
	switch it.State {
	case StateAccepted, StateActivated, StateContingent:
	default:
		return invalid("state %q must be accepted, activated or contingent", it.State)
	}
	if n := len(it.Volumes); n < 1 || n > MaxVolumes {
		return invalid("an intent has 1 to %d volumes, not %d", MaxVolumes, n)
	}
	for i, v := range it.Volumes {
		if v == nil {
			return invalid("volume %d is missing", i)
		}
	}
	if it.end() <= now.UnixNano() {
		return invalid("volumes: the last ends at %s, at or before the entry time %s: an intent must end in the future",
			time.Unix(0, it.end()).UTC().Format(time.RFC3339), now.Format(time.RFC3339))
	}
	if it.OVN == "" || len(it.OVN) > MaxIDLength {
		return invalid("new OVN must be 1 to %d bytes", MaxIDLength)
	}
	return nil
}

func checkOVN(n, old OVN) error {
	if n == "" || len(n) > MaxIDLength {
		return invalid("new OVN must be 1 to %d bytes", MaxIDLength)
	}
	if n == old {
		return invalid("new OVN must differ from the current one")
	}
	return nil
}

func checkKey(key []OVN) error {
	if len(key) > MaxKeyLength {
		return invalid("key has %d OVNs, more than %d", len(key), MaxKeyLength)
	}
	return nil
}

// checkID validates an id: 1-64 bytes of letters, digits, '-', '_', '.', ':'.
func checkID(what, id string) error {
	if id == "" || len(id) > MaxIDLength {
		return invalid("%s id must be 1 to %d characters", what, MaxIDLength)
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return invalid("%s id %q may hold only letters, digits and - _ . :", what, id)
		}
	}
	return nil
}

// rules applies the conflict rules to the new version it of an intent: it
// returns the conflicts and alerts, or a *RefusalError. With commit, the
// preemptions it causes are made.
func (r *Registry) rules(e *Entry, it *Intent, key []OVN, commit bool) (Result, error) {
	detect := r.cfg.Policy == PolicyDetect
	var self []index.Ref // the stored volumes of the intent's last version
	if e.File == nil {
		self = r.refs[it.ID]
	}
	cs := r.conflicts(it.Owner, self, it.Volumes, detect, e.Time.UnixNano())
	res := Result{Intent: it, Conflicts: cs}
	if detect || len(cs) == 0 {
		return res, nil
	}
	emergency := it.State == StateContingent
	if !emergency {
		if missing := missingKey(cs, key); len(missing) > 0 {
			return Result{}, &RefusalError{Reason: ErrMissingKey, Intents: missing}
		}
		if r.cfg.Policy == PolicyStrict {
			var blockers []Conflict
			for _, c := range cs {
				if c.Intent.Priority >= it.Priority {
					blockers = append(blockers, c)
				}
			}
			if len(blockers) > 0 {
				return Result{}, &RefusalError{Reason: ErrConflict, Intents: blockers}
			}
		}
	}
	for i, c := range cs {
		kind := AlertConflict
		preempt := r.cfg.Policy == PolicyStrict && c.Intent.Priority < it.Priority
		switch {
		case emergency:
			kind = AlertContingent
		case preempt:
			kind = AlertPreempted
		}
		if preempt && commit && c.Intent.State != StateEnded {
			p := *c.Intent
			if !slices.Contains(p.PreemptedBy, it.ID) {
				p.PreemptedBy = append(slices.Clip(p.PreemptedBy), it.ID)
			}
			r.replace(&p)
			cs[i].Intent = &p
		}
		res.Alerts = append(res.Alerts, Alert{
			ID: strconv.FormatUint(e.Index, 10) + "-" + strconv.Itoa(i+1),
			To: c.Intent.Owner, Kind: kind, Intent: c.Intent.ID, By: it.ID, ByParty: it.Owner,
			Entry: e.Index, Time: e.Time, Pairs: c.Pairs,
		})
	}
	return res, nil
}

// missingKey returns the conflicts whose current OVN key lacks.
func missingKey(cs []Conflict, key []OVN) []Conflict {
	var missing []Conflict
	var set map[OVN]bool
	if len(key) > 16 {
		set = make(map[OVN]bool, len(key))
		for _, k := range key {
			set[k] = true
		}
	}
	for _, c := range cs {
		var ok bool
		if set != nil {
			ok = set[c.Intent.OVN]
		} else {
			ok = slices.Contains(key, c.Intent.OVN)
		}
		if !ok {
			missing = append(missing, c)
		}
	}
	return missing
}

func (r *Registry) addParty(e *Entry, commit bool) error {
	p := e.AddParty.Party
	if len(r.parties) == 0 {
		if p.Role != RoleAuthority {
			return invalid("the first party must be an authority")
		}
	} else {
		a, err := r.actor(e.Party)
		if err != nil {
			return err
		}
		if a.Role != RoleAuthority {
			return fmt.Errorf("only an authority may add parties: %w", ErrForbidden)
		}
	}
	if err := CheckPartyID(p.ID); err != nil {
		return err
	}
	if r.parties[p.ID] != nil {
		return fmt.Errorf("party %s: %w", p.ID, ErrExists)
	}
	if p.Name == "" || len(p.Name) > MaxNameLength || !utf8.ValidString(p.Name) {
		return invalid("party name must be 1 to %d bytes of UTF-8", MaxNameLength)
	}
	if p.Role != RoleMember && p.Role != RoleAuthority {
		return invalid("party role %q must be member or authority", p.Role)
	}
	if len(p.PublicKey) != 32 {
		return invalid("party public key must be an Ed25519 key of 32 bytes, not %d", len(p.PublicKey))
	}
	if p.Revoked {
		return invalid("a new party cannot be revoked")
	}
	if commit {
		p.Added = e.Time
		p.PublicKey = slices.Clone(p.PublicKey)
		r.parties[p.ID] = &p
	}
	return nil
}

// CheckPartyID validates a party id: 1-64 of a-z, 0-9, '-' and '_',
// starting with a letter.
func CheckPartyID(id PartyID) error {
	if id == "" || len(id) > MaxIDLength {
		return invalid("party id must be 1 to %d characters", MaxIDLength)
	}
	for i, c := range id {
		if !(c >= 'a' && c <= 'z' || i > 0 && (c >= '0' && c <= '9' || c == '-' || c == '_')) {
			return invalid("party id %q must start with a-z and hold only a-z, 0-9, - and _", id)
		}
	}
	return nil
}

func (r *Registry) revokeParty(e *Entry, commit bool) error {
	a, err := r.actor(e.Party)
	if err != nil {
		return err
	}
	if a.Role != RoleAuthority {
		return fmt.Errorf("only an authority may revoke parties: %w", ErrForbidden)
	}
	id := e.RevokeParty.Party
	p := r.parties[id]
	if p == nil {
		return fmt.Errorf("party %s: %w", id, ErrNotFound)
	}
	if id == e.Party {
		return invalid("an authority cannot revoke itself")
	}
	if p.Revoked {
		return invalid("party %s is already revoked", id)
	}
	if commit {
		c := *p
		c.Revoked = true
		r.parties[id] = &c
	}
	return nil
}
