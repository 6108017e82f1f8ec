package registry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/deconflict/deconflict/geo"
)

// snapshotVersion is the version of the snapshot encoding.
const snapshotVersion = 1

// snapshot is the encoded state: everything but what is derived from it
// (the index, the expiry queue).
type snapshot struct {
	Version  int       `json:"version"`
	Last     uint64    `json:"last"`
	LastTime time.Time `json:"last_time"`
	Parties  []*Party  `json:"parties"`
	Intents  []*Intent `json:"intents"`
	Alerts   []Alert   `json:"alerts"` // by recipient, then entry order
}

// Snapshot encodes the whole state. The same state always gives the same
// bytes.
func (r *Registry) Snapshot() ([]byte, error) {
	s := snapshot{Version: snapshotVersion, Last: r.last, LastTime: r.lastTime, Parties: r.Parties()}
	s.Intents = make([]*Intent, 0, len(r.intents))
	for _, it := range r.intents {
		s.Intents = append(s.Intents, it)
	}
	slices.SortFunc(s.Intents, func(a, b *Intent) int { return cmpString(a.ID, b.ID) })
	s.Alerts = []Alert{}
	for _, p := range s.Parties {
		s.Alerts = append(s.Alerts, r.alerts[p.ID]...)
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(&s); err != nil {
		return nil, fmt.Errorf("registry: encoding snapshot: %w", err)
	}
	return buf.Bytes(), nil
}

// restoring is the decoding form of snapshot: volumes as specs, built
// into volumes afterwards, in parallel.
type restoring struct {
	Version  int              `json:"version"`
	Last     uint64           `json:"last"`
	LastTime time.Time        `json:"last_time"`
	Parties  []*Party         `json:"parties"`
	Intents  []*restoreIntent `json:"intents"`
	Alerts   []Alert          `json:"alerts"`
}

type restoreIntent struct {
	Intent
	Volumes []geo.VolumeSpec `json:"volumes"`
}

// Restore replaces the state with the one encoded in b by Snapshot. On
// error the state is unchanged.
func (r *Registry) Restore(b []byte) error {
	var rs restoring
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rs); err != nil {
		return fmt.Errorf("registry: decoding snapshot: %w", err)
	}
	s := snapshot{Version: rs.Version, Last: rs.Last, LastTime: rs.LastTime, Parties: rs.Parties, Alerts: rs.Alerts}
	s.Intents = make([]*Intent, len(rs.Intents))
	if err := buildVolumes(rs.Intents, s.Intents); err != nil {
		return err
	}
	if s.Version != snapshotVersion {
		return fmt.Errorf("registry: snapshot version %d, want %d", s.Version, snapshotVersion)
	}
	n, err := New(r.cfg)
	if err != nil {
		return err
	}
	n.last, n.lastTime = s.Last, s.LastTime
	for _, p := range s.Parties {
		if p == nil || n.parties[p.ID] != nil {
			return fmt.Errorf("registry: snapshot has a missing or repeated party")
		}
		n.parties[p.ID] = p
	}
	for _, a := range s.Alerts {
		if n.parties[a.To] == nil {
			return fmt.Errorf("registry: snapshot has an alert to unknown party %q", a.To)
		}
		n.alerts[a.To] = append(n.alerts[a.To], a)
	}
	for _, it := range s.Intents {
		if it == nil || n.intents[it.ID] != nil || len(it.Volumes) == 0 || slices.Contains(it.Volumes, nil) {
			return fmt.Errorf("registry: snapshot has a missing, repeated or empty intent")
		}
		n.intents[it.ID] = it
		if it.State != StateEnded {
			n.indexIntent(it)
		}
	}
	*r = *n
	return nil
}

// buildVolumes makes the intents of a snapshot, validating their volumes
// on every core.
func buildVolumes(in []*restoreIntent, out []*Intent) error {
	workers := runtime.GOMAXPROCS(0)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(in); i += workers {
				ri := in[i]
				if ri == nil {
					errs[w] = fmt.Errorf("registry: snapshot has a missing intent")
					return
				}
				it := ri.Intent
				it.Volumes = make([]*geo.Volume, len(ri.Volumes))
				for k, spec := range ri.Volumes {
					v, err := geo.NewVolume(spec, geo.NoLimits)
					if err != nil {
						errs[w] = fmt.Errorf("registry: snapshot intent %s: %w", it.ID, err)
						return
					}
					it.Volumes[k] = v
				}
				out[i] = &it
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
