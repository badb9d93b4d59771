package planner

import (
	"errors"
	"fmt"

	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/sluicedb/sluice/sql"
)

// memCatalog is the in-memory catalog of the tests.
type memCatalog struct {
	sources map[string]*Source
	types   map[string]*sql.Type
}

func newMemCatalog() *memCatalog {
	return &memCatalog{sources: map[string]*Source{}, types: map[string]*sql.Type{}}
}

func (c *memCatalog) Source(name string) (*Source, bool) { s, ok := c.sources[name]; return s, ok }
func (c *memCatalog) Type(name string) (*sql.Type, bool) { t, ok := c.types[name]; return t, ok }

// props are the defaults the tests run with unless a command sets others
// with props=k=v,...
func testProps(d *datadriven.TestData) Props {
	p := Props{}
	for _, a := range d.CmdArgs {
		if a.Key == "props" {
			for _, v := range a.Vals {
				k, val, _ := strings.Cut(v, "=")
				p[k] = val
			}
		}
	}
	return p
}

// run executes one statement against the catalog and returns what the test
// prints on success.
func run(t *testing.T, cat *memCatalog, stmt sql.Stmt, props Props) (string, error) {
	switch st := stmt.(type) {
	case *sql.CreateType:
		rt, err := ResolveType(cat, st.Type)
		if err != nil {
			return "", err
		}
		cat.types[st.Name] = rt
		return "ok", nil
	case *sql.CreateSource:
		if st.Query == nil {
			src, err := BindCreateSource(cat, st, props)
			if err != nil {
				return "", err
			}
			cat.sources[src.Name] = src
			return describe(src), nil
		}
		plan, sink, err := PlanPersistent(cat, st, "CSAS_"+st.Name+"_1", props)
		if err != nil {
			return "", err
		}
		cat.sources[sink.Name] = sink
		return describe(sink) + "\n" + plan.Explain, nil
	case *sql.InsertInto:
		plan, _, err := PlanPersistent(cat, st, "INSERTQUERY_1", props)
		if err != nil {
			return "", err
		}
		return plan.Explain, nil
	case *sql.Query:
		plan, err := PlanQuery(cat, st.Select, props)
		if err != nil {
			return "", err
		}
		return plan.Explain, nil
	case *sql.InsertValues:
		row, err := BindInsertValues(cat, st, props)
		if err != nil {
			return "", err
		}
		s := fmt.Sprintf("key %s %s\nvalue %s %s", specString(row.KeySpec), fmtValues(row.Key),
			specString(row.ValueSpec), fmtValues(row.Value))
		if row.Timestamp != nil {
			s += fmt.Sprintf("\nrowtime %d", *row.Timestamp)
		}
		return s, nil
	}
	t.Fatalf("unsupported statement %T", stmt)
	return "", nil
}

func fmtValues(vs []any) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = fmt.Sprintf("%v(%T)", v, v)
		if v == nil {
			parts[i] = "NULL"
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// describe prints a catalog entry.
func describe(s *Source) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s topic=%s", s.Kind, s.Name, s.Topic)
	if s.Partitions != 0 {
		fmt.Fprintf(&b, " partitions=%d", s.Partitions)
	}
	if s.Replicas != 0 {
		fmt.Fprintf(&b, " replicas=%d", s.Replicas)
	}
	fmt.Fprintf(&b, " key=%s value=%s", s.KeyFormat.Name, s.ValueFormat.Name)
	if s.ValueFormat.WrapSingle != nil {
		fmt.Fprintf(&b, " wrap=%v", *s.ValueFormat.WrapSingle)
	}
	if s.Window != nil {
		fmt.Fprintf(&b, " window=%s/%d", s.Window.Type, s.Window.Size)
	}
	if s.TimestampColumn != "" {
		fmt.Fprintf(&b, " timestamp=%s", s.TimestampColumn)
		if s.TimestampFormat != "" {
			fmt.Fprintf(&b, "/%q", s.TimestampFormat)
		}
	}
	if s.IsSource {
		b.WriteString(" read-only")
	}
	b.WriteString("\n  " + schemaString(s.Columns))
	k, v, err := CodecSpecs(s)
	if err != nil {
		fmt.Fprintf(&b, "\n  codec error: %v", err)
	} else {
		fmt.Fprintf(&b, "\n  codecs key %s value %s", specString(k), specString(v))
	}
	return b.String()
}

func errString(err error) string {
	var se *sql.Error
	if !errors.As(err, &se) {
		return fmt.Sprintf("non-SQL error: %v", err)
	}
	s := fmt.Sprintf("%s at %s: %s", se.Code, se.Pos, se.Msg)
	if se.Hint != "" {
		s += "\nhint: " + se.Hint
	}
	return s
}

// TestDataDriven runs testdata/*: exec (statements that must succeed; the
// catalog keeps their effect), plan (one statement, prints its result),
// bind-error (one statement that must fail; prints code, position,
// message, hint) and rules (prints each rule's effect on a query's plan).
func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		cat := newMemCatalog()
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			stmts, err := sql.Parse(d.Input)
			if err != nil {
				if d.Cmd == "bind-error" {
					return "parse: " + errString(err)
				}
				t.Fatalf("%s: parse: %v", d.Pos, err)
			}
			props := testProps(d)
			switch d.Cmd {
			case "exec":
				var out []string
				for _, st := range stmts {
					s, err := run(t, cat, st, props)
					if err != nil {
						t.Fatalf("%s: %s: %s", d.Pos, st.Text(), errString(err))
					}
					if d.HasArg("quiet") {
						continue
					}
					out = append(out, s)
				}
				if len(out) == 0 {
					return "ok\n"
				}
				return strings.Join(out, "\n") + "\n"
			case "plan":
				s, err := run(t, cat, stmts[0], props)
				if err != nil {
					t.Fatalf("%s: %s", d.Pos, errString(err))
				}
				return s + "\n"
			case "bind-error":
				_, err := run(t, cat, stmts[0], props)
				if err == nil {
					t.Fatalf("%s: expected an error", d.Pos)
				}
				return errString(err) + "\n"
			case "rules":
				return explainRules(t, cat, stmts[0])
			}
			t.Fatalf("unknown command %s", d.Cmd)
			return ""
		})
	})
}

// explainRules shows the bound logical plan and what each rule makes of it.
func explainRules(t *testing.T, cat *memCatalog, st sql.Stmt) string {
	q, ok := st.(*sql.Query)
	if !ok {
		t.Fatalf("rules takes a query")
	}
	sp, err := bindSelect(cat, q.Select, modeTransient, "")
	if err != nil {
		t.Fatalf("%s", errString(err))
	}
	n := addTimeColumn(sp, nil)
	var b strings.Builder
	b.WriteString("bound:\n")
	explainNode(&b, n, 1)
	for _, r := range rules {
		n, err = r.apply(n)
		if err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		b.WriteString(r.name + ":\n")
		explainNode(&b, n, 1)
	}
	return b.String()
}
