// Package agg is the aggregate function library: ksqlDB's UDAFs (COUNT,
// SUM, AVG, MIN, MAX, COLLECT_LIST, ...) as accumulators that the
// aggregation operator of package exec keeps in its state store.
//
// An accumulator is row-at-a-time: the operator reads each row's argument
// values (Go SQL values, see exec/expr) and calls Add, or Undo to retract a
// table row's old contribution. Accumulators serialize themselves with the
// value encoding of value.go, so the operator can store them in a
// StateStore between rows and across restarts.
//
// The package does not import the planner or the SQL front end: the
// planner resolves calls with Resolve, passing the argument types and the
// values of constant arguments.
package agg

import (
	"fmt"
	"sort"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
)

// Acc is the running state of one aggregate call for one group.
type Acc interface {
	// Add folds in one row. args holds one value per argument of the call,
	// constants included; seq is the row's position in processing order
	// (strictly increasing per operator), which EARLIEST_BY_OFFSET and
	// LATEST_BY_OFFSET use to merge sessions.
	Add(args []any, seq int64) error
	// Undo retracts a row previously added (a table row replaced or
	// deleted). Only called when Func.Undoable.
	Undo(args []any) error
	// Merge folds in the accumulator of a session that is being merged
	// into this one; other was built by the same Func.
	Merge(other Acc) error
	// Result is the current value of the aggregate.
	Result() any
	// AppendState appends the serialized state; Func.Decode reads it back.
	AppendState(dst []byte) []byte
}

// Func is a resolved aggregate call: the function for the given argument
// types and constant arguments.
type Func struct {
	Name   string
	Result arrow.DataType
	// Undoable: the function can aggregate a table (it has an Undo).
	Undoable bool
	// ComplexState: the accumulator's state is structured (a list, a map,
	// a sum with a count), which ksqlDB cannot keep in DELIMITED or KAFKA
	// internal topics; COUNT, SUM, MIN and MAX keep one primitive.
	ComplexState bool
	newAcc       func() Acc
	decode       func(src []byte) (Acc, error)
}

// New returns an empty accumulator (the aggregate's initial value).
func (f *Func) New() Acc { return f.newAcc() }

// Decode reads an accumulator written by Acc.AppendState.
func (f *Func) Decode(src []byte) (Acc, error) {
	a, err := f.decode(src)
	if err != nil {
		return nil, fmt.Errorf("%s: corrupt state: %w", f.Name, err)
	}
	return a, nil
}

// Arg describes one argument of a call for Resolve.
type Arg struct {
	Type arrow.DataType
	// Const is set when the argument is a literal; Value is its value.
	Const bool
	Value any
}

// Config carries the ksqlDB settings that change aggregate behaviour.
type Config struct {
	// CollectListLimit and CollectSetLimit cap COLLECT_LIST/COLLECT_SET
	// (ksql.functions.collect_list.limit, ...); 0 means unlimited.
	CollectListLimit int
	CollectSetLimit  int
}

// ResolveError is a user error in an aggregate call (unknown function,
// wrong argument types or constants). Msg is ksqlDB's wording.
type ResolveError struct {
	Msg string
	// Unknown: no aggregate function has this name.
	Unknown bool
}

func (e *ResolveError) Error() string { return e.Msg }

type resolver func(name string, args []Arg, cfg Config) (*Func, error)

var registry = map[string]resolver{}

func register(r resolver, names ...string) {
	for _, n := range names {
		registry[n] = r
	}
}

// IsAggregate reports whether name (upper case) is an aggregate function.
func IsAggregate(name string) bool {
	_, ok := registry[name]
	return ok
}

// Names lists the aggregate functions, sorted.
func Names() []string {
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Resolve finds the aggregate function name (upper case) for args.
func Resolve(name string, args []Arg, cfg Config) (*Func, error) {
	r, ok := registry[name]
	if !ok {
		return nil, &ResolveError{Msg: fmt.Sprintf("Can't find any functions with the name '%s'", name), Unknown: true}
	}
	return r(name, args, cfg)
}

func badArgs(name string, args []Arg) error {
	ts := make([]string, len(args))
	for i, a := range args {
		ts[i] = typeName(a.Type)
	}
	return &ResolveError{Msg: fmt.Sprintf("Function '%s' does not accept parameters (%s).", name, strings.Join(ts, ", "))}
}
