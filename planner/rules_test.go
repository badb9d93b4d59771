package planner

import (
	"strings"
	"testing"

	"github.com/sluicedb/sluice/exec/expr"
	"github.com/sluicedb/sluice/sql"
)

// testScan is a scan of S(K INT KEY, A INT, B STRING).
func testScan() *Scan {
	return NewScan(&Source{Name: "S", Kind: sql.KindStream, Topic: "s",
		Columns:   []Column{{Name: "K", Type: sql.Int, Role: sql.ColKey}, {Name: "A", Type: sql.Int}, {Name: "B", Type: sql.String}},
		KeyFormat: Format{Name: "KAFKA"}, ValueFormat: Format{Name: "JSON"}}, "")
}

func col(s *Scan, name string) *expr.Col {
	for i, c := range s.Cols {
		if c.Name == name {
			return &expr.Col{Index: i, Name: name, Type: c.Type}
		}
	}
	panic(name)
}

func lit(v int32) *expr.Lit { return &expr.Lit{Value: v, Type: expr.IntType} }

// A filter above a projection moves below it, its column references
// rewritten to the projection's expressions, and meets the filter there:
// the two merge into one conjunction.
func TestPushDownFilters(t *testing.T) {
	s := testScan()
	inner := &Filter{Input: s, Pred: mustCall(">", col(s, "A"), lit(0))}
	sum := mustCall("+", col(s, "A"), lit(1))
	proj := &Project{Input: inner, Exprs: []expr.Node{col(s, "B"), sum},
		Cols: []OutCol{{Name: "B", Type: expr.StringType}, {Name: "X", Type: sum.DataType()}}}
	top := &Filter{Input: proj, Pred: mustCall("<", &expr.Col{Index: 1, Name: "X", Type: sum.DataType()}, lit(10))}

	got, err := pushDownFilters(top)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := got.(*Project)
	if !ok {
		t.Fatalf("root is %T, want *Project:\n%s", got, treeString(got))
	}
	f, ok := p.Input.(*Filter)
	if !ok || f.Input != Node(s) {
		t.Fatalf("want Project(Filter(Scan)), got\n%s", treeString(got))
	}
	if want := "AND(>(A#1, 0), <(+(A#1, 1), 10))"; f.Pred.String() != want {
		t.Fatalf("merged predicate %s, want %s", f.Pred, want)
	}
	// The original tree is untouched (nodes are immutable).
	if top.Input != Node(proj) || proj.Input != Node(inner) {
		t.Fatal("pushDownFilters mutated its input")
	}
}

// A filter over a non-deterministic projection stays where it is.
func TestPushDownFiltersKeepsNondeterministic(t *testing.T) {
	s := testScan()
	rnd := &expr.Call{Name: "RANDOM", Type: expr.DoubleType}
	proj := &Project{Input: s, Exprs: []expr.Node{rnd}, Cols: []OutCol{{Name: "R", Type: expr.DoubleType}}}
	top := &Filter{Input: proj, Pred: mustCall(">", &expr.Col{Index: 0, Name: "R", Type: expr.DoubleType}, &expr.Lit{Value: 0.5, Type: expr.DoubleType})}
	got, err := pushDownFilters(top)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got.(*Filter); !ok {
		t.Fatalf("filter moved below RANDOM():\n%s", treeString(got))
	}
}

// Columns of an inner projection that nothing reads are dropped and the
// outer references renumbered; the scan records what the plan reads.
func TestPruneColumns(t *testing.T) {
	s := testScan()
	sum := mustCall("+", col(s, "A"), lit(1))
	inner := &Project{Input: s, Exprs: []expr.Node{col(s, "B"), sum, col(s, "K")},
		Cols: []OutCol{{Name: "B", Type: expr.StringType}, {Name: "X", Type: sum.DataType()}, {Name: "K", Type: expr.IntType}}}
	outer := &Project{Input: inner, Exprs: []expr.Node{&expr.Col{Index: 2, Name: "K", Type: expr.IntType}},
		Cols: []OutCol{{Name: "K", Type: expr.IntType}}}
	got, err := pruneColumns(outer)
	if err != nil {
		t.Fatal(err)
	}
	want := "Project K := K#0\n  Project K := K#0\n    Scan S (stream, topic \"s\", key KAFKA, value JSON) reads [K]\n"
	if s := treeString(got); s != want {
		t.Fatalf("got\n%s\nwant\n%s", s, want)
	}
}

// Folding evaluates constants and leaves failing ones alone.
func TestFoldConstants(t *testing.T) {
	s := testScan()
	for _, tc := range []struct {
		in   expr.Node
		want string
	}{
		{mustCall("+", lit(1), mustCall("*", lit(2), lit(3))), "7"},
		{mustCall("=", lit(1), lit(1)), "true"},
		{mustCall("/", lit(1), lit(0)), "/(1, 0)"},
		{mustCall("AND", &expr.Lit{Value: false, Type: expr.BooleanType}, mustCall(">", col(s, "A"), lit(1))), "false"},
		{mustCall("OR", &expr.Lit{Value: false, Type: expr.BooleanType}, mustCall(">", col(s, "A"), lit(1))), ">(A#1, 1)"},
		{&expr.Cast{X: lit(5), Type: expr.BigintType}, "5"},
		{&expr.Call{Name: "RANDOM", Type: expr.DoubleType}, "RANDOM()"},
	} {
		if got := foldExpr(tc.in).String(); got != tc.want {
			t.Errorf("fold %s = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func treeString(n Node) string {
	var b strings.Builder
	explainNode(&b, n, 0)
	return b.String()
}
