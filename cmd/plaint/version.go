package main

import (
	"fmt"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=..." (make
// build stamps `git describe`); otherwise versionString reads the VCS
// information Go records in the binary.
var version = "dev"

// versionString returns plaint's version: the stamped one, or "dev-" and
// the VCS revision (with "-dirty" when the tree had changes), or "dev".
func versionString() string {
	if version != "dev" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return version
	}
	if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version // go install module@version
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return version
	}
	v := "dev-" + rev[:min(12, len(rev))]
	if dirty {
		v += "-dirty"
	}
	return v
}

// VersionCmd prints the version.
type VersionCmd struct{}

// Run prints plaint's version and the Go version it was built with.
func (c *VersionCmd) Run(g *Globals) error {
	fmt.Fprintln(g.Stdout, versionLine())
	return nil
}

// versionLine is what `plaint version` and `plaint --version` print.
func versionLine() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		return fmt.Sprintf("plaint %s (%s)", versionString(), bi.GoVersion)
	}
	return "plaint " + versionString()
}
