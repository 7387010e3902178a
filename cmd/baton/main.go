// Command baton is the Baton support platform in one binary: the server
// (serve), a zero-configuration demo (demo), database migrations (migrate)
// and the tools later issues add. Configuration loading and the wiring of
// every package happen here and nowhere else.
package main

import (
	"context"
	"os"

	"github.com/mattn/go-isatty"
)

func main() {
	e := &env{
		stdout:     os.Stdout,
		stderr:     os.Stderr,
		lookupEnv:  os.LookupEnv,
		isTerminal: isatty.IsTerminal(os.Stderr.Fd()) || isatty.IsCygwinTerminal(os.Stderr.Fd()),
	}
	os.Exit(run(context.Background(), os.Args[1:], e))
}
