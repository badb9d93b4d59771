package expr

import (
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
)

// The row interpreter evaluates an expression for one row of a record. It
// runs higher-order function calls, whose lambda bodies are evaluated per
// collection element with the lambda parameters bound in rowEnv.

// LambdaFunc is how a lambda argument reaches a higher-order function's
// ScalarImpl: calling it evaluates the lambda body with the given parameter
// values for the current row.
type LambdaFunc func(args ...any) (any, error)

type rowEnv struct {
	ctx     *Ctx
	rec     arrow.Record
	row     int
	lambdas [][]any // innermost last
}

type rowFn func(env *rowEnv) (any, error)

func compileRow(n Node) (rowFn, error) {
	switch n := n.(type) {
	case *Col:
		idx := n.Index
		return func(env *rowEnv) (any, error) {
			if idx >= int(env.rec.NumCols()) {
				return nil, fmt.Errorf("column index %d out of range", idx)
			}
			return ValueAt(env.rec.Column(idx), env.row), nil
		}, nil
	case *Lit:
		v := n.Value
		if v != nil && kindOf(n.Type) != kNull {
			// Normalise the literal through a builder round trip so it has
			// the value representation of its type.
			b := NewBuilder(n.Type)
			if err := AppendValue(b, v); err != nil {
				b.Release()
				return nil, err
			}
			a := b.NewArray()
			b.Release()
			v = ValueAt(a, 0)
			a.Release()
		}
		return func(*rowEnv) (any, error) { return v, nil }, nil
	case *LambdaVar:
		depth, idx := n.Depth, n.Index
		return func(env *rowEnv) (any, error) {
			l := len(env.lambdas) - 1 - depth
			if l < 0 || idx >= len(env.lambdas[l]) {
				return nil, fmt.Errorf("lambda variable %s out of scope", n.Name)
			}
			return env.lambdas[l][idx], nil
		}, nil
	case *Cast:
		x, err := compileRow(n.X)
		if err != nil {
			return nil, err
		}
		from, to := n.X.DataType(), n.Type
		return func(env *rowEnv) (any, error) {
			v, err := x(env)
			if err != nil {
				return nil, err
			}
			return castValue(v, from, to)
		}, nil
	case *Case:
		type arm struct{ cond, res rowFn }
		var arms []arm
		for _, w := range n.Whens {
			c, err := compileRow(w.Cond)
			if err != nil {
				return nil, err
			}
			r, err := compileRow(coerceTo(w.Result, n.Type))
			if err != nil {
				return nil, err
			}
			arms = append(arms, arm{c, r})
		}
		var elseF rowFn
		if n.Else != nil {
			e, err := compileRow(coerceTo(n.Else, n.Type))
			if err != nil {
				return nil, err
			}
			elseF = e
		}
		return func(env *rowEnv) (any, error) {
			for _, a := range arms {
				c, err := a.cond(env)
				if err != nil {
					return nil, err
				}
				if b, ok := c.(bool); ok && b {
					return a.res(env)
				}
			}
			if elseF == nil {
				return nil, nil
			}
			return elseF(env)
		}, nil
	case *Lambda:
		body, err := compileRow(n.Body)
		if err != nil {
			return nil, err
		}
		nparams := len(n.Params)
		return func(env *rowEnv) (any, error) {
			// The lambda value captures env; it is only called while the
			// enclosing call's Impl runs for this row.
			return LambdaFunc(func(args ...any) (any, error) {
				if len(args) != nparams {
					return nil, fmt.Errorf("lambda expects %d arguments, got %d", nparams, len(args))
				}
				env.lambdas = append(env.lambdas, args)
				v, err := body(env)
				env.lambdas = env.lambdas[:len(env.lambdas)-1]
				return v, err
			}), nil
		}, nil
	case *Call:
		if n.Fn == nil || n.Fn.Impl == nil {
			if n.Fn != nil && n.Fn.Kernel != nil {
				return kernelAsRow(n)
			}
			return nil, fmt.Errorf("expr.Compile: call %s has no row implementation", n.Name)
		}
		args := make([]rowFn, len(n.Args))
		for i, a := range n.Args {
			f, err := compileRow(a)
			if err != nil {
				return nil, err
			}
			args[i] = f
		}
		fn := n.Fn
		return func(env *rowEnv) (any, error) {
			vals := make([]any, len(args))
			for i, a := range args {
				v, err := a(env)
				if err != nil {
					return nil, err
				}
				if v == nil && fn.NullOnNull {
					return nil, nil
				}
				vals[i] = v
			}
			v, err := fn.Impl(vals)
			if err != nil {
				return nil, &RowError{Func: fn.Name, Err: err}
			}
			return v, nil
		}, nil
	}
	return nil, fmt.Errorf("expr.Compile: unsupported node %T", n)
}

// kernelAsRow runs a kernel-only function on one-row arrays; used when such
// a call appears inside a lambda body.
func kernelAsRow(c *Call) (rowFn, error) {
	args := make([]rowFn, len(c.Args))
	for i, a := range c.Args {
		f, err := compileRow(a)
		if err != nil {
			return nil, err
		}
		args[i] = f
	}
	params := kernelParams(c.Fn)
	return func(env *rowEnv) (any, error) {
		arrs := make([]arrow.Array, len(args))
		defer func() {
			for _, a := range arrs {
				if a != nil {
					a.Release()
				}
			}
		}()
		for i, a := range args {
			v, err := a(env)
			if err != nil {
				return nil, err
			}
			t := c.Args[i].DataType()
			if params != nil && i < len(params) && !typesEqual(t, params[i]) {
				if v, err = castValue(v, t, params[i]); err != nil {
					return nil, err
				}
				t = params[i]
			}
			arrs[i] = MakeArray(t, v, 1)
		}
		var rerr error
		ctx := &Ctx{OnRowError: func(_ int, err error) { rerr = err }}
		if env.ctx != nil {
			ctx.Props = env.ctx.Props
		}
		out, err := c.Fn.Kernel(ctx, arrs, 1)
		if err != nil {
			return nil, err
		}
		defer out.Release()
		if rerr != nil {
			return nil, rerr
		}
		return ValueAt(out, 0), nil
	}, nil
}
