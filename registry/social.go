package registry

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Level is what a party lets another see of its intents (a grant).
type Level string

// Grant levels, from least to most.
const (
	// LevelDeconfliction (the default for every pair): only where the
	// other party's own intents conflict with mine, and then only my party
	// id, the intent id and OVN, and the overlap (coarse cells, altitude
	// band, time window).
	LevelDeconfliction Level = "deconfliction"
	// LevelOperational: full extents, state and priority, in area queries too.
	LevelOperational Level = "operational"
	// LevelFull: also the private details.
	LevelFull Level = "full"
)

// rank orders levels; 0 for an unknown one.
func (l Level) rank() int {
	switch l {
	case LevelDeconfliction:
		return 1
	case LevelOperational:
		return 2
	case LevelFull:
		return 3
	}
	return 0
}

// AtLeast reports whether l grants at least m.
func (l Level) AtLeast(m Level) bool { return l.rank() >= m.rank() }

// Grant returns what from lets to see of its intents.
func (r *Registry) Grant(from, to PartyID) Level {
	if l, ok := r.grants[from][to]; ok {
		return l
	}
	return LevelDeconfliction
}

// GrantRecord is one grant that differs from the default.
type GrantRecord struct {
	From  PartyID `json:"from"`
	To    PartyID `json:"to"`
	Level Level   `json:"level"`
}

// Grants returns the grants that differ from the default, sorted.
func (r *Registry) Grants() []GrantRecord {
	var out []GrantRecord
	for from, m := range r.grants {
		for to, l := range m {
			out = append(out, GrantRecord{From: from, To: to, Level: l})
		}
	}
	slices.SortFunc(out, func(a, b GrantRecord) int {
		return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
	})
	return out
}

func (r *Registry) setGrant(e *Entry, commit bool) error {
	g := e.SetGrant
	if _, err := r.actor(e.Party); err != nil {
		return err
	}
	if g.Level.rank() == 0 {
		return invalid("grant level %q must be deconfliction, operational or full", g.Level)
	}
	if r.parties[g.To] == nil {
		return fmt.Errorf("party %s: %w", g.To, ErrNotFound)
	}
	if g.To == e.Party {
		return invalid("a party always sees its own intents")
	}
	if commit {
		if r.grants[e.Party] == nil {
			r.grants[e.Party] = make(map[PartyID]Level)
		}
		if g.Level == LevelDeconfliction {
			delete(r.grants[e.Party], g.To)
		} else {
			r.grants[e.Party][g.To] = g.Level
		}
	}
	return nil
}

// AckRecord is an acknowledgement: by which entry, when.
type AckRecord struct {
	Alert string    `json:"alert"`
	Entry uint64    `json:"entry"`
	Time  time.Time `json:"time"`
}

// Acked returns the acknowledgement of an alert, if any.
func (r *Registry) Acked(alert string) (AckRecord, bool) {
	a, ok := r.acks[alert]
	return a, ok
}

// alert finds an alert kept for party.
func (r *Registry) alert(party PartyID, id string) *Alert {
	entry, _, ok := strings.Cut(id, "-")
	n, err := strconv.ParseUint(entry, 10, 64)
	if !ok || err != nil {
		return nil
	}
	as := r.alerts[party]
	i, found := slices.BinarySearchFunc(as, n, func(a Alert, n uint64) int { return cmp.Compare(a.Entry, n) })
	if !found {
		return nil
	}
	for ; i < len(as) && as[i].Entry == n; i++ {
		if as[i].ID == id {
			return &as[i]
		}
	}
	return nil
}

func (r *Registry) ack(e *Entry, commit bool) error {
	if _, err := r.actor(e.Party); err != nil {
		return err
	}
	id := e.Ack.Alert
	if r.alert(e.Party, id) == nil {
		return fmt.Errorf("alert %q to %s: %w", id, e.Party, ErrNotFound)
	}
	if _, ok := r.acks[id]; ok {
		return fmt.Errorf("alert %s is already acknowledged: %w", id, ErrExists)
	}
	if commit {
		r.acks[id] = AckRecord{Alert: id, Entry: e.Index, Time: e.Time}
	}
	return nil
}

// Disclosure records that a party was shown one of another party's
// intents: through a refused filing (reason missing-key or conflict), in
// the answer to an accepted filing (filing), or in an alert (alert).
type Disclosure struct {
	Entry  uint64    `json:"entry"`
	Time   time.Time `json:"time"`
	To     PartyID   `json:"to"` // who was shown
	Owner  PartyID   `json:"owner"`
	Intent IntentID  `json:"intent"`
	OVN    OVN       `json:"ovn"`
	Reason string    `json:"reason"`
}

// Disclosures returns what was shown of owner's intents to other parties
// by entries after index after, oldest first (at most the last MaxAlerts).
func (r *Registry) Disclosures(owner PartyID, after uint64) []Disclosure {
	var out []Disclosure
	for _, d := range r.disclosures[owner] {
		if d.Entry > after {
			out = append(out, d)
		}
	}
	return out
}

func (r *Registry) keepDisclosures(ds []Disclosure) {
	for _, d := range ds {
		r.disclosures[d.Owner] = keepLast(r.disclosures[d.Owner], d)
	}
}

// disclosuresOf lists what an accepted filing or update disclosed: the
// conflicting intents to the filer, the filer's intent to each alerted
// owner.
func disclosuresOf(e *Entry, res Result) []Disclosure {
	if res.Intent == nil {
		return nil
	}
	var out []Disclosure
	for _, c := range res.Conflicts {
		if c.Intent.Owner == res.Intent.Owner {
			continue
		}
		out = append(out, Disclosure{Entry: e.Index, Time: e.Time, To: res.Intent.Owner, Owner: c.Intent.Owner,
			Intent: c.Intent.ID, OVN: c.Intent.OVN, Reason: "filing"})
	}
	for _, a := range res.Alerts {
		if a.By == "" || a.To == res.Intent.Owner {
			continue
		}
		out = append(out, Disclosure{Entry: e.Index, Time: e.Time, To: a.To, Owner: res.Intent.Owner,
			Intent: res.Intent.ID, OVN: res.Intent.OVN, Reason: "alert"})
	}
	return out
}

func (r *Registry) disclose(e *Entry, commit bool) (Result, error) {
	d := e.Disclose
	if _, err := r.actor(e.Party); err != nil {
		return Result{}, err
	}
	if d.Reason != "missing-key" && d.Reason != "conflict" {
		return Result{}, invalid("disclosure reason %q must be missing-key or conflict", d.Reason)
	}
	if len(d.Intents) == 0 || len(d.Intents) > MaxKeyLength {
		return Result{}, invalid("a disclosure lists 1 to %d intents", MaxKeyLength)
	}
	var res Result
	var ds []Disclosure
	for i, di := range d.Intents {
		it := r.intents[di.Intent]
		if it == nil || it.Owner != di.Owner || it.Owner == e.Party {
			return Result{}, invalid("disclosed intent %s of %s is not another party's intent", di.Intent, di.Owner)
		}
		if di.Level.rank() == 0 {
			return Result{}, invalid("disclosed intent %s: level %q", di.Intent, di.Level)
		}
		res.Alerts = append(res.Alerts, Alert{
			ID: strconv.FormatUint(e.Index, 10) + "-" + strconv.Itoa(i+1),
			To: it.Owner, Kind: AlertDisclosed, Intent: it.ID, ByParty: e.Party, Entry: e.Index, Time: e.Time,
		})
		ds = append(ds, Disclosure{Entry: e.Index, Time: e.Time, To: e.Party, Owner: it.Owner, Intent: it.ID, OVN: di.OVN, Reason: d.Reason})
	}
	if commit {
		r.keepDisclosures(ds)
	}
	return res, nil
}

// ConflictID names the conflict between two intents: their ids, sorted,
// joined by "~".
type ConflictID string

// ConflictIDOf returns the id of the conflict between intents a and b.
func ConflictIDOf(a, b IntentID) ConflictID {
	if b < a {
		a, b = b, a
	}
	return ConflictID(string(a) + "~" + string(b))
}

// Intents returns the two intents a conflict id names.
func (c ConflictID) Intents() (IntentID, IntentID, bool) {
	a, b, ok := strings.Cut(string(c), "~")
	return IntentID(a), IntentID(b), ok && a != "" && b != "" && a < b
}

// Hotline is the record of a conflict between two parties: their
// messages, and which of them marked it coordinated.
type Hotline struct {
	ID          ConflictID    `json:"id"`
	Messages    []HotlineNote `json:"messages"`
	Coordinated []PartyID     `json:"coordinated,omitempty"` // sorted
}

// HotlineNote is one message.
type HotlineNote struct {
	Entry uint64    `json:"entry"`
	Time  time.Time `json:"time"`
	From  PartyID   `json:"from"`
	Text  string    `json:"text"`
}

// MaxHotlineMessages is how many messages a hotline keeps.
const MaxHotlineMessages = 1000

// Hotline returns a conflict's hotline, or nil.
func (r *Registry) Hotline(id ConflictID) *Hotline { return r.hotlines[id] }

// ConflictBetween returns the conflicting volume pairs of two live intents
// (none if they do not conflict now).
func (r *Registry) ConflictBetween(a, b IntentID) []Pair {
	ia, ib := r.intents[a], r.intents[b]
	if ia == nil || ib == nil || ia.State == StateEnded || ib.State == StateEnded {
		return nil
	}
	cs, err := r.ConflictsOf(a)
	if err != nil {
		return nil
	}
	for _, c := range cs {
		if c.Intent.ID == b {
			return c.Pairs
		}
	}
	return nil
}

// hotlineParty checks that e's party may use the hotline of conflict id
// (it owns one of its intents, the other is another party's, and the two
// conflict now or have a hotline) and returns the other party.
func (r *Registry) hotlineParty(e *Entry, id ConflictID) (PartyID, IntentID, error) {
	if _, err := r.actor(e.Party); err != nil {
		return "", "", err
	}
	a, b, ok := id.Intents()
	if !ok {
		return "", "", invalid("conflict id %q must be two intent ids, sorted, joined by ~", id)
	}
	ia, ib := r.intents[a], r.intents[b]
	if ia == nil || ib == nil {
		return "", "", fmt.Errorf("conflict %s: %w", id, ErrNotFound)
	}
	if ia.Owner != e.Party {
		ia, ib = ib, ia
	}
	if ia.Owner != e.Party || ib.Owner == e.Party {
		return "", "", fmt.Errorf("conflict %s is not between one of your intents and another party's: %w", id, ErrForbidden)
	}
	if r.hotlines[id] == nil && len(r.ConflictBetween(a, b)) == 0 {
		return "", "", fmt.Errorf("intents %s and %s do not conflict: %w", a, b, ErrNotFound)
	}
	return ib.Owner, ib.ID, nil
}

func (r *Registry) message(e *Entry, commit bool) (Result, error) {
	m := e.Message
	other, theirs, err := r.hotlineParty(e, m.Conflict)
	if err != nil {
		return Result{}, err
	}
	if m.Text == "" || len(m.Text) > MaxMessage || !utf8.ValidString(m.Text) {
		return Result{}, invalid("a message is 1 to %d bytes of UTF-8", MaxMessage)
	}
	res := Result{Alerts: []Alert{{ID: strconv.FormatUint(e.Index, 10) + "-1", To: other, Kind: AlertMessage,
		Intent: theirs, ByParty: e.Party, Entry: e.Index, Time: e.Time, Conflict: m.Conflict}}}
	if commit {
		h := r.hotlineFor(m.Conflict)
		h.Messages = append(h.Messages, HotlineNote{Entry: e.Index, Time: e.Time, From: e.Party, Text: m.Text})
		if n := len(h.Messages); n > MaxHotlineMessages {
			h.Messages = append([]HotlineNote(nil), h.Messages[n-MaxHotlineMessages:]...)
		}
	}
	return res, nil
}

func (r *Registry) coordinate(e *Entry, commit bool) (Result, error) {
	c := e.Coordinate
	other, theirs, err := r.hotlineParty(e, c.Conflict)
	if err != nil {
		return Result{}, err
	}
	if h := r.hotlines[c.Conflict]; h != nil && slices.Contains(h.Coordinated, e.Party) {
		return Result{}, fmt.Errorf("conflict %s is already marked coordinated by %s: %w", c.Conflict, e.Party, ErrExists)
	}
	res := Result{Alerts: []Alert{{ID: strconv.FormatUint(e.Index, 10) + "-1", To: other, Kind: AlertCoordinated,
		Intent: theirs, ByParty: e.Party, Entry: e.Index, Time: e.Time, Conflict: c.Conflict}}}
	if commit {
		h := r.hotlineFor(c.Conflict)
		h.Coordinated = append(h.Coordinated, e.Party)
		slices.Sort(h.Coordinated)
	}
	return res, nil
}

func (r *Registry) hotlineFor(id ConflictID) *Hotline {
	h := r.hotlines[id]
	if h == nil {
		h = &Hotline{ID: id, Messages: []HotlineNote{}}
		r.hotlines[id] = h
	}
	return h
}

// Webhook returns the URL a party's alerts are posted to ("" if none).
func (r *Registry) Webhook(p PartyID) string { return r.webhooks[p] }

// MaxURL is the longest webhook URL.
const MaxURL = 2048

func (r *Registry) setWebhook(e *Entry, commit bool) error {
	if _, err := r.actor(e.Party); err != nil {
		return err
	}
	u := e.SetWebhook.URL
	if u != "" {
		pu, err := url.Parse(u)
		if err != nil || len(u) > MaxURL || pu.Scheme != "https" || pu.Host == "" || pu.User != nil || pu.Fragment != "" {
			return invalid("webhook URL %q must be an absolute https URL of at most %d bytes, without user info or fragment", u, MaxURL)
		}
	}
	if commit {
		if u == "" {
			delete(r.webhooks, e.Party)
		} else {
			r.webhooks[e.Party] = u
		}
	}
	return nil
}

// checkDetails validates an intent's private details: a JSON object of at
// most MaxDetails bytes.
func checkDetails(d []byte) error {
	if d == nil {
		return nil
	}
	if len(d) > MaxDetails {
		return invalid("details are %d bytes, at most %d", len(d), MaxDetails)
	}
	t := bytes.TrimSpace(d)
	if len(t) == 0 || t[0] != '{' || !json.Valid(t) {
		return invalid("details must be a JSON object")
	}
	return nil
}
