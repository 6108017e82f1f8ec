// Command deconflict is the airspace deconfliction service and its tools.
// Run "deconflict help" for the subcommands.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, errHelp) {
		if err != errUsage { // the usage was printed; say what else went wrong
			fmt.Fprintln(os.Stderr, "deconflict:", strings.TrimPrefix(err.Error(), errUsage.Error()+"\n"))
		}
		if errors.Is(err, syscall.ECONNREFUSED) {
			fmt.Fprintln(os.Stderr, "deconflict: is the server running? start it with: deconflict serve -dir DIR")
		}
		os.Exit(exitCode(err))
	}
}
