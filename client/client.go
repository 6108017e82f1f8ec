// Package client is the Go client of deconflict's HTTP API. It signs every
// request with the party's Ed25519 key (package auth) and returns API
// errors as *server.Problem values. A Client is safe for concurrent use.
package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/deconflict/deconflict/auth"
	"github.com/deconflict/deconflict/geo"
	"github.com/deconflict/deconflict/registry"
	"github.com/deconflict/deconflict/server"
)

// Config configures a Client.
type Config struct {
	BaseURL  string             // e.g. http://127.0.0.1:8080
	Party    string             // the party this client acts as
	Key      ed25519.PrivateKey // the party's private key
	Audience string             // the service id
	HTTP     *http.Client       // default: a client with a 30 s timeout
	TTL      time.Duration      // token lifetime (default 1 minute, at most 5)
}

// Client talks to one service as one party.
type Client struct {
	cfg  Config
	base *url.URL
}

// New makes a client.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(strings.TrimSuffix(cfg.BaseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: server address %q must be http(s)://host:port", cfg.BaseURL)
	}
	if cfg.Party == "" || len(cfg.Key) != ed25519.PrivateKeySize || cfg.Audience == "" {
		return nil, errors.New("client: a party, its Ed25519 private key and the service audience are required")
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.TTL == 0 {
		cfg.TTL = time.Minute
	}
	return &Client{cfg: cfg, base: u}, nil
}

// Party is the party the client acts as.
func (c *Client) Party() string { return c.cfg.Party }

// Do sends a signed request with body in (JSON, or none if nil) and decodes
// a 2xx answer into out (if not nil). Any other answer is a *server.Problem.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("client: encoding request: %w", err)
		}
		body = b
	}
	tok, err := auth.Sign(c.cfg.Key, c.cfg.Party, c.cfg.Audience, body, time.Now(), c.cfg.TTL)
	if err != nil {
		return fmt.Errorf("client: signing request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.cfg.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("client: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("client: reading answer to %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		p := &server.Problem{}
		if json.Unmarshal(data, p) != nil || p.Status == 0 {
			return &server.Problem{Type: server.TypeInternal, Title: http.StatusText(resp.StatusCode), Status: resp.StatusCode,
				Detail: strings.TrimSpace(string(data))}
		}
		return p
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("client: decoding answer to %s %s: %w", method, path, err)
	}
	return nil
}

// File files an intent.
func (c *Client) File(ctx context.Context, r server.FileRequest) (*server.FiledView, error) {
	var out server.FiledView
	return &out, c.Do(ctx, "POST", "/v1/intents", r, &out)
}

// FileBatch files many intents in one request.
func (c *Client) FileBatch(ctx context.Context, rs []server.FileRequest) (*server.BatchResponse, error) {
	var out server.BatchResponse
	return &out, c.Do(ctx, "POST", "/v1/intents/batch", server.BatchRequest{Intents: rs}, &out)
}

// Get reads an intent.
func (c *Client) Get(ctx context.Context, id registry.IntentID) (*server.IntentView, error) {
	var out server.IntentView
	return &out, c.Do(ctx, "GET", "/v1/intents/"+url.PathEscape(string(id)), nil, &out)
}

// List lists the party's intents.
func (c *Client) List(ctx context.Context, ended bool) ([]server.IntentView, error) {
	var out struct{ Intents []server.IntentView }
	path := "/v1/intents"
	if ended {
		path += "?ended=true"
	}
	return out.Intents, c.Do(ctx, "GET", path, nil, &out)
}

// Update replaces an intent's volumes and priority.
func (c *Client) Update(ctx context.Context, id registry.IntentID, r server.UpdateRequest) (*server.FiledView, error) {
	var out server.FiledView
	return &out, c.Do(ctx, "PUT", "/v1/intents/"+url.PathEscape(string(id)), r, &out)
}

// SetState changes an intent's state.
func (c *Client) SetState(ctx context.Context, id registry.IntentID, ovn registry.OVN, state registry.State) (*server.FiledView, error) {
	var out server.FiledView
	return &out, c.Do(ctx, "POST", "/v1/intents/"+url.PathEscape(string(id))+"/state", server.StateRequest{OVN: ovn, State: state}, &out)
}

// End ends an intent.
func (c *Client) End(ctx context.Context, id registry.IntentID, ovn registry.OVN) (*server.FiledView, error) {
	var out server.FiledView
	return &out, c.Do(ctx, "POST", "/v1/intents/"+url.PathEscape(string(id))+"/end", server.EndRequest{OVN: ovn}, &out)
}

// Query lists the intents conflicting with a volume.
func (c *Client) Query(ctx context.Context, v geo.VolumeSpec) ([]server.IntentView, error) {
	var out struct{ Intents []server.IntentView }
	return out.Intents, c.Do(ctx, "POST", "/v1/intents/query", server.QueryRequest{Volume: v}, &out)
}

// Conflicts lists the conflicts of the party's intents.
func (c *Client) Conflicts(ctx context.Context) ([]server.ConflictView, error) {
	var out struct{ Conflicts []server.ConflictView }
	return out.Conflicts, c.Do(ctx, "GET", "/v1/conflicts", nil, &out)
}

// Alerts lists the alerts sent to the party after an entry index.
func (c *Client) Alerts(ctx context.Context, after uint64) ([]registry.Alert, error) {
	var out struct{ Alerts []registry.Alert }
	return out.Alerts, c.Do(ctx, "GET", fmt.Sprintf("/v1/alerts?after=%d", after), nil, &out)
}

// AddParty adds a party (authority only).
func (c *Client) AddParty(ctx context.Context, r server.AddPartyRequest) (*server.PartyView, error) {
	var out server.PartyView
	return &out, c.Do(ctx, "POST", "/v1/parties", r, &out)
}

// Parties lists the parties (authority only).
func (c *Client) Parties(ctx context.Context) ([]server.PartyView, error) {
	var out struct{ Parties []server.PartyView }
	return out.Parties, c.Do(ctx, "GET", "/v1/parties", nil, &out)
}

// Revoke revokes a party (authority only).
func (c *Client) Revoke(ctx context.Context, id registry.PartyID) (*server.PartyView, error) {
	var out server.PartyView
	return &out, c.Do(ctx, "POST", "/v1/parties/"+url.PathEscape(string(id))+"/revoke", nil, &out)
}
