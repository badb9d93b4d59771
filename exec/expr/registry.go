package expr

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/apache/arrow/go/v17/arrow"
)

// FuncInfo describes a function for SHOW FUNCTIONS and DESCRIBE FUNCTION.
type FuncInfo struct {
	Name        string
	Category    string
	Description string
	Signatures  []string // e.g. "SUBSTRING(STRING, INTEGER, INTEGER) -> STRING"
}

// ResolveError reports that no overload of Name accepts Args (type names).
// The planner maps it to SQLSTATE 42883 (undefined function).
type ResolveError struct {
	Name    string
	Args    []string
	Unknown bool // no function of that name at all
	Msg     string
}

func (e *ResolveError) Error() string { return e.Msg }

// KernelFunc evaluates whole columns; see Func.Kernel.
type KernelFunc = func(ctx *Ctx, args []arrow.Array, n int) (arrow.Array, error)

// overload is one registered signature. Parameters are type patterns; after
// a match, the argument values reaching impl have been converted to the
// instantiated parameter types, so impl never sees an INT where it declared
// BIGINT.
type overload struct {
	params   []*pat
	variadic bool // the last parameter repeats zero or more times
	result   *pat // result pattern, or nil when resultFn decides
	resultFn func(params []arrow.DataType) (arrow.DataType, error)
	impl     ScalarImpl
	implFn   func(params []arrow.DataType, result arrow.DataType) ScalarImpl
	kernelFn func(params []arrow.DataType, result arrow.DataType) KernelFunc
	// nullOnNull short-circuits NULL arguments to a NULL result.
	nullOnNull bool
}

// function is a registry entry: overloads, or a custom resolver for
// operators whose typing is not a fixed signature.
type function struct {
	info      FuncInfo
	overloads []*overload
	custom    func(args []arrow.DataType) (*Func, error)
	// lambdaParams types the lambda parameters of a higher-order function.
	lambdaParams func(args []arrow.DataType, lambdaIndex int) ([]arrow.DataType, error)
	hidden       bool // operators are not listed by Functions
}

var (
	registryMu sync.RWMutex
	registry   = map[string]*function{}
)

func lookup(name string) *function {
	registryMu.RLock()
	defer registryMu.RUnlock()
	return registry[strings.ToUpper(name)]
}

// reg registers overloads of a function. sigs are "ARG, ARG... -> RESULT"
// patterns (see pat); each overload's options are applied after parsing.
func reg(name, category, desc string, ovs ...*overload) *function {
	registryMu.Lock()
	defer registryMu.Unlock()
	f := registry[name]
	if f == nil {
		f = &function{info: FuncInfo{Name: name, Category: category, Description: desc}}
		registry[name] = f
	}
	for _, o := range ovs {
		f.overloads = append(f.overloads, o)
		f.info.Signatures = append(f.info.Signatures, o.signature(name))
	}
	return f
}

// regCustom registers an operator or function with its own resolver.
func regCustom(name, category, desc string, sigs []string, hidden bool, r func([]arrow.DataType) (*Func, error)) *function {
	registryMu.Lock()
	defer registryMu.Unlock()
	f := &function{info: FuncInfo{Name: name, Category: category, Description: desc, Signatures: sigs}, custom: r, hidden: hidden}
	registry[name] = f
	return f
}

// sig builds an overload from "P1, P2... -> R" with a fixed implementation.
func sig(s string, impl ScalarImpl) *overload {
	o := parseSig(s)
	o.impl = impl
	o.nullOnNull = true
	return o
}

// sigFn is sig with an implementation chosen from the resolved types.
func sigFn(s string, implFn func(params []arrow.DataType, result arrow.DataType) ScalarImpl) *overload {
	o := parseSig(s)
	o.implFn = implFn
	o.nullOnNull = true
	return o
}

// nullable marks an overload that handles NULL arguments itself.
func (o *overload) nullable() *overload { o.nullOnNull = false; return o }

// resultBy sets a computed result type.
func (o *overload) resultBy(f func([]arrow.DataType) (arrow.DataType, error)) *overload {
	o.resultFn = f
	return o
}

func parseSig(s string) *overload {
	lhs, rhs, ok := strings.Cut(s, "->")
	if !ok {
		panic("bad signature " + s)
	}
	o := &overload{}
	lhs = strings.TrimSpace(lhs)
	if lhs != "" {
		for _, p := range splitTop(lhs) {
			p = strings.TrimSpace(p)
			if strings.HasSuffix(p, "...") {
				o.variadic = true
				p = strings.TrimSuffix(p, "...")
			}
			o.params = append(o.params, mustPat(p))
		}
	}
	if r := strings.TrimSpace(rhs); r != "?" {
		o.result = mustPat(r)
	}
	return o
}

func (o *overload) signature(name string) string {
	ps := make([]string, len(o.params))
	for i, p := range o.params {
		ps[i] = p.String()
		if o.variadic && i == len(o.params)-1 {
			ps[i] += "..."
		}
	}
	r := "?"
	if o.result != nil {
		r = o.result.String()
	}
	return name + "(" + strings.Join(ps, ", ") + ") -> " + r
}

// Resolve finds the overload of name (a function or an operator of ir.go's
// Call list) for the argument types. NULL-typed arguments match any
// parameter; numbers widen INT -> BIGINT -> DECIMAL -> DOUBLE. Among matching
// overloads the one needing the fewest widenings wins, ties going to the
// first registered (ksqlDB reports such ties as ambiguous; sluice picks the
// narrower, earlier signature, which matters only for NULL literals).
func Resolve(name string, args []arrow.DataType) (*Func, error) {
	uname := strings.ToUpper(name)
	f := lookup(uname)
	if f == nil {
		return nil, &ResolveError{Name: uname, Args: typeNames(args), Unknown: true,
			Msg: fmt.Sprintf("Can't find any functions with the name '%s'", uname)}
	}
	if f.custom != nil {
		fn, err := f.custom(args)
		if err != nil {
			if _, ok := err.(*ResolveError); ok {
				return nil, err
			}
			return nil, &ResolveError{Name: uname, Args: typeNames(args), Msg: err.Error()}
		}
		if fn.Name == "" {
			fn.Name = uname
		}
		return fn, nil
	}
	var best *Func
	bestCost := -1
	for _, o := range f.overloads {
		fn, cost, ok := o.bind(uname, args)
		if ok && (bestCost < 0 || cost < bestCost) {
			best, bestCost = fn, cost
		}
	}
	if best == nil {
		// ksqlDB names the function as its UDF declares it, lower case.
		return nil, &ResolveError{Name: uname, Args: typeNames(args), Msg: fmt.Sprintf(
			"Function '%s' does not accept parameters (%s).\nValid alternatives are:\n%s\nFor detailed information on a function run: DESCRIBE FUNCTION <Function-Name>;",
			strings.ToLower(uname), strings.Join(typeNames(args), ", "), strings.Join(f.info.Signatures, "\n"))}
	}
	return best, nil
}

func typeNames(ts []arrow.DataType) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = TypeName(t)
	}
	return out
}

// bind matches args against o and builds the Func, returning a cost (the
// number of widening steps) for choosing among overloads.
func (o *overload) bind(name string, args []arrow.DataType) (*Func, int, bool) {
	n := len(o.params)
	if o.variadic {
		if len(args) < n-1 {
			return nil, 0, false
		}
	} else if len(args) != n {
		return nil, 0, false
	}
	paramOf := func(i int) *pat {
		if i >= n {
			return o.params[n-1]
		}
		return o.params[i]
	}
	env := map[string][]arrow.DataType{}
	for i, a := range args {
		if !paramOf(i).collect(a, env) {
			return nil, 0, false
		}
	}
	bound := map[string]arrow.DataType{}
	for v, ts := range env {
		t, ok := CommonType(ts...)
		if !ok {
			return nil, 0, false
		}
		bound[v] = t
	}
	params := make([]arrow.DataType, len(args))
	cost := 0
	for i, a := range args {
		p := paramOf(i).instantiate(bound, a)
		if p == nil {
			return nil, 0, false
		}
		c, ok := convCost(a, p)
		if !ok {
			return nil, 0, false
		}
		cost += c
		params[i] = p
	}
	var result arrow.DataType
	switch {
	case o.resultFn != nil:
		r, err := o.resultFn(params)
		if err != nil {
			return nil, 0, false
		}
		result = r
	default:
		result = o.result.instantiate(bound, nil)
		if result == nil {
			result = NullType
		}
	}
	impl := o.impl
	if o.implFn != nil {
		impl = o.implFn(params, result)
	}
	fn := &Func{Name: name, NullOnNull: o.nullOnNull, Result: result, Impl: coerceArgs(impl, args, params)}
	if o.kernelFn != nil {
		fn.Kernel = o.kernelFn(params, result)
	}
	return fn, cost, true
}

// convCost is the widening distance from a to p (0 when equal or NULL).
func convCost(a, p arrow.DataType) (int, bool) {
	if kindOf(a) == kNull || typesEqual(a, p) {
		return 0, true
	}
	if kindOf(p) == kUnknown { // lambda result placeholder
		return 0, true
	}
	rank := func(k kind) int {
		switch k {
		case kInt:
			return 0
		case kBigint:
			return 1
		case kDecimal:
			return 2
		case kDouble:
			return 3
		}
		return -1
	}
	ka, kp := kindOf(a), kindOf(p)
	if isNumericKind(ka) && isNumericKind(kp) && implicitlyConvertible(a, p) {
		d := rank(kp) - rank(ka)
		if d <= 0 {
			d = 1 // decimal rescale
		}
		return d, true
	}
	if ka == kp && (ka == kArray || ka == kMap || ka == kStruct) && castable(a, p) {
		return 1, true
	}
	return 0, false
}

// coerceArgs wraps impl so that argument values arrive in the parameter
// types it was resolved for.
func coerceArgs(impl ScalarImpl, args, params []arrow.DataType) ScalarImpl {
	if impl == nil {
		return nil
	}
	var convs []func(any) (any, error)
	for i := range args {
		if kindOf(args[i]) == kNull || typesEqual(args[i], params[i]) || kindOf(params[i]) == kUnknown {
			continue
		}
		if convs == nil {
			convs = make([]func(any) (any, error), len(args))
		}
		from, to := args[i], params[i]
		convs[i] = func(v any) (any, error) { return castValue(v, from, to) }
	}
	if convs == nil {
		return impl
	}
	return func(vals []any) (any, error) {
		for i, c := range convs {
			if c != nil && vals[i] != nil {
				v, err := c(vals[i])
				if err != nil {
					return nil, err
				}
				vals[i] = v
			}
		}
		return impl(vals)
	}
}

// LambdaParamTypes returns the types of the parameters of the lambda at
// args[lambdaIndex] of a higher-order function call, given the types of the
// other arguments (args[lambdaIndex] and later lambdas may be nil).
func LambdaParamTypes(name string, args []arrow.DataType, lambdaIndex int) ([]arrow.DataType, error) {
	uname := strings.ToUpper(name)
	f := lookup(uname)
	if f == nil || f.lambdaParams == nil {
		return nil, &ResolveError{Name: uname, Args: typeNames(args),
			Msg: fmt.Sprintf("Function '%s' does not accept lambda arguments", uname), Unknown: f == nil}
	}
	ts, err := f.lambdaParams(args, lambdaIndex)
	if err != nil {
		return nil, &ResolveError{Name: uname, Args: typeNames(args), Msg: err.Error()}
	}
	return ts, nil
}

// Functions lists the registered functions (not operators), sorted by name.
func Functions() []FuncInfo {
	registryMu.RLock()
	defer registryMu.RUnlock()
	out := make([]FuncInfo, 0, len(registry))
	for _, f := range registry {
		if f.hidden {
			continue
		}
		info := f.info
		info.Signatures = append([]string(nil), info.Signatures...)
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ---- type patterns -------------------------------------------------------

// pat is a parameter or result type pattern: a concrete type, a type family
// (DECIMAL of any precision, ANY), a type variable (T, U, K, V, E) or an
// ARRAY/MAP of patterns. FN(U) is a lambda argument whose body type binds U.
type pat struct {
	k      kind
	fixed  arrow.DataType // concrete type when k is scalar
	tvar   string
	anyT   bool
	lambda bool
	elem   *pat // ARRAY element / MAP value
	key    *pat // MAP key
}

func mustPat(s string) *pat {
	s = strings.TrimSpace(s)
	switch s {
	case "BOOLEAN":
		return &pat{k: kBool, fixed: BooleanType}
	case "INT", "INTEGER":
		return &pat{k: kInt, fixed: IntType}
	case "BIGINT":
		return &pat{k: kBigint, fixed: BigintType}
	case "DOUBLE":
		return &pat{k: kDouble, fixed: DoubleType}
	case "DECIMAL":
		return &pat{k: kDecimal}
	case "STRING":
		return &pat{k: kString, fixed: StringType}
	case "BYTES":
		return &pat{k: kBytes, fixed: BytesType}
	case "DATE":
		return &pat{k: kDate, fixed: DateType}
	case "TIME":
		return &pat{k: kTime, fixed: TimeType}
	case "TIMESTAMP":
		return &pat{k: kTimestamp, fixed: TimestampType}
	case "ANY":
		return &pat{anyT: true}
	case "STRUCT":
		return &pat{k: kStruct}
	}
	if strings.HasPrefix(s, "ARRAY<") && strings.HasSuffix(s, ">") {
		return &pat{k: kArray, elem: mustPat(s[6 : len(s)-1])}
	}
	if strings.HasPrefix(s, "MAP<") && strings.HasSuffix(s, ">") {
		parts := splitTop(s[4 : len(s)-1])
		return &pat{k: kMap, key: mustPat(parts[0]), elem: mustPat(parts[1])}
	}
	if strings.HasPrefix(s, "FN(") && strings.HasSuffix(s, ")") {
		return &pat{lambda: true, tvar: s[3 : len(s)-1]}
	}
	if len(s) == 1 && s[0] >= 'A' && s[0] <= 'Z' {
		return &pat{tvar: s}
	}
	panic("bad type pattern " + s)
}

// splitTop splits on commas outside angle brackets.
func splitTop(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '<', '(':
			depth++
		case '>', ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

func (p *pat) String() string {
	switch {
	case p.lambda:
		return "LAMBDA"
	case p.anyT:
		return "ANY"
	case p.tvar != "":
		return p.tvar
	case p.k == kDecimal:
		return "DECIMAL"
	case p.k == kStruct:
		return "STRUCT"
	case p.k == kArray:
		return "ARRAY<" + p.elem.String() + ">"
	case p.k == kMap:
		return "MAP<" + p.key.String() + ", " + p.elem.String() + ">"
	}
	return TypeName(p.fixed)
}

// collect checks the shape of t against p and records type-variable
// candidates in env.
func (p *pat) collect(t arrow.DataType, env map[string][]arrow.DataType) bool {
	kt := kindOf(t)
	switch {
	case p.anyT:
		return true
	case p.tvar != "":
		env[p.tvar] = append(env[p.tvar], t)
		return true
	case kt == kNull:
		return true
	case p.k == kArray:
		return kt == kArray && p.elem.collect(t.(*arrow.ListType).Elem(), env)
	case p.k == kMap:
		if kt != kMap {
			return false
		}
		m := t.(*arrow.MapType)
		return p.key.collect(m.KeyType(), env) && p.elem.collect(m.ItemType(), env)
	case p.k == kStruct:
		return kt == kStruct
	case p.k == kDecimal:
		return kt == kDecimal || kt == kInt || kt == kBigint
	}
	return true // scalar: convCost decides
}

// instantiate returns the concrete parameter type for argument type a.
func (p *pat) instantiate(env map[string]arrow.DataType, a arrow.DataType) arrow.DataType {
	switch {
	case p.anyT:
		if a == nil {
			return nil
		}
		return a
	case p.lambda:
		return &unknownType{} // lambda values are not converted
	case p.tvar != "":
		if t, ok := env[p.tvar]; ok {
			return t
		}
		return nil
	case p.k == kArray:
		var ae arrow.DataType
		if a != nil && kindOf(a) == kArray {
			ae = a.(*arrow.ListType).Elem()
		}
		e := p.elem.instantiate(env, ae)
		if e == nil {
			if ae == nil {
				return nil
			}
			e = ae
		}
		return ListOf(e)
	case p.k == kMap:
		var ak, av arrow.DataType
		if a != nil && kindOf(a) == kMap {
			ak, av = a.(*arrow.MapType).KeyType(), a.(*arrow.MapType).ItemType()
		}
		k, v := p.key.instantiate(env, ak), p.elem.instantiate(env, av)
		if k == nil || v == nil {
			return nil
		}
		return MapOf(k, v)
	case p.k == kStruct:
		return a
	case p.k == kDecimal:
		if a == nil {
			return nil
		}
		switch kindOf(a) {
		case kDecimal:
			return a
		case kNull:
			return DecimalType(10, 0)
		}
		pr, s := decParams(a)
		return DecimalType(int(pr), int(s))
	}
	return p.fixed
}

// unknownType marks a parameter whose values are passed through unconverted
// (lambda arguments).
type unknownType struct{ arrow.NullType }

func (*unknownType) ID() arrow.Type      { return arrow.EXTENSION }
func (*unknownType) Name() string        { return "lambda" }
func (*unknownType) String() string      { return "lambda" }
func (*unknownType) Fingerprint() string { return "lambda" }
