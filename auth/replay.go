package auth

import (
	"container/heap"
	"sync"
	"time"
)

// replayKey names a token: jti values are unique per issuing party, so one
// party cannot block another's tokens by reusing its jti values.
type replayKey struct {
	party string
	jti   string
}

// replayCache remembers the tokens accepted, each until the verifier would
// refuse it as expired anyway. It is safe for concurrent use.
type replayCache struct {
	max int

	// mu guards seen, queue and latest.
	mu     sync.Mutex
	seen   map[replayKey]struct{}
	queue  deadlineQueue // the keys of seen, earliest deadline first
	latest time.Time     // the latest now given to add
}

func newReplayCache(limit int) *replayCache {
	return &replayCache{max: limit, seen: make(map[replayKey]struct{})}
}

// add records k, a token that the verifier accepts until deadline
// (exclusive), at time now. It refuses k if it was recorded before, if its
// deadline is not after the latest time add was given (the entry might
// already be pruned), or if the cache is full of unexpired entries.
func (c *replayCache) add(k replayKey, deadline, now time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.After(c.latest) {
		c.latest = now
	}
	if !deadline.After(c.latest) {
		return refuse("token expired")
	}
	c.prune()
	if _, dup := c.seen[k]; dup {
		return refuse("token replayed")
	}
	if len(c.seen) >= c.max {
		return refuseCause("replay cache full", ErrReplayCacheFull)
	}
	c.seen[k] = struct{}{}
	heap.Push(&c.queue, replayEntry{deadline: deadline, key: k})
	return nil
}

// prune forgets the entries whose deadline is not after c.latest.
// c.mu must be held.
func (c *replayCache) prune() {
	for len(c.queue) > 0 && !c.queue[0].deadline.After(c.latest) {
		e := heap.Pop(&c.queue).(replayEntry)
		delete(c.seen, e.key)
	}
}

// len returns the number of entries, pruned or not.
func (c *replayCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

type replayEntry struct {
	deadline time.Time
	key      replayKey
}

// deadlineQueue is a min-heap of entries by deadline (container/heap).
type deadlineQueue []replayEntry

func (q deadlineQueue) Len() int           { return len(q) }
func (q deadlineQueue) Less(i, j int) bool { return q[i].deadline.Before(q[j].deadline) }
func (q deadlineQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *deadlineQueue) Push(x any)        { *q = append(*q, x.(replayEntry)) }
func (q *deadlineQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = replayEntry{} // release the key's strings
	*q = old[:len(old)-1]
	return e
}
