package main

import "github.com/plaint/plaint/domain"

// TrendCmd is a placeholder until its implementation lands.
type TrendCmd struct{}

// Run reports that the command is not built yet.
func (c *TrendCmd) Run(g *Globals) error {
	return domain.Errorf(domain.EUNAVAILABLE, "plaint trend is not available in this build yet")
}
