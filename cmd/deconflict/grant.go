package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/deconflict/deconflict/registry"
)

func runGrant(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "grant", "-as PARTY [OTHER LEVEL]   (LEVEL: deconfliction, operational or full; no arguments: list)")
	cf := addClientFlags(e, fs)
	if err := parse(fs, leadingArgsLast(args)); err != nil {
		return err
	}
	c, err := cf.client(false)
	if err != nil {
		return err
	}
	switch fs.NArg() {
	case 0:
		g, err := c.Grants(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "every grant not listed is deconfliction (the default)\n")
		for _, r := range g.Given {
			fmt.Fprintf(e.stdout, "you let %s see your intents at level %s\n", r.To, r.Level)
		}
		for _, r := range g.Received {
			fmt.Fprintf(e.stdout, "%s lets you see its intents at level %s\n", r.From, r.Level)
		}
		return nil
	case 2:
		other, level := registry.PartyID(fs.Arg(0)), registry.Level(fs.Arg(1))
		w, err := c.SetGrant(ctx, other, level)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s may now see your intents at level %s (entry %d, receipt verified)\n", other, level, w.Entry)
		return nil
	}
	fs.Usage()
	return errors.Join(errUsage, errors.New("grant takes no arguments (list) or OTHER LEVEL"))
}
