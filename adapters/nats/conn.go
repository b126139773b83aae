package nats

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/plaint/plaint/internal/problems"
)

// URLForm describes the URLs ConnConfig accepts, for error messages.
const URLForm = "nats://HOST:PORT (or tls://, ws://, wss://; HOST:PORT alone means nats://HOST:PORT), comma separated for a cluster"

// ConnConfig configures the client connection to a NATS server or cluster:
// the embedded server (URL from Server.ClientURL) or an external one.
type ConnConfig struct {
	// URL is one server URL or a comma-separated list of a cluster's URLs
	// (nats://, tls://, ws:// or wss://; a bare HOST:PORT, the form of
	// ServerConfig.Listen, means nats://HOST:PORT). Default
	// nats://127.0.0.1:4222.
	URL string
	// CredsFile is a NATS credentials file (JWT and seed). It excludes User.
	CredsFile string
	// User and Password authenticate with a user name and password.
	User     string
	Password string
	// NkeyFile is a user nkey seed file: the client signs the server's
	// challenge with it. It excludes CredsFile and User.
	NkeyFile string
	// TLSCA is a PEM file of the certificate authorities that sign the
	// server's certificate; empty means the system roots.
	TLSCA string
	// TLSCert and TLSKey are the PEM client certificate and key for mutual
	// TLS; both or neither.
	TLSCert string
	TLSKey  string
	// Name names the connection in the server's monitoring. Default "plaint".
	Name string
	// ReconnectWait is the pause between reconnect attempts. Default 1s.
	ReconnectWait time.Duration
	// ReconnectBufSize bounds the bytes published while disconnected that
	// the client buffers to send after it reconnects. Default 64 MiB.
	ReconnectBufSize int
}

func (c *ConnConfig) setDefaults() {
	c.URL = cmp.Or(c.URL, nats.DefaultURL)
	c.URL = normalizeURLs(c.URL)
	c.Name = cmp.Or(c.Name, "plaint")
	c.ReconnectWait = cmp.Or(c.ReconnectWait, time.Second)
	c.ReconnectBufSize = cmp.Or(c.ReconnectBufSize, 64<<20)
}

// normalizeURLs gives every URL of a comma-separated list without a scheme
// the nats:// scheme, so that a HOST:PORT (the form of --nats-listen) works.
func normalizeURLs(s string) string {
	parts := strings.Split(s, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p != "" && !strings.Contains(p, "://") {
			p = "nats://" + p
		}
		parts[i] = p
	}
	return strings.Join(parts, ",")
}

// Validate returns ErrConfig with every problem with the configuration,
// joined, or nil. It checks the URLs, that the authentication options do
// not conflict and that the files named exist.
func (c *ConnConfig) Validate() error {
	var errs []error
	if strings.TrimSpace(c.URL) == "" {
		errs = append(errs, errors.New("URL is required"))
	}
	for _, u := range strings.Split(c.URL, ",") {
		u = normalizeURLs(u)
		if u == "" {
			continue
		}
		p, err := url.Parse(u)
		if err != nil {
			errs = append(errs, fmt.Errorf("URL %q is not a URL (expected %s)", redactURL(u), URLForm))
			continue
		}
		switch p.Scheme {
		case "nats", "tls", "ws", "wss":
		default:
			errs = append(errs, fmt.Errorf("URL %q: scheme must be nats, tls, ws or wss (expected %s)", redactURL(u), URLForm))
		}
		if p.Host == "" {
			errs = append(errs, fmt.Errorf("URL %q has no host (expected %s)", redactURL(u), URLForm))
		}
	}
	if c.CredsFile != "" && c.User != "" {
		errs = append(errs, errors.New("the CredsFile and User settings are mutually exclusive"))
	}
	if c.NkeyFile != "" && (c.CredsFile != "" || c.User != "") {
		errs = append(errs, errors.New("the NkeyFile setting excludes CredsFile and User"))
	}
	if c.Password != "" && c.User == "" {
		errs = append(errs, errors.New("a Password needs a User"))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("TLSCert and TLSKey must be given together"))
	}
	for _, f := range []struct{ name, path string }{
		{"CredsFile", c.CredsFile}, {"NkeyFile", c.NkeyFile}, {"TLSCA", c.TLSCA}, {"TLSCert", c.TLSCert}, {"TLSKey", c.TLSKey},
	} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.name, err))
		}
	}
	if c.ReconnectWait < 0 {
		errs = append(errs, errors.New("ReconnectWait must not be negative"))
	}
	if c.ReconnectBufSize < 0 {
		errs = append(errs, errors.New("ReconnectBufSize must not be negative"))
	}
	return problems.Join(ErrConfig, errs)
}

// redactURL hides passwords embedded in URLs before they reach an error.
func redactURL(s string) string {
	parts := strings.Split(s, ",")
	for i, p := range parts {
		if u, err := url.Parse(strings.TrimSpace(p)); err == nil && u.User != nil {
			parts[i] = u.Redacted()
		}
	}
	return strings.Join(parts, ",")
}
