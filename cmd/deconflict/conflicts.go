package main

import (
	"context"
	"fmt"
)

func runConflicts(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "conflicts", "-as PARTY")
	cf := addClientFlags(e, fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	c, err := cf.client(false)
	if err != nil {
		return err
	}
	cs, err := c.Conflicts(ctx)
	if err != nil {
		return err
	}
	if len(cs) == 0 {
		fmt.Fprintln(e.stdout, "no conflicts")
	}
	for _, x := range cs {
		fmt.Fprintf(e.stdout, "conflict %s (%s, %d message(s)): your intent %s with %s\n", x.ID, x.Status, x.Messages, x.Mine, describe(x.Other))
	}
	return nil
}
