package main

import (
	"context"
	"fmt"
	"time"

	"github.com/deconflict/deconflict/server"
)

func runAlerts(ctx context.Context, e *env, args []string) error {
	sub := "list"
	if len(args) > 0 && (args[0] == "list" || args[0] == "watch" || args[0] == "ack") {
		sub, args = args[0], args[1:]
	}
	fs := newFlags(e, "alerts "+sub, "[list [-unacked] | watch [-from ALERT_ID] | ack ALERT_ID...] -as PARTY")
	cf := addClientFlags(e, fs)
	unacked := fs.Bool("unacked", false, "list: only the unacknowledged alerts")
	from := fs.String("from", "", "watch: resume after this alert id (default: start with every unacknowledged alert)")
	if err := parse(fs, leadingArgsLast(args)); err != nil {
		return err
	}
	c, err := cf.client(false)
	if err != nil {
		return err
	}
	switch sub {
	case "list":
		as, err := c.Alerts(ctx, 0, *unacked)
		if err != nil {
			return err
		}
		if len(as) == 0 {
			fmt.Fprintln(e.stdout, "no alerts")
		}
		for _, a := range as {
			fmt.Fprintln(e.stdout, alertLine(a))
		}
		return nil
	case "watch":
		fmt.Fprintf(e.stderr, "watching the alerts of %s (Ctrl-C to stop)\n", c.Party())
		last := *from
		for {
			err := c.StreamAlerts(ctx, last, func(a server.AlertView) error {
				fmt.Fprintln(e.stdout, alertLine(a))
				last = a.ID
				return nil
			})
			if ctx.Err() != nil {
				return nil
			}
			fmt.Fprintf(e.stderr, "alert stream ended (%v); reconnecting in 2 s from %q\n", err, last)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(2 * time.Second):
			}
		}
	default: // ack
		if fs.NArg() == 0 {
			return fmt.Errorf("alerts ack needs the id(s) of the alerts to acknowledge (see alerts list)")
		}
		for _, id := range fs.Args() {
			r, err := c.Ack(ctx, id)
			if err != nil {
				return fmt.Errorf("acknowledging %s: %w", id, err)
			}
			fmt.Fprintf(e.stdout, "acknowledged alert %s (entry %d, receipt verified)\n", id, r.Entry)
		}
		return nil
	}
}

// alertLine describes an alert in one line.
func alertLine(a server.AlertView) string {
	ack := "UNACKNOWLEDGED"
	if a.Acked != nil {
		ack = "acknowledged by entry " + fmt.Sprint(a.AckEntry)
	}
	what := fmt.Sprintf("%s: your intent %s, by %s", a.Kind, a.Intent, a.ByParty)
	switch {
	case a.Kind == "disclosed":
		what = fmt.Sprintf("disclosed: %s was shown your intent %s when its filing was refused", a.ByParty, a.Intent)
	case a.Conflict != "":
		what = fmt.Sprintf("%s from %s on conflict %s", a.Kind, a.ByParty, a.Conflict)
	case a.By != "":
		what += " (intent " + string(a.By) + ")"
	}
	sev := ""
	if a.Severity == "overdue" {
		sev = " OVERDUE"
	}
	return fmt.Sprintf("%s%s  %s  [%s, %s old]", a.ID, sev, what, ack, (time.Duration(a.AgeS) * time.Second).String())
}
