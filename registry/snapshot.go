package registry

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync/atomic"

	"github.com/deconflict/deconflict/geo"
)

// snapshotVersion is the version of the snapshot encoding (see snapcodec.go).
const snapshotVersion = 3

// restoreIntent is an intent as decoded, its volumes still specs: they are
// built into volumes afterwards, in parallel.
type restoreIntent struct {
	Intent
	Volumes []geo.VolumeSpec
}

// Snapshot encodes the whole state but what is derived from it (the index,
// the expiry queue). The same state always gives the same bytes.
func (r *Registry) Snapshot() ([]byte, error) {
	encode, err := r.SnapshotLater()
	if err != nil {
		return nil, err
	}
	parts, err := encode()
	if err != nil {
		return nil, err
	}
	return slices.Concat(parts...), nil
}

// SnapshotLater takes what Snapshot encodes and returns a function that
// encodes it, which may run while the registry goes on changing: the
// header is encoded now, the intents (copied on write, never changed in
// place) later. Encoding 100,000 intents takes a few hundred milliseconds
// that the caller need not hold the registry for. The encoding comes in
// parts whose concatenation is what Snapshot returns, so that a snapshot
// of tens of megabytes is written without being copied into one buffer
// first; the caller must not change them.
func (r *Registry) SnapshotLater() (func() ([][]byte, error), error) {
	h := snapHeader{Version: snapshotVersion, Last: r.last, LastTime: r.lastTime, Parties: r.Parties(), Alerts: []Alert{}}
	for _, p := range h.Parties {
		h.Alerts = append(h.Alerts, r.alerts[p.ID]...)
		h.Disclosures = append(h.Disclosures, r.disclosures[p.ID]...)
		if u := r.webhooks[p.ID]; u != "" {
			h.Webhooks = append(h.Webhooks, WebhookRecord{Party: p.ID, URL: u})
		}
	}
	h.Grants = r.Grants()
	for _, a := range r.acks {
		h.Acks = append(h.Acks, a)
	}
	slices.SortFunc(h.Acks, func(a, b AckRecord) int { return cmp.Compare(a.Alert, b.Alert) })
	for _, hl := range r.hotlines {
		h.Hotlines = append(h.Hotlines, hl)
	}
	slices.SortFunc(h.Hotlines, func(a, b *Hotline) int { return cmp.Compare(a.ID, b.ID) })
	hj, err := json.Marshal(h) // now: hotlines change in place
	if err != nil {
		return nil, fmt.Errorf("registry: encoding snapshot: %w", err)
	}
	intents := make([]*Intent, 0, len(r.intents))
	for _, it := range r.intents {
		intents = append(intents, it)
	}
	return func() ([][]byte, error) {
		slices.SortFunc(intents, func(a, b *Intent) int { return cmp.Compare(a.ID, b.ID) })
		return encodeSnapshot(hj, intents, r.snapCache), nil
	}, nil
}

// Restore replaces the state with the one encoded in b by Snapshot. On
// error the state is unchanged.
func (r *Registry) Restore(b []byte) error {
	h, d, count, err := decodeSnapshotHeader(b)
	if err != nil {
		return fmt.Errorf("registry: decoding snapshot: %w", err)
	}
	if h.Version != snapshotVersion {
		return fmt.Errorf("registry: snapshot version %d, want %d", h.Version, snapshotVersion)
	}
	// Decoding the intents, building their volumes and indexing them run
	// at once, chunk by chunk.
	if count == 0 {
		if err := d.end(); err != nil {
			return fmt.Errorf("registry: decoding snapshot: %w", err)
		}
	}
	intents := make([]*Intent, count)
	chunks := buildVolumes(decodeIntents(d, count), intents)
	n, err := New(r.cfg)
	if err != nil {
		return err
	}
	n.last, n.lastTime = h.Last, h.LastTime
	for _, p := range h.Parties {
		if p == nil || n.parties[p.ID] != nil {
			return fmt.Errorf("registry: snapshot has a missing or repeated party")
		}
		n.parties[p.ID] = p
	}
	for _, a := range h.Alerts {
		if n.parties[a.To] == nil {
			return fmt.Errorf("registry: snapshot has an alert to unknown party %q", a.To)
		}
		n.alerts[a.To] = append(n.alerts[a.To], a)
	}
	for _, g := range h.Grants {
		if n.parties[g.From] == nil || n.parties[g.To] == nil || g.Level.rank() == 0 {
			return fmt.Errorf("registry: snapshot has a bad grant")
		}
		if n.grants[g.From] == nil {
			n.grants[g.From] = make(map[PartyID]Level)
		}
		n.grants[g.From][g.To] = g.Level
	}
	for _, a := range h.Acks {
		n.acks[a.Alert] = a
	}
	for _, d := range h.Disclosures {
		if n.parties[d.Owner] == nil {
			return fmt.Errorf("registry: snapshot has a disclosure for unknown party %q", d.Owner)
		}
		n.disclosures[d.Owner] = append(n.disclosures[d.Owner], d)
	}
	for _, hl := range h.Hotlines {
		if hl == nil || n.hotlines[hl.ID] != nil {
			return fmt.Errorf("registry: snapshot has a missing or repeated hotline")
		}
		n.hotlines[hl.ID] = hl
	}
	for _, w := range h.Webhooks {
		n.webhooks[w.Party] = w.URL
	}
	// Take the intents in order as their volumes are built, noting the
	// live ones' volumes for the index, which is then filled in one go.
	bulk := n.idx.Bulk(5 * count) // about 4.5 volumes per intent on the shared workload
	for c := range chunks {
		if err := <-chunks[c]; err != nil {
			return err
		}
		for _, it := range intents[c*restoreChunk : min(len(intents), (c+1)*restoreChunk)] {
			if n.intents[it.ID] != nil || len(it.Volumes) == 0 {
				return fmt.Errorf("registry: snapshot has a repeated or empty intent")
			}
			n.intents[it.ID] = it
			if it.State != StateEnded {
				n.indexIntentWith(it, bulk.Add)
			}
		}
	}
	bulk.Finish()
	*r = *n
	return nil
}

// restoreChunk is how many intents a worker of buildVolumes builds at a time.
const restoreChunk = 1024

// decoded is the intents of a snapshot as decodeIntents decodes them: each
// chunk of restoreChunk intents is in all once its channel yields nil.
type decoded struct {
	all    []*restoreIntent
	chunks []chan error
}

// decodeIntents decodes the count intents that follow the header in d, in
// the background.
func decodeIntents(d *decoder, count int) *decoded {
	dec := &decoded{all: make([]*restoreIntent, count), chunks: make([]chan error, (count+restoreChunk-1)/restoreChunk)}
	for c := range dec.chunks {
		dec.chunks[c] = make(chan error, 1)
	}
	go func() {
		var err error
		for c, done := range dec.chunks {
			for i := c * restoreChunk; err == nil && i < min(count, (c+1)*restoreChunk); i++ {
				dec.all[i], err = d.intent()
			}
			if err == nil && c == len(dec.chunks)-1 {
				err = d.end()
			}
			if err != nil {
				err = fmt.Errorf("registry: decoding snapshot: %w", err)
			}
			done <- err // and every later chunk fails too
		}
	}()
	return dec
}

// buildVolumes makes the intents of a snapshot, validating their volumes
// on every core, in chunks of restoreChunk intents as they are decoded. It
// returns at once; the channel of each chunk yields nil once out holds its
// intents, or an error. Workers stop at the first error.
func buildVolumes(dec *decoded, out []*Intent) []chan error {
	in := dec.all
	chunks := make([]chan error, (len(in)+restoreChunk-1)/restoreChunk)
	for c := range chunks {
		chunks[c] = make(chan error, 1)
	}
	var next atomic.Int64
	var failed atomic.Bool
	build := func(c int) error {
		for i := c * restoreChunk; i < min(len(in), (c+1)*restoreChunk); i++ {
			ri := in[i]
			if ri == nil {
				return fmt.Errorf("registry: snapshot has a missing intent")
			}
			it := ri.Intent
			it.Volumes = make([]*geo.Volume, len(ri.Volumes))
			for k, spec := range ri.Volumes {
				v, err := geo.NewStoredVolume(spec)
				if err != nil {
					return fmt.Errorf("registry: snapshot intent %s: %w", it.ID, err)
				}
				it.Volumes[k] = v
			}
			out[i] = &it
		}
		return nil
	}
	for range runtime.GOMAXPROCS(0) {
		go func() {
			for {
				c := int(next.Add(1) - 1)
				if c >= len(chunks) {
					return
				}
				if failed.Load() {
					chunks[c] <- errors.New("registry: snapshot not built: an earlier intent failed")
					continue
				}
				err := <-dec.chunks[c]
				if err == nil {
					err = build(c)
				}
				if err != nil {
					failed.Store(true)
				}
				chunks[c] <- err
			}
		}()
	}
	return chunks
}
