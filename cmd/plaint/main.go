// Command plaint is the event-sourced complaint trend engine: `plaint serve`
// runs it; the other subcommands publish events, inspect the log and ask
// questions of it. `plaint --help` lists them.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain()
	os.Exit(m.Run(ctx, os.Args[1:]))
}
