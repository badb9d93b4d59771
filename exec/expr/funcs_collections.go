package expr

import (
	"fmt"
	"sort"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
)

// Array and map functions, including the higher-order TRANSFORM, FILTER and
// REDUCE whose lambda arguments arrive as LambdaFunc values.

func list(v any) []any { return v.([]any) }

func distinct(l []any) []any {
	out := []any{}
	for _, x := range l {
		if !containsValue(out, x) {
			out = append(out, x)
		}
	}
	return out
}

func containsValue(l []any, v any) bool {
	for _, x := range l {
		if valuesEqual(x, v) {
			return true
		}
	}
	return false
}

func elemOf(t arrow.DataType) arrow.DataType {
	if lt, ok := t.(*arrow.ListType); ok {
		return lt.Elem()
	}
	return nil
}

func init() {
	const cat = "ARRAY"
	reg("ARRAY_LENGTH", cat, "Number of elements.", sig("ARRAY<T> -> INT", func(a []any) (any, error) { return int32(len(list(a[0]))), nil }))
	reg("ARRAY_CONTAINS", cat, "Whether the array contains the value (NULL array -> false).", sig("ARRAY<T>, T -> BOOLEAN", func(a []any) (any, error) {
		if a[0] == nil {
			return false, nil
		}
		return containsValue(list(a[0]), a[1]), nil
	}).nullable())
	reg("ARRAY_CONCAT", cat, "Concatenates two arrays.", sig("ARRAY<T>, ARRAY<T> -> ARRAY<T>", func(a []any) (any, error) {
		switch {
		case a[0] == nil && a[1] == nil:
			return nil, nil
		case a[0] == nil:
			return a[1], nil
		case a[1] == nil:
			return a[0], nil
		}
		return append(append([]any{}, list(a[0])...), list(a[1])...), nil
	}).nullable())
	reg("ARRAY_DISTINCT", cat, "Distinct elements in first-occurrence order.", sig("ARRAY<T> -> ARRAY<T>", func(a []any) (any, error) { return distinct(list(a[0])), nil }))
	reg("ARRAY_EXCEPT", cat, "Distinct elements of the first array not in the second.", sig("ARRAY<T>, ARRAY<T> -> ARRAY<T>", func(a []any) (any, error) {
		out := []any{}
		for _, x := range distinct(list(a[0])) {
			if !containsValue(list(a[1]), x) {
				out = append(out, x)
			}
		}
		return out, nil
	}))
	reg("ARRAY_INTERSECT", cat, "Distinct elements in both arrays.", sig("ARRAY<T>, ARRAY<T> -> ARRAY<T>", func(a []any) (any, error) {
		out := []any{}
		for _, x := range distinct(list(a[0])) {
			if containsValue(list(a[1]), x) {
				out = append(out, x)
			}
		}
		return out, nil
	}))
	reg("ARRAY_UNION", cat, "Distinct elements of either array.", sig("ARRAY<T>, ARRAY<T> -> ARRAY<T>", func(a []any) (any, error) {
		return distinct(append(append([]any{}, list(a[0])...), list(a[1])...)), nil
	}))
	reg("ARRAY_REMOVE", cat, "Removes all elements equal to the value.", sig("ARRAY<T>, T -> ARRAY<T>", func(a []any) (any, error) {
		if a[0] == nil {
			return nil, nil
		}
		out := []any{}
		for _, x := range list(a[0]) {
			if !valuesEqual(x, a[1]) {
				out = append(out, x)
			}
		}
		return out, nil
	}).nullable())
	extreme := func(sign int) ScalarImpl {
		return func(a []any) (any, error) { return extremum(sign)(list(a[0])) }
	}
	reg("ARRAY_MAX", cat, "Largest non-NULL element.", sig("ARRAY<T> -> T", extreme(1)))
	reg("ARRAY_MIN", cat, "Smallest non-NULL element.", sig("ARRAY<T> -> T", extreme(-1)))
	sortImpl := func(a []any) (any, error) {
		desc := false
		if len(a) > 1 {
			if a[1] == nil {
				return nil, nil
			}
			switch strings.ToUpper(str(a[1])) {
			case "ASC", "ASCENDING":
			case "DESC", "DESCENDING":
				desc = true
			default:
				return nil, nil
			}
		}
		out := append([]any{}, list(a[0])...)
		sort.SliceStable(out, func(i, j int) bool {
			x, y := out[i], out[j]
			if x == nil || y == nil {
				return x != nil // NULLs last either way
			}
			c, _ := compareValues(x, y)
			if desc {
				return c > 0
			}
			return c < 0
		})
		return out, nil
	}
	reg("ARRAY_SORT", cat, "Sorts an array (NULLs last).",
		sig("ARRAY<T> -> ARRAY<T>", sortImpl),
		sig("ARRAY<T>, STRING -> ARRAY<T>", sortImpl).nullable().guardFirst())
	joinImpl := func(a []any) (any, error) {
		delim := ","
		if len(a) > 1 {
			delim = ""
			if a[1] != nil {
				delim = str(a[1])
			}
		}
		parts := make([]string, len(list(a[0])))
		for i, x := range list(a[0]) {
			switch x.(type) {
			case nil, bool, int32, int64, float64, Decimal, string:
				parts[i] = javaStr(x)
			default:
				return nil, fmt.Errorf("ARRAY_JOIN only supports arrays of primitive types")
			}
		}
		return strings.Join(parts, delim), nil
	}
	reg("ARRAY_JOIN", cat, "Joins elements into a string.",
		sig("ARRAY<T> -> STRING", joinImpl),
		sig("ARRAY<T>, STRING -> STRING", joinImpl).nullable().guardFirst())
	reg("SLICE", cat, "Elements from..to (1-based, inclusive).", sig("ARRAY<T>, INT, INT -> ARRAY<T>", func(a []any) (any, error) {
		l := list(a[0])
		from, to := 1, len(l)
		if a[1] != nil {
			from = int(a[1].(int32))
		}
		if a[2] != nil {
			to = int(a[2].(int32))
		}
		if from < 1 || to > len(l) || from > to+1 {
			return nil, nil
		}
		return append([]any{}, l[from-1:to]...), nil
	}).nullable().guardFirst())

	const mcat = "MAP"
	reg("MAP_KEYS", mcat, "Keys of a map.", sig("MAP<K, V> -> ARRAY<K>", func(a []any) (any, error) {
		return append([]any{}, a[0].(*Map).Keys...), nil
	}))
	reg("MAP_VALUES", mcat, "Values of a map.", sig("MAP<K, V> -> ARRAY<V>", func(a []any) (any, error) {
		return append([]any{}, a[0].(*Map).Values...), nil
	}))
	reg("MAP_UNION", mcat, "Union of two maps; the second wins on conflicts.", sig("MAP<K, V>, MAP<K, V> -> MAP<K, V>", func(a []any) (any, error) {
		if a[0] == nil && a[1] == nil {
			return nil, nil
		}
		out := &Map{}
		for _, x := range a {
			if x == nil {
				continue
			}
			m := x.(*Map)
			for i := range m.Keys {
				out.put(m.Keys[i], m.Values[i])
			}
		}
		return out, nil
	}).nullable())
	reg("AS_MAP", mcat, "Builds a map from an array of keys and an array of values.", sig("ARRAY<STRING>, ARRAY<T> -> MAP<STRING, T>", func(a []any) (any, error) {
		ks, vs := list(a[0]), list(a[1])
		m := &Map{}
		for i, k := range ks {
			if k == nil {
				continue
			}
			var v any
			if i < len(vs) {
				v = vs[i]
			}
			m.put(k, v)
		}
		return m, nil
	}))
	reg("ENTRIES", mcat, "Map entries as an array of STRUCT<K, V>.", sigFn("MAP<STRING, T>, BOOLEAN -> ?", func([]arrow.DataType, arrow.DataType) ScalarImpl {
		return func(a []any) (any, error) {
			m := a[0].(*Map)
			idx := make([]int, len(m.Keys))
			for i := range idx {
				idx[i] = i
			}
			if a[1].(bool) {
				sort.SliceStable(idx, func(i, j int) bool { return str(m.Keys[idx[i]]) < str(m.Keys[idx[j]]) })
			}
			out := make([]any, len(idx))
			for n, i := range idx {
				out[n] = &Struct{Names: []string{"K", "V"}, Values: []any{m.Keys[i], m.Values[i]}}
			}
			return out, nil
		}
	}).resultBy(func(ts []arrow.DataType) (arrow.DataType, error) {
		v := ts[0].(*arrow.MapType).ItemType()
		return ListOf(StructOf(Field("K", StringType), Field("V", v))), nil
	}))

	const lcat = "LAMBDA"
	f := reg("TRANSFORM", lcat, "Applies a lambda to each element (or to map keys and values).",
		sig("ARRAY<T>, FN(U) -> ARRAY<U>", func(a []any) (any, error) {
			fn := a[1].(LambdaFunc)
			out := make([]any, len(list(a[0])))
			for i, x := range list(a[0]) {
				v, err := fn(x)
				if err != nil {
					return nil, err
				}
				out[i] = v
			}
			return out, nil
		}),
		sig("MAP<K, V>, FN(A), FN(B) -> MAP<A, B>", func(a []any) (any, error) {
			m := a[0].(*Map)
			kf, vf := a[1].(LambdaFunc), a[2].(LambdaFunc)
			out := &Map{}
			for i := range m.Keys {
				k, err := kf(m.Keys[i], m.Values[i])
				if err != nil {
					return nil, err
				}
				v, err := vf(m.Keys[i], m.Values[i])
				if err != nil {
					return nil, err
				}
				if k == nil {
					return nil, fmt.Errorf("TRANSFORM produced a NULL map key")
				}
				if _, dup := out.get(k); dup {
					return nil, fmt.Errorf("TRANSFORM produced the duplicate map key %s", javaStr(k))
				}
				out.put(k, v)
			}
			return out, nil
		}))
	f.lambdaParams = func(args []arrow.DataType, _ int) ([]arrow.DataType, error) {
		return collectionLambdaParams(args, nil)
	}
	f = reg("FILTER", lcat, "Keeps the elements (or map entries) for which the lambda is TRUE.",
		sig("ARRAY<T>, FN(B) -> ARRAY<T>", func(a []any) (any, error) {
			fn := a[1].(LambdaFunc)
			out := []any{}
			for _, x := range list(a[0]) {
				v, err := fn(x)
				if err != nil {
					return nil, err
				}
				if v == true {
					out = append(out, x)
				}
			}
			return out, nil
		}),
		sig("MAP<K, V>, FN(B) -> MAP<K, V>", func(a []any) (any, error) {
			m := a[0].(*Map)
			fn := a[1].(LambdaFunc)
			out := &Map{}
			for i := range m.Keys {
				v, err := fn(m.Keys[i], m.Values[i])
				if err != nil {
					return nil, err
				}
				if v == true {
					out.put(m.Keys[i], m.Values[i])
				}
			}
			return out, nil
		}))
	f.lambdaParams = func(args []arrow.DataType, _ int) ([]arrow.DataType, error) {
		return collectionLambdaParams(args, nil)
	}
	f = reg("REDUCE", lcat, "Folds a collection into a state with a lambda.",
		sig("ARRAY<T>, S, FN(S) -> S", func(a []any) (any, error) {
			if a[1] == nil {
				return nil, nil
			}
			if a[0] == nil {
				return a[1], nil
			}
			fn := a[2].(LambdaFunc)
			state := a[1]
			for _, x := range list(a[0]) {
				v, err := fn(state, x)
				if err != nil {
					return nil, err
				}
				state = v
			}
			return state, nil
		}).nullable(),
		sig("MAP<K, V>, S, FN(S) -> S", func(a []any) (any, error) {
			if a[1] == nil {
				return nil, nil
			}
			if a[0] == nil {
				return a[1], nil
			}
			m := a[0].(*Map)
			fn := a[2].(LambdaFunc)
			state := a[1]
			for i := range m.Keys {
				v, err := fn(state, m.Keys[i], m.Values[i])
				if err != nil {
					return nil, err
				}
				state = v
			}
			return state, nil
		}).nullable())
	f.lambdaParams = func(args []arrow.DataType, _ int) ([]arrow.DataType, error) {
		if len(args) < 2 {
			return nil, fmt.Errorf("REDUCE needs a collection and an initial state")
		}
		return collectionLambdaParams(args, args[1])
	}
}

// collectionLambdaParams: (elem) for arrays, (key, value) for maps, with
// the state type first for REDUCE.
func collectionLambdaParams(args []arrow.DataType, state arrow.DataType) ([]arrow.DataType, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("missing collection argument")
	}
	var ps []arrow.DataType
	if state != nil {
		ps = append(ps, state)
	}
	switch t := args[0].(type) {
	case *arrow.ListType:
		return append(ps, t.Elem()), nil
	case *arrow.MapType:
		return append(ps, t.KeyType(), t.ItemType()), nil
	}
	return nil, fmt.Errorf("expected an ARRAY or MAP, got %s", TypeName(args[0]))
}

// guardFirst makes a nullable overload return NULL when its first argument
// is NULL (other arguments are handled by the implementation).
func (o *overload) guardFirst() *overload {
	wrap := func(impl ScalarImpl) ScalarImpl {
		return func(a []any) (any, error) {
			if a[0] == nil {
				return nil, nil
			}
			return impl(a)
		}
	}
	if o.impl != nil {
		o.impl = wrap(o.impl)
	}
	if o.implFn != nil {
		inner := o.implFn
		o.implFn = func(p []arrow.DataType, r arrow.DataType) ScalarImpl { return wrap(inner(p, r)) }
	}
	return o
}
