package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// TestHelpExitsZero: every command's -h prints its usage and exits 0; an
// unknown flag exits 2 and says so.
func TestHelpExitsZero(t *testing.T) {
	for name := range commands() {
		for _, tc := range []struct {
			flag string
			want int
			says string
		}{{"-h", 0, "usage: deconflict " + name}, {"--help", 0, "usage: deconflict " + name}, {"-no-such-flag", 2, "no-such-flag"}} {
			var errb bytes.Buffer
			err := run(context.Background(), []string{name, tc.flag}, strings.NewReader(""), io.Discard, &errb)
			if got := exitCode(err); got != tc.want || !strings.Contains(errb.String(), tc.says) {
				t.Errorf("deconflict %s %s: exit %d (%v), want %d saying %q; stderr:\n%s", name, tc.flag, got, err, tc.want, tc.says, errb.String())
			}
		}
	}
}
