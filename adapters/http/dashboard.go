package http

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"time"

	"github.com/plaint/plaint/domain"
)

// webFiles holds the dashboard: index.html, its styles and JavaScript
// modules, and the vendored chart library. Nothing is fetched from elsewhere.
//
//go:embed web
var webFiles embed.FS

// dashboardCSP is the Content-Security-Policy of every dashboard response:
// the page loads scripts, styles, images and data only from this server, and
// may not be framed. Charts are drawn on canvas, so no inline code is needed.
const dashboardCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// dashboardAsset is one embedded file, read once, with its content type and
// an ETag made from its content.
type dashboardAsset struct {
	body        []byte
	contentType string
	etag        string
}

// dashboard serves the embedded files.
type dashboard struct {
	assets map[string]dashboardAsset // by path below web/, e.g. "js/app.js"
}

// newDashboard reads every embedded file once.
func newDashboard() (*dashboard, error) {
	d := &dashboard{assets: map[string]dashboardAsset{}}
	sub, err := fs.Sub(webFiles, "web")
	if err != nil {
		return nil, fmt.Errorf("dashboard files: %w", err)
	}
	err = fs.WalkDir(sub, ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = http.DetectContentType(b)
		}
		sum := sha256.Sum256(b)
		d.assets[p] = dashboardAsset{body: b, contentType: ct, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dashboard files: %w", err)
	}
	if _, ok := d.assets["index.html"]; !ok {
		return nil, fmt.Errorf("dashboard files: index.html is missing")
	}
	return d, nil
}

// registerDashboardRoutes mounts the dashboard:
//
//	GET /            the single page (views are chosen by the URL fragment: #/trend/billing, #/review, ...)
//	GET /ui/{file}   its styles, scripts and the vendored chart library
//
// The page reads only the JSON API of this server, so whatever guards the
// API guards the dashboard's data too.
func (s *Server) registerDashboardRoutes() {
	d, err := newDashboard()
	if err != nil {
		// The files are compiled in: a broken set is a build defect, which
		// TestDashboardServesEveryReferencedFile catches.
		panic(err)
	}
	s.handle("GET /{$}", RolePublic, func(w http.ResponseWriter, r *http.Request) { d.serve(w, r, "index.html") })
	s.handle("GET /ui/{file...}", RolePublic, func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("file")
		if _, ok := d.assets[name]; !ok || name == "index.html" {
			s.error(w, r, domain.Errorf(domain.ENOTFOUND, "the dashboard has no file %s", r.URL.Path))
			return
		}
		d.serve(w, r, name)
	})
}

// serve writes one asset with the dashboard's security headers. Browsers
// revalidate every file (no-cache) and get 304 Not Modified while its ETag
// holds, so an upgraded binary is picked up at the next load.
func (d *dashboard) serve(w http.ResponseWriter, r *http.Request, name string) {
	a := d.assets[name]
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Content-Security-Policy", dashboardCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.body))
}
