package main

import (
	"strings"
	"testing"

	"github.com/deconflict/deconflict/registry"
	"github.com/deconflict/deconflict/server"
)

// TestDescribePreempted: an owner's own intent that was preempted says by
// which intents; one that was not says nothing of it.
func TestDescribePreempted(t *testing.T) {
	p := 10
	v := server.IntentView{ID: "i1", Owner: "france", OVN: "o1", Level: "full", State: registry.StateAccepted, Priority: &p}
	if got := describe(v); strings.Contains(got, "preempted") {
		t.Errorf("not preempted, described as %q", got)
	}
	v.PreemptedBy = []registry.IntentID{"i2", "i3"}
	if got := describe(v); !strings.Contains(got, "preempted by i2, i3") {
		t.Errorf("preempted by i2 and i3, described as %q", got)
	}
}
