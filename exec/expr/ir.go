package expr

import (
	"fmt"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
)

// Node is a bound, typed expression over the columns of an input record.
// The planner builds Node trees from SQL; Compile turns them into
// evaluators. Nodes are immutable once built.
//
// SQL types map onto Arrow types one to one (see Types): BOOLEAN Boolean,
// INT Int32, BIGINT Int64, DOUBLE Float64, DECIMAL(p,s) Decimal128(p,s),
// STRING String, BYTES Binary, DATE Date32, TIME Time32(ms), TIMESTAMP
// Timestamp(ms, no zone), ARRAY List, MAP Map, STRUCT Struct. A NULL literal
// without a type has arrow.Null type.
type Node interface {
	DataType() arrow.DataType
	String() string
	node()
}

// Col reads column Index of the input record.
type Col struct {
	Index int
	Name  string // for EXPLAIN
	Type  arrow.DataType
}

// Lit is a constant. Value uses the Go representation described in value.go
// (nil for NULL).
type Lit struct {
	Value any
	Type  arrow.DataType
}

// Call applies a function or operator. Fn is resolved by Resolve at bind
// time; Name is the upper-case name for EXPLAIN. Operators are functions with
// reserved names: "+", "-", "*", "/", "%", "NEG", "=", "<>", "<", "<=", ">",
// ">=", "AND", "OR", "NOT", "IS NULL", "IS NOT NULL", "IN", "BETWEEN",
// "LIKE", "CASE", "CAST", "SUBSCRIPT", "ARRAY", "MAP", "STRUCT", "CONCAT",
// and "->F" for the dereference of struct field F.
type Call struct {
	Name string
	Args []Node
	Fn   *Func
	Type arrow.DataType
}

// Case is a searched CASE: the first When whose Cond is TRUE yields its
// Result; else Else (NULL when nil). Only the chosen branch's errors count.
type Case struct {
	Whens []CaseWhen
	Else  Node
	Type  arrow.DataType
}

// CaseWhen is one arm of a Case.
type CaseWhen struct{ Cond, Result Node }

// Cast converts X to Type with ksqlDB's CAST rules (a failed cast is NULL
// and reported as a row error).
type Cast struct {
	X    Node
	Type arrow.DataType
}

// Lambda is a lambda argument of a higher-order function (TRANSFORM, FILTER,
// REDUCE, ...). Its parameters are read in Body by LambdaVar nodes.
type Lambda struct {
	Params []string
	Types  []arrow.DataType
	Body   Node
}

// LambdaVar reads parameter Index of the innermost enclosing lambda at Depth
// (0 = innermost).
type LambdaVar struct {
	Name  string
	Depth int
	Index int
	Type  arrow.DataType
}

func (c *Col) DataType() arrow.DataType       { return c.Type }
func (l *Lit) DataType() arrow.DataType       { return l.Type }
func (c *Call) DataType() arrow.DataType      { return c.Type }
func (c *Case) DataType() arrow.DataType      { return c.Type }
func (c *Cast) DataType() arrow.DataType      { return c.Type }
func (l *Lambda) DataType() arrow.DataType    { return l.Body.DataType() }
func (v *LambdaVar) DataType() arrow.DataType { return v.Type }

func (*Col) node()       {}
func (*Lit) node()       {}
func (*Call) node()      {}
func (*Case) node()      {}
func (*Cast) node()      {}
func (*Lambda) node()    {}
func (*LambdaVar) node() {}

func (c *Col) String() string { return fmt.Sprintf("%s#%d", c.Name, c.Index) }
func (l *Lit) String() string {
	if l.Value == nil {
		return "NULL"
	}
	switch v := l.Value.(type) {
	case string:
		return "'" + strings.ReplaceAll(v, "'", "''") + "'"
	case Decimal:
		return FormatDecimal(v)
	case float64:
		return FormatDouble(v)
	}
	return fmt.Sprint(l.Value)
}
func (c *Call) String() string {
	if strings.HasPrefix(c.Name, "->") && len(c.Args) == 1 {
		return c.Args[0].String() + c.Name // a struct dereference, s->F
	}
	args := make([]string, len(c.Args))
	for i, a := range c.Args {
		args[i] = a.String()
	}
	return c.Name + "(" + strings.Join(args, ", ") + ")"
}
func (c *Case) String() string {
	var b strings.Builder
	b.WriteString("CASE")
	for _, w := range c.Whens {
		b.WriteString(" WHEN " + w.Cond.String() + " THEN " + w.Result.String())
	}
	if c.Else != nil {
		b.WriteString(" ELSE " + c.Else.String())
	}
	b.WriteString(" END")
	return b.String()
}
func (c *Cast) String() string { return "CAST(" + c.X.String() + " AS " + c.Type.String() + ")" }
func (l *Lambda) String() string {
	return "(" + strings.Join(l.Params, ", ") + ") => " + l.Body.String()
}
func (v *LambdaVar) String() string {
	return v.Name
}
