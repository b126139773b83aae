package main

import (
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	plainthttp "github.com/plaint/plaint/adapters/http"
)

// loadTokens reads --tokens (nil without it) and reloads it on SIGHUP for
// as long as the engine runs: a file that became invalid is logged and the
// tokens stay as they were.
func (c *ServeCmd) loadTokens(e *engine, logger *slog.Logger) (*plainthttp.Tokens, error) {
	if c.Tokens == "" {
		return nil, nil
	}
	tokens, err := plainthttp.LoadTokens(c.Tokens)
	if err != nil {
		return nil, err
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	e.closers = append(e.closers, func() error { signal.Stop(hup); close(hup); <-done; return nil })
	go func() {
		defer close(done)
		for range hup {
			if err := tokens.Reload(); err != nil {
				logger.Error("tokens file not reloaded; the previous tokens stay in force", "err", err)
				continue
			}
			logger.Info("tokens file reloaded", "tokens", tokens.Len())
		}
	}()
	return tokens, nil
}
