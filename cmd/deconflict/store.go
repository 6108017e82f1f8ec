package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/deconflict/deconflict/ledger"
	pebblestore "github.com/deconflict/deconflict/ledger/pebble"
)

// openStore opens the embedded ledger in DIR/log.
func openStore(ctx context.Context, dir string) (ledger.Store, error) {
	st, err := pebblestore.Open(ctx, filepath.Join(dir, "log"), pebblestore.Options{})
	if err != nil {
		return nil, fmt.Errorf("opening the log in %s: %w", filepath.Join(dir, "log"), err)
	}
	return st, nil
}
