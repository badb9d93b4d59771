package sql

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
)

// formatErr renders an error with its SQLSTATE for golden files.
func formatErr(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return fmt.Sprintf("error %s: %s", e.Code, e.Error())
	}
	return "error (not *sql.Error): " + err.Error()
}

// dumpExpr prints an expression tree with node types and positions.
func dumpExpr(b *strings.Builder, e any, depth int) {
	v := reflect.ValueOf(e)
	if !v.IsValid() || v.Kind() == reflect.Pointer && v.IsNil() {
		return
	}
	ex, ok := e.(Expr)
	if !ok {
		return
	}
	fmt.Fprintf(b, "%s%s @%d:%d", strings.Repeat("  ", depth), v.Elem().Type().Name(), ex.Position().Line, ex.Position().Col)
	var kids []any
	s := v.Elem()
	for i := 0; i < s.NumField(); i++ {
		f := s.Field(i)
		name := s.Type().Field(i).Name
		if name == "ExprBase" {
			continue
		}
		switch f.Kind() {
		case reflect.Interface, reflect.Pointer:
			if _, isExpr := f.Interface().(Expr); isExpr && !f.IsNil() {
				kids = append(kids, f.Interface())
				continue
			}
			if t, ok := f.Interface().(*Type); ok && t != nil {
				fmt.Fprintf(b, " %s=%s", name, FormatType(t))
			}
		case reflect.Slice:
			for j := 0; j < f.Len(); j++ {
				el := f.Index(j).Interface()
				if w, ok := el.(When); ok {
					kids = append(kids, w.Cond, w.Result)
				} else if _, isExpr := el.(Expr); isExpr {
					kids = append(kids, el)
				} else {
					fmt.Fprintf(b, " %s[%d]=%v", name, j, el)
				}
			}
		default:
			if !f.IsZero() {
				fmt.Fprintf(b, " %s=%v", name, f.Interface())
			}
		}
	}
	b.WriteString("\n")
	for _, k := range kids {
		dumpExpr(b, k, depth+1)
	}
}

func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata/parse", func(t *testing.T, path string) {
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			var b strings.Builder
			switch d.Cmd {
			case "parse":
				stmts, err := Parse(d.Input)
				if err != nil {
					return formatErr(err) + "\n"
				}
				for _, s := range stmts {
					out := Format(s)
					fmt.Fprintf(&b, "%s\n", out)
					again, err := ParseOne(out)
					if err != nil {
						fmt.Fprintf(&b, "ROUNDTRIP PARSE FAILED: %s\n", formatErr(err))
					} else if f2 := Format(again); f2 != out {
						fmt.Fprintf(&b, "ROUNDTRIP MISMATCH: %s\n", f2)
					}
				}
			case "expr":
				s, err := ParseOne("SELECT " + d.Input + " FROM T")
				if err != nil {
					return formatErr(err) + "\n"
				}
				for _, it := range s.(*Query).Select.Items {
					if it.Expr == nil {
						fmt.Fprintf(&b, "star\n")
						continue
					}
					fmt.Fprintf(&b, "%s\n", FormatExpr(it.Expr))
					if d.HasArg("tree") {
						dumpExpr(&b, it.Expr, 1)
					}
				}
			case "positions":
				stmts, err := Parse(d.Input)
				if err != nil {
					return formatErr(err) + "\n"
				}
				for _, s := range stmts {
					fmt.Fprintf(&b, "%T at %d:%d %q\n", s, s.Position().Line, s.Position().Col, s.Text())
					if q, ok := s.(*Query); ok {
						for _, it := range q.Select.Items {
							fmt.Fprintf(&b, "  item at %d:%d\n", it.At.Line, it.At.Col)
							if it.Expr != nil {
								dumpExpr(&b, it.Expr, 2)
							}
						}
						if q.Select.Where != nil {
							b.WriteString("  where\n")
							dumpExpr(&b, q.Select.Where, 2)
						}
					}
				}
			case "split":
				parts, err := Split(d.Input)
				if err != nil {
					return formatErr(err) + "\n"
				}
				for _, p := range parts {
					fmt.Fprintf(&b, "%d:%d %q\n", p.At.Line, p.At.Col, p.Text)
				}
			case "type":
				typ, err := ParseType(d.Input)
				if err != nil {
					return formatErr(err) + "\n"
				}
				fmt.Fprintf(&b, "%s\n%s\n", FormatType(typ), typ.String())
			case "columns":
				cols, err := ParseColumns(d.Input)
				if err != nil {
					return formatErr(err) + "\n"
				}
				for _, c := range cols {
					var cb strings.Builder
					formatColumn(&cb, c)
					fmt.Fprintf(&b, "%s @%d:%d\n", cb.String(), c.At.Line, c.At.Col)
				}
			case "subst":
				vars := map[string]string{}
				for _, a := range d.CmdArgs {
					vars[a.Key] = strings.Join(a.Vals, ",")
				}
				out, err := Substitute(d.Input, vars)
				if err != nil {
					return formatErr(err) + "\n"
				}
				return out + "\n"
			default:
				t.Fatalf("unknown command %q", d.Cmd)
			}
			return b.String()
		})
	})
}
