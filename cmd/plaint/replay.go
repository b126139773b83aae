package main

import "github.com/plaint/plaint/domain"

// ReplayCmd is a placeholder until its implementation lands.
type ReplayCmd struct{}

// Run reports that the command is not built yet.
func (c *ReplayCmd) Run(g *Globals) error {
	return domain.Errorf(domain.EUNAVAILABLE, "plaint replay is not available in this build yet")
}
