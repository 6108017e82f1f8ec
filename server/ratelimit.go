package server

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/deconflict/deconflict/registry"
)

// limiter is a token bucket per party: Rate requests per second on
// average, Burst at once. It is safe for concurrent use.
type limiter struct {
	rate, burst float64

	mu      sync.Mutex
	buckets map[registry.PartyID]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(rate float64, burst int) *limiter {
	return &limiter{rate: rate, burst: float64(burst), buckets: make(map[registry.PartyID]*bucket)}
}

// allow takes one token for p, or says how long until one is available.
func (l *limiter) allow(p registry.PartyID, now time.Time) (bool, time.Duration) {
	if l.rate <= 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[p]
	if b == nil {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[p] = b
	}
	b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

func rateLimited(retry time.Duration) error {
	secs := int(math.Ceil(retry.Seconds()))
	return &Problem{Type: TypeRateLimited, Title: "rate limited", Status: http.StatusTooManyRequests,
		Detail: fmt.Sprintf("too many requests from this party; retry in %d s", secs), retryAfter: strconv.Itoa(secs)}
}
