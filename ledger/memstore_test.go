package ledger_test

import (
	"testing"

	"github.com/deconflict/deconflict/ledger"
	"github.com/deconflict/deconflict/ledger/storetest"
)

func TestMemStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dir string) ledger.Store {
		return ledger.NewMemStore()
	}, storetest.Config{Ephemeral: true})
}
