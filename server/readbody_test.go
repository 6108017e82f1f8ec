package server

import (
	"bytes"
	"errors"
	"io"
	"net/http/httptest"
	"runtime"
	"testing"
)

// trickle is a body that hands out its bytes a few at a time and records
// the largest buffer it was asked to fill.
type trickle struct {
	r       io.Reader
	largest int
}

func (t *trickle) Read(p []byte) (int, error) {
	t.largest = max(t.largest, len(p))
	return t.r.Read(p[:min(len(p), 7)])
}

// TestReadBody reads bodies of stated lengths whole, cut short, longer
// than stated, empty and of unknown length, and checks what it reserves
// before the bytes arrive.
func TestReadBody(t *testing.T) {
	const limit = 1 << 20
	data := bytes.Repeat([]byte("0123456789"), 30_000) // 300,000 bytes
	for _, tc := range []struct {
		name         string
		sent, stated int
		wantErr      error
		wantLen      int
		// wantLargest bounds the buffer the body is asked to fill at
		// once (0: not checked); wantAlloc what the call allocates.
		wantLargest, wantAlloc int
	}{
		{"small, whole", 100, 100, nil, 100, 100, 0},
		{"large, whole", len(data), len(data), nil, len(data), len(data) * 55 / 100, 0}, // doubling, rounded up to size classes
		{"stated large, sent little", 10, limit, io.ErrUnexpectedEOF, 0, presizeBody, 4 * presizeBody},
		{"cut short", 1000, 2000, io.ErrUnexpectedEOF, 0, 2000, 4 * presizeBody},
		{"longer than stated", 90_000, 70_000, nil, 70_000, 70_000 * 55 / 100, 0},
		{"empty", 0, 0, nil, 0, 0, 0},
		{"unknown length", 5000, -1, nil, 5000, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := &trickle{r: bytes.NewReader(data[:tc.sent])}
			r := httptest.NewRequest("POST", "/v1/intents", nil)
			r.Body, r.ContentLength = io.NopCloser(body), int64(tc.stated)
			w := httptest.NewRecorder()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			got, err := readBody(w, r, limit)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if err == nil && !bytes.Equal(got, data[:tc.wantLen]) {
				t.Fatalf("read %d bytes, want the first %d sent", len(got), tc.wantLen)
			}
			if tc.wantLargest > 0 && body.largest > tc.wantLargest {
				t.Errorf("asked the body to fill %d bytes at once, want at most %d", body.largest, tc.wantLargest)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; tc.wantAlloc > 0 && alloc > uint64(tc.wantAlloc) {
				t.Errorf("allocated %d bytes for %d sent, want at most %d", alloc, tc.sent, tc.wantAlloc)
			}
		})
	}
}
