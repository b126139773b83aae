package main

// ServeCmd runs the engine.
type ServeCmd struct {
	NATSFlags
}

// Run starts the engine.
func (c *ServeCmd) Run(g *Globals) error { return nil }
