package registry_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/deconflict/deconflict/registry"
)

// FuzzRestore: Restore must refuse damaged snapshots without panicking and
// without changing the state; what it accepts must snapshot identically.
func FuzzRestore(f *testing.F) {
	reg := newRegistry(f, registry.Config{})
	for _, s := range baseParties() {
		mustApply(f, reg, s)
	}
	mustApply(f, reg, at(time.Minute, "alpha", file("a1", 10, nil, std(0))))
	good, err := reg.Snapshot()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte("deconflict-snapshot-2\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := newRegistry(t, registry.Config{})
		before, _ := r.Snapshot()
		if err := r.Restore(b); err != nil {
			after, _ := r.Snapshot()
			if !bytes.Equal(before, after) {
				t.Fatal("a refused snapshot changed the state")
			}
			return
		}
		again, err := r.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		r2 := newRegistry(t, registry.Config{})
		if err := r2.Restore(again); err != nil {
			t.Fatalf("restoring a re-encoded snapshot: %v", err)
		}
		third, _ := r2.Snapshot()
		if !bytes.Equal(again, third) {
			t.Fatal("snapshot -> restore -> snapshot is not stable")
		}
	})
}
