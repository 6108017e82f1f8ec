package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/deconflict/deconflict/auth"
	"github.com/deconflict/deconflict/ledger"
	"github.com/deconflict/deconflict/registry"
	"github.com/deconflict/deconflict/service"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func runInit(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "init", "[-dir DIR] [-party NAME]... [-listen ADDR] [-policy strict|aware]")
	dir := fs.String("dir", envOr("DECONFLICT_DIR", defaultDir), "data directory to create")
	listen := fs.String("listen", "127.0.0.1:8080", "address serve listens on")
	authority := fs.String("authority", "authority", "id of the authority party to create")
	policy := fs.String("policy", "strict", "conflict policy: strict (key and priority rules) or aware (key rule only)")
	horiz := fs.Float64("sep-horizontal", 0, "horizontal separation minimum, metres")
	vert := fs.Float64("sep-vertical", 0, "vertical separation minimum, metres")
	sepTime := fs.Int64("sep-time", 0, "time separation minimum, seconds")
	witnesses := fs.Int("witnesses", 1, "how many parties must cosign a checkpoint for it to be witnessed")
	var parties multiFlag
	fs.Var(&parties, "party", "also make a key for this member party and register it (repeatable)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(*dir, "config.json")); err == nil {
		return fmt.Errorf("%s is already a data directory; pick another -dir", *dir)
	}
	cfg := &dirConfig{ServiceID: "deconflict-" + service.NewUUID()[:8], Listen: *listen, Policy: registry.Policy(*policy),
		HorizontalM: *horiz, VerticalM: *vert, TimeS: *sepTime, Authority: *authority, Witnesses: *witnesses}
	if *witnesses < 1 {
		return errors.New("-witnesses must be at least 1")
	}
	if cfg.Policy == registry.PolicyDetect {
		return errors.New("policy detect is for benchmarks only; use strict or aware")
	}
	if err := cfg.registryConfig().Validate(); err != nil {
		return err
	}
	for _, p := range append([]string{*authority}, parties...) {
		if err := registry.CheckPartyID(registry.PartyID(p)); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return err
	}
	_, svcKey, err := auth.GenerateKey()
	if err != nil {
		return err
	}
	if err := auth.WritePrivateKey(filepath.Join(*dir, "service.key"), svcKey); err != nil {
		return err
	}
	store, err := openStore(ctx, *dir)
	if err != nil {
		return err
	}
	defer store.Close(context.Background())
	vkey, err := ledger.VerifierKey(cfg.ServiceID, svcKey.Public().(ed25519.PublicKey))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*dir, "log.vkey"), []byte(vkey+"\n"), 0o644); err != nil {
		return err
	}
	scfg, err := serviceConfig(*dir, cfg, store)
	if err != nil {
		return err
	}
	svc, err := service.Open(ctx, scfg)
	if err != nil {
		return err
	}
	defer svc.Close(context.Background())
	add := func(by, id string, role registry.Role) error {
		pub, err := newPartyKey(*dir, id)
		if err != nil {
			return err
		}
		_, err = svc.Submit(ctx, service.Command{Entry: registry.Entry{Party: registry.PartyID(by), Kind: registry.KindAddParty,
			AddParty: &registry.AddParty{Party: registry.Party{ID: registry.PartyID(id), Name: id, Role: role, PublicKey: pub}}}})
		return err
	}
	if err := add("", *authority, registry.RoleAuthority); err != nil {
		return fmt.Errorf("registering the authority: %w", err)
	}
	for _, p := range parties {
		if err := add(*authority, p, registry.RoleMember); err != nil {
			return fmt.Errorf("registering party %s: %w", p, err)
		}
	}
	if err := saveDir(*dir, cfg); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "initialised %s: service %s, authority %q", *dir, cfg.ServiceID, *authority)
	if len(parties) > 0 {
		fmt.Fprintf(e.stdout, ", members %s", strings.Join(parties, ", "))
	}
	fmt.Fprintf(e.stdout, "\nkeys are in %s (private keys 0600: hand each to its party)\nthe log's verifier key is %s (hand it to every party: it checks receipts and checkpoints)\nnext: deconflict serve -dir %s\n", filepath.Join(*dir, "keys"), filepath.Join(*dir, "log.vkey"), *dir)
	return nil
}
