package server

import (
	"net/http/httptest"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	l := newLimiter(2, 3) // 2/s, burst 3
	now := time.Unix(1000, 0)
	for i := 0; i < 3; i++ {
		if ok, _ := l.allow("a", now); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, retry := l.allow("a", now)
	if ok || retry <= 0 || retry > time.Second {
		t.Fatalf("4th request at once: allowed %v, retry %v; want refused with retry in (0, 1s]", ok, retry)
	}
	if ok, _ := l.allow("b", now); !ok {
		t.Fatal("another party is limited by a's requests")
	}
	if ok, _ := l.allow("a", now.Add(500*time.Millisecond)); !ok {
		t.Fatal("after 0.5 s at 2/s a token should be back")
	}
	if ok, _ := newLimiter(-1, 0).allow("a", now); !ok {
		t.Fatal("a disabled limiter refused")
	}
}

func TestRateLimitedProblem(t *testing.T) {
	w := httptest.NewRecorder()
	writeProblem(w, rateLimited(1500*time.Millisecond).(*Problem))
	if w.Code != 429 || w.Header().Get("Retry-After") != "2" || w.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("got %d, Retry-After %q, Content-Type %q", w.Code, w.Header().Get("Retry-After"), w.Header().Get("Content-Type"))
	}
}
