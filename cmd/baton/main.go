// Command baton is the Baton support platform in one binary: the server
// (serve), a zero-configuration demo (demo), database migrations (migrate)
// and the tools later issues add. It reads flags and the configuration,
// opens the store, listens and handles signals; the pipeline it serves is
// assembled by package app.
package main

import (
	"context"
	"os"

	"github.com/mattn/go-isatty"
)

func main() {
	e := &env{
		stdout:        os.Stdout,
		stderr:        os.Stderr,
		stdin:         os.Stdin,
		lookupEnv:     os.LookupEnv,
		isTerminal:    isatty.IsTerminal(os.Stderr.Fd()) || isatty.IsCygwinTerminal(os.Stderr.Fd()),
		stdinTerminal: isatty.IsTerminal(os.Stdin.Fd()) || isatty.IsCygwinTerminal(os.Stdin.Fd()),
	}
	os.Exit(run(context.Background(), os.Args[1:], e))
}
