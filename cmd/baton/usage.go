package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/batonhq/baton"
)

// strictUsage makes every mistake in a command line an EINVALID error
// (exit status 2) that points at --help. Cobra on its own prints the help
// of a command that only groups others and exits 0 whatever follows it
// ("baton kb searhc"), and returns flag and argument errors without a code.
// It runs on the finished tree, so that it also covers the help and
// completion commands cobra adds.
func strictUsage(root *cobra.Command) {
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		// "baton nlu evl --task intent": the mistyped subcommand, not
		// the flags it would have taken, is the mistake to report.
		if args := c.Flags().Args(); c.HasSubCommands() && len(args) > 0 {
			return unknownCommand(c, args[0])
		}
		return usageError(c, err)
	})
	// A group is runnable only to reject unknown subcommands: its usage
	// stays "baton kb [command]", without a "baton kb [flags]" line.
	root.SetUsageTemplate(strings.Replace(root.UsageTemplate(),
		"Usage:{{if .Runnable}}", "Usage:{{if and .Runnable (not .HasAvailableSubCommands)}}", 1))
	for _, c := range root.Commands() {
		if c.Name() == "help" {
			c.Run = nil
			c.RunE = runHelp
		}
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		switch {
		case c.HasSubCommands() && !c.Runnable():
			c.Args = noUnknownSubcommand
			c.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
		case c.Args != nil:
			args := c.Args
			c.Args = func(c *cobra.Command, a []string) error {
				if err := args(c, a); err != nil {
					return usageError(c, err)
				}
				return nil
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// usageError marks err as a mistake in the command line of c.
func usageError(c *cobra.Command, err error) error {
	return baton.Errorf(baton.EINVALID, "%w\nRun '%s --help' for usage.", err, c.CommandPath())
}

// noUnknownSubcommand is the Args of a command that only groups others: any
// argument is a subcommand it does not have.
func noUnknownSubcommand(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	return unknownCommand(c, args[0])
}

// unknownCommand names the mistyped command and cobra's suggestions.
func unknownCommand(c *cobra.Command, name string) error {
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2
	}
	var b strings.Builder
	fmt.Fprintf(&b, "unknown command %q for %q", name, c.CommandPath())
	if s := c.SuggestionsFor(name); len(s) > 0 {
		fmt.Fprintf(&b, "\n\nDid you mean this?\n\t%s\n", strings.Join(s, "\n\t"))
	}
	return baton.Errorf(baton.EINVALID, "%s\nRun '%s --help' for usage.", b.String(), c.CommandPath())
}

// runHelp is "baton help [command]": cobra's prints the root's help and
// exits 0 for a topic it does not know.
func runHelp(c *cobra.Command, args []string) error {
	cmd, rest, err := c.Root().Find(args)
	if err != nil {
		return usageError(c, err)
	}
	if len(rest) > 0 && cmd.HasSubCommands() {
		return unknownCommand(cmd, rest[0])
	}
	return cmd.Help()
}
