package main

import "github.com/plaint/plaint/domain"

// EmitCmd is a placeholder until its implementation lands.
type EmitCmd struct{}

// Run reports that the command is not built yet.
func (c *EmitCmd) Run(g *Globals) error {
	return domain.Errorf(domain.EUNAVAILABLE, "plaint emit is not available in this build yet")
}
