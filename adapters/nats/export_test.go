package nats

import "github.com/nats-io/nats.go"

// ConnOf exposes a Client's connection to the tests, which check its options.
func ConnOf(c *Client) *nats.Conn { return c.nc }
