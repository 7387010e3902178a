package baton_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/batonhq/baton"

// layoutRule forbids packages under From (the package itself and every
// package below it) to import anything under one of Never. Rules come from
// DESIGN.md §2; test files count, so that no harness drags a forbidden
// dependency in through the back door.
type layoutRule struct {
	From  string
	Never []string
	// Except are packages under Never that are allowed all the same.
	Except []string
	// NeverOutsideTests are forbidden in the package's own code but may be
	// used by its tests (a real store under an HTTP test, say).
	NeverOutsideTests []string
	Why               string
}

var layoutRules = []layoutRule{
	{From: "", Never: []string{""}, Why: "the root package is the domain: standard library only"},
	{From: "channels", Never: []string{"bots", "kb", "nlu", "store", "handoff", "jobs"}, Why: "adapters know the domain, not the capabilities or the stores"},
	{From: "bots", Never: []string{"store", "web", "channels"}, Why: "the bot works through domain interfaces so evals and tests can drive it"},
	{From: "kb", Never: []string{"bots", "handoff", "channels", "web"}, NeverOutsideTests: []string{"store"}, Why: "the KB is a capability others use; its caller passes the store"},
	{From: "nlu", Never: []string{"bots", "handoff", "channels", "kb", "web", "store"}, Why: "language services are a capability others use"},
	{From: "handoff", Never: []string{"web", "channels", "bots"}, NeverOutsideTests: []string{"store"}, Why: "ownership, routing and SLA policy work through domain interfaces (their tests run them on the real stores)"},
	{From: "handoff/slack", Never: []string{"web", "channels", "bots", "kb", "nlu"}, NeverOutsideTests: []string{"store", "handoff", "jobs"}, Why: "the Slack console talks to the desk through baton.Desk and to Slack through slack-go (its tests run the real desk, pool and stores)"},
	{From: "store", Never: []string{"bots", "channels", "kb", "nlu", "handoff", "web", "jobs"}, Except: []string{"nlu/stem"}, Why: "stores keep rows; they know only the domain (and the stemmers their keyword index shares with Postgres's)"},
	{From: "jobs", Never: []string{"bots", "channels", "kb", "nlu", "handoff", "web"}, NeverOutsideTests: []string{"store"}, Why: "the job runtime runs handlers over the domain's JobStore (its tests run it on the real stores)"},
	{From: "web", Never: []string{"bots", "channels", "handoff", "nlu", "jobs"}, NeverOutsideTests: []string{"store"}, Why: "the HTTP surface mounts handlers it is given"},
	{From: "app", Why: "the assembly plugs every capability together: it may import anything"},
	{From: "config", Never: []string{"bots", "channels", "kb", "nlu", "handoff", "store", "web", "jobs"}, Why: "configuration is data: the assembly and the commands turn it into components"},
}

// importedOnlyBy names the packages that only some may import (tests
// included), and who.
var importedOnlyBy = map[string][]string{
	// The assembly is the top: the binary serves it, eval runs and its own
	// end-to-end tests drive it; a capability importing it would depend on
	// everything.
	"app": {"app", "cmd", "evals"},
}

// layoutDebt lists the forbidden imports that exist today and are being
// removed. The test fails on any forbidden import not listed here, and on a
// listed one that no longer exists, so the list can only shrink.
var layoutDebt = map[string]bool{}

func TestImportLayout(t *testing.T) {
	imports := projectImports(t)
	found := map[string]bool{}
	var bad []string
	for _, imp := range imports {
		for _, r := range layoutRules {
			if !under(imp.from, r.From) || (r.From == "" && imp.from != "") {
				continue
			}
			never := r.Never
			if !imp.test {
				never = append(never[:len(never):len(never)], r.NeverOutsideTests...)
			}
			for _, never := range never {
				if !under(imp.to, never) || (never == "" && imp.to == imp.from) || excepted(imp.to, r.Except) {
					continue
				}
				key := imp.from + " -> " + imp.to
				if layoutDebt[key] {
					found[key] = true
					continue
				}
				bad = append(bad, key+" ("+imp.file+"): "+r.Why)
			}
		}
	}
	for _, imp := range imports {
		for target, allowed := range importedOnlyBy {
			if under(imp.to, target) && !excepted(imp.from, allowed) {
				bad = append(bad, imp.from+" -> "+imp.to+" ("+imp.file+"): only "+strings.Join(allowed, ", ")+" may import "+target)
			}
		}
	}
	sort.Strings(bad)
	for _, b := range bad {
		t.Errorf("forbidden import %s", b)
	}
	for key := range layoutDebt {
		if !found[key] {
			t.Errorf("layoutDebt lists %s, which no longer exists: remove it from the list", key)
		}
	}
}

type projectImport struct {
	from, to, file string
	test           bool // only test files import it
}

func excepted(p string, except []string) bool {
	for _, e := range except {
		if under(p, e) {
			return true
		}
	}
	return false
}

// projectImports returns one entry per (package, imported project package),
// test files included, with a file that imports it (a non-test file when
// there is one).
func projectImports(t *testing.T) []projectImport {
	t.Helper()
	seen := map[string]int{}
	var out []projectImport
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if p != "." && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		from := filepath.ToSlash(filepath.Dir(p))
		if from == "." {
			from = ""
		}
		for _, is := range f.Imports {
			ip, _ := strconv.Unquote(is.Path.Value)
			if ip != module && !strings.HasPrefix(ip, module+"/") {
				continue
			}
			to := strings.TrimPrefix(strings.TrimPrefix(ip, module), "/")
			key := from + " -> " + to
			test := strings.HasSuffix(p, "_test.go")
			if i, ok := seen[key]; ok {
				if out[i].test && !test {
					out[i].test, out[i].file = false, filepath.ToSlash(p)
				}
				continue
			}
			seen[key] = len(out)
			out = append(out, projectImport{from: from, to: to, file: filepath.ToSlash(p), test: test})
		}
		return nil
	})
	if err != nil {
		t.Fatalf("reading the module's imports: %v", err)
	}
	if len(out) == 0 {
		t.Fatal("found no project imports: is the test running at the module root?")
	}
	return out
}

// under reports whether package p is dir or below it; "" is the module root,
// which every package is under.
func under(p, dir string) bool {
	if dir == "" {
		return true
	}
	return p == dir || strings.HasPrefix(p, dir+"/") || path.Clean(p) == dir
}
