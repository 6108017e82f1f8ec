package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// TestDemo runs the demo end to end and checks its story.
func TestDemo(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"demo"}, nil, &out, io.Discard); err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"refused (409 urn:deconflict:problem:missing-key)",
		"of france (grant: operational), ovn",
		"of usa (grant: deconfliction), ovn",
		"usa re-files with the key",
		"preempted: ",
		"(contingent); owners alerted: ",
		"resolved (the two intents no longer conflict)",
		"refused (409 urn:deconflict:problem:stale-ovn)",
		"russia  usa's transit: nothing",
		"disclosed: russia was shown your intent",
		"preempted: your intent",
		"message from russia on conflict",
		"-> acknowledged in entry",
		"7 receipts kept",
		"cosigned by russia; also cosigned by france, usa",
		"the service now serves a witnessed checkpoint",
		"demo complete.",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}
