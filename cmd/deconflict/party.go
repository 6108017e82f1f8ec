package main

import (
	"context"
	"fmt"
	"os"

	"github.com/deconflict/deconflict/auth"
	"github.com/deconflict/deconflict/registry"
	"github.com/deconflict/deconflict/server"
)

func runParty(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || isHelp(args[0]) {
		fmt.Fprintln(e.stderr, "usage: deconflict party add|list|revoke [flags]")
		return helpOrUsage(args)
	}
	sub, args := args[0], args[1:]
	fs := newFlags(e, "party "+sub, "[flags]")
	cf := addClientFlags(e, fs)
	switch sub {
	case "add":
		id := fs.String("id", "", "party id (a-z, 0-9, -, _)")
		name := fs.String("name", "", "display name (default: the id)")
		role := fs.String("role", "member", "member or authority")
		pubFile := fs.String("pubkey", "", "the party's public key file (PEM) or base64 key")
		gen := fs.Bool("generate", false, "make the key pair in DIR/keys instead (the private key then must be handed to the party)")
		if err := parse(fs, args); err != nil {
			return err
		}
		if *id == "" || (*pubFile == "") == !*gen {
			return fmt.Errorf("party add needs -id and exactly one of -pubkey and -generate")
		}
		if err := registry.CheckPartyID(registry.PartyID(*id)); err != nil {
			return err
		}
		var pub []byte
		if *gen {
			k, err := newPartyKey(*cf.dir, *id)
			if err != nil {
				return err
			}
			pub = k
		} else {
			raw, err := os.ReadFile(*pubFile)
			if err != nil {
				raw = []byte(*pubFile)
			}
			k, err := auth.ParsePublicKey(raw)
			if err != nil {
				return fmt.Errorf("-pubkey: %w", err)
			}
			pub = k
		}
		if *name == "" {
			*name = *id
		}
		c, err := cf.client(true)
		if err != nil {
			return err
		}
		p, err := c.AddParty(ctx, server.AddPartyRequest{ID: registry.PartyID(*id), Name: *name, Role: registry.Role(*role), PublicKey: pub})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "added party %s (%s, %s)\n", p.ID, p.Name, p.Role)
		if p.Receipt != nil {
			fmt.Fprintf(e.stdout, "receipt verified: entry %d is in the log's signed checkpoint of %d entries\n", p.Receipt.Index, checkpointSize(p.Receipt))
		}
		return nil
	case "list":
		if err := parse(fs, args); err != nil {
			return err
		}
		c, err := cf.client(true)
		if err != nil {
			return err
		}
		ps, err := c.Parties(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%-20s %-10s %-8s %s\n", "ID", "ROLE", "STATUS", "NAME")
		for _, p := range ps {
			state := "active"
			if p.Revoked {
				state = "revoked"
			}
			fmt.Fprintf(e.stdout, "%-20s %-10s %-8s %s\n", p.ID, p.Role, state, p.Name)
		}
		return nil
	case "revoke":
		if err := parse(fs, args); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return fmt.Errorf("party revoke needs one party id")
		}
		c, err := cf.client(true)
		if err != nil {
			return err
		}
		p, err := c.Revoke(ctx, registry.PartyID(fs.Arg(0)))
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "revoked party %s\n", p.ID)
		if p.Receipt != nil {
			fmt.Fprintf(e.stdout, "receipt verified: entry %d is in the log's signed checkpoint of %d entries\n", p.Receipt.Index, checkpointSize(p.Receipt))
		}
		return nil
	}
	fmt.Fprintf(e.stderr, "deconflict: unknown party command %q (want add, list or revoke)\n", sub)
	return errUsage
}
