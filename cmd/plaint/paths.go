package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
)

// The files plaint keeps in its data directory.
const (
	logFile         = "events.db"
	projectionsFile = "projections.db"
	jetstreamDir    = "jetstream"
)

func logPath(data string) string { return filepath.Join(data, logFile) }

// openLogOffline opens the data directory's log read-only for a command that
// reads it directly. When a running server holds it, it says so at once.
func openLogOffline(g *Globals) (*eventstore.Log, error) {
	return openLogFileOffline(g, "")
}

// openForReading opens what --data names for a command that reads the
// whole log itself (replay, alerts backtest): a backup file read-only, or
// the data directory when no server holds it. When a server does, the
// error is EUNAVAILABLE with inUse, which says what to do instead.
func openForReading(g *Globals, inUse string) (*eventstore.Log, error) {
	if fi, err := os.Stat(g.Data); err == nil && !fi.IsDir() {
		l, err := eventstore.Open(g.Data, eventstore.WithReadOnly())
		if err != nil {
			return nil, fmt.Errorf("open backup %s: %w", g.Data, err)
		}
		return l, nil
	}
	l, err := openLogOffline(g)
	if domain.ErrorCode(err) == domain.EUNAVAILABLE {
		return nil, &domain.Error{Code: domain.EUNAVAILABLE, Message: fmt.Sprintf("the data directory %s is in use by a running plaint server: %s", g.Data, inUse)}
	}
	return l, err
}

// offlineOrServer reads the data directory's log with offline when it can
// open it, and asks the server with server when a running server holds the
// directory or --server was given alone.
func offlineOrServer[T any](g *Globals, offline func(*eventstore.Log) (T, error), server func() (T, error)) (T, error) {
	if g.serverOnly() {
		return server()
	}
	l, err := openLogOffline(g)
	if domain.ErrorCode(err) == domain.EUNAVAILABLE {
		return server()
	}
	if err != nil {
		var zero T
		return zero, err
	}
	defer l.Close()
	return offline(l)
}

// openLogFileOffline is openLogOffline for a given log or backup file; ""
// means the data directory's log.
func openLogFileOffline(g *Globals, path string) (*eventstore.Log, error) {
	named := path != ""
	if !named && g.serverOnly() {
		return nil, &domain.Error{Code: domain.EUNAVAILABLE, Message: fmt.Sprintf(
			"no plaint server answers at %s, and --server was given without --data, so no data directory is read (pass --data DIR to read one)", g.Server)}
	}
	if path == "" {
		path = logPath(g.Data)
	}
	l, err := eventstore.Open(path, eventstore.WithReadOnly(), eventstore.WithLockTimeout(300*time.Millisecond))
	switch {
	case errors.Is(err, eventstore.ErrLocked):
		return nil, &domain.Error{Code: domain.EUNAVAILABLE, Message: fmt.Sprintf(
			"the data directory %s is in use by a running plaint server; stop it, or ask it through --server %s", g.Data, g.Server)}
	case errors.Is(err, eventstore.ErrNotExist) && named:
		return nil, domain.Errorf(domain.EINVALID, "%s: the file does not exist", path)
	case errors.Is(err, eventstore.ErrNotExist):
		return nil, &domain.Error{Code: domain.ENOTFOUND, Message: fmt.Sprintf("no event log at %s (start `plaint serve --data DIR` first, or pass --data)", path)}
	}
	return l, err
}
