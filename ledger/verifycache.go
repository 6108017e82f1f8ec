package ledger

import (
	"strconv"
	"sync"

	"golang.org/x/mod/sumdb/note"
)

// CachingVerifier returns a verifier that remembers the last n distinct
// messages and signatures v accepted (the oldest forgotten first) and
// accepts them again without checking: a
// client verifies many receipts against one checkpoint (every write of a
// batch, every answer of one commit), and an Ed25519 verification is its
// largest cost. A signature that verified once verifies again, so the
// answers are v's. It is safe for concurrent use.
func CachingVerifier(v note.Verifier, n int) note.Verifier {
	return &cachingVerifier{Verifier: v, n: max(1, n), seen: make(map[string]bool)}
}

type cachingVerifier struct {
	note.Verifier
	n int

	mu    sync.Mutex
	seen  map[string]bool // msg + sig of those accepted
	order []string        // oldest first
}

func (c *cachingVerifier) Verify(msg, sig []byte) bool {
	k := strconv.Itoa(len(msg)) + ":" + string(msg) + string(sig)
	c.mu.Lock()
	ok := c.seen[k]
	c.mu.Unlock()
	if ok {
		return true
	}
	if !c.Verifier.Verify(msg, sig) {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.seen[k] {
		if len(c.order) == c.n {
			delete(c.seen, c.order[0])
			c.order = c.order[1:]
		}
		c.seen[k] = true
		c.order = append(c.order, k)
	}
	return true
}
