package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/deconflict/deconflict/registry"
)

func runHotline(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "hotline", "-as PARTY CONFLICT_ID [-m TEXT | -coordinate]")
	cf := addClientFlags(e, fs)
	msg := fs.String("m", "", "post this message")
	coord := fs.Bool("coordinate", false, "mark the conflict coordinated on your side")
	if err := parse(fs, leadingArgsLast(args)); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.Join(errUsage, errors.New("hotline needs one conflict id (see deconflict conflicts)"))
	}
	id := registry.ConflictID(fs.Arg(0))
	c, err := cf.client(false)
	if err != nil {
		return err
	}
	if *msg != "" {
		w, err := c.PostMessage(ctx, id, *msg)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "posted (entry %d, receipt verified)\n", w.Entry)
	}
	if *coord {
		w, err := c.Coordinate(ctx, id)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "marked coordinated on your side (entry %d, receipt verified)\n", w.Entry)
	}
	h, err := c.Hotline(ctx, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "conflict %s: %s", h.ID, h.Status)
	if len(h.Coordinated) > 0 {
		fmt.Fprintf(e.stdout, " (coordinated by %v)", h.Coordinated)
	}
	fmt.Fprintln(e.stdout)
	for _, m := range h.Messages {
		fmt.Fprintf(e.stdout, "  %s  %s: %s\n", m.Time.Format("2006-01-02 15:04:05Z"), m.From, m.Text)
	}
	return nil
}
