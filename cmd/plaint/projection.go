package main

import "github.com/plaint/plaint/domain"

// ProjectionCmd is a placeholder until its implementation lands.
type ProjectionCmd struct{}

// Run reports that the command is not built yet.
func (c *ProjectionCmd) Run(g *Globals) error {
	return domain.Errorf(domain.EUNAVAILABLE, "plaint projection is not available in this build yet")
}
