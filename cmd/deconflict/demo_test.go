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
		"usa re-files with the key",
		"preempted: ",
		"(contingent); owners alerted: ",
		"refused (409 urn:deconflict:problem:stale-ovn)",
		"france  entry",
		": preempted: your intent",
		": contingent: your intent",
		"france  2 receipts kept",
		"cosigned by russia; also cosigned by france, usa",
		"the service now serves a witnessed checkpoint",
		"demo complete.",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}
