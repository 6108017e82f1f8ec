package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/deconflict/deconflict/ledger"
	"github.com/deconflict/deconflict/registry"
	"github.com/deconflict/deconflict/server"
)

func runIntent(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || isHelp(args[0]) {
		fmt.Fprintln(e.stderr, "usage: deconflict intent file|get|update|activate|end|list [flags]")
		return helpOrUsage(args)
	}
	sub, args := args[0], leadingArgsLast(args[1:])
	fs := newFlags(e, "intent "+sub, "[ID] [flags]")
	cf := addClientFlags(e, fs)
	var file, keys, ovn, state, id *string
	var priority *int
	switch sub {
	case "file", "update":
		file = fs.String("f", "", "volumes file: JSON array of volumes, or GeoJSON Feature(Collection)")
		priority = fs.Int("priority", -1, "priority 0-100 (file: default 0; update: default the current one)")
		state = fs.String("state", "", "accepted (default), activated or contingent (emergency)")
		keys = fs.String("key", "", "comma-separated OVNs of the conflicting intents you were shown")
		if sub == "file" {
			id = fs.String("id", "", "intent id (a UUID; assigned if empty)")
		} else {
			ovn = fs.String("ovn", "", "the intent's current OVN")
		}
	case "activate", "end":
		ovn = fs.String("ovn", "", "the intent's current OVN")
	case "get", "list":
	default:
		fmt.Fprintf(e.stderr, "deconflict: unknown intent command %q\n", sub)
		return errUsage
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	c, err := cf.client(false)
	if err != nil {
		return err
	}
	arg := func() (registry.IntentID, error) {
		if fs.NArg() != 1 {
			return "", fmt.Errorf("intent %s needs one intent id", sub)
		}
		return registry.IntentID(fs.Arg(0)), nil
	}
	var key []registry.OVN
	if keys != nil && *keys != "" {
		for _, k := range strings.Split(*keys, ",") {
			key = append(key, registry.OVN(strings.TrimSpace(k)))
		}
	}
	switch sub {
	case "file":
		if *file == "" {
			return errors.New("intent file needs -f VOLUMES_FILE")
		}
		vols, err := readVolumes(*file)
		if err != nil {
			return err
		}
		f, err := c.File(ctx, server.FileRequest{ID: *id, Priority: max(0, *priority), State: registry.State(*state), Volumes: vols, Key: key})
		return reportWrite(e, "filed", f, err)
	case "update":
		iid, err := arg()
		if err != nil {
			return err
		}
		if *file == "" || *ovn == "" {
			return errors.New("intent update needs -ovn CURRENT_OVN and -f VOLUMES_FILE")
		}
		vols, err := readVolumes(*file)
		if err != nil {
			return err
		}
		if *priority < 0 { // keep the current priority
			cur, err := c.Get(ctx, iid)
			if err != nil {
				return err
			}
			if cur.Priority != nil {
				*priority = *cur.Priority
			}
		}
		f, err := c.Update(ctx, iid, server.UpdateRequest{OVN: registry.OVN(*ovn), Priority: *priority, State: registry.State(*state), Volumes: vols, Key: key})
		return reportWrite(e, "updated", f, err)
	case "activate":
		iid, err := arg()
		if err != nil {
			return err
		}
		if *ovn == "" {
			return errors.New("intent activate needs -ovn CURRENT_OVN")
		}
		f, err := c.SetState(ctx, iid, registry.OVN(*ovn), registry.StateActivated)
		return reportWrite(e, "activated", f, err)
	case "end":
		iid, err := arg()
		if err != nil {
			return err
		}
		if *ovn == "" {
			return errors.New("intent end needs -ovn CURRENT_OVN")
		}
		f, err := c.End(ctx, iid, registry.OVN(*ovn))
		return reportWrite(e, "ended", f, err)
	case "get":
		iid, err := arg()
		if err != nil {
			return err
		}
		v, err := c.Get(ctx, iid)
		if err != nil {
			return err
		}
		return printJSON(e, v)
	default: // list
		vs, err := c.List(ctx, false)
		if err != nil {
			return err
		}
		return printJSON(e, vs)
	}
}

// leadingArgsLast moves arguments before the first flag to the end, so
// that "intent end ID -ovn X" parses like "intent end -ovn X ID".
func leadingArgsLast(args []string) []string {
	i := 0
	for i < len(args) && !strings.HasPrefix(args[i], "-") {
		i++
	}
	return append(append([]string{}, args[i:]...), args[:i]...)
}

// reportWrite prints the outcome of a write; a refusal prints what the
// caller may see of the intents in question and how to go on.
func reportWrite(e *env, verb string, f *server.FiledView, err error) error {
	var p *server.Problem
	if errors.As(err, &p) && len(p.Intents) > 0 {
		fmt.Fprintf(e.stdout, "refused: %s\nyou are shown:\n", p.Title)
		var ovns []string
		for _, it := range p.Intents {
			fmt.Fprintf(e.stdout, "  %s\n", describe(it))
			for _, v := range volumesJSON(it) {
				fmt.Fprintf(e.stdout, "    %s\n", v)
			}
			ovns = append(ovns, string(it.OVN))
		}
		if p.Disclosure != nil {
			fmt.Fprintf(e.stdout, "(what you were shown is recorded in entry %d; its owners are told)\n", p.Disclosure.Entry)
		}
		if p.Type == server.TypeMissingKey {
			fmt.Fprintf(e.stdout, "to file anyway (rules permitting), re-file with: -key %s\n", strings.Join(ovns, ","))
		}
		return fmt.Errorf("refused (%s)", strings.TrimPrefix(p.Type, "urn:deconflict:problem:"))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s intent %s (state %s, ovn %s, entry %d)\n", verb, f.Intent.ID, f.Intent.State, f.Intent.OVN, f.Entry)
	if f.Receipt != nil {
		fmt.Fprintf(e.stdout, "receipt verified: entry %d is in the log's signed checkpoint of %d entries (kept in the receipts file)\n", f.Entry, checkpointSize(f.Receipt))
	}
	for _, c := range f.Conflicts {
		fmt.Fprintf(e.stdout, "  conflicts with %s: its owner was alerted (preempted if its priority is lower)\n", describe(c))
	}
	return nil
}

// checkpointSize is the size of a (verified) receipt's checkpoint.
func checkpointSize(r *ledger.Receipt) int {
	c, err := ledger.ParseCheckpoint([]byte(strings.SplitN(r.Checkpoint, "\n\n", 2)[0] + "\n"))
	if err != nil {
		return 0
	}
	return int(c.Size)
}
