package planner

import (
	"fmt"
	"strings"

	"github.com/sluicedb/sluice/exec"
	"github.com/sluicedb/sluice/exec/codec"
	"github.com/sluicedb/sluice/exec/expr"
	"github.com/sluicedb/sluice/sql"
)

// finish optimizes a bound plan and lowers it into the per-partition
// pipeline.
func finish(root Node, sp *selectPlan) (*Plan, error) {
	opt, err := optimize(root)
	if err != nil {
		return nil, sql.Errorf(sql.CodeInternal, sql.Pos{}, "optimizing: %v", err)
	}
	plan := &Plan{Logical: opt}
	if err := lower(plan, opt); err != nil {
		return nil, err
	}
	return plan, nil
}

// lower fills Input, Ops, Output and OutputTimeCol from a linear
// Scan -> (Filter|FlatMap|Project)* tree.
func lower(plan *Plan, root Node) error {
	var chain []Node
	n := root
	for {
		chain = append(chain, n)
		ch := n.Children()
		if len(ch) == 0 {
			break
		}
		if len(ch) != 1 {
			return sql.Errorf(sql.CodeFeatureNotSupported, sql.Pos{}, "%s is not supported yet", firstWord(n.String()))
		}
		n = ch[0]
	}
	scan, ok := n.(*Scan)
	if !ok {
		return sql.Errorf(sql.CodeInternal, sql.Pos{}, "plan does not start with a scan: %s", n)
	}
	in, err := sourceSpec(scan)
	if err != nil {
		return err
	}
	plan.Input = in
	for i := len(chain) - 2; i >= 0; i-- {
		switch op := chain[i].(type) {
		case *Filter:
			plan.Ops = append(plan.Ops, exec.FilterSpec{Pred: op.Pred})
		case *Project:
			names := make([]string, len(op.Cols))
			for j, c := range op.Cols {
				names[j] = c.Name
			}
			plan.Ops = append(plan.Ops, exec.ProjectSpec{Exprs: op.Exprs, Names: names, NullOnDelete: recordMetaKeys(op, in.Table)})
		case *FlatMap:
			plan.Ops = append(plan.Ops, op.spec())
		default:
			return sql.Errorf(sql.CodeFeatureNotSupported, sql.Pos{}, "%s is not supported yet", firstWord(op.String()))
		}
	}
	plan.OutputTimeCol = -1
	for i, c := range Columns(root) {
		if isHiddenHeaders(c) {
			continue // found by addSink
		}
		if c.Hidden {
			plan.OutputTimeCol = i
			continue
		}
		plan.Output = append(plan.Output, Column{Name: c.Name, Type: SQLType(c.Type), Role: c.Role})
	}
	return nil
}

func firstWord(s string) string {
	w, _, _ := strings.Cut(s, " ")
	return w
}

// sourceSpec is the exec.SourceSpec of a scan.
func sourceSpec(scan *Scan) (exec.SourceSpec, error) {
	src := scan.Source
	key, value, err := CodecSpecs(src)
	if err != nil {
		return exec.SourceSpec{}, sql.Errorf(sql.CodeInternal, sql.Pos{}, "%v", err)
	}
	spec := exec.SourceSpec{Topic: src.Topic, Key: key, Value: value, TimestampCol: -1,
		TimestampFormat: src.TimestampFormat, Table: src.Kind == sql.KindTable}
	for _, c := range src.Columns {
		switch c.Role {
		case sql.ColHeaders:
			spec.Headers = append(spec.Headers, exec.HeaderCol{Name: c.Name, All: true})
		case sql.ColHeader:
			spec.Headers = append(spec.Headers, exec.HeaderCol{Name: c.Name, Key: c.HeaderKey})
		}
	}
	// The hidden headers column follows the declared header columns in
	// the scan layout, as it does here.
	for _, c := range scan.Cols {
		if isHiddenHeaders(c) {
			spec.Headers = append(spec.Headers, exec.HeaderCol{Name: c.Name, All: true})
		}
	}
	if src.TimestampColumn != "" {
		for i, c := range scan.Cols {
			if c.Name == src.TimestampColumn && !c.Pseudo {
				spec.TimestampCol = i
			}
		}
		if spec.TimestampCol < 0 {
			return exec.SourceSpec{}, sql.Errorf(sql.CodeInternal, sql.Pos{}, "timestamp column %s of %s is not in its layout",
				src.TimestampColumn, src.Name)
		}
	}
	return spec, nil
}

// addSink sets the plan's SinkSpec for writing to dst. The plan's output
// columns are dst's key columns, then its value columns.
func addSink(plan *Plan, dst *Source) error {
	key, value, err := CodecSpecs(dst)
	if err != nil {
		return sql.Errorf(sql.CodeInternal, sql.Pos{}, "%v", err)
	}
	s := &exec.SinkSpec{Topic: dst.Topic, Key: key, Value: value, TimeCol: plan.OutputTimeCol,
		Table: dst.Kind == sql.KindTable}
	for i, c := range plan.Output {
		if c.Role == sql.ColKey || c.Role == sql.ColPrimaryKey {
			s.KeyCols = append(s.KeyCols, i)
		} else {
			s.ValueCols = append(s.ValueCols, i)
		}
	}
	for i, c := range Columns(plan.Logical) {
		if isHiddenHeaders(c) {
			s.HeaderCols = append(s.HeaderCols, i)
		}
	}
	if len(s.KeyCols) != len(key.Fields) || len(s.ValueCols) != len(value.Fields) {
		return sql.Errorf(sql.CodeInternal, sql.Pos{}, "sink %s: %d key and %d value columns for %d and %d fields",
			dst.Name, len(s.KeyCols), len(s.ValueCols), len(key.Fields), len(value.Fields))
	}
	plan.Sink = s
	plan.Input.NullRows = forwardsNullRows(plan)
	return nil
}

// forwardsNullRows reports whether a persistent query forwards its stream's
// null-valued records as null values (see exec.SourceSpec.NullRows): ksqlDB
// maps a null row through projections and writes it to the sink, but drops
// it at a WHERE clause and in stateful operators, so only a single-stage
// pipeline of projections over a stream carries it.
func forwardsNullRows(plan *Plan) bool {
	if plan.Input.Table || len(plan.Pre) > 0 {
		return false
	}
	for _, op := range plan.Ops {
		if _, ok := op.(exec.ProjectSpec); !ok {
			return false
		}
	}
	return true
}

// Explain renders the logical and the physical plan.
func Explain(plan *Plan) string {
	var b strings.Builder
	b.WriteString("Logical plan:\n")
	explainNode(&b, plan.Logical, 1)
	b.WriteString("Physical plan:\n")
	explainStages(&b, plan.Pre)
	in := plan.Input
	fmt.Fprintf(&b, "  Source topic %q key %s value %s", in.Topic, specString(in.Key), specString(in.Value))
	if in.Table {
		b.WriteString(" table")
	}
	if in.TimestampCol >= 0 {
		fmt.Fprintf(&b, " timestamp #%d", in.TimestampCol)
		if in.TimestampFormat != "" {
			fmt.Fprintf(&b, " format %q", in.TimestampFormat)
		}
	}
	for _, h := range in.Headers {
		if h.All {
			fmt.Fprintf(&b, " headers %s", h.Name)
		} else {
			fmt.Fprintf(&b, " header %s('%s')", h.Name, h.Key)
		}
	}
	b.WriteString("\n")
	explainJoinInputs(&b, "  ", plan.Joins)
	for i, op := range plan.Ops {
		switch op := op.(type) {
		case exec.FilterSpec:
			fmt.Fprintf(&b, "  %d. Filter %s\n", i+1, op.Pred)
		case exec.ProjectSpec:
			parts := make([]string, len(op.Exprs))
			for j, e := range op.Exprs {
				parts[j] = op.Names[j] + " := " + e.String()
			}
			fmt.Fprintf(&b, "  %d. Project %s\n", i+1, strings.Join(parts, ", "))
		case exec.FlatMapSpec:
			parts := make([]string, len(op.Funcs))
			for j, fn := range op.Funcs {
				parts[j] = op.Names[j] + " := " + fn.Name + "(" + fn.Arg.String() + ")"
			}
			fmt.Fprintf(&b, "  %d. FlatMap %s\n", i+1, strings.Join(parts, ", "))
		default:
			fmt.Fprintf(&b, "  %d. %s\n", i+1, explainStateful(op))
		}
	}
	if s := plan.Sink; s != nil {
		fmt.Fprintf(&b, "  Sink topic %q key %s%v value %s%v time #%d", s.Topic,
			specString(s.Key), s.KeyCols, specString(s.Value), s.ValueCols, s.TimeCol)
		if len(s.HeaderCols) > 0 {
			fmt.Fprintf(&b, " headers %v", s.HeaderCols)
		}
		b.WriteString("\n")
	} else {
		parts := make([]string, len(plan.Output))
		for i, c := range plan.Output {
			parts[i] = columnString(c)
		}
		fmt.Fprintf(&b, "  Output [%s] time #%d", strings.Join(parts, ", "), plan.OutputTimeCol)
		if plan.Limit != nil {
			fmt.Fprintf(&b, " limit %d", *plan.Limit)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func explainNode(b *strings.Builder, n Node, depth int) {
	if n == nil {
		return
	}
	b.WriteString(strings.Repeat("  ", depth) + n.String() + "\n")
	for _, c := range n.Children() {
		explainNode(b, c, depth+1)
	}
}

func specString(s codec.Spec) string {
	var b strings.Builder
	b.WriteString(s.Format + "(")
	for i, f := range s.Fields {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(f.Name + " " + expr.TypeName(f.Type))
	}
	b.WriteString(")")
	if s.Unwrapped && len(s.Fields) == 1 {
		b.WriteString(" unwrapped")
	}
	if s.Format == codec.Delimited {
		fmt.Fprintf(&b, " delimiter %q", string(s.Delimiter))
	}
	switch s.Window {
	case codec.TimeWindow:
		fmt.Fprintf(&b, " time-windowed %dms", s.WindowSize)
	case codec.SessionWindow:
		b.WriteString(" session-windowed")
	}
	return b.String()
}

// explainJoinInputs renders a stage's extra inputs, one line each.
func explainJoinInputs(b *strings.Builder, indent string, joins []JoinInput) {
	for k, j := range joins {
		fmt.Fprintf(b, "%sJoin input %d: topic %q key %s value %s", indent, k, j.Input.Topic, specString(j.Input.Key), specString(j.Input.Value))
		if j.Input.Table {
			b.WriteString(" table")
		}
		if len(j.Ops) > 0 {
			fmt.Fprintf(b, " (%d operators before the join)", len(j.Ops))
		}
		b.WriteString("\n")
	}
}

// recordMetaKeys marks the key columns of a stream's projection computed
// from ROWTIME, ROWPARTITION or ROWOFFSET (PARTITION BY ROWTIME): ksqlDB
// keeps those in the value row, so a null-valued record has none and its
// key column is NULL (exec.ProjectSpec.NullOnDelete). nil when there is
// none, and always for a table, whose Delete rows are tombstones keyed by
// their source key.
func recordMetaKeys(p *Project, table bool) []bool {
	if table {
		return nil
	}
	in := Columns(p.Input)
	var marks []bool
	for i, e := range p.Exprs {
		if role := p.Cols[i].Role; role != sql.ColKey && role != sql.ColPrimaryKey {
			continue
		}
		meta := false
		walkExpr(e, func(n expr.Node) {
			if c, ok := n.(*expr.Col); ok && c.Index < len(in) && in[c.Index].Pseudo &&
				(c.Name == colRowtime || c.Name == colRowpartition || c.Name == colRowoffset) {
				meta = true
			}
		})
		if meta {
			if marks == nil {
				marks = make([]bool, len(p.Exprs))
			}
			marks[i] = true
		}
	}
	return marks
}
