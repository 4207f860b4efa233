package web

import (
	"embed"
	"io/fs"
	"net/http"
)

// static holds the page: plain HTML, CSS and JavaScript, no build step, nothing fetched from
// the Internet.
//
//go:embed static
var static embed.FS

func staticHandler() http.Handler {
	sub, _ := fs.Sub(static, "static") // the folder is embedded: cannot fail
	return http.StripPrefix("/static/", http.FileServerFS(sub))
}

func serveIndex(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
	w.Header().Set("Cache-Control", "no-store")
	http.ServeFileFS(w, r, static, "static/index.html")
}
