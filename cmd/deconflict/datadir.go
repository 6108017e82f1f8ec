package main

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/deconflict/deconflict/auth"
	"github.com/deconflict/deconflict/client"
	"github.com/deconflict/deconflict/geo"
	"github.com/deconflict/deconflict/registry"
)

// The data directory:
//
//	DIR/config.json      service id, listen address, policy, separation
//	DIR/service.key      the service's Ed25519 key (0600)
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
	dir, server, as, key, audience *string
}

func addClientFlags(fs *flag.FlagSet) *clientFlags {
	return &clientFlags{
		dir:      fs.String("dir", envOr("DECONFLICT_DIR", defaultDir), "data directory to read the config and keys from ($DECONFLICT_DIR)"),
		server:   fs.String("server", os.Getenv("DECONFLICT_SERVER"), "server address (default: http:// + the config's listen address; $DECONFLICT_SERVER)"),
		as:       fs.String("as", os.Getenv("DECONFLICT_PARTY"), "the party to act as ($DECONFLICT_PARTY; default: the authority for party commands)"),
		key:      fs.String("keyfile", "", "the party's private key file (default DIR/keys/PARTY.key)"),
		audience: fs.String("audience", "", "the service id (default: from the config)"),
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
	party := *f.as
	server, audience := *f.server, *f.audience
	var cfg *dirConfig
	if server == "" || audience == "" || party == "" {
		c, err := loadDir(*f.dir)
		if err != nil {
			return nil, err
		}
		cfg = c
	}
	if party == "" && asAuthority && cfg != nil {
		party = cfg.Authority
	}
	if party == "" {
		return nil, errors.New("say which party to act as with -as PARTY (or $DECONFLICT_PARTY)")
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
		return nil, fmt.Errorf("reading the key of %s: %w", party, err)
	}
	return client.New(client.Config{BaseURL: server, Party: party, Key: key, Audience: audience})
}

func printJSON(e *env, v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
