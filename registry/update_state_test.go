package registry_test

import (
	"errors"
	"testing"
	"time"

	"github.com/deconflict/deconflict/registry"
)

// An update that names a state must follow the same transitions as
// SetState: it cannot take an activated intent back to accepted.
func TestUpdateStateFollowsTransitions(t *testing.T) {
	for _, tc := range []struct {
		name    string
		from    registry.State
		to      registry.State
		wantErr error
	}{
		{"activated to accepted is refused", registry.StateActivated, registry.StateAccepted, registry.ErrInvalid},
		{"contingent to accepted is refused", registry.StateContingent, registry.StateAccepted, registry.ErrInvalid},
		{"accepted to contingent is allowed", registry.StateAccepted, registry.StateContingent, nil},
		{"same state is allowed", registry.StateActivated, registry.StateActivated, nil},
		{"no state keeps it", registry.StateActivated, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := newRegistry(t, registry.Config{})
			for _, s := range baseParties() {
				mustApply(t, reg, s)
			}
			f := file("a1", 10, nil, std(0))
			f.State = tc.from
			mustApply(t, reg, at(time.Minute, "alpha", f))
			u := update("a1", reg.Intent("a1").OVN, "a1-v2", 10, nil, std(0))
			u.State = tc.to
			_, err := reg.Apply(at(2*time.Minute, "alpha", u).entry(reg.LastIndex() + 1))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("update %s -> %q: %v, want %v", tc.from, tc.to, err, tc.wantErr)
			}
		})
	}
}
