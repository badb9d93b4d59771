package exectest

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/sluicedb/sluice/exec/expr"
)

// ParseType reads a SQL type name: BOOLEAN, INT, BIGINT, DOUBLE,
// DECIMAL(p,s), STRING, BYTES, DATE, TIME, TIMESTAMP, ARRAY<t>, MAP<k,v>.
func ParseType(s string) (arrow.DataType, error) {
	s = strings.TrimSpace(strings.ToUpper(s))
	switch s {
	case "BOOLEAN":
		return expr.BooleanType, nil
	case "INT", "INTEGER":
		return expr.IntType, nil
	case "BIGINT":
		return expr.BigintType, nil
	case "DOUBLE":
		return expr.DoubleType, nil
	case "STRING", "VARCHAR":
		return expr.StringType, nil
	case "BYTES":
		return expr.BytesType, nil
	case "DATE":
		return expr.DateType, nil
	case "TIME":
		return expr.TimeType, nil
	case "TIMESTAMP":
		return expr.TimestampType, nil
	}
	switch {
	case strings.HasPrefix(s, "DECIMAL(") && strings.HasSuffix(s, ")"):
		p, sc, ok := strings.Cut(s[len("DECIMAL("):len(s)-1], ",")
		pi, err1 := strconv.Atoi(strings.TrimSpace(p))
		si, err2 := strconv.Atoi(strings.TrimSpace(sc))
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("bad type %q", s)
		}
		return expr.DecimalType(pi, si), nil
	case strings.HasPrefix(s, "ARRAY<") && strings.HasSuffix(s, ">"):
		t, err := ParseType(s[len("ARRAY<") : len(s)-1])
		if err != nil {
			return nil, err
		}
		return expr.ListOf(t), nil
	case strings.HasPrefix(s, "MAP<") && strings.HasSuffix(s, ">"):
		k, v, ok := strings.Cut(s[len("MAP<"):len(s)-1], ",")
		if !ok {
			return nil, fmt.Errorf("bad type %q", s)
		}
		kt, err := ParseType(k)
		if err != nil {
			return nil, err
		}
		vt, err := ParseType(v)
		if err != nil {
			return nil, err
		}
		return expr.MapOf(kt, vt), nil
	}
	return nil, fmt.Errorf("unknown type %q", s)
}

// ParseFields reads `NAME TYPE, NAME TYPE, ...`. Commas inside parentheses
// or angle brackets belong to the type.
func ParseFields(s string) ([]arrow.Field, error) {
	var fields []arrow.Field
	for _, part := range splitTop(s, ',') {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, typ, ok := strings.Cut(part, " ")
		if !ok {
			return nil, fmt.Errorf("field %q: want NAME TYPE", part)
		}
		t, err := ParseType(typ)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", name, err)
		}
		fields = append(fields, expr.Field(name, t))
	}
	return fields, nil
}

func splitTop(s string, sep byte) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(', '<':
			depth++
		case ')', '>':
			depth--
		case sep:
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// ParseExpr reads an expression in a small prefix notation over the columns
// of schema, so that exec's tests need no SQL front end:
//
//	COL                 a column, by exact name
//	12, 3000000000      INT, or BIGINT when it does not fit
//	1.50                DECIMAL(3,2), as a ksqlDB literal
//	1.5e0               DOUBLE
//	'text'              STRING
//	true, false, NULL
//	(NAME arg ...)      a function or operator call: (> PRICE 10),
//	                    (* PRICE 0.908), (IS_NULL A) for "IS NULL"
//	(CAST x TYPE)       a cast
//
// Calls are resolved with expr.Resolve.
func ParseExpr(s string, schema *arrow.Schema) (expr.Node, error) {
	p := &exprParser{src: s, schema: schema}
	p.lex()
	n, err := p.parse()
	if err != nil {
		return nil, fmt.Errorf("expression %q: %w", s, err)
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("expression %q: trailing %q", s, p.toks[p.pos])
	}
	return n, nil
}

type exprParser struct {
	src    string
	schema *arrow.Schema
	toks   []string
	pos    int
}

func (p *exprParser) lex() {
	s := p.src
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')':
			p.toks = append(p.toks, s[i:i+1])
			i++
		case c == '\'':
			j := i + 1
			for j < len(s) {
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						j += 2
						continue
					}
					break
				}
				j++
			}
			p.toks = append(p.toks, s[i:min(j+1, len(s))])
			i = j + 1
		default:
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '(' && s[j] != ')' {
				j++
			}
			p.toks = append(p.toks, s[i:j])
			i = j
		}
	}
}

func (p *exprParser) next() (string, error) {
	if p.pos >= len(p.toks) {
		return "", fmt.Errorf("unexpected end")
	}
	t := p.toks[p.pos]
	p.pos++
	return t, nil
}

func (p *exprParser) parse() (expr.Node, error) {
	t, err := p.next()
	if err != nil {
		return nil, err
	}
	if t == ")" {
		return nil, fmt.Errorf("unexpected )")
	}
	if t != "(" {
		return p.atom(t)
	}
	name, err := p.next()
	if err != nil {
		return nil, err
	}
	var args []expr.Node
	if strings.ToUpper(name) == "CAST" {
		x, err := p.parse()
		if err != nil {
			return nil, err
		}
		tn, err := p.next()
		if err != nil {
			return nil, err
		}
		typ, err := ParseType(tn)
		if err != nil {
			return nil, err
		}
		if t, err := p.next(); err != nil || t != ")" {
			return nil, fmt.Errorf("CAST: want )")
		}
		return &expr.Cast{X: x, Type: typ}, nil
	}
	for {
		if p.pos < len(p.toks) && p.toks[p.pos] == ")" {
			p.pos++
			break
		}
		a, err := p.parse()
		if err != nil {
			return nil, err
		}
		args = append(args, a)
	}
	name = strings.ReplaceAll(strings.ToUpper(name), "_", " ")
	if name != "IS NULL" && name != "IS NOT NULL" {
		name = strings.ReplaceAll(name, " ", "_") // function names keep underscores
	}
	types := make([]arrow.DataType, len(args))
	for i, a := range args {
		types[i] = a.DataType()
	}
	fn, err := expr.Resolve(name, types)
	if err != nil {
		return nil, err
	}
	return &expr.Call{Name: name, Args: args, Fn: fn, Type: fn.Result}, nil
}

func (p *exprParser) atom(t string) (expr.Node, error) {
	switch strings.ToUpper(t) {
	case "NULL":
		return &expr.Lit{Type: expr.NullType}, nil
	case "TRUE":
		return &expr.Lit{Value: true, Type: expr.BooleanType}, nil
	case "FALSE":
		return &expr.Lit{Value: false, Type: expr.BooleanType}, nil
	}
	if strings.HasPrefix(t, "'") {
		if len(t) < 2 || !strings.HasSuffix(t, "'") {
			return nil, fmt.Errorf("unterminated string %s", t)
		}
		return &expr.Lit{Value: strings.ReplaceAll(t[1:len(t)-1], "''", "'"), Type: expr.StringType}, nil
	}
	if c := t[0]; c >= '0' && c <= '9' || c == '-' && len(t) > 1 {
		switch {
		case strings.ContainsAny(t, "eE"):
			f, err := strconv.ParseFloat(t, 64)
			if err != nil {
				return nil, err
			}
			return &expr.Lit{Value: f, Type: expr.DoubleType}, nil
		case strings.Contains(t, "."):
			digits := strings.TrimLeft(strings.ReplaceAll(strings.TrimPrefix(t, "-"), ".", ""), "0")
			scale := len(t) - strings.Index(t, ".") - 1
			prec := max(len(digits), scale, 1)
			d, err := expr.ParseDecimal(t, prec, scale)
			if err != nil {
				return nil, err
			}
			return &expr.Lit{Value: d, Type: expr.DecimalType(prec, scale)}, nil
		}
		v, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			return nil, err
		}
		if v >= math.MinInt32 && v <= math.MaxInt32 {
			return &expr.Lit{Value: int32(v), Type: expr.IntType}, nil
		}
		return &expr.Lit{Value: v, Type: expr.BigintType}, nil
	}
	idx := p.schema.FieldIndices(t)
	if len(idx) == 0 {
		return nil, fmt.Errorf("unknown column %s", t)
	}
	f := p.schema.Field(idx[0])
	return &expr.Col{Index: idx[0], Name: t, Type: f.Type}, nil
}
