package service

import (
	"strconv"
	"time"

	"github.com/deconflict/deconflict/geo"
	"github.com/deconflict/deconflict/internal/canonjson"
	"github.com/deconflict/deconflict/registry"
)

// appendRecord appends the JSON of a file or update record, byte for byte
// what json.Marshal makes of it, without reflection: the sequencer encodes
// every record, and json.Marshal spent most of its time re-checking what
// geo.Volume.MarshalJSON wrote. ok is false for other kinds.
func appendRecord(b []byte, r *Record) (_ []byte, ok bool) {
	e := &r.Entry
	if (e.File == nil) == (e.Update == nil) || e.SetState != nil || e.End != nil || e.AddParty != nil || e.RevokeParty != nil ||
		e.SetGrant != nil || e.Ack != nil || e.Disclose != nil || e.Message != nil || e.Coordinate != nil || e.SetWebhook != nil {
		return b, false
	}
	if y := e.Time.Year(); y < 0 || y > 9999 || e.Time.Location() != time.UTC {
		return b, false // json.Marshal refuses some: let it say so
	}
	b = append(b, `{"v":`...)
	b = strconv.AppendInt(b, int64(r.Version), 10)
	b = append(b, `,"entry":{"index":`...)
	b = strconv.AppendUint(b, e.Index, 10)
	b = append(b, `,"time":`...)
	b = canonjson.AppendTime(b, e.Time)
	b = append(b, `,"party":`...)
	b = canonjson.AppendString(b, string(e.Party))
	b = append(b, `,"kind":`...)
	b = canonjson.AppendString(b, string(e.Kind))
	if f := e.File; f != nil {
		b = append(b, `,"file":{"intent":`...)
		b = canonjson.AppendString(b, string(f.Intent))
		b = append(b, `,"new_ovn":`...)
		b = canonjson.AppendString(b, string(f.NewOVN))
		b = append(b, `,"priority":`...)
		b = strconv.AppendInt(b, int64(f.Priority), 10)
		b = append(b, `,"state":`...)
		b = canonjson.AppendString(b, string(f.State))
		b = appendCommand(b, f.Volumes, r.volumes, f.Key, f.Details)
	} else {
		u := e.Update
		b = append(b, `,"update":{"intent":`...)
		b = canonjson.AppendString(b, string(u.Intent))
		b = append(b, `,"ovn":`...)
		b = canonjson.AppendString(b, string(u.OVN))
		b = append(b, `,"new_ovn":`...)
		b = canonjson.AppendString(b, string(u.NewOVN))
		b = append(b, `,"priority":`...)
		b = strconv.AppendInt(b, int64(u.Priority), 10)
		if u.State != "" {
			b = append(b, `,"state":`...)
			b = canonjson.AppendString(b, string(u.State))
		}
		b = appendCommand(b, u.Volumes, r.volumes, u.Key, u.Details)
	}
	b = append(b, "}}"...)
	if q := r.Request; q != nil {
		b = append(b, `,"request":{"method":`...)
		b = canonjson.AppendString(b, q.Method)
		b = append(b, `,"path":`...)
		b = canonjson.AppendString(b, q.Path)
		b = append(b, `,"token":`...)
		b = canonjson.AppendString(b, q.Token)
		if len(q.Body) > 0 {
			b = append(b, `,"body":`...)
			b = canonjson.AppendBytes(b, q.Body)
		}
		b = append(b, '}')
	}
	if r.RequestAt != 0 {
		b = append(b, `,"request_at":`...)
		b = strconv.AppendUint(b, r.RequestAt, 10)
	}
	if r.Item != 0 {
		b = append(b, `,"item":`...)
		b = strconv.AppendInt(b, int64(r.Item), 10)
	}
	return append(b, '}'), true
}

// appendCommand appends the volumes (or their JSON, if not nil), key and
// details of a file or update (without the closing brace).
func appendCommand(b []byte, vols []*geo.Volume, volJSON []byte, key []registry.OVN, details []byte) []byte {
	b = append(b, `,"volumes":`...)
	if volJSON != nil {
		b = append(b, volJSON...)
	} else {
		b = appendVolumes(b, vols)
	}
	if len(key) > 0 {
		b = append(b, `,"key":[`...)
		for i, k := range key {
			if i > 0 {
				b = append(b, ',')
			}
			b = canonjson.AppendString(b, string(k))
		}
		b = append(b, ']')
	}
	if len(details) > 0 {
		b = append(b, `,"details":`...)
		b = canonjson.AppendBytes(b, details)
	}
	return b
}

// appendVolumes appends vols as json.Marshal writes them.
func appendVolumes(b []byte, vols []*geo.Volume) []byte {
	if vols == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, v := range vols {
		if i > 0 {
			b = append(b, ',')
		}
		if v == nil {
			b = append(b, "null"...)
		} else {
			b = v.AppendJSON(b)
		}
	}
	return append(b, ']')
}

// readRecord decodes a file or update record in the layout appendRecord
// writes, as encoding/json decodes it (DecodeRecord), without reflection:
// replay at start-up decodes every record after the snapshot. ok is false
// for anything else, which DecodeRecord leaves to encoding/json.
func readRecord(b []byte) (_ *Record, ok bool) {
	r := canonjson.NewReader(b)
	rec := &Record{}
	r.Lit(`{"v":`)
	if rec.Version = r.Int(); rec.Version != recordVersion {
		return nil, false
	}
	e := &rec.Entry
	r.Lit(`,"entry":{"index":`)
	e.Index = r.Uint()
	r.Lit(`,"time":`)
	e.Time = r.Time()
	r.Lit(`,"party":`)
	e.Party = registry.PartyID(r.String())
	r.Lit(`,"kind":`)
	e.Kind = registry.Kind(r.String())
	switch {
	case r.Next(`,"file":{"intent":`):
		f := &registry.File{}
		f.Intent = registry.IntentID(r.String())
		r.Lit(`,"new_ovn":`)
		f.NewOVN = registry.OVN(r.String())
		r.Lit(`,"priority":`)
		f.Priority = r.Int()
		r.Lit(`,"state":`)
		f.State = registry.State(r.String())
		f.Volumes, f.Key, f.Details = readCommand(r)
		e.File = f
	case r.Next(`,"update":{"intent":`):
		u := &registry.Update{}
		u.Intent = registry.IntentID(r.String())
		r.Lit(`,"ovn":`)
		u.OVN = registry.OVN(r.String())
		r.Lit(`,"new_ovn":`)
		u.NewOVN = registry.OVN(r.String())
		r.Lit(`,"priority":`)
		u.Priority = r.Int()
		if r.Next(`,"state":`) {
			u.State = registry.State(r.String())
		}
		u.Volumes, u.Key, u.Details = readCommand(r)
		e.Update = u
	default:
		return nil, false
	}
	r.Lit("}}")
	if r.Next(`,"request":{"method":`) {
		q := &Request{}
		q.Method = r.String()
		r.Lit(`,"path":`)
		q.Path = r.String()
		r.Lit(`,"token":`)
		q.Token = r.String()
		if r.Next(`,"body":`) {
			q.Body = r.Bytes()
		}
		r.Lit("}")
		rec.Request = q
	}
	if r.Next(`,"request_at":`) {
		rec.RequestAt = r.Uint()
	}
	if r.Next(`,"item":`) {
		rec.Item = r.Int()
	}
	r.Lit("}")
	if !r.Done() {
		return nil, false
	}
	return rec, true
}

// readCommand reads what appendCommand writes: the volumes (each built as
// geo.Volume.UnmarshalJSON builds it), key and details.
func readCommand(r *canonjson.Reader) (vols []*geo.Volume, key []registry.OVN, details []byte) {
	r.Lit(`,"volumes":`)
	switch {
	case r.Next("null"):
	case r.Next("[]"):
		vols = []*geo.Volume{}
	default:
		r.Lit("[")
		r.Elems(func() {
			v, err := geo.NewVolume(geo.ReadVolumeSpec(r), geo.NoLimits)
			if !r.OK() || err != nil {
				r.Fail() // encoding/json says what is wrong
				return
			}
			vols = append(vols, v)
		})
	}
	if r.Next(`,"key":[`) {
		r.Elems(func() {
			key = append(key, registry.OVN(r.String()))
		})
	}
	if r.Next(`,"details":`) {
		details = r.Bytes()
	}
	return vols, key, details
}
