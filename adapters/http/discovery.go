package http

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// URLFile is the file in the data directory where a running server writes
// the URL it listens on, so that commands find it without --server. It is
// written when the server listens and removed when it stops cleanly; one
// left by a crash names a port where nothing answers, which a command
// treats as no server.
const URLFile = "http.url"

// DefaultServer is the URL commands ask when nothing else names a server:
// the default --http address.
const DefaultServer = "http://127.0.0.1:8080"

// Discover returns the URL of the server commands should ask, and where it
// came from: the --server flag, else the PLAINT_SERVER environment
// variable, else the URL the server holding dataDir wrote there, else
// DefaultServer.
func Discover(flag, env, dataDir string) (url, from string) {
	switch {
	case flag != "":
		return flag, "--server"
	case env != "":
		return env, "PLAINT_SERVER"
	}
	if dataDir != "" {
		if b, err := os.ReadFile(filepath.Join(dataDir, URLFile)); err == nil {
			if u := strings.TrimSpace(string(b)); u != "" {
				return u, filepath.Join(dataDir, URLFile)
			}
		}
	}
	return DefaultServer, "the default"
}

// ListenURL is the URL a client on this machine uses to reach a server
// listening on addr: an unspecified host (0.0.0.0, ::) is reached on
// loopback.
func ListenURL(addr string, tls bool) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if ip.To4() == nil {
			host = "::1"
		}
	}
	scheme := "http"
	if tls {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// writeURLFile writes u into dir/URLFile atomically (a temporary file
// renamed over it), so that a reader sees the old URL or the new one.
func writeURLFile(dir, u string) error {
	f, err := os.CreateTemp(dir, URLFile+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", URLFile, err)
	}
	_, werr := f.WriteString(u + "\n")
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", URLFile, err)
	}
	if err := os.Rename(f.Name(), filepath.Join(dir, URLFile)); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", URLFile, err)
	}
	return nil
}

// removeURLFile removes dir/URLFile if it still holds u (a server started
// since on the same directory, after this one lost its lock, keeps its own).
func removeURLFile(dir, u string) error {
	p := filepath.Join(dir, URLFile)
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove %s: %w", URLFile, err)
	}
	if strings.TrimSpace(string(b)) != u {
		return nil
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", URLFile, err)
	}
	return nil
}
