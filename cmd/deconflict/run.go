package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Messages to users follow these rules: say what went wrong and what to do,
// in one line, lowercase, without a trailing period; name files and flags
// as the user typed them; never print secrets.

// errUsage is returned after a usage message was printed for a mistake
// (exit status 2); errHelp after one was printed because -h or -help asked
// for it (exit status 0).
var (
	errUsage = errors.New("usage")
	errHelp  = errors.New("help")
)

type command struct {
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// env is what a subcommand may touch of the outside world.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

func commands() map[string]command {
	return map[string]command{
		"bench":     {"file the shared workload through the engine (or -http a server) and report speed", runBench},
		"demo":      {"run the seed scenario end to end on loopback, no set-up", runDemo},
		"init":      {"make a data directory: service key, authority key, optional party keys", runInit},
		"serve":     {"serve the HTTP API from a data directory", runServe},
		"party":     {"add, list or revoke parties (authority)", runParty},
		"intent":    {"file, get, update, activate, end or list intents", runIntent},
		"alerts":    {"list, watch (live, resumable) or acknowledge your alerts", runAlerts},
		"grant":     {"set what another party may see of your intents, or list grants", runGrant},
		"conflicts": {"list the conflicts of your intents, with hotline status", runConflicts},
		"hotline":   {"read or post on a conflict's hotline, or mark it coordinated", runHotline},
		"ui":        {"serve the map UI for a party on loopback (signs its requests; the key stays here)", runUI},
		"watch":     {"follow the log as a party: verify every checkpoint, entry and receipt, cosign", runWatch},
		"verify":    {"check receipts and a checkpoint chain offline (or a whole data directory with -store)", runVerify},
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	cmds := commands()
	if len(args) == 0 || args[0] == "help" || isHelp(args[0]) {
		usage(stdout, cmds)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "deconflict: unknown command %q\n", args[0])
		usage(stderr, cmds)
		return errUsage
	}
	return c.run(ctx, e, args[1:])
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "usage: deconflict <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nrun 'deconflict <command> -h' for a command's flags")
}

// newFlags makes a flag set that prints its usage to e.stderr.
func newFlags(e *env, name, args string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: deconflict %s %s\n", name, args)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags and maps -h to errHelp, bad flags to errUsage. Flags and
// arguments may come in any order ("hotline -as usa ID -m hi"): the
// arguments are what fs.Args() returns afterwards.
func parse(fs *flag.FlagSet, args []string) error {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return errHelp
			}
			return errUsage
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			pos = append(pos, rest...) // after "--" everything is an argument
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	if err := fs.Parse(append([]string{"--"}, pos...)); err != nil {
		return errUsage
	}
	return nil
}

// isHelp reports whether arg asks for help as the flag package takes it.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--h", "--help":
		return true
	}
	return false
}

// helpOrUsage is what a command group returns after printing its usage for
// args: errUsage if they name no subcommand, errHelp if they asked for it.
func helpOrUsage(args []string) error {
	if len(args) == 0 {
		return errUsage
	}
	return errHelp
}

func exitCode(err error) int {
	switch {
	case err == nil, errors.Is(err, errHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	return 1
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, strings.TrimSuffix(word, "s"))
}
