package main

import (
	"fmt"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// VersionCmd prints the version.
type VersionCmd struct{}

// Run prints plaint's version and the Go version it was built with.
func (c *VersionCmd) Run(g *Globals) error {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok && v == "dev" {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v = "dev-" + s.Value[:12]
			}
		}
		fmt.Fprintf(g.Stdout, "plaint %s (%s)\n", v, bi.GoVersion)
		return nil
	}
	fmt.Fprintf(g.Stdout, "plaint %s\n", v)
	return nil
}
