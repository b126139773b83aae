package http

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/plaint/plaint/domain"
)

// ErrNoServer means that nothing answers at the server's address.
var ErrNoServer = errors.New("no plaint server answers")

// Client asks a running plaint server over its HTTP API. It is what the
// command line uses; its zero value is not usable, make one with NewClient.
type Client struct {
	// URL is the server's base URL, such as http://127.0.0.1:8080.
	URL string
	// Token, when set, is sent as a bearer token.
	Token string
	// Hint is added to the error when no server answers, to say how to
	// name another one.
	Hint string
	// AuthHint is added to a 401's and a 403's message, to say how to
	// give a token.
	AuthHint string
	// CAHint is added to the error when the server's certificate is signed
	// by no CA the client trusts, to say how to name its CA.
	CAHint string

	http *http.Client
}

// NewClient returns a client of the server at base (a URL with a host).
func NewClient(base string) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, domain.FieldErrorf("server", "%q is not an http:// or https:// URL", base)
	}
	return &Client{URL: u.String(), http: &http.Client{}}, nil
}

// SetHTTPClient replaces the client's transport, for TLS settings.
func (c *Client) SetHTTPClient(hc *http.Client) { c.http = hc }

// TrustCAFile makes the client verify the server's certificate against the
// CA certificates (PEM) in file instead of the system's roots: a server
// with a self-signed or private-CA certificate. A file that cannot be read
// or holds no certificate is an EINVALID error.
func (c *Client) TrustCAFile(file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return domain.Errorf(domain.EINVALID, "CA file: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return domain.Errorf(domain.EINVALID, "CA file %s holds no PEM certificate", file)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	c.http = &http.Client{Transport: tr}
	return nil
}

// send sends a request and returns the response of a 2xx answer. A server
// error is returned as the *domain.Error its body carries; no server at
// all as ErrNoServer.
func (c *Client) send(ctx context.Context, method, path string, q url.Values, body []byte, header http.Header) (*http.Response, error) {
	u := c.URL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("request %s: %w", path, err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return nil, fmt.Errorf("%w at %s%s: %w", ErrNoServer, c.URL, c.Hint, err)
		}
		var unknownCA x509.UnknownAuthorityError
		if errors.As(err, &unknownCA) {
			return nil, fmt.Errorf("ask %s: %w%s", c.URL, err, c.CAHint)
		}
		return nil, fmt.Errorf("ask %s: %w", c.URL, err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var e struct {
		Error ErrorBody `json:"error"`
	}
	if json.Unmarshal(b, &e) == nil && e.Error.Code != "" {
		if e.Error.Code == domain.EUNAUTHORIZED || e.Error.Code == domain.EFORBIDDEN {
			e.Error.Message += c.AuthHint
		}
		return nil, &domain.Error{Code: e.Error.Code, Message: e.Error.Message}
	}
	return nil, fmt.Errorf("%s %s: %s", method, path, resp.Status)
}

// Do sends a request with an optional body and returns the body of a 2xx
// answer.
func (c *Client) Do(ctx context.Context, method, path string, q url.Values, body []byte) ([]byte, error) {
	return c.DoType(ctx, method, path, q, body, "")
}

// DoType is Do with the body's content type.
func (c *Client) DoType(ctx context.Context, method, path string, q url.Values, body []byte, contentType string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	var h http.Header
	if contentType != "" {
		h = http.Header{"Content-Type": {contentType}}
	}
	resp, err := c.send(ctx, method, path, q, body, h)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read answer from %s: %w", c.URL, err)
	}
	return b, nil
}

// Get is Do for a GET.
func (c *Client) Get(ctx context.Context, path string, q url.Values) ([]byte, error) {
	return c.Do(ctx, http.MethodGet, path, q, nil)
}

// Stream sends a GET and returns the open body of a 2xx answer, for large
// downloads (backups, the event tail); the caller closes it.
func (c *Client) Stream(ctx context.Context, path string, q url.Values) (io.ReadCloser, error) {
	resp, err := c.send(ctx, http.MethodGet, path, q, nil, nil)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// EventStream opens a Server-Sent Events stream at path, resuming after
// the event lastID names when it is not empty (the Last-Event-ID header),
// and returns the open body of a 2xx answer; the caller closes it.
func (c *Client) EventStream(ctx context.Context, path, lastID string) (io.ReadCloser, error) {
	h := http.Header{"Accept": {"text/event-stream"}}
	if lastID != "" {
		h.Set("Last-Event-ID", lastID)
	}
	resp, err := c.send(ctx, http.MethodGet, path, nil, nil, h)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// Health is the answer of GET /healthz.
type Health struct {
	Status  string `json:"status"`
	Version string `json:"version"`
	// DataDir is the absolute data directory the server holds.
	DataDir       string `json:"data_dir"`
	UptimeSeconds int    `json:"uptime_seconds"`
}

// Health asks the server's /healthz.
func (c *Client) Health(ctx context.Context) (Health, error) {
	var h Health
	b, err := c.Get(ctx, "/healthz", nil)
	if err != nil {
		return h, err
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return h, fmt.Errorf("health answer from %s: %w", c.URL, err)
	}
	return h, nil
}
