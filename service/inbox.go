package service

import (
	"sync"

	"github.com/deconflict/deconflict/registry"
)

// inbox keeps the alerts sent to each party, in entry order. It is rebuilt
// by replay, since alerts are results of applying entries.
type inbox struct {
	mu     sync.Mutex
	alerts map[registry.PartyID][]registry.Alert
}

// maxInbox bounds the alerts kept per party; older ones are dropped.
const maxInbox = 10_000

func newInbox() *inbox { return &inbox{alerts: make(map[registry.PartyID][]registry.Alert)} }

func (b *inbox) add(as []registry.Alert) {
	if len(as) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, a := range as {
		l := append(b.alerts[a.To], a)
		if len(l) > maxInbox {
			l = append(l[:0:0], l[len(l)-maxInbox:]...)
		}
		b.alerts[a.To] = l
	}
}

func (b *inbox) list(p registry.PartyID, after uint64) []registry.Alert {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []registry.Alert
	for _, a := range b.alerts[p] {
		if a.Entry > after {
			out = append(out, a)
		}
	}
	return out
}
