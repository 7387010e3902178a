package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// TestExamplesRun runs every example of every command's --help and every
// baton command line in the README's shell blocks, as a newcomer would: in
// a fresh clone (the tracked files only: no data directory, no data from
// outside the repository), with no Baton variable set. An example that
// names a file the repository does not have fails here.
func TestExamplesRun(t *testing.T) {
	root := repoRoot(t)
	clone := freshClone(t, root)
	var lines []example
	lines = append(lines, helpExamples(t)...)
	lines = append(lines, readmeExamples(t, root)...)
	if len(lines) < 10 {
		t.Fatalf("only %d examples found: is the extraction broken?", len(lines))
	}
	seen := map[string]bool{}
	for _, ex := range lines {
		if seen[ex.line] {
			continue
		}
		seen[ex.line] = true
		t.Run(ex.line, func(t *testing.T) {
			args, err := splitArgs(ex.line)
			if err != nil {
				t.Fatalf("%s: %v", ex.from, err)
			}
			cmd := exec.Command(binary, args...)
			cmd.Dir = clone
			cmd.Env = cleanEnv()
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			start := time.Now()
			err = cmd.Run()
			t.Logf("%s: %v", ex.from, time.Since(start).Round(time.Millisecond))
			if err != nil {
				t.Errorf("%s: %v\n%s", ex.from, err, out.String())
			}
		})
	}
}

type example struct {
	line string // arguments after "baton"
	from string // where it was found
}

// helpExamples are the "baton ..." lines of every command's Example.
func helpExamples(t *testing.T) []example {
	t.Helper()
	var out []example
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, l := range strings.Split(c.Example, "\n") {
			l = strings.TrimSpace(l)
			if l == "" {
				continue
			}
			args, ok := strings.CutPrefix(l, "baton ")
			if !ok {
				t.Errorf("%s --help: example %q does not start with \"baton \"", c.CommandPath(), l)
				continue
			}
			out = append(out, example{line: args, from: c.CommandPath() + " --help"})
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd(&env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, lookupEnv: os.LookupEnv}))
	return out
}

// readmeExamples are the "bin/baton ..." lines of the README's sh blocks;
// a make line must name a target of the Makefile (make test is not run
// from inside the tests).
func readmeExamples(t *testing.T, root string) []example {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	var out []example
	inSh := false
	sc := bufio.NewScanner(bytes.NewReader(readme))
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "```sh"):
			inSh = true
			continue
		case strings.HasPrefix(l, "```"):
			inSh = false
			continue
		case !inSh:
			continue
		}
		if i := strings.Index(l, " #"); i >= 0 {
			l = l[:i]
		}
		l = strings.TrimSpace(l)
		from := "README.md line " + strconv.Itoa(n)
		switch {
		case l == "":
		case strings.HasPrefix(l, "bin/baton "):
			out = append(out, example{line: strings.TrimPrefix(l, "bin/baton "), from: from})
		case strings.HasPrefix(l, "make "):
			target := strings.TrimPrefix(l, "make ")
			if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(target) + `:`).Match(makefile) {
				t.Errorf("%s: make %s: no such target in the Makefile", from, target)
			}
		default:
			t.Errorf("%s: %q is neither a bin/baton nor a make line; the README test cannot check it", from, l)
		}
	}
	return out
}

// freshClone is a copy of the repository's tracked files and nothing else:
// what "git clone" gives a newcomer (no baton-data, no build output).
func freshClone(t *testing.T, root string) string {
	t.Helper()
	ls := exec.Command("git", "ls-files")
	ls.Dir = root
	files, err := ls.Output()
	if err != nil {
		t.Skipf("git ls-files: %v (not a git checkout)", err)
	}
	dir := t.TempDir()
	for _, f := range strings.Split(strings.TrimSpace(string(files)), "\n") {
		data, err := os.ReadFile(filepath.Join(root, f))
		if os.IsNotExist(err) {
			continue // deleted in the working tree
		}
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// splitArgs splits a command line on blanks, honouring single and double
// quotes; anything a shell would do more is refused, to keep the examples
// plain.
func splitArgs(line string) ([]string, error) {
	var args []string
	var cur strings.Builder
	inArg := false
	var quote rune
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inArg = r, true
		case r == ' ' || r == '\t':
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		case strings.ContainsRune("|&;<>$`\\*?", r):
			return nil, fmt.Errorf("%q: shell syntax in an example", line)
		default:
			cur.WriteRune(r)
			inArg = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("%q: unclosed quote", line)
	}
	if inArg {
		args = append(args, cur.String())
	}
	return args, nil
}
