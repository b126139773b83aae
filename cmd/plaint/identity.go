package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	plaintnats "github.com/plaint/plaint/adapters/nats"
	"github.com/plaint/plaint/eventstore"
)

// errIdentity is returned (wrapped, with what was found) when the files of
// the data directory do not belong to one log: events.db emptied, lost or
// restored from elsewhere beside a JetStream store, projections or a key
// snapshot of another. Exit code 3.
var errIdentity = errors.New("the data directory does not hold one log")

const freshHint = "restore events.db (from `plaint backup`), or pass --fresh to start from this events.db on purpose: " +
	"a missing or empty one becomes a new log, projections.db is rebuilt, and the consumer is made anew so that every event the stream still holds is ingested again"

// historyOf lists the files of a data directory that say it had a log.
func historyOf(data string) []string {
	var out []string
	if ents, err := os.ReadDir(filepath.Join(data, jetstreamDir)); err == nil && len(ents) > 0 {
		out = append(out, jetstreamDir+"/ (the NATS streams and the consumer's position)")
	}
	if fi, err := os.Stat(filepath.Join(data, projectionsFile)); err == nil && fi.Size() > 0 {
		out = append(out, projectionsFile)
	}
	if _, err := os.Stat(logPath(data) + ".keys"); err == nil {
		out = append(out, logFile+".keys")
	}
	return out
}

// logOpenOptions decides how serve may open the log: an emptied or missing
// events.db beside files that say the directory had a history is refused
// unless --fresh.
func (c *ServeCmd) logOpenOptions(data string) ([]eventstore.Option, error) {
	opts := []eventstore.Option{eventstore.WithLockTimeout(c.lockTimeout())}
	fi, err := os.Stat(logPath(data))
	state := ""
	switch {
	case errors.Is(err, os.ErrNotExist):
		state = "does not exist"
	case err == nil && fi.Size() == 0:
		state = "is empty (0 bytes)"
	default:
		return opts, nil
	}
	hist := historyOf(data)
	if len(hist) > 0 && !c.Fresh {
		return nil, fmt.Errorf("%w: %s %s, but the directory has a history: %s. Served as a new, empty log, the history would be lost (the stream ages it out); %s",
			errIdentity, logPath(data), state, strings.Join(hist, ", "), freshHint)
	}
	if len(hist) > 0 {
		// A new log: what the directory kept of the old one goes.
		os.Remove(logPath(data) + ".keys")
	}
	return append(opts, eventstore.WithInitEmpty()), nil
}

// lockTimeout is how long serve waits for another process's lock on the log.
func (c *ServeCmd) lockTimeout() time.Duration { return time.Second }

// checkProjectionsIdentity makes sure projections.db belongs to the log:
// one stamped with another log's identity is refused (or, with --fresh,
// removed to be rebuilt). Serve stamps it (eventstore.StampFile) once every
// check passed, so that a refused start changes nothing.
func (c *ServeCmd) checkProjectionsIdentity(path, logID string, logger *slog.Logger) error {
	pid, err := eventstore.FileIdentity(path)
	if err != nil {
		return err
	}
	if pid != "" && pid != logID {
		if !c.Fresh {
			return fmt.Errorf("%w: %s belongs to log %s, but %s is log %s; %s",
				errIdentity, path, pid, logFile, logID, freshHint)
		}
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("remove %s of another log: %w", path, err)
		}
		logger.Warn("--fresh: removed the projections of another log; they are rebuilt from this one", "path", path, "their_log", pid, "log", logID)
	}
	return nil
}

// checkConsumerIdentity makes sure the durable consumer feeds this log: its
// acknowledgements say which events the log holds, and another log must
// not inherit them. With --fresh a consumer of another log is removed, so
// that it is made anew and delivers everything the stream holds.
func (c *ServeCmd) checkConsumerIdentity(ctx context.Context, client *plaintnats.Client, logID string, logger *slog.Logger) error {
	cid, err := client.ConsumerLogID(ctx, c.Consumer)
	if err != nil || cid == "" || cid == logID {
		return err
	}
	if !c.Fresh {
		return fmt.Errorf("%w: the JetStream consumer %s has acknowledged events into log %s, but %s is log %s (emptied, or restored from another directory?): events it acknowledged would never reach this log; %s",
			errIdentity, c.Consumer, cid, logFile, logID, freshHint)
	}
	logger.Warn("--fresh: the consumer of another log is made anew; every event the stream holds is ingested again (duplicates are dropped)",
		"consumer", c.Consumer, "its_log", cid, "log", logID)
	return client.DeleteConsumer(ctx, c.Consumer)
}
