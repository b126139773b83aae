package main

import (
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// startIngest starts the Watermill ingest router. Placeholder until the
// ingest adapter lands.
func (c *ServeCmd) startIngest(g *Globals, e *engine, js jetstream.JetStream, reg *prometheus.Registry) (func() any, error) {
	return nil, nil
}
