// Package client is the Go client of deconflict's HTTP API. It signs every
// request with the party's Ed25519 key (package auth) and returns API
// errors as *server.Problem values. A Client is safe for concurrent use.
package client

import (
	"bufio"
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

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/deconflict/deconflict/auth"
	"github.com/deconflict/deconflict/geo"
	"github.com/deconflict/deconflict/ledger"
	"github.com/deconflict/deconflict/registry"
	"github.com/deconflict/deconflict/server"
	"github.com/deconflict/deconflict/service"
)

// Config configures a Client.
type Config struct {
	BaseURL  string             // e.g. http://127.0.0.1:8080
	Party    string             // the party this client acts as
	Key      ed25519.PrivateKey // the party's private key
	Audience string             // the service id
	HTTP     *http.Client       // default: a client with a 30 s timeout
	TTL      time.Duration      // token lifetime (default 1 minute, at most 5)

	// LogKey is the log's note verifier key ("<origin>+<hash>+<key>"),
	// given to the party out of band. If set, every write's receipt is
	// verified before the write is reported as done: a write answered
	// without a valid receipt for an entry of this party returns an error
	// matching ledger.ErrBadReceipt (with the answer).
	LogKey string
	// OnReceipt, if set, is called with every verified receipt, to keep it.
	OnReceipt func(*ledger.Receipt)
	// Extent asks the answers to writes (file, batch, update, state, end,
	// and their refusals) for each overlap's altitude band and time window
	// only, without its cells (?overlaps=extent): cheaper for the service
	// to compute and for the client to read, for bulk filers that need
	// only which intents conflict. Get and Conflicts still show the cells.
	Extent bool
}

// Client talks to one service as one party.
type Client struct {
	cfg  Config
	base *url.URL
	log  note.Verifier // nil without LogKey
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
	c := &Client{cfg: cfg, base: u}
	if cfg.LogKey != "" {
		if c.log, err = newLogVerifier(cfg.LogKey); err != nil {
			return nil, fmt.Errorf("client: log key: %w", err)
		}
	}
	return c, nil
}

// LogVerifier returns the verifier of the log's checkpoints (nil without
// Config.LogKey).
func (c *Client) LogVerifier() note.Verifier { return c.log }

// checkReceipt verifies the receipt of a write this party made (an entry
// of kind) and keeps it. Without a log key it does nothing.
func (c *Client) checkReceipt(r *ledger.Receipt, entry uint64, kind registry.Kind) error {
	if c.log == nil {
		return nil
	}
	if r == nil {
		return fmt.Errorf("%w: the service answered entry %d without a receipt", ledger.ErrBadReceipt, entry)
	}
	leaf, _, err := r.Verify(c.log)
	if err != nil {
		return err
	}
	if leaf.Index != entry || leaf.Party != c.cfg.Party || leaf.Kind != string(kind) {
		return fmt.Errorf("%w: the receipt is for entry %d (%s by %q), not this write (entry %d, %s by %q)",
			ledger.ErrBadReceipt, leaf.Index, leaf.Kind, leaf.Party, entry, kind, c.cfg.Party)
	}
	if c.cfg.OnReceipt != nil {
		c.cfg.OnReceipt(r)
	}
	return nil
}

// filed verifies the receipt of a write answered with f.
func (c *Client) filed(f *server.FiledView, kind registry.Kind, err error) (*server.FiledView, error) {
	if err != nil {
		return f, err
	}
	return f, c.checkReceipt(f.Receipt, f.Entry, kind)
}

// Audience is the service id the client's tokens name.
func (c *Client) Audience() string { return c.cfg.Audience }

// Party is the party the client acts as.
func (c *Client) Party() string { return c.cfg.Party }

// Do sends a signed request with body in (JSON, or none if nil) and decodes
// a 2xx answer into out (if not nil; a pointer to a zero value). Any other answer is a *server.Problem.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		// Filings, the most frequent, are encoded without reflection.
		ok := false
		switch r := in.(type) {
		case server.FileRequest:
			body, ok = server.AppendFileRequest(nil, &r)
		case server.BatchRequest:
			body, ok = server.AppendBatchRequest(make([]byte, 0, 1024*len(r.Intents)), &r)
		}
		if !ok {
			b, err := json.Marshal(in)
			if err != nil {
				return fmt.Errorf("client: encoding request: %w", err)
			}
			body = b
		}
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
	data, err := readAnswer(resp)
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
	if raw, ok := out.(*[]byte); ok {
		*raw = data
		return nil
	}
	// Filing answers, the most frequent and largest, are read without
	// reflection when they are as the server writes them (the same values
	// json.Unmarshal decodes into a zero value: see server.ReadFiledView).
	switch o := out.(type) {
	case *server.FiledView:
		if f, ok := server.ReadFiledView(data); ok {
			*o = *f
			return nil
		}
	case *server.BatchResponse:
		if r, ok := server.ReadBatchResponse(data); ok {
			*o = *r
			return nil
		}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("client: decoding answer to %s %s: %w", method, path, err)
	}
	return nil
}

// writePath is the path of a write, with ?overlaps=extent if so configured.
func (c *Client) writePath(path string) string {
	if c.cfg.Extent {
		return path + "?overlaps=extent"
	}
	return path
}

// File files an intent.
func (c *Client) File(ctx context.Context, r server.FileRequest) (*server.FiledView, error) {
	var out server.FiledView
	return c.filed(&out, registry.KindFile, c.Do(ctx, "POST", c.writePath("/v1/intents"), r, &out))
}

// FileBatch files many intents in one request.
func (c *Client) FileBatch(ctx context.Context, rs []server.FileRequest) (*server.BatchResponse, error) {
	var out server.BatchResponse
	if err := c.Do(ctx, "POST", c.writePath("/v1/intents/batch"), server.BatchRequest{Intents: rs}, &out); err != nil {
		return &out, err
	}
	for _, it := range out.Results {
		if it.Filed != nil {
			if err := c.checkReceipt(it.Filed.Receipt, it.Filed.Entry, registry.KindFile); err != nil {
				return &out, err
			}
		}
	}
	return &out, nil
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
	return c.filed(&out, registry.KindUpdate, c.Do(ctx, "PUT", c.writePath("/v1/intents/"+url.PathEscape(string(id))), r, &out))
}

// SetState changes an intent's state.
func (c *Client) SetState(ctx context.Context, id registry.IntentID, ovn registry.OVN, state registry.State) (*server.FiledView, error) {
	var out server.FiledView
	return c.filed(&out, registry.KindSetState, c.Do(ctx, "POST", c.writePath("/v1/intents/"+url.PathEscape(string(id))+"/state"), server.StateRequest{OVN: ovn, State: state}, &out))
}

// End ends an intent.
func (c *Client) End(ctx context.Context, id registry.IntentID, ovn registry.OVN) (*server.FiledView, error) {
	var out server.FiledView
	return c.filed(&out, registry.KindEnd, c.Do(ctx, "POST", c.writePath("/v1/intents/"+url.PathEscape(string(id))+"/end"), server.EndRequest{OVN: ovn}, &out))
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

// Alerts lists the alerts sent to the party after an entry index (only
// the unacknowledged ones, with unacked).
func (c *Client) Alerts(ctx context.Context, after uint64, unacked bool) ([]server.AlertView, error) {
	var out struct{ Alerts []server.AlertView }
	return out.Alerts, c.Do(ctx, "GET", fmt.Sprintf("/v1/alerts?after=%d&unacked=%t", after, unacked), nil, &out)
}

// Ack acknowledges an alert (a log entry whose receipt is verified).
func (c *Client) Ack(ctx context.Context, id string) (*server.AckResponse, error) {
	var out server.AckResponse
	if err := c.Do(ctx, "POST", "/v1/alerts/"+url.PathEscape(id)+"/ack", server.AckRequest{Alert: id}, &out); err != nil {
		return &out, err
	}
	return &out, c.checkReceipt(out.Receipt, out.Entry, registry.KindAck)
}

// SetGrant sets what party may see of this party's intents.
func (c *Client) SetGrant(ctx context.Context, party registry.PartyID, level registry.Level) (*server.WriteResponse, error) {
	return c.write(ctx, "PUT", "/v1/grants/"+url.PathEscape(string(party)), server.GrantRequest{Party: party, Level: level}, registry.KindSetGrant)
}

// Grants lists the grants this party gave and received.
func (c *Client) Grants(ctx context.Context) (*server.GrantsView, error) {
	var out server.GrantsView
	return &out, c.Do(ctx, "GET", "/v1/grants", nil, &out)
}

// Disclosures lists who was shown what of this party's intents.
func (c *Client) Disclosures(ctx context.Context, after uint64) ([]registry.Disclosure, error) {
	var out struct{ Disclosures []registry.Disclosure }
	return out.Disclosures, c.Do(ctx, "GET", fmt.Sprintf("/v1/disclosures?after=%d", after), nil, &out)
}

// Hotline reads a conflict's hotline.
func (c *Client) Hotline(ctx context.Context, id registry.ConflictID) (*server.HotlineView, error) {
	var out server.HotlineView
	return &out, c.Do(ctx, "GET", "/v1/conflicts/"+url.PathEscape(string(id))+"/messages", nil, &out)
}

// PostMessage posts on a conflict's hotline.
func (c *Client) PostMessage(ctx context.Context, id registry.ConflictID, text string) (*server.WriteResponse, error) {
	return c.write(ctx, "POST", "/v1/conflicts/"+url.PathEscape(string(id))+"/messages", server.MessageRequest{Conflict: id, Text: text}, registry.KindMessage)
}

// Coordinate marks a conflict coordinated on this party's side.
func (c *Client) Coordinate(ctx context.Context, id registry.ConflictID) (*server.WriteResponse, error) {
	return c.write(ctx, "POST", "/v1/conflicts/"+url.PathEscape(string(id))+"/coordinate", server.CoordinateRequest{Conflict: id}, registry.KindCoordinate)
}

// SetWebhook registers this party's webhook URL ("" removes it).
func (c *Client) SetWebhook(ctx context.Context, u string) (*server.WriteResponse, error) {
	return c.write(ctx, "PUT", "/v1/webhook", server.WebhookRequest{URL: u}, registry.KindSetWebhook)
}

// write sends a request that makes one entry of kind and verifies its
// receipt.
func (c *Client) write(ctx context.Context, method, path string, in any, kind registry.Kind) (*server.WriteResponse, error) {
	var out server.WriteResponse
	if err := c.Do(ctx, method, path, in, &out); err != nil {
		return &out, err
	}
	return &out, c.checkReceipt(out.Receipt, out.Entry, kind)
}

// StreamAlerts follows the party's alert stream (Server-Sent Events),
// resuming after alert lastID if it is not empty, and calls fn with each
// alert until ctx ends, the stream ends, or fn returns an error. Alerts
// come at least once: fn may see one id again.
func (c *Client) StreamAlerts(ctx context.Context, lastID string, fn func(server.AlertView) error) error {
	tok, err := auth.Sign(c.cfg.Key, c.cfg.Party, c.cfg.Audience, nil, time.Now(), c.cfg.TTL)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "GET", c.base.String()+"/v1/alerts/stream", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	hc := *c.cfg.HTTP
	hc.Timeout = 0 // a stream lasts
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("client: alert stream: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		p := &server.Problem{}
		if json.Unmarshal(data, p) != nil || p.Status == 0 {
			return fmt.Errorf("client: alert stream: %s", resp.Status)
		}
		return p
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var data string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		case line == "" && data != "":
			var a server.AlertView
			if err := json.Unmarshal([]byte(data), &a); err != nil {
				return fmt.Errorf("client: alert stream: %w", err)
			}
			data = ""
			if err := fn(a); err != nil {
				return err
			}
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return sc.Err()
}

// AddParty adds a party (authority only).
func (c *Client) AddParty(ctx context.Context, r server.AddPartyRequest) (*server.PartyView, error) {
	var out server.PartyView
	if err := c.Do(ctx, "POST", "/v1/parties", r, &out); err != nil {
		return &out, err
	}
	return &out, c.checkReceipt(out.Receipt, receiptIndex(out.Receipt), registry.KindAddParty)
}

// Parties lists the parties (authority only).
func (c *Client) Parties(ctx context.Context) ([]server.PartyView, error) {
	var out struct{ Parties []server.PartyView }
	return out.Parties, c.Do(ctx, "GET", "/v1/parties", nil, &out)
}

// Revoke revokes a party (authority only).
func (c *Client) Revoke(ctx context.Context, id registry.PartyID) (*server.PartyView, error) {
	var out server.PartyView
	if err := c.Do(ctx, "POST", "/v1/parties/"+url.PathEscape(string(id))+"/revoke", server.RevokeRequest{Party: id}, &out); err != nil {
		return &out, err
	}
	return &out, c.checkReceipt(out.Receipt, receiptIndex(out.Receipt), registry.KindRevokeParty)
}

// receiptIndex is the entry a receipt claims (0 if none).
func receiptIndex(r *ledger.Receipt) uint64 {
	if r == nil {
		return 0
	}
	return r.Index
}

// Which checkpoint to read.
const (
	LatestCheckpoint    = ""          // the latest
	WitnessedCheckpoint = "witnessed" // the latest cosigned by enough parties
	CosignCheckpoint    = "cosign"    // the one witnesses should cosign now
)

// Checkpoint returns one of the log's signed checkpoints (with the
// cosignatures collected for it). It is not verified here.
func (c *Client) Checkpoint(ctx context.Context, which string) ([]byte, error) {
	var out []byte
	path := "/v1/log/checkpoint"
	switch which {
	case LatestCheckpoint:
	case WitnessedCheckpoint, CosignCheckpoint:
		path += "?" + which + "=true"
	default:
		return nil, fmt.Errorf("client: no checkpoint %q", which)
	}
	return out, c.Do(ctx, "GET", path, nil, &out)
}

// LogEntries returns the public leaves of up to count entries from start.
func (c *Client) LogEntries(ctx context.Context, start uint64, count int) ([]service.PublicEntry, error) {
	var out server.EntriesResponse
	return out.Entries, c.Do(ctx, "GET", fmt.Sprintf("/v1/log/entries?start=%d&count=%d", start, count), nil, &out)
}

// EntryContent returns an entry's content, if this party may read it.
func (c *Client) EntryContent(ctx context.Context, index uint64) (*service.Content, error) {
	var out service.Content
	return &out, c.Do(ctx, "GET", fmt.Sprintf("/v1/log/entries/%d/content", index), nil, &out)
}

// InclusionProof returns the proof of entry index in the tree of size.
func (c *Client) InclusionProof(ctx context.Context, index, size uint64) (*server.InclusionProof, error) {
	var out server.InclusionProof
	return &out, c.Do(ctx, "GET", fmt.Sprintf("/v1/log/proof/inclusion?index=%d&size=%d", index, size), nil, &out)
}

// ConsistencyProof returns the proof that the tree of old entries is a
// prefix of the tree of size.
func (c *Client) ConsistencyProof(ctx context.Context, old, size uint64) (tlog.TreeProof, error) {
	var out server.ConsistencyProof
	return out.Proof, c.Do(ctx, "GET", fmt.Sprintf("/v1/log/proof/consistency?old=%d&size=%d", old, size), nil, &out)
}

// Cosign sends this party's cosignature of a checkpoint.
func (c *Client) Cosign(ctx context.Context, cosigned []byte) (uint64, error) {
	var out server.CosignResponse
	return out.Size, c.Do(ctx, "POST", "/v1/log/cosignatures", server.CosignRequest{Checkpoint: string(cosigned)}, &out)
}

// newLogVerifier is the verifier of the log's checkpoints, remembering the
// last ones it accepted: the receipts of one commit share a checkpoint.
func newLogVerifier(key string) (note.Verifier, error) {
	v, err := note.NewVerifier(key)
	if err != nil {
		return nil, err
	}
	return ledger.CachingVerifier(v, 64), nil
}

// maxAnswer bounds the answers read.
const maxAnswer = 64 << 20

// readAnswer reads resp's body, at most maxAnswer bytes, into a buffer of
// the size its Content-Length gives (up to a quarter of the bound), so that
// a large answer is not copied over and over as it grows.
func readAnswer(resp *http.Response) ([]byte, error) {
	n := resp.ContentLength
	if n < 0 || n > maxAnswer/4 {
		n = 0
	}
	buf := bytes.NewBuffer(make([]byte, 0, n+bytes.MinRead))
	_, err := buf.ReadFrom(io.LimitReader(resp.Body, maxAnswer))
	return buf.Bytes(), err
}
