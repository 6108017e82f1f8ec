// Package web holds deconflict's map UI: the built front-end assets
// (web/dist, made from web/src by web/build.mjs and committed, so the
// binary needs no npm step) embedded in the binary.
package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed dist
var dist embed.FS

// Handler serves the UI's assets, index.html at /.
func Handler() http.Handler {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // the embedded tree always has dist
	}
	return http.FileServerFS(sub)
}
