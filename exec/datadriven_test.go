package exec_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/cockroachdb/datadriven"

	"github.com/sluicedb/sluice/exec"
	"github.com/sluicedb/sluice/exec/codec"
	"github.com/sluicedb/sluice/exec/exectest"
	"github.com/sluicedb/sluice/exec/expr"
)

// TestOperators runs the scenarios of testdata/operators/*. Commands:
//
//	source topic=T [table] [key-format=F] [value-format=F] [unwrapped]
//	key NAME TYPE, ...             (body lines, all optional)
//	value NAME TYPE, ...
//	timestamp COLUMN [FORMAT]
//	header NAME all | header NAME key=K
//	  -> prints the decoded schema
//
//	records                        (body: <ts> | <key> | <value> [| k=v,...])
//
//	pipeline                       (body: one operator a line)
//	filter EXPR
//	project NAME EXPR | NAME EXPR ...
//	  -> prints the output schema
//
//	sink topic=T [table] [key-format=F] [value-format=F] [unwrapped]
//	key COL, ...  / value COL, ... / time COL / headers COL, ...
//
//	run [batch=(1, 3, 1024)]       -> output rows or records, errors, counters
//
// Expressions use exectest.ParseExpr's prefix notation.
func TestOperators(t *testing.T) {
	datadriven.Walk(t, "testdata/operators", func(t *testing.T, path string) {
		var h ddHarness
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			out, err := h.cmd(d)
			if err != nil {
				return "error: " + err.Error() + "\n"
			}
			return out
		})
	})
}

type ddHarness struct {
	sc        exectest.Scenario
	srcSchema *arrow.Schema // decoded source layout
	schema    *arrow.Schema // output schema of the pipeline
}

func (h *ddHarness) cmd(d *datadriven.TestData) (string, error) {
	if d.Cmd != "source" && h.srcSchema == nil {
		return "", fmt.Errorf("%s: no source", d.Cmd)
	}
	switch d.Cmd {
	case "source":
		return h.source(d)
	case "records":
		h.sc.Records = nil
		for _, l := range lines(d.Input) {
			r, err := exectest.ParseRecord(h.sc.Source.Topic, l)
			if err != nil {
				return "", err
			}
			h.sc.Records = append(h.sc.Records, r)
		}
		exectest.Number(h.sc.Records)
		return fmt.Sprintf("%d records\n", len(h.sc.Records)), nil
	case "pipeline":
		return h.pipeline(d)
	case "sink":
		return h.sink(d)
	case "run":
		sc := h.sc
		sc.BatchSizes = nil
		if a, ok := d.Arg("batch"); ok {
			for _, v := range a.Vals {
				n, err := strconv.Atoi(v)
				if err != nil {
					return "", err
				}
				sc.BatchSizes = append(sc.BatchSizes, n)
			}
		}
		r, err := exectest.Run(sc)
		if err != nil {
			return "", err
		}
		return r.String(), nil
	}
	return "", fmt.Errorf("unknown command %q", d.Cmd)
}

func formatSpec(d *datadriven.TestData, side string, fields []arrow.Field) codec.Spec {
	s := codec.Spec{Format: codec.JSON, Fields: fields}
	if a, ok := d.Arg(side + "-format"); ok {
		s.Format = strings.ToUpper(a.Vals[0])
	}
	// ksqlDB always unwraps single key columns; values only on request.
	s.Unwrapped = side == "key" && len(fields) == 1 || side == "value" && d.HasArg("unwrapped")
	return s
}

func (h *ddHarness) source(d *datadriven.TestData) (string, error) {
	*h = ddHarness{}
	var key, value []arrow.Field
	spec := exec.SourceSpec{TimestampCol: -1, Table: d.HasArg("table")}
	if a, ok := d.Arg("topic"); ok {
		spec.Topic = a.Vals[0]
	}
	var tsName string
	for _, l := range lines(d.Input) {
		word, rest, _ := strings.Cut(l, " ")
		var err error
		switch word {
		case "key":
			key, err = exectest.ParseFields(rest)
		case "value":
			value, err = exectest.ParseFields(rest)
		case "timestamp":
			tsName, spec.TimestampFormat, _ = strings.Cut(rest, " ")
		case "header":
			name, kind, _ := strings.Cut(rest, " ")
			hc := exec.HeaderCol{Name: name, All: kind == "all"}
			if k, ok := strings.CutPrefix(kind, "key="); ok {
				hc.Key = k
			}
			spec.Headers = append(spec.Headers, hc)
		default:
			err = fmt.Errorf("unknown source line %q", l)
		}
		if err != nil {
			return "", err
		}
	}
	spec.Key = formatSpec(d, "key", key)
	spec.Value = formatSpec(d, "value", value)
	if len(key) == 0 {
		spec.Key.Format = codec.None
	}
	if tsName != "" {
		spec.TimestampCol = -2
		for i, f := range append(append([]arrow.Field(nil), key...), value...) {
			if f.Name == tsName {
				spec.TimestampCol = i
			}
		}
		if spec.TimestampCol < 0 {
			return "", fmt.Errorf("unknown timestamp column %s", tsName)
		}
	}
	src, err := exec.NewSourceDecoder(spec, &exec.TaskContext{})
	if err != nil {
		return "", err
	}
	h.srcSchema, h.schema = src.Schema(), src.Schema()
	src.Release()
	h.sc = exectest.Scenario{Source: spec}
	return formatSchema(h.schema), nil
}

func (h *ddHarness) pipeline(d *datadriven.TestData) (string, error) {
	h.sc.Ops, h.sc.Sink = nil, nil
	h.schema = h.srcSchema
	schema := h.srcSchema
	for _, l := range lines(d.Input) {
		word, rest, _ := strings.Cut(l, " ")
		switch word {
		case "filter":
			n, err := exectest.ParseExpr(rest, schema)
			if err != nil {
				h.sc.Ops = nil
				return "", err
			}
			h.sc.Ops = append(h.sc.Ops, exec.FilterSpec{Pred: n})
		case "project":
			var ps exec.ProjectSpec
			var fields []arrow.Field
			for _, item := range strings.Split(rest, " | ") {
				name, e, _ := strings.Cut(strings.TrimSpace(item), " ")
				n, err := exectest.ParseExpr(e, schema)
				if err != nil {
					h.sc.Ops = nil
					return "", err
				}
				ps.Names = append(ps.Names, name)
				ps.Exprs = append(ps.Exprs, n)
				fields = append(fields, expr.Field(name, n.DataType()))
			}
			h.sc.Ops = append(h.sc.Ops, ps)
			schema = arrow.NewSchema(fields, nil)
		default:
			return "", fmt.Errorf("unknown operator %q", word)
		}
	}
	h.schema = schema
	return formatSchema(schema), nil
}

func (h *ddHarness) sink(d *datadriven.TestData) (string, error) {
	spec := exec.SinkSpec{TimeCol: -1, Table: d.HasArg("table")}
	if a, ok := d.Arg("topic"); ok {
		spec.Topic = a.Vals[0]
	}
	cols := func(s string) ([]int, []arrow.Field, error) {
		var idx []int
		var fields []arrow.Field
		for _, name := range strings.Split(s, ",") {
			name = strings.TrimSpace(name)
			is := h.schema.FieldIndices(name)
			if len(is) == 0 {
				return nil, nil, fmt.Errorf("unknown column %s", name)
			}
			idx = append(idx, is[0])
			fields = append(fields, h.schema.Field(is[0]))
		}
		return idx, fields, nil
	}
	var key, value []arrow.Field
	for _, l := range lines(d.Input) {
		word, rest, _ := strings.Cut(l, " ")
		var err error
		var is []int
		switch word {
		case "key":
			spec.KeyCols, key, err = cols(rest)
		case "value":
			spec.ValueCols, value, err = cols(rest)
		case "time":
			if is, _, err = cols(rest); err == nil {
				spec.TimeCol = is[0]
			}
		case "headers":
			spec.HeaderCols, _, err = cols(rest)
		default:
			err = fmt.Errorf("unknown sink line %q", l)
		}
		if err != nil {
			return "", err
		}
	}
	if spec.TimeCol < 0 {
		return "", fmt.Errorf("sink needs a time column")
	}
	spec.Key = formatSpec(d, "key", key)
	spec.Value = formatSpec(d, "value", value)
	if len(key) == 0 {
		spec.Key.Format = codec.None
	}
	h.sc.Sink = &spec
	return "ok\n", nil
}

func formatSchema(s *arrow.Schema) string {
	parts := make([]string, len(s.Fields()))
	for i, f := range s.Fields() {
		parts[i] = f.Name + " " + expr.TypeName(f.Type)
	}
	return strings.Join(parts, ", ") + "\n"
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}
