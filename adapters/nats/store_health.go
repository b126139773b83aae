package nats

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/nats-io/nats-server/v2/server"
)

// storeWatch is the embedded server's logger: it passes the server's lines
// on when the server logs, and notices a JetStream store write error (a
// full disk). After one, nats-server keeps the stream failed until
// JetStream is restarted: publishes to it get no answer even once space
// returns (see Server.StoreError and RestartJetStream).
type storeWatch struct {
	next server.Logger // nil: the server's own lines are not shown

	mu  sync.Mutex
	err error
}

func (w *storeWatch) Noticef(format string, v ...any) {
	if w.next != nil {
		w.next.Noticef(format, v...)
	}
}

func (w *storeWatch) Warnf(format string, v ...any) {
	w.watch(format, v)
	if w.next != nil {
		w.next.Warnf(format, v...)
	}
}

func (w *storeWatch) Fatalf(format string, v ...any) {
	if w.next != nil {
		w.next.Fatalf(format, v...)
	}
}

func (w *storeWatch) Errorf(format string, v ...any) {
	w.watch(format, v)
	if w.next != nil {
		w.next.Errorf(format, v...)
	}
}

func (w *storeWatch) Debugf(format string, v ...any) {
	if w.next != nil {
		w.next.Debugf(format, v...)
	}
}

func (w *storeWatch) Tracef(format string, v ...any) {
	if w.next != nil {
		w.next.Tracef(format, v...)
	}
}

// watch records a store write error the server logged.
func (w *storeWatch) watch(format string, v []any) {
	line := fmt.Sprintf(format, v...)
	if !strings.Contains(line, "critical write error") && !strings.Contains(line, "no space left") &&
		!strings.Contains(line, "out of resources") && !strings.Contains(line, "disabling JetStream") {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = errors.New(line)
	}
}

func (w *storeWatch) get() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *storeWatch) clear() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.err = nil
}

// StoreError returns the JetStream store write error the server met (a full
// disk), nil when there was none since the start or the last
// RestartJetStream. While it is set nothing can be written to the stream
// that failed.
func (s *Server) StoreError() error { return s.watch.get() }

// RestartJetStream restarts JetStream in the running server, as nats-server
// needs after a store write error: the streams and consumers are loaded
// again from their files and accept messages again. Clients stay
// connected. Call it once the disk has room again.
func (s *Server) RestartJetStream() error {
	cfg := server.JetStreamConfig{MaxMemory: -1}
	if c := s.ns.JetStreamConfig(); c != nil {
		cfg = *c
	}
	cfg.StoreDir, cfg.MaxStore = s.cfg.StoreDir, s.maxStore
	if err := s.ns.ShutdownJetStream(); err != nil {
		return fmt.Errorf("restart JetStream: shut down: %w", err)
	}
	if err := s.ns.EnableJetStream(&cfg); err != nil {
		return fmt.Errorf("restart JetStream: %w", err)
	}
	s.watch.clear()
	return nil
}

// MaxStore returns the JetStream file store limit the server runs with.
func (s *Server) MaxStore() int64 { return s.maxStore }
