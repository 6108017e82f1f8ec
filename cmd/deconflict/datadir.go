package main

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/deconflict/deconflict/auth"
	"github.com/deconflict/deconflict/client"
	"github.com/deconflict/deconflict/geo"
	"github.com/deconflict/deconflict/ledger"
	"github.com/deconflict/deconflict/registry"
	"github.com/deconflict/deconflict/service"
)

// The data directory:
//
//	DIR/config.json      service id, listen address, policy, separation
//	DIR/service.key      the service's Ed25519 key (0600): signs the log's checkpoints
//	DIR/log.vkey         the log's note verifier key, to hand to every party (public)
//	DIR/receipts/P.jsonl receipts of party P's writes made through the CLI (0600)
//	DIR/keys/NAME.key    party private keys made by init or party add -generate (0600)
//	DIR/keys/NAME.pub    their public keys
//	DIR/log/             the ledger (Pebble)
const defaultDir = "deconflict-data"

// dirConfig is DIR/config.json.
type dirConfig struct {
	ServiceID   string          `json:"service_id"`
	Listen      string          `json:"listen"`
	Policy      registry.Policy `json:"policy"`
	HorizontalM float64         `json:"separation_horizontal_m"`
	VerticalM   float64         `json:"separation_vertical_m"`
	TimeS       int64           `json:"separation_time_s"`
	Authority   string          `json:"authority"`
	// Witnesses is how many parties must cosign a checkpoint for it to be
	// witnessed (0 means 1).
	Witnesses int `json:"witnesses,omitempty"`
}

// serviceConfig is the service configuration of a data directory, with
// the log signing checkpoints with the service key.
func serviceConfig(dir string, c *dirConfig, store ledger.Store) (service.Config, error) {
	key, err := auth.ReadPrivateKey(filepath.Join(dir, "service.key"))
	if err != nil {
		return service.Config{}, fmt.Errorf("reading the service key: %w", err)
	}
	return service.Config{Store: store, Registry: c.registryConfig(), LogKey: key, Origin: c.ServiceID, Witnesses: c.Witnesses}, nil
}

// logKey returns the log's verifier key: from -log-key, else DIR/log.vkey,
// else made from DIR/service.key.
func logKey(dir, flagValue string) (string, error) {
	if flagValue != "" {
		b, err := os.ReadFile(flagValue)
		if err != nil {
			return "", fmt.Errorf("reading the log key: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	b, err := os.ReadFile(filepath.Join(dir, "log.vkey"))
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	c, cerr := loadDir(dir)
	key, kerr := auth.ReadPrivateKey(filepath.Join(dir, "service.key"))
	if cerr != nil || kerr != nil {
		return "", fmt.Errorf("no log verifier key: pass -log-key FILE (the service's log.vkey, given to you by its operator)")
	}
	return ledger.VerifierKey(c.ServiceID, key.Public().(ed25519.PublicKey))
}

// receiptSink appends receipts to DIR/receipts/PARTY.jsonl (or file).
func receiptSink(e *env, path string) func(*ledger.Receipt) {
	return func(r *ledger.Receipt) {
		if err := appendReceipt(path, r); err != nil {
			fmt.Fprintf(e.stderr, "deconflict: keeping the receipt of entry %d: %v\n", r.Index, err)
		}
	}
}

func appendReceipt(path string, r *ledger.Receipt) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	b, err := json.Marshal(r)
	if err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (c *dirConfig) registryConfig() registry.Config {
	return registry.Config{Policy: c.Policy, Separation: geo.Separation{
		Horizontal: geo.Meters(c.HorizontalM), Vertical: geo.Meters(c.VerticalM), Time: time.Duration(c.TimeS) * time.Second,
	}}
}

func loadDir(dir string) (*dirConfig, error) {
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no deconflict data directory at %s (make one with: deconflict init -dir %s)", dir, dir)
	}
	if err != nil {
		return nil, err
	}
	var c dirConfig
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "config.json"), err)
	}
	if err := c.registryConfig().Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "config.json"), err)
	}
	return &c, nil
}

func saveDir(dir string, c *dirConfig) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "config.json"), append(b, '\n'), 0o600)
}

func keyPath(dir, party string) string { return filepath.Join(dir, "keys", party+".key") }

// newPartyKey makes a key pair for party in DIR/keys.
func newPartyKey(dir, party string) (ed25519.PublicKey, error) {
	if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o700); err != nil {
		return nil, err
	}
	pub, priv, err := auth.GenerateKey()
	if err != nil {
		return nil, err
	}
	if err := auth.WritePrivateKey(keyPath(dir, party), priv); err != nil {
		return nil, err
	}
	if err := auth.WritePublicKey(filepath.Join(dir, "keys", party+".pub"), pub); err != nil {
		return nil, err
	}
	return pub, nil
}

// clientFlags are the flags of every command that talks to a server.
type clientFlags struct {
	e                                                *env
	dir, server, as, key, audience, logKey, receipts *string
}

func addClientFlags(e *env, fs *flag.FlagSet) *clientFlags {
	return &clientFlags{
		e:        e,
		dir:      fs.String("dir", envOr("DECONFLICT_DIR", defaultDir), "data directory to read the config and keys from ($DECONFLICT_DIR)"),
		server:   fs.String("server", os.Getenv("DECONFLICT_SERVER"), "server address (default: http:// + the config's listen address; $DECONFLICT_SERVER)"),
		as:       fs.String("as", os.Getenv("DECONFLICT_PARTY"), "the party to act as ($DECONFLICT_PARTY; default: the authority for party commands)"),
		key:      fs.String("keyfile", "", "the party's private key file (default DIR/keys/PARTY.key)"),
		audience: fs.String("audience", "", "the service id (default: from the config)"),
		logKey:   fs.String("log-key", os.Getenv("DECONFLICT_LOG_KEY"), "file holding the log's verifier key, to check receipts (default DIR/log.vkey; $DECONFLICT_LOG_KEY)"),
		receipts: fs.String("receipts", "", "this party's receipts file: writes append their verified receipts, watch and verify read it (default DIR/receipts/PARTY.jsonl)"),
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// client builds a client from the flags. With asAuthority, an empty -as
// means the authority; otherwise -as is required.
func (f *clientFlags) client(asAuthority bool) (*client.Client, error) {
	cfg, err := f.config(asAuthority)
	if err != nil {
		return nil, err
	}
	return client.New(cfg)
}

// config resolves the flags into a client configuration (receipts kept in
// the receipts file).
func (f *clientFlags) config(asAuthority bool) (client.Config, error) {
	party := *f.as
	server, audience := *f.server, *f.audience
	var cfg *dirConfig
	if server == "" || audience == "" || party == "" {
		c, err := loadDir(*f.dir)
		if err != nil {
			return client.Config{}, err
		}
		cfg = c
	}
	if party == "" && asAuthority && cfg != nil {
		party = cfg.Authority
	}
	if party == "" {
		return client.Config{}, errors.New("say which party to act as with -as PARTY (or $DECONFLICT_PARTY)")
	}
	if server == "" {
		server = "http://" + cfg.Listen
	}
	if audience == "" {
		audience = cfg.ServiceID
	}
	kp := *f.key
	if kp == "" {
		kp = keyPath(*f.dir, party)
	}
	key, err := auth.ReadPrivateKey(kp)
	if err != nil {
		return client.Config{}, fmt.Errorf("reading the key of %s: %w", party, err)
	}
	lk, err := logKey(*f.dir, *f.logKey)
	if err != nil {
		return client.Config{}, err
	}
	rp := *f.receipts
	if rp == "" {
		rp = filepath.Join(*f.dir, "receipts", party+".jsonl")
	}
	return client.Config{BaseURL: server, Party: party, Key: key, Audience: audience, LogKey: lk, OnReceipt: receiptSink(f.e, rp)}, nil
}

// receiptsFile is where the party's receipts are kept.
func (f *clientFlags) receiptsFile(party string) string {
	if *f.receipts != "" {
		return *f.receipts
	}
	return filepath.Join(*f.dir, "receipts", party+".jsonl")
}

func printJSON(e *env, v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
