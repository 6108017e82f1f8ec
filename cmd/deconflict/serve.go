package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/deconflict/deconflict/notify"
	"github.com/deconflict/deconflict/server"
	"github.com/deconflict/deconflict/service"
)

func runServe(ctx context.Context, e *env, args []string) error {
	tuneGC()
	tuneProcs()
	fs := newFlags(e, "serve", "[-dir DIR] [-listen ADDR]")
	dir := fs.String("dir", envOr("DECONFLICT_DIR", defaultDir), "data directory (made by deconflict init)")
	listen := fs.String("listen", "", "address to listen on (default: the config's)")
	snapEvery := fs.Int("snapshot-every", service.DefaultSnapshotEvery, "entries between registry snapshots (or half the intents held, if more)")
	var serveOpts serverOptions
	fs.IntVar(&serveOpts.CellLevel, "cell-level", server.DefaultCellLevel, "S2 level of the overlap cells shown under a deconfliction grant (13: about 1 km)")
	fs.DurationVar(&serveOpts.AckDeadline, "ack-deadline", server.DefaultAckDeadline, "an alert unacknowledged for longer is overdue")
	fs.Float64Var(&serveOpts.QuotaAreaTime, "quota-area-time", server.DefaultQuotaAreaTime, "per party and hour: filed footprint area × duration, km²·h (negative: no limit)")
	fs.BoolVar(&serveOpts.WebhookPrivate, "webhook-private", false, "let webhooks reach loopback and private addresses (refused by default: parties must not reach the operator's network)")
	fs.Float64Var(&serveOpts.QuotaDisclosures, "quota-disclosures", server.DefaultQuotaDisclosure, "per party and hour: other parties' intents shown by its refused filings (negative: no limit)")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadDir(*dir)
	if err != nil {
		return err
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	log := slog.New(slog.NewTextHandler(e.stderr, nil))
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	run, err := startService(ctx, *dir, cfg, log, *snapEvery, e, serveOpts)
	if err != nil {
		ln.Close()
		return err
	}
	defer run.close()
	log.Info("serving", "addr", "http://"+ln.Addr().String(), "service_id", cfg.ServiceID, "dir", *dir)
	return run.serve(ctx, ln)
}

// serverOptions are serve's server settings (zero: the defaults).
type serverOptions struct {
	CellLevel                       int
	AckDeadline                     time.Duration
	QuotaAreaTime, QuotaDisclosures float64
	WebhookPrivate                  bool
}

// running is a service with its store and HTTP server.
type running struct {
	svc   *service.Service
	srv   *server.Server
	http  *http.Server
	close func()
}

func startService(ctx context.Context, dir string, cfg *dirConfig, log *slog.Logger, snapEvery int, e *env, opts ...serverOptions) (*running, error) {
	var serveOpts serverOptions
	if len(opts) > 0 {
		serveOpts = opts[0]
	}
	store, err := openStore(ctx, dir)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	scfg, err := serviceConfig(dir, cfg, store)
	if err != nil {
		store.Close(context.Background())
		return nil, err
	}
	scfg.Logger, scfg.SnapshotEvery = log, snapEvery
	scfg.Progress = func(n, total uint64) { fmt.Fprintf(e.stderr, "replaying the log: %d/%d entries\n", n, total) }
	svc, err := service.Open(ctx, scfg)
	if err != nil {
		store.Close(context.Background())
		return nil, err
	}
	log.Info("registry ready", "took", time.Since(start).Round(time.Millisecond))
	// Webhooks are signed with the service key, as checkpoints are.
	wh, err := notify.NewWebhooks(notify.WebhookConfig{Key: scfg.LogKey, Logger: log, AllowPrivate: serveOpts.WebhookPrivate})
	if err != nil {
		svc.Close(context.Background())
		store.Close(context.Background())
		return nil, err
	}
	srv, err := server.New(server.Config{Service: svc, Audience: cfg.ServiceID, Logger: log, Webhooks: wh,
		CellLevel: serveOpts.CellLevel, AckDeadline: serveOpts.AckDeadline,
		QuotaAreaTime: serveOpts.QuotaAreaTime, QuotaDisclosures: serveOpts.QuotaDisclosures})
	if err != nil {
		wh.Close()
		svc.Close(context.Background())
		store.Close(context.Background())
		return nil, err
	}
	if n := srv.RedeliverWebhooks(); n > 0 {
		log.Info("unacknowledged alerts queued for webhooks again", "alerts", n)
	}
	r := &running{svc: svc, srv: srv}
	// No WriteTimeout: alert streams stay open; CloseStreams ends them on shutdown.
	r.http = &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	r.http.RegisterOnShutdown(srv.CloseStreams)
	r.close = func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r.http.Shutdown(cctx)
		wh.Close()
		svc.Close(cctx)
		store.Close(cctx)
	}
	return r, nil
}

// serve serves on ln until ctx ends.
func (r *running) serve(ctx context.Context, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- r.http.Serve(ln) }()
	audit := r.svc.Audit()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-audit:
			if err != nil {
				// Writes are already refused; a tampered or corrupt log
				// must not be served at all.
				return err
			}
			audit = nil
		case err := <-errc:
			if errors.Is(err, http.ErrServerClosed) {
				return nil
			}
			return err
		}
	}
}
