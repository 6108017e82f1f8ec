// Package workload reads the shared benchmark workload (shared/bench in the
// team's repository): one intent per line as JSON,
//
//	{"id":"i000002","party":"p09","volumes":[{"polygon":[[lat,lng],...],
//	  "alt_lo_m":3762,"alt_hi_m":6058,"start":"...","end":"..."}]}
//
// and writes conflict files in the format of the PostGIS baseline: one line
// per intent in file order, its id then the sorted ids it conflicted with.
package workload

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/deconflict/deconflict/geo"
)

// Intent is one line of the workload, validated.
type Intent struct {
	ID      string
	Party   string
	Volumes []*geo.Volume
}

type line struct {
	ID      string           `json:"id"`
	Party   string           `json:"party"`
	Volumes []geo.VolumeSpec `json:"volumes"`
}

// MaxLine is the longest line accepted.
const MaxLine = 1 << 20

// Read decodes every intent of r, validating volumes with lim. progress, if
// not nil, is called every 10,000 intents with the count so far.
func Read(r io.Reader, lim geo.Limits, progress func(n int)) ([]Intent, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxLine)
	var out []Intent
	for n := 1; sc.Scan(); n++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		it, err := Decode(b, lim)
		if err != nil {
			return nil, fmt.Errorf("workload: line %d: %w", n, err)
		}
		out = append(out, it)
		if progress != nil && len(out)%10_000 == 0 {
			progress(len(out))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("workload: %w", err)
	}
	return out, nil
}

// Decode decodes and validates one line.
func Decode(b []byte, lim geo.Limits) (Intent, error) {
	var l line
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return Intent{}, err
	}
	if l.ID == "" || l.Party == "" || len(l.Volumes) == 0 {
		return Intent{}, fmt.Errorf("intent needs an id, a party and at least one volume")
	}
	it := Intent{ID: l.ID, Party: l.Party, Volumes: make([]*geo.Volume, len(l.Volumes))}
	for i, s := range l.Volumes {
		v, err := geo.NewVolume(s, lim)
		if err != nil {
			return Intent{}, fmt.Errorf("intent %s: %w", l.ID, geo.Prefix(fmt.Sprintf("volumes[%d]", i), err))
		}
		it.Volumes[i] = v
	}
	return it, nil
}

// WriteConflicts writes one conflicts line: id, then the sorted others.
func WriteConflicts(w io.Writer, id string, others []string) error {
	slices.Sort(others)
	var sb strings.Builder
	sb.WriteString(id)
	for _, o := range others {
		sb.WriteByte(' ')
		sb.WriteString(o)
	}
	sb.WriteByte('\n')
	_, err := io.WriteString(w, sb.String())
	return err
}
