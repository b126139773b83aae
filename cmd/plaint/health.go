package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/plaint/plaint/eventstore"
)

// reserve is --disk-reserve in bytes (checked by Validate).
func (c *ServeCmd) reserve() uint64 {
	n, _ := parseSize(c.DiskReserve)
	return uint64(n)
}

// lowOnSpace reports whether the data disk has less free space than the
// reserve, or than 5% of its size when that is smaller (a small disk).
func lowOnSpace(ds eventstore.DiskSpace, reserve uint64) (bool, uint64) {
	r := min(reserve, ds.Total/20)
	return ds.Free < r, r
}

// ready says why serve cannot take events now, nil when it can: NATS not
// connected, the data disk below its reserve, a JetStream store write
// error not yet recovered, or the ingest failing to store (plaint's own
// failures, retried with backoff).
func (e *engine) ready(data string, reserve uint64) error {
	var errs []error
	if err := e.nats.Connected(); err != nil {
		errs = append(errs, err)
	}
	if ds, err := eventstore.DiskSpaceOf(data); err == nil {
		if low, r := lowOnSpace(ds, reserve); low {
			errs = append(errs, fmt.Errorf("the data disk has %d bytes free, below the %d byte reserve (--disk-reserve): nothing can be written reliably", ds.Free, r))
		}
	}
	if e.natsSrv != nil {
		if err := e.natsSrv.StoreError(); err != nil {
			errs = append(errs, fmt.Errorf("the JetStream store cannot be written (%v); JetStream restarts once the disk has room", err))
		}
	}
	if err := e.lagging(); err != nil {
		errs = append(errs, err)
	}
	if e.ingest != nil {
		if failing, since := e.ingest.Failing(); failing {
			errs = append(errs, fmt.Errorf("the ingest has failed to store events since %s (retrying with backoff): %v", since.UTC().Format(time.RFC3339), e.ingest.LastFailure()))
		}
	}
	return errors.Join(errs...)
}

// recoverJetStream restarts the embedded server's JetStream after a store
// write error (a full disk) once the data disk has room again; nats-server
// would otherwise leave the stream failed until plaint restarts. It checks
// every few seconds, backing off exponentially (to a minute) while a
// restart fails, with one log line per attempt at most each interval.
func (e *engine) recoverJetStream(ctx context.Context, data string, reserve uint64, logger *slog.Logger) {
	const base, maxWait = 2 * time.Second, time.Minute
	wait := base
	noted := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		serr := e.natsSrv.StoreError()
		if serr == nil {
			wait, noted = base, false
			continue
		}
		if !noted {
			logger.Error("JetStream cannot write its store; it is restarted once the data disk has room", "err", serr)
			noted = true
		}
		ds, err := eventstore.DiskSpaceOf(data)
		if err != nil {
			continue
		}
		if low, _ := lowOnSpace(ds, reserve); low {
			continue
		}
		if err := e.natsSrv.RestartJetStream(); err != nil {
			logger.Error("restarting JetStream failed; trying again", "err", err, "retry_in", wait.String())
			wait = min(2*wait, maxWait)
			continue
		}
		logger.Info("JetStream restarted after a store write error; the disk has room again", "free_bytes", ds.Free)
		wait, noted = base, false
	}
}
