package server

import (
	"encoding/json"
	"math"
	"strconv"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/deconflict/deconflict/geo"
	"github.com/deconflict/deconflict/internal/canonjson"
	"github.com/deconflict/deconflict/ledger"
	"github.com/deconflict/deconflict/registry"
)

// The answers to filings, one per filed intent and the most frequent and
// largest the service writes, are encoded and decoded here without
// reflection, byte for byte and value for value what encoding/json makes
// of them: filing answers list every conflict with its overlap cells, and
// reflection took a tenth of the service's and a tenth of a client's time
// per filing. What these do not handle (private details, problems in a
// batch) is left to encoding/json, which has the last word.

// AppendFiledView appends f as json.Marshal writes it; ok is false if
// json.Marshal refuses it.
func AppendFiledView(b []byte, f *FiledView) (_ []byte, ok bool) {
	b = append(b, `{"intent":`...)
	if b, ok = appendIntentView(b, &f.Intent); !ok {
		return b, false
	}
	if len(f.Conflicts) > 0 {
		b = append(b, `,"conflicts":[`...)
		for i := range f.Conflicts {
			if i > 0 {
				b = append(b, ',')
			}
			if b, ok = appendIntentView(b, &f.Conflicts[i]); !ok {
				return b, false
			}
		}
		b = append(b, ']')
	}
	b = append(b, `,"entry":`...)
	b = strconv.AppendUint(b, f.Entry, 10)
	if f.Receipt != nil {
		b = append(b, `,"receipt":`...)
		b = appendReceipt(b, f.Receipt)
	}
	return append(b, '}'), true
}

// AppendBatchResponse appends r as json.Marshal writes it; ok is false if
// json.Marshal refuses it.
func AppendBatchResponse(b []byte, r *BatchResponse) (_ []byte, ok bool) {
	b = append(b, `{"results":`...)
	if r.Results == nil {
		return append(b, "null}"...), true
	}
	b = append(b, '[')
	for i := range r.Results {
		it := &r.Results[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"status":`...)
		b = strconv.AppendInt(b, int64(it.Status), 10)
		if it.Filed != nil {
			b = append(b, `,"filed":`...)
			if b, ok = AppendFiledView(b, it.Filed); !ok {
				return b, false
			}
		}
		if it.Problem != nil {
			p, err := json.Marshal(it.Problem)
			if err != nil {
				return b, false
			}
			b = append(b, `,"problem":`...)
			b = append(b, p...)
		}
		b = append(b, '}')
	}
	return append(b, "]}"...), true
}

func appendIntentView(b []byte, v *IntentView) (_ []byte, ok bool) {
	if len(v.Details) > 0 { // json.Marshal compacts and checks them
		j, err := json.Marshal(v)
		return append(b, j...), err == nil
	}
	b = append(b, `{"id":`...)
	b = canonjson.AppendString(b, string(v.ID))
	b = append(b, `,"owner":`...)
	b = canonjson.AppendString(b, string(v.Owner))
	b = append(b, `,"ovn":`...)
	b = canonjson.AppendString(b, string(v.OVN))
	b = append(b, `,"level":`...)
	b = canonjson.AppendString(b, v.Level)
	if v.State != "" {
		b = append(b, `,"state":`...)
		b = canonjson.AppendString(b, string(v.State))
	}
	if v.Priority != nil {
		b = append(b, `,"priority":`...)
		b = strconv.AppendInt(b, int64(*v.Priority), 10)
	}
	if len(v.Volumes) > 0 {
		b = append(b, `,"volumes":[`...)
		for i := range v.Volumes {
			if i > 0 {
				b = append(b, ',')
			}
			if b, ok = geo.AppendSpecJSON(b, &v.Volumes[i]); !ok {
				return b, false
			}
		}
		b = append(b, ']')
	}
	if len(v.Overlaps) > 0 {
		b = append(b, `,"overlaps":[`...)
		for i := range v.Overlaps {
			if i > 0 {
				b = append(b, ',')
			}
			if b, ok = appendOverlap(b, &v.Overlaps[i]); !ok {
				return b, false
			}
		}
		b = append(b, ']')
	}
	if v.Created != nil {
		if !canonjson.TimeOK(*v.Created) {
			return b, false
		}
		b = append(b, `,"created":`...)
		b = canonjson.AppendTime(b, *v.Created)
	}
	if v.Updated != nil {
		if !canonjson.TimeOK(*v.Updated) {
			return b, false
		}
		b = append(b, `,"updated":`...)
		b = canonjson.AppendTime(b, *v.Updated)
	}
	if len(v.PreemptedBy) > 0 {
		b = append(b, `,"preempted_by":[`...)
		for i, id := range v.PreemptedBy {
			if i > 0 {
				b = append(b, ',')
			}
			b = canonjson.AppendString(b, string(id))
		}
		b = append(b, ']')
	}
	return append(b, '}'), true
}

func appendOverlap(b []byte, o *Overlap) (_ []byte, ok bool) {
	if !canonjson.TimeOK(o.Start) || !canonjson.TimeOK(o.End) || !finite(float64(o.AltLoM)) || !finite(float64(o.AltHiM)) {
		return b, false
	}
	b = append(b, '{')
	if o.Cells != nil {
		b = append(b, `"cells":[`...)
		for i, c := range o.Cells {
			if i > 0 {
				b = append(b, ',')
			}
			b = canonjson.AppendString(b, c)
		}
		b = append(b, "],"...)
	}
	if o.CellLevel != 0 {
		b = append(b, `"cell_level":`...)
		b = strconv.AppendInt(b, int64(o.CellLevel), 10)
		b = append(b, ',')
	}
	b = append(b, `"alt_lo_m":`...)
	b = canonjson.AppendFloat(b, float64(o.AltLoM))
	b = append(b, `,"alt_hi_m":`...)
	b = canonjson.AppendFloat(b, float64(o.AltHiM))
	b = append(b, `,"start":`...)
	b = canonjson.AppendTime(b, o.Start)
	b = append(b, `,"end":`...)
	b = canonjson.AppendTime(b, o.End)
	return append(b, '}'), true
}

func appendReceipt(b []byte, r *ledger.Receipt) []byte {
	b = append(b, `{"index":`...)
	b = strconv.AppendUint(b, r.Index, 10)
	b = append(b, `,"leaf":`...)
	b = canonjson.AppendString(b, r.Leaf)
	b = append(b, `,"leaf_hash":`...)
	b = appendHash(b, r.LeafHash)
	b = append(b, `,"checkpoint":`...)
	b = canonjson.AppendString(b, r.Checkpoint)
	b = append(b, `,"proof":`...)
	if r.Proof == nil {
		return append(b, "null}"...)
	}
	b = append(b, '[')
	for i, h := range r.Proof {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendHash(b, h)
	}
	return append(b, "]}"...)
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// appendHash appends h as its MarshalJSON writes it (base64, quoted).
func appendHash(b []byte, h tlog.Hash) []byte {
	b = append(b, '"')
	b = append(b, h.String()...)
	return append(b, '"')
}

// ReadFiledView decodes what AppendFiledView writes (followed by the
// newline json.Encoder adds, or not) as json.Unmarshal decodes it into a
// zero FiledView; ok is false for anything else, to be left to
// json.Unmarshal.
func ReadFiledView(b []byte) (_ *FiledView, ok bool) {
	r := canonjson.NewReader(b)
	f := readFiledView(r)
	r.Next("\n")
	return f, r.Done()
}

// ReadBatchResponse is ReadFiledView for a BatchResponse. Problems are
// decoded by json.Unmarshal.
func ReadBatchResponse(b []byte) (_ *BatchResponse, ok bool) {
	r := canonjson.NewReader(b)
	out := &BatchResponse{}
	r.Lit(`{"results":`)
	if !r.Next("null") {
		r.Lit("[")
		if !r.Next("]") {
			out.Results = []BatchItem{}
			r.Elems(func() {
				var it BatchItem
				r.Lit(`{"status":`)
				it.Status = r.Int()
				if r.Next(`,"filed":`) {
					it.Filed = readFiledView(r)
				}
				if r.Next(`,"problem":`) {
					p := &Problem{}
					if v := r.Value(); !r.OK() || string(v) == "null" || json.Unmarshal(v, p) != nil {
						r.Fail()
					}
					it.Problem = p
				}
				r.Lit("}")
				out.Results = append(out.Results, it)
			})
		} else {
			out.Results = []BatchItem{}
		}
	}
	r.Lit("}")
	r.Next("\n")
	return out, r.Done()
}

func readFiledView(r *canonjson.Reader) *FiledView {
	f := &FiledView{}
	r.Lit(`{"intent":`)
	f.Intent = readIntentView(r)
	if r.Next(`,"conflicts":[`) {
		r.Elems(func() {
			f.Conflicts = append(f.Conflicts, readIntentView(r))
		})
	}
	r.Lit(`,"entry":`)
	f.Entry = r.Uint()
	if r.Next(`,"receipt":`) {
		f.Receipt = readReceipt(r)
	}
	r.Lit("}")
	return f
}

func readIntentView(r *canonjson.Reader) IntentView {
	var v IntentView
	r.Lit(`{"id":`)
	v.ID = registry.IntentID(r.String())
	r.Lit(`,"owner":`)
	v.Owner = registry.PartyID(r.String())
	r.Lit(`,"ovn":`)
	v.OVN = registry.OVN(r.String())
	r.Lit(`,"level":`)
	v.Level = r.String()
	if r.Next(`,"state":`) {
		v.State = registry.State(r.String())
	}
	if r.Next(`,"priority":`) {
		p := r.Int()
		v.Priority = &p
	}
	if r.Next(`,"volumes":[`) {
		r.Elems(func() {
			v.Volumes = append(v.Volumes, geo.ReadVolumeSpec(r))
		})
	}
	if r.Next(`,"overlaps":[`) {
		r.Elems(func() {
			v.Overlaps = append(v.Overlaps, readOverlap(r))
		})
	}
	if r.Next(`,"created":`) {
		t := r.Time()
		v.Created = &t
	}
	if r.Next(`,"updated":`) {
		t := r.Time()
		v.Updated = &t
	}
	if r.Next(`,"preempted_by":[`) {
		r.Elems(func() {
			v.PreemptedBy = append(v.PreemptedBy, registry.IntentID(r.String()))
		})
	}
	r.Lit("}") // details, among others, end the fast path here
	return v
}

func readOverlap(r *canonjson.Reader) Overlap {
	var o Overlap
	r.Lit("{")
	if r.Next(`"cells":`) {
		if r.Next("[]") {
			o.Cells = []string{}
		} else {
			o.Cells = r.Strings()
		}
		r.Lit(",")
	}
	if r.Next(`"cell_level":`) {
		o.CellLevel = r.Int()
		r.Lit(",")
	}
	r.Lit(`"alt_lo_m":`)
	o.AltLoM = geo.Meters(r.Float())
	r.Lit(`,"alt_hi_m":`)
	o.AltHiM = geo.Meters(r.Float())
	r.Lit(`,"start":`)
	o.Start = r.Time()
	r.Lit(`,"end":`)
	o.End = r.Time()
	r.Lit("}")
	return o
}

func readReceipt(r *canonjson.Reader) *ledger.Receipt {
	rc := &ledger.Receipt{}
	r.Lit(`{"index":`)
	rc.Index = r.Uint()
	r.Lit(`,"leaf":`)
	rc.Leaf = r.String()
	r.Lit(`,"leaf_hash":`)
	rc.LeafHash = readHash(r)
	r.Lit(`,"checkpoint":`)
	rc.Checkpoint = r.String()
	r.Lit(`,"proof":`)
	switch {
	case r.Next("null"):
	case r.Next("[]"):
		rc.Proof = []tlog.Hash{}
	default:
		r.Lit("[")
		r.Elems(func() {
			rc.Proof = append(rc.Proof, readHash(r))
		})
	}
	r.Lit("}")
	return rc
}

// readHash reads a tlog.Hash by its UnmarshalJSON, as json.Unmarshal does.
func readHash(r *canonjson.Reader) tlog.Hash {
	var h tlog.Hash
	if q := r.Quoted(); !r.OK() || h.UnmarshalJSON(q) != nil {
		r.Fail()
	}
	return h
}

// Requests to file intents are written by the client and read by the
// server the same way: AppendFileRequest and AppendBatchRequest write
// json.Marshal's bytes, readFileRequest and readBatchRequest decode what
// decode (strict encoding/json) decodes, or decline.

// AppendFileRequest appends f as json.Marshal writes it; ok is false if
// json.Marshal refuses it.
func AppendFileRequest(b []byte, f *FileRequest) (_ []byte, ok bool) {
	if len(f.Details) > 0 { // json.Marshal compacts and checks them
		j, err := json.Marshal(f)
		return append(b, j...), err == nil
	}
	b = append(b, '{')
	if f.ID != "" {
		b = append(b, `"id":`...)
		b = canonjson.AppendString(b, f.ID)
		b = append(b, ',')
	}
	b = append(b, `"priority":`...)
	b = strconv.AppendInt(b, int64(f.Priority), 10)
	if f.State != "" {
		b = append(b, `,"state":`...)
		b = canonjson.AppendString(b, string(f.State))
	}
	b = append(b, `,"volumes":`...)
	if f.Volumes == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range f.Volumes {
			if i > 0 {
				b = append(b, ',')
			}
			if b, ok = geo.AppendSpecJSON(b, &f.Volumes[i]); !ok {
				return b, false
			}
		}
		b = append(b, ']')
	}
	if len(f.Key) > 0 {
		b = append(b, `,"key":[`...)
		for i, k := range f.Key {
			if i > 0 {
				b = append(b, ',')
			}
			b = canonjson.AppendString(b, string(k))
		}
		b = append(b, ']')
	}
	return append(b, '}'), true
}

// AppendBatchRequest appends r as json.Marshal writes it; ok is false if
// json.Marshal refuses it.
func AppendBatchRequest(b []byte, r *BatchRequest) (_ []byte, ok bool) {
	b = append(b, `{"intents":`...)
	if r.Intents == nil {
		return append(b, "null}"...), true
	}
	b = append(b, '[')
	for i := range r.Intents {
		if i > 0 {
			b = append(b, ',')
		}
		if b, ok = AppendFileRequest(b, &r.Intents[i]); !ok {
			return b, false
		}
	}
	return append(b, "]}"...), true
}

// readFileRequest decodes body as decode decodes it into a zero
// FileRequest, if it is in AppendFileRequest's layout without details.
func readFileRequest(body []byte) (*FileRequest, bool) {
	r := canonjson.NewReader(body)
	f := readFileRequestFrom(r)
	return f, r.Done()
}

// readBatchRequest is readFileRequest for a BatchRequest.
func readBatchRequest(body []byte) (*BatchRequest, bool) {
	r := canonjson.NewReader(body)
	out := &BatchRequest{}
	r.Lit(`{"intents":`)
	switch {
	case r.Next("null"):
	case r.Next("[]"):
		out.Intents = []FileRequest{}
	default:
		r.Lit("[")
		r.Elems(func() {
			out.Intents = append(out.Intents, *readFileRequestFrom(r))
		})
	}
	r.Lit("}")
	return out, r.Done()
}

func readFileRequestFrom(r *canonjson.Reader) *FileRequest {
	f := &FileRequest{}
	r.Lit("{")
	if r.Next(`"id":`) {
		f.ID = r.String()
		r.Lit(",")
	}
	r.Lit(`"priority":`)
	f.Priority = r.Int()
	if r.Next(`,"state":`) {
		f.State = registry.State(r.String())
	}
	r.Lit(`,"volumes":`)
	switch {
	case r.Next("null"):
	case r.Next("[]"):
		f.Volumes = []geo.VolumeSpec{}
	default:
		r.Lit("[")
		r.Elems(func() {
			f.Volumes = append(f.Volumes, geo.ReadVolumeSpec(r))
		})
	}
	if r.Next(`,"key":[`) {
		r.Elems(func() {
			f.Key = append(f.Key, registry.OVN(r.String()))
		})
	}
	r.Lit("}") // details, among others, end the fast path here
	return f
}
