package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// TestMain lets a test run the command in a child process: with
// DECONFLICT_TEST_ARGS set, the test binary is the deconflict command.
func TestMain(m *testing.M) {
	if args := os.Getenv("DECONFLICT_TEST_ARGS"); args != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := run(ctx, strings.Fields(args), os.Stdin, os.Stdout, os.Stderr)
		stop()
		if err != nil {
			os.Stderr.WriteString("deconflict: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestParseInterspersed: flags and arguments in any order; "--" ends the
// flags.
func TestParseInterspersed(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		as, m    string
		wantArgs []string
	}{
		{[]string{"-as", "usa", "ID", "-m", "hi"}, "usa", "hi", []string{"ID"}},
		{[]string{"ID", "-as", "usa", "-m", "hi"}, "usa", "hi", []string{"ID"}},
		{[]string{"-as", "usa", "-m", "hi", "ID"}, "usa", "hi", []string{"ID"}},
		{[]string{"A", "-as", "usa", "B"}, "usa", "", []string{"A", "B"}},
		{[]string{"-as", "usa", "--", "-m", "x"}, "usa", "", []string{"-m", "x"}},
	} {
		fs := newFlags(&env{stderr: io.Discard}, "t", "")
		as, m := fs.String("as", "", ""), fs.String("m", "", "")
		if err := parse(fs, tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if *as != tc.as || *m != tc.m || !slices.Equal(fs.Args(), tc.wantArgs) {
			t.Errorf("%v: as %q m %q args %q, want %q %q %q", tc.args, *as, *m, fs.Args(), tc.as, tc.m, tc.wantArgs)
		}
	}
}
