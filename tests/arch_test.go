package tests

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/sluicedb/sluice"

// forbidden lists, per package directory prefix, the module packages it must
// not import (ARCHITECTURE.md: imports point one way).
var forbidden = map[string][]string{
	"exec":    {"sql", "planner", "server", "cmd", ""},
	"storage": {"sql", "planner", "exec", "server", "cmd", ""},
	"sql":     {"planner", "exec", "storage", "server", "cmd", ""},
	"planner": {"server", "cmd", ""},
	"server":  {"planner", "exec", "storage", "cmd"},
}

// TestImportDirection fails when a package imports against the layering.
func TestImportDirection(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		dir := filepath.ToSlash(filepath.Dir(rel))
		top := strings.SplitN(dir, "/", 2)[0]
		rules, ok := forbidden[top]
		if !ok {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if !strings.HasPrefix(p, module) {
				continue
			}
			target := strings.TrimPrefix(strings.TrimPrefix(p, module), "/")
			targetTop := strings.SplitN(target, "/", 2)[0]
			for _, bad := range rules {
				if targetTop == bad {
					name := bad
					if name == "" {
						name = "the root package sluice"
					}
					t.Errorf("%s imports %s: %s must not import %s", rel, p, top, name)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatal("no Go files checked: the walk is broken")
	}
}
