package planner

import (
	"fmt"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/sluicedb/sluice/exec/expr"
	"github.com/sluicedb/sluice/sql"
)

// OutCol is an output column of a logical plan node.
type OutCol struct {
	Name string
	Type arrow.DataType
	// Role is ColKey/ColPrimaryKey for key columns, ColHeaders/ColHeader
	// for header columns and ColValue otherwise.
	Role sql.ColumnConstraint
	// Pseudo marks ROWTIME, ROWPARTITION, ROWOFFSET, WINDOWSTART, WINDOWEND:
	// never part of `SELECT *`.
	Pseudo bool
	// Hidden marks the row-time column a plan carries after the visible
	// ones (package invariant 4).
	Hidden bool
}

// Columns returns the output columns of a node.
func Columns(n Node) []OutCol {
	switch n := n.(type) {
	case *Scan:
		return n.Cols
	case *Filter:
		return Columns(n.Input)
	case *Project:
		return n.Cols
	case *FlatMap:
		return n.columns()
	case *Aggregate:
		return n.Cols
	case *WindowNode:
		return Columns(n.Input)
	case *Join:
		return n.Cols
	}
	return nil
}

// Scan reads a source: its output is the source's decoded layout (see the
// package doc).
type Scan struct {
	Source *Source
	// Alias is the name the query gave the source ("" when none).
	Alias string
	Cols  []OutCol
	// Needed lists the columns that the plan above reads, once projection
	// pruning has run (nil before). Decoding is by codec spec, so this is
	// informational: it shows in EXPLAIN what the query really uses.
	Needed []int
}

// NewScan returns a Scan of src with the decoded layout of exec.SourceSpec.
func NewScan(src *Source, alias string) *Scan {
	var cols []OutCol
	for _, c := range src.KeyColumns() {
		cols = append(cols, OutCol{Name: c.Name, Type: ArrowType(c.Type), Role: c.Role})
	}
	for _, c := range src.ValueColumns() {
		cols = append(cols, OutCol{Name: c.Name, Type: ArrowType(c.Type), Role: sql.ColValue})
	}
	// The runtime decodes the time pseudo columns as TIMESTAMP (ms); the
	// binder presents them to SQL as BIGINT (see epochMillis).
	cols = append(cols,
		OutCol{Name: colRowtime, Type: expr.TimestampType, Pseudo: true},
		OutCol{Name: colRowpartition, Type: expr.IntType, Pseudo: true},
		OutCol{Name: colRowoffset, Type: expr.BigintType, Pseudo: true})
	if src.Window != nil {
		cols = append(cols,
			OutCol{Name: colWindowstart, Type: expr.TimestampType, Pseudo: true},
			OutCol{Name: colWindowend, Type: expr.TimestampType, Pseudo: true})
	}
	for _, c := range src.Columns {
		if c.Role == sql.ColHeaders || c.Role == sql.ColHeader {
			cols = append(cols, OutCol{Name: c.Name, Type: ArrowType(c.Type), Role: c.Role})
		}
	}
	return &Scan{Source: src, Alias: alias, Cols: cols}
}

func (*Scan) Children() []Node { return nil }

func (s *Scan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Scan %s", s.Source.Name)
	if s.Alias != "" && s.Alias != s.Source.Name {
		fmt.Fprintf(&b, " AS %s", s.Alias)
	}
	kind := "stream"
	if s.Source.Kind == sql.KindTable {
		kind = "table changelog"
	}
	fmt.Fprintf(&b, " (%s, topic %q, key %s, value %s", kind, s.Source.Topic, s.Source.KeyFormat.Name, s.Source.ValueFormat.Name)
	if s.Source.Window != nil {
		fmt.Fprintf(&b, ", %s windowed", s.Source.Window.Type)
	}
	b.WriteString(")")
	if s.Needed != nil {
		names := make([]string, len(s.Needed))
		for i, c := range s.Needed {
			names[i] = s.Cols[c].Name
		}
		fmt.Fprintf(&b, " reads [%s]", strings.Join(names, ", "))
	}
	return b.String()
}

// Filter keeps the rows for which Pred is TRUE.
type Filter struct {
	Input Node
	Pred  expr.Node
}

func (f *Filter) Children() []Node { return []Node{f.Input} }
func (f *Filter) String() string   { return "Filter " + f.Pred.String() }

// Project computes one expression per output column.
type Project struct {
	Input Node
	Exprs []expr.Node
	Cols  []OutCol // Cols[i] describes Exprs[i]
}

func (p *Project) Children() []Node { return []Node{p.Input} }

func (p *Project) String() string {
	parts := make([]string, len(p.Exprs))
	for i, e := range p.Exprs {
		name := p.Cols[i].Name
		switch {
		case isHiddenHeaders(p.Cols[i]):
			name = "(headers)"
		case p.Cols[i].Hidden:
			name = "(time)"
		case p.Cols[i].Role == sql.ColKey || p.Cols[i].Role == sql.ColPrimaryKey:
			name += " KEY"
		}
		parts[i] = name + " := " + e.String()
	}
	return "Project " + strings.Join(parts, ", ")
}

// Aggregate groups its input by GroupBy and computes Aggs per group. It is
// declared for the rules and EXPLAIN; the planner does not produce it yet.
type Aggregate struct {
	Input   Node
	GroupBy []expr.Node
	Aggs    []expr.Node
	Cols    []OutCol
}

func (a *Aggregate) Children() []Node { return []Node{a.Input} }

func (a *Aggregate) String() string {
	return "Aggregate by [" + exprList(a.GroupBy) + "] computing [" + exprList(a.Aggs) + "]"
}

// WindowNode assigns rows to windows ahead of an Aggregate. Declared for
// the rules and EXPLAIN; not produced yet.
type WindowNode struct {
	Input   Node
	Kind    sql.WindowKind
	Size    int64 // ms; the gap for SESSION
	Advance int64 // ms, HOPPING
	Grace   *int64
}

func (w *WindowNode) Children() []Node { return []Node{w.Input} }

func (w *WindowNode) String() string {
	switch w.Kind {
	case sql.WindowHopping:
		return fmt.Sprintf("Window HOPPING size %dms advance %dms", w.Size, w.Advance)
	case sql.WindowSession:
		return fmt.Sprintf("Window SESSION gap %dms", w.Size)
	}
	return fmt.Sprintf("Window TUMBLING size %dms", w.Size)
}

// Join joins two inputs on an equality condition. Declared for the rules
// and EXPLAIN; not produced yet.
type Join struct {
	Kind        sql.JoinKind
	Left, Right Node
	On          expr.Node
	Within      *sql.Within
	Cols        []OutCol
}

func (j *Join) Children() []Node { return []Node{j.Left, j.Right} }

func (j *Join) String() string {
	kind := map[sql.JoinKind]string{sql.JoinInner: "INNER", sql.JoinLeft: "LEFT", sql.JoinRight: "RIGHT", sql.JoinFull: "FULL"}[j.Kind]
	return "Join " + kind + " ON " + j.On.String()
}

func exprList(ns []expr.Node) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = n.String()
	}
	return strings.Join(parts, ", ")
}

// withChildren returns a copy of n with its inputs replaced.
func withChildren(n Node, ch []Node) Node {
	switch n := n.(type) {
	case *Scan:
		return n
	case *Filter:
		c := *n
		c.Input = ch[0]
		return &c
	case *Project:
		c := *n
		c.Input = ch[0]
		return &c
	case *FlatMap:
		c := *n
		c.Input = ch[0]
		return &c
	case *Aggregate:
		c := *n
		c.Input = ch[0]
		return &c
	case *WindowNode:
		c := *n
		c.Input = ch[0]
		return &c
	case *Join:
		c := *n
		c.Left, c.Right = ch[0], ch[1]
		return &c
	}
	panic(fmt.Sprintf("planner: withChildren of %T", n))
}

// transformUp rebuilds the tree bottom-up, applying f to every node after
// its children.
func transformUp(n Node, f func(Node) (Node, error)) (Node, error) {
	ch := n.Children()
	if len(ch) > 0 {
		nc := make([]Node, len(ch))
		changed := false
		for i, c := range ch {
			x, err := transformUp(c, f)
			if err != nil {
				return nil, err
			}
			nc[i] = x
			changed = changed || x != c
		}
		if changed {
			n = withChildren(n, nc)
		}
	}
	return f(n)
}
