package registry

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/deconflict/deconflict/geo"
)

// The snapshot encoding (version 3), all integers unsigned varints unless
// said otherwise:
//
//	magic    "deconflict-snapshot-3\n"
//	header   length, then JSON {"version","last","last_time","parties","alerts",
//	         "grants","acks","disclosures","hotlines","webhooks"}
//	count    number of intents, sorted by id, then each intent:
//	  id, owner, ovn          strings (length, bytes)
//	  priority                varint
//	  state                   string
//	  created, updated        varint unix nanoseconds (UTC)
//	  preempted_by            count, strings
//	  details                 bytes (length, bytes; 0 for none)
//	  volumes                 count, then each volume:
//	    kind                  0 circle, 1 polygon
//	    circle                lat, lng, radius_m: float64 bits (8 bytes, little-endian)
//	    polygon               vertex count, then lat, lng float64 bits per vertex
//	    alt_lo_m, alt_hi_m    float64 bits
//	    start, end            varint unix nanoseconds
//
// Floats are stored as their bits, so a round trip is exact.
const snapshotMagic = "deconflict-snapshot-3\n"

type snapHeader struct {
	Version  int       `json:"version"`
	Last     uint64    `json:"last"`
	LastTime time.Time `json:"last_time"`
	Parties  []*Party  `json:"parties"`
	Alerts   []Alert   `json:"alerts"`

	Grants      []GrantRecord   `json:"grants"`
	Acks        []AckRecord     `json:"acks"`
	Disclosures []Disclosure    `json:"disclosures"`
	Hotlines    []*Hotline      `json:"hotlines"`
	Webhooks    []WebhookRecord `json:"webhooks"`
}

// WebhookRecord is a party's webhook, in a snapshot.
type WebhookRecord struct {
	Party PartyID `json:"party"`
	URL   string  `json:"url"`
}

type encoder struct{ b []byte }

func (e *encoder) uvarint(x uint64) { e.b = binary.AppendUvarint(e.b, x) }
func (e *encoder) varint(x int64)   { e.b = binary.AppendVarint(e.b, x) }
func (e *encoder) float(x float64)  { e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(x)) }
func (e *encoder) str(s string)     { e.uvarint(uint64(len(s))); e.b = append(e.b, s...) }

// encodeSnapshot encodes a snapshot of the header hj (JSON) and intents,
// each intent's encoding taken from cache if it is there (see
// snapshotCache), as parts whose concatenation is the snapshot: the
// header, then one part per intent. The parts of cached intents are the
// cache's: the caller must not change them.
func encodeSnapshot(hj []byte, intents []*Intent, cache *snapshotCache) [][]byte {
	parts := make([][]byte, 1, 1+len(intents))
	e := &encoder{b: make([]byte, 0, 32+len(hj))}
	e.b = append(e.b, snapshotMagic...)
	e.uvarint(uint64(len(hj)))
	e.b = append(e.b, hj...)
	e.uvarint(uint64(len(intents)))
	parts[0] = e.b
	return append(parts, cache.take(intents)...)
}

// snapshotCache keeps the encoding of each intent of the last snapshot:
// intents are never changed in place (a change replaces the *Intent), so
// the next snapshot re-encodes only the intents that are new since, and
// copies the rest. Periodic snapshots of a large registry spent most of
// their time re-encoding the same intents.
type snapshotCache struct {
	mu  sync.Mutex
	enc map[*Intent][]byte
}

// take returns the encodings of intents, in order, and keeps them (and
// only them) for the next call.
func (c *snapshotCache) take(intents []*Intent) [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	next := make(map[*Intent][]byte, len(intents))
	out := make([][]byte, len(intents))
	// New encodings go into shared chunks: one allocation per 64 KiB.
	var chunk []byte
	for i, it := range intents {
		b, ok := c.enc[it]
		if !ok {
			if cap(chunk)-len(chunk) < 4096 {
				chunk = make([]byte, 0, 64<<10)
			}
			start := len(chunk)
			e := &encoder{b: chunk}
			e.intent(it)
			chunk = e.b
			b = chunk[start:len(chunk):len(chunk)]
		}
		next[it], out[i] = b, b
	}
	c.enc = next
	return out
}

// intent appends the encoding of one intent.
func (e *encoder) intent(it *Intent) {
	e.str(string(it.ID))
	e.str(string(it.Owner))
	e.str(string(it.OVN))
	e.varint(int64(it.Priority))
	e.str(string(it.State))
	e.varint(it.Created.UnixNano())
	e.varint(it.Updated.UnixNano())
	e.uvarint(uint64(len(it.PreemptedBy)))
	for _, p := range it.PreemptedBy {
		e.str(string(p))
	}
	e.str(string(it.Details))
	e.uvarint(uint64(len(it.Volumes)))
	for _, v := range it.Volumes {
		s := v.Spec()
		if s.Circle != nil {
			e.uvarint(0)
			e.float(float64(s.Circle.Lat))
			e.float(float64(s.Circle.Lng))
			e.float(float64(s.Circle.RadiusM))
		} else {
			e.uvarint(1)
			e.uvarint(uint64(len(s.Polygon)))
			for _, ll := range s.Polygon {
				e.float(float64(ll[0]))
				e.float(float64(ll[1]))
			}
		}
		e.float(float64(s.AltLoM))
		e.float(float64(s.AltHiM))
		e.varint(v.StartNano())
		e.varint(v.EndNano())
	}
}

var errShort = errors.New("snapshot is truncated or malformed")

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	x, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return x
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	x, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return x
}

func (d *decoder) float() float64 {
	if d.err != nil || len(d.b) < 8 {
		d.err = errShort
		return 0
	}
	x := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
	d.b = d.b[8:]
	return x
}

func (d *decoder) bytes(n uint64) []byte {
	if d.err != nil || uint64(len(d.b)) < n {
		d.err = errShort
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) str() string { return string(d.bytes(d.uvarint())) }

// count reads a count and checks it is plausible for the bytes left (each
// item takes at least min bytes), so a corrupt count cannot make us
// allocate without bound.
func (d *decoder) count(min int) int {
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)/min) {
		d.err = errShort
		return 0
	}
	return int(n)
}

func decodeSnapshot(b []byte) (snapHeader, []*restoreIntent, error) {
	h, d, n, err := decodeSnapshotHeader(b)
	if err != nil {
		return h, nil, err
	}
	out := make([]*restoreIntent, n)
	for i := range out {
		if out[i], err = d.intent(); err != nil {
			return h, nil, err
		}
	}
	return h, out, d.end()
}

// decodeSnapshotHeader decodes a snapshot's header and returns the decoder
// at the first of its n intents (d.intent decodes them in turn, then d.end
// checks that nothing follows).
func decodeSnapshotHeader(b []byte) (snapHeader, *decoder, int, error) {
	var h snapHeader
	if !bytes.HasPrefix(b, []byte(snapshotMagic)) {
		return h, nil, 0, errors.New("not a version 3 snapshot")
	}
	d := &decoder{b: b[len(snapshotMagic):]}
	hj := d.bytes(d.uvarint())
	if d.err != nil {
		return h, nil, 0, d.err
	}
	dec := json.NewDecoder(bytes.NewReader(hj))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return h, nil, 0, fmt.Errorf("snapshot header: %w", err)
	}
	n := d.count(8)
	return h, d, n, d.err
}

// intent decodes the next intent.
func (d *decoder) intent() (*restoreIntent, error) {
	ri := &restoreIntent{}
	it := &ri.Intent
	it.ID, it.Owner, it.OVN = IntentID(d.str()), PartyID(d.str()), OVN(d.str())
	it.Priority = int(d.varint())
	it.State = State(d.str())
	it.Created, it.Updated = time.Unix(0, d.varint()).UTC(), time.Unix(0, d.varint()).UTC()
	if np := d.count(1); np > 0 {
		it.PreemptedBy = make([]IntentID, np)
		for k := range it.PreemptedBy {
			it.PreemptedBy[k] = IntentID(d.str())
		}
	}
	if det := d.bytes(d.uvarint()); len(det) > 0 {
		it.Details = bytes.Clone(det)
	}
	nv := d.count(8)
	ri.Volumes = make([]geo.VolumeSpec, nv)
	for k := range ri.Volumes {
		s := &ri.Volumes[k]
		switch d.uvarint() {
		case 0:
			s.Circle = &geo.CircleSpec{Lat: geo.Degrees(d.float()), Lng: geo.Degrees(d.float()), RadiusM: geo.Meters(d.float())}
		case 1:
			s.Polygon = make([][2]geo.Degrees, d.count(16))
			for j := range s.Polygon {
				s.Polygon[j] = [2]geo.Degrees{geo.Degrees(d.float()), geo.Degrees(d.float())}
			}
		default:
			d.err = errShort
		}
		s.AltLoM, s.AltHiM = geo.Meters(d.float()), geo.Meters(d.float())
		s.Start, s.End = time.Unix(0, d.varint()).UTC(), time.Unix(0, d.varint()).UTC()
	}
	if d.err != nil {
		return nil, d.err
	}
	return ri, nil
}

// end reports an error if bytes follow the last intent.
func (d *decoder) end() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%d bytes after the last intent", len(d.b))
	}
	return d.err
}
