package pgcatalog

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/sluicedb/sluice/sql"
)

// Values are nil, bool, int64, float64, string and []any (arrays).

// table is a virtual relation.
type table struct {
	cols  []string
	types []uint32
	rows  [][]any
	// open tables answer NULL for columns they do not list: they stand for
	// catalogs that are always empty here (pg_policy, pg_inherits, ...),
	// whose columns vary between Postgres releases.
	open bool
}

// binding is one FROM item's columns within a row.
type binding struct {
	alias string
	cols  []string
	types []uint32
	off   int
	open  bool
}

// scope is where names resolve: the current row of the FROM items, then
// the enclosing query's (correlated subqueries).
type scope struct {
	bindings []binding
	row      []any
	outer    *scope
	group    [][]any // rows of the current group, when aggregating
}

type evaluator struct {
	db *Catalog
}

func errorf(code, format string, args ...any) error {
	return sql.Errorf(code, sql.Pos{}, format, args...)
}

// Result is a query's answer.
type Result struct {
	Columns []string
	Types   []uint32
	Rows    [][]any
}

func (ev *evaluator) query(q *query, outer *scope) (*Result, error) {
	var res *Result
	for i, s := range q.selects {
		r, keys, err := ev.selectRows(s, outer, func() []orderItem {
			if len(q.selects) == 1 {
				return q.orderBy
			}
			return nil
		}())
		if err != nil {
			return nil, err
		}
		if len(q.selects) == 1 && len(q.orderBy) > 0 {
			sortRows(r.Rows, keys, q.orderBy)
		}
		if i == 0 {
			res = r
			continue
		}
		if len(r.Columns) != len(res.Columns) {
			return nil, errorf("42601", "each %s query must have the same number of columns", q.setOps[i-1].kind)
		}
		res.Rows = setOperation(q.setOps[i-1], res.Rows, r.Rows)
	}
	if len(q.selects) > 1 && len(q.orderBy) > 0 {
		keys := make([][]any, len(res.Rows))
		for i, row := range res.Rows {
			for _, o := range q.orderBy {
				idx, ok := outputIndex(o.e, res.Columns)
				if !ok {
					return nil, errorf("0A000", "ORDER BY of a set operation must name an output column")
				}
				keys[i] = append(keys[i], row[idx])
			}
		}
		sortRows(res.Rows, keys, q.orderBy)
	}
	if q.offset != nil || q.limit != nil {
		off, lim := int64(0), int64(-1)
		if q.offset != nil {
			v, err := ev.eval(q.offset, &scope{outer: outer})
			if err != nil {
				return nil, err
			}
			off, _ = toInt(v)
		}
		if q.limit != nil {
			v, err := ev.eval(q.limit, &scope{outer: outer})
			if err != nil {
				return nil, err
			}
			if v != nil {
				lim, _ = toInt(v)
			}
		}
		rows := res.Rows
		if off > 0 {
			rows = rows[min(int(off), len(rows)):]
		}
		if lim >= 0 && int(lim) < len(rows) {
			rows = rows[:lim]
		}
		res.Rows = rows
	}
	return res, nil
}

func setOperation(op setOp, a, b [][]any) [][]any {
	key := func(r []any) string { return fmt.Sprintf("%#v", r) }
	switch op.kind {
	case "UNION":
		out := append(a, b...)
		if op.all {
			return out
		}
		return distinctRows(out)
	case "INTERSECT", "EXCEPT":
		inB := map[string]bool{}
		for _, r := range b {
			inB[key(r)] = true
		}
		var out [][]any
		for _, r := range a {
			if inB[key(r)] == (op.kind == "INTERSECT") {
				out = append(out, r)
			}
		}
		if op.all {
			return out
		}
		return distinctRows(out)
	}
	return a
}

func distinctRows(rows [][]any) [][]any {
	seen := map[string]bool{}
	var out [][]any
	for _, r := range rows {
		k := fmt.Sprintf("%#v", r)
		if !seen[k] {
			seen[k] = true
			out = append(out, r)
		}
	}
	return out
}

// outputIndex resolves an ORDER BY item that names an output column by
// position or by name.
func outputIndex(e expr, cols []string) (int, bool) {
	switch e := e.(type) {
	case *literal:
		if n, ok := e.v.(int64); ok && n >= 1 && int(n) <= len(cols) {
			return int(n) - 1, true
		}
	case *colRef:
		if e.qual == "" {
			for i, c := range cols {
				if c == e.name {
					return i, true
				}
			}
		}
	}
	return 0, false
}

func sortRows(rows [][]any, keys [][]any, order []orderItem) {
	idx := make([]int, len(rows))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		for k, o := range order {
			c := compareForSort(keys[idx[a]][k], keys[idx[b]][k])
			if c == 0 {
				continue
			}
			if o.desc {
				return c > 0
			}
			return c < 0
		}
		return false
	})
	sorted := make([][]any, len(rows))
	for i, j := range idx {
		sorted[i] = rows[j]
	}
	copy(rows, sorted)
}

// compareForSort orders NULLs last, as Postgres does ascending.
func compareForSort(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	c, _ := compare(a, b)
	return c
}

// selectRows evaluates one SELECT. It also returns, per row, the values of
// the ORDER BY items, which may refer to columns that are not selected.
func (ev *evaluator) selectRows(s *selectStmt, outer *scope, order []orderItem) (*Result, [][]any, error) {
	bindings, rows, err := ev.fromRows(s.from, outer)
	if err != nil {
		return nil, nil, err
	}
	if s.where != nil {
		var kept [][]any
		for _, row := range rows {
			v, err := ev.eval(s.where, &scope{bindings: bindings, row: row, outer: outer})
			if err != nil {
				return nil, nil, err
			}
			if v == true {
				kept = append(kept, row)
			}
		}
		rows = kept
	}
	res := &Result{}
	// Output columns: names and types.
	for _, it := range s.items {
		switch {
		case it.star == "*":
			for _, b := range bindings {
				res.Columns = append(res.Columns, b.cols...)
				res.Types = append(res.Types, b.types...)
			}
		case it.star != "":
			b, ok := findBinding(bindings, it.star)
			if !ok {
				return nil, nil, errorf("42P01", "missing FROM-clause entry for table %q", it.star)
			}
			res.Columns = append(res.Columns, b.cols...)
			res.Types = append(res.Types, b.types...)
		default:
			name := it.alias
			if name == "" {
				name = exprName(it.e)
			}
			res.Columns = append(res.Columns, name)
			res.Types = append(res.Types, staticType(it.e, bindings))
		}
	}
	type unit struct {
		sc *scope
	}
	var units []unit
	if len(s.groupBy) > 0 || hasAggregate(s) {
		groups := map[string]int{}
		var grouped [][][]any
		for _, row := range rows {
			sc := &scope{bindings: bindings, row: row, outer: outer}
			var key []any
			for _, g := range s.groupBy {
				if idx, ok := outputIndex(g, res.Columns); ok && isOrdinal(g) {
					g = s.items[idx].e
				}
				v, err := ev.eval(g, sc)
				if err != nil {
					return nil, nil, err
				}
				key = append(key, v)
			}
			k := fmt.Sprintf("%#v", key)
			gi, ok := groups[k]
			if !ok {
				gi = len(grouped)
				groups[k] = gi
				grouped = append(grouped, nil)
			}
			grouped[gi] = append(grouped[gi], row)
		}
		if len(grouped) == 0 && len(s.groupBy) == 0 {
			grouped = append(grouped, [][]any{}) // an aggregate over no rows is one row
		}
		for _, g := range grouped {
			var first []any
			if len(g) > 0 {
				first = g[0]
			} else {
				first = make([]any, width(bindings))
			}
			sc := &scope{bindings: bindings, row: first, outer: outer, group: g}
			if s.having != nil {
				v, err := ev.eval(s.having, sc)
				if err != nil {
					return nil, nil, err
				}
				if v != true {
					continue
				}
			}
			units = append(units, unit{sc})
		}
	} else {
		for _, row := range rows {
			units = append(units, unit{&scope{bindings: bindings, row: row, outer: outer}})
		}
	}
	var keys [][]any
	for _, u := range units {
		var out []any
		for _, it := range s.items {
			switch {
			case it.star == "*":
				out = append(out, u.sc.row...)
			case it.star != "":
				b, _ := findBinding(bindings, it.star)
				out = append(out, u.sc.row[b.off:b.off+len(b.cols)]...)
			default:
				v, err := ev.eval(it.e, u.sc)
				if err != nil {
					return nil, nil, err
				}
				out = append(out, v)
			}
		}
		var key []any
		for _, o := range order {
			if idx, ok := outputIndex(o.e, res.Columns); ok {
				key = append(key, out[idx])
				continue
			}
			v, err := ev.eval(o.e, u.sc)
			if err != nil {
				return nil, nil, err
			}
			key = append(key, v)
		}
		res.Rows = append(res.Rows, out)
		keys = append(keys, key)
	}
	if s.distinct {
		// Keys follow their rows: DISTINCT with ORDER BY orders by output
		// columns, so recomputing the keys from the kept rows is exact.
		seen := map[string]bool{}
		var rowsOut, keysOut [][]any
		for i, r := range res.Rows {
			k := fmt.Sprintf("%#v", r)
			if !seen[k] {
				seen[k] = true
				rowsOut = append(rowsOut, r)
				keysOut = append(keysOut, keys[i])
			}
		}
		res.Rows, keys = rowsOut, keysOut
	}
	return res, keys, nil
}

func isOrdinal(e expr) bool {
	l, ok := e.(*literal)
	if !ok {
		return false
	}
	_, isInt := l.v.(int64)
	return isInt
}

func width(bs []binding) int {
	n := 0
	for _, b := range bs {
		n += len(b.cols)
	}
	return n
}

func findBinding(bs []binding, alias string) (binding, bool) {
	for _, b := range bs {
		if b.alias == alias {
			return b, true
		}
	}
	return binding{}, false
}

// exprName is the column name Postgres gives an unaliased expression.
func exprName(e expr) string {
	switch e := e.(type) {
	case *colRef:
		return e.name
	case *call:
		return e.name
	case *castExpr:
		if n := exprName(e.x); n != "?column?" {
			return n
		}
		return strings.TrimSuffix(e.typ, "[]")
	case *caseExpr:
		return "case"
	case *arrayOf:
		return "array"
	case *exists:
		return "exists"
	}
	return "?column?"
}

// staticType is the type of an output column when it is known without
// looking at values: a column's or a cast's. 0 means "from the values".
func staticType(e expr, bs []binding) uint32 {
	switch e := e.(type) {
	case *colRef:
		for _, b := range bs {
			if e.qual != "" && b.alias != e.qual {
				continue
			}
			for i, c := range b.cols {
				if c == e.name {
					return b.types[i]
				}
			}
		}
	case *castExpr:
		return typeOIDByName(e.typ)
	case *call:
		return funcType(e.name)
	}
	return 0
}

func hasAggregate(s *selectStmt) bool {
	found := false
	var walk func(e expr)
	walk = func(e expr) {
		switch e := e.(type) {
		case *call:
			if aggregates[e.name] {
				found = true
			}
			for _, a := range e.args {
				walk(a)
			}
		case *binary:
			walk(e.l)
			walk(e.r)
		case *unary:
			walk(e.x)
		case *castExpr:
			walk(e.x)
		case *caseExpr:
			walk(e.operand)
			for _, w := range e.whens {
				walk(w[0])
				walk(w[1])
			}
			walk(e.els)
		}
	}
	for _, it := range s.items {
		walk(it.e)
	}
	walk(s.having)
	return found
}

// fromRows evaluates a FROM list into bindings and rows (the cross product
// of its items).
func (ev *evaluator) fromRows(from []fromItem, outer *scope) ([]binding, [][]any, error) {
	bindings := []binding{}
	rows := [][]any{{}}
	for _, f := range from {
		bs, rs, err := ev.fromItemRows(f, outer)
		if err != nil {
			return nil, nil, err
		}
		bindings, rows = crossJoin(bindings, rows, bs, rs)
	}
	return bindings, rows, nil
}

func crossJoin(lb []binding, lr [][]any, rb []binding, rr [][]any) ([]binding, [][]any) {
	w := width(lb)
	out := append([]binding{}, lb...)
	for _, b := range rb {
		b.off += w
		out = append(out, b)
	}
	var rows [][]any
	for _, l := range lr {
		for _, r := range rr {
			row := make([]any, 0, len(l)+len(r))
			rows = append(rows, append(append(row, l...), r...))
		}
	}
	return out, rows
}

func (ev *evaluator) fromItemRows(f fromItem, outer *scope) ([]binding, [][]any, error) {
	switch {
	case f.join != nil:
		return ev.joinRows(f.join, outer)
	case f.sub != nil:
		r, err := ev.query(f.sub, outer)
		if err != nil {
			return nil, nil, err
		}
		return []binding{{alias: f.alias, cols: renamed(r.Columns, f.colAliases), types: r.Types}}, r.Rows, nil
	case f.fn != nil:
		t, err := ev.tableFunc(f.fn, &scope{outer: outer})
		if err != nil {
			return nil, nil, err
		}
		alias, aliases := f.alias, f.colAliases
		switch {
		case alias == "":
			// As in Postgres, an unaliased function is named after itself.
			alias = f.fn.name
		case len(aliases) == 0 && len(t.cols) == 1:
			// A function returning a scalar gives its alias to its one
			// column too: psql's \d+ writes "unnest(tc.reloptions) x" and
			// selects x.
			aliases = []string{alias}
		}
		return []binding{{alias: alias, cols: renamed(t.cols, aliases), types: t.types}}, t.rows, nil
	}
	t, ok := ev.db.table(f.schema, f.name)
	if !ok {
		return nil, nil, errorf("42P01", "relation %q does not exist", f.name)
	}
	alias := f.alias
	if alias == "" {
		alias = f.name
	}
	return []binding{{alias: alias, cols: renamed(t.cols, f.colAliases), types: t.types, open: t.open}}, t.rows, nil
}

func renamed(cols, aliases []string) []string {
	if len(aliases) == 0 {
		return cols
	}
	out := append([]string{}, cols...)
	for i := range min(len(out), len(aliases)) {
		out[i] = aliases[i]
	}
	return out
}

func (ev *evaluator) joinRows(j *join, outer *scope) ([]binding, [][]any, error) {
	lb, lr, err := ev.fromItemRows(j.left, outer)
	if err != nil {
		return nil, nil, err
	}
	rb, rr, err := ev.fromItemRows(j.right, outer)
	if err != nil {
		return nil, nil, err
	}
	bindings, _ := crossJoin(lb, nil, rb, nil)
	rw := width(rb)
	var rows [][]any
	for _, l := range lr {
		matched := false
		for _, r := range rr {
			row := append(append(make([]any, 0, len(l)+len(r)), l...), r...)
			if j.on != nil {
				v, err := ev.eval(j.on, &scope{bindings: bindings, row: row, outer: outer})
				if err != nil {
					return nil, nil, err
				}
				if v != true {
					continue
				}
			}
			matched = true
			rows = append(rows, row)
		}
		if !matched && j.kind == "LEFT" {
			row := append(append(make([]any, 0, len(l)+rw), l...), make([]any, rw)...)
			rows = append(rows, row)
		}
	}
	return bindings, rows, nil
}

// lookup resolves a column reference.
func lookup(sc *scope, qual, name string) (any, bool) {
	for s := sc; s != nil; s = s.outer {
		for _, b := range s.bindings {
			if qual != "" && b.alias != qual {
				continue
			}
			for i, c := range b.cols {
				if c == name {
					if s.row == nil {
						return nil, true
					}
					return s.row[b.off+i], true
				}
			}
			if b.open && (qual != "" || !knownElsewhere(s.bindings, name)) {
				return nil, true
			}
		}
	}
	return nil, false
}

func knownElsewhere(bs []binding, name string) bool {
	for _, b := range bs {
		for _, c := range b.cols {
			if c == name {
				return true
			}
		}
	}
	return false
}

func (ev *evaluator) eval(e expr, sc *scope) (any, error) {
	switch e := e.(type) {
	case nil:
		return nil, nil
	case *literal:
		return e.v, nil
	case *colRef:
		v, ok := lookup(sc, e.qual, e.name)
		if !ok {
			if e.qual == "" {
				// Bare words that are functions without parentheses.
				switch e.name {
				case "current_user", "session_user", "user", "current_role":
					return ev.db.User, nil
				case "current_catalog":
					return ev.db.Database, nil
				case "current_schema":
					return "public", nil
				}
			}
			full := e.name
			if e.qual != "" {
				full = e.qual + "." + e.name
			}
			return nil, errorf("42703", "column %s does not exist", full)
		}
		return v, nil
	case *call:
		if aggregates[e.name] {
			return ev.aggregate(e, sc)
		}
		args := make([]any, len(e.args))
		for i, a := range e.args {
			v, err := ev.eval(a, sc)
			if err != nil {
				return nil, err
			}
			args[i] = v
		}
		return ev.callFunc(e.name, args)
	case *unary:
		v, err := ev.eval(e.x, sc)
		if err != nil || v == nil {
			return nil, err
		}
		switch e.op {
		case "NOT":
			b, ok := v.(bool)
			if !ok {
				return nil, errorf("42804", "argument of NOT must be type boolean")
			}
			return !b, nil
		case "-":
			switch n := v.(type) {
			case int64:
				return -n, nil
			case float64:
				return -n, nil
			}
			return nil, errorf("42883", "operator does not exist: - %T", v)
		}
	case *binary:
		return ev.binary(e, sc)
	case *isExpr:
		v, err := ev.eval(e.x, sc)
		if err != nil {
			return nil, err
		}
		var r bool
		switch e.what {
		case "NULL":
			r = v == nil
		case "TRUE":
			r = v == true
		case "FALSE":
			r = v == false
		}
		return r != e.not, nil
	case *inExpr:
		v, err := ev.eval(e.x, sc)
		if err != nil {
			return nil, err
		}
		var cands []any
		if e.sub != nil {
			r, err := ev.query(e.sub, sc)
			if err != nil {
				return nil, err
			}
			for _, row := range r.Rows {
				cands = append(cands, row[0])
			}
		} else {
			for _, x := range e.list {
				c, err := ev.eval(x, sc)
				if err != nil {
					return nil, err
				}
				cands = append(cands, c)
			}
		}
		return membership(v, cands, e.not), nil
	case *quantified:
		v, err := ev.eval(e.x, sc)
		if err != nil {
			return nil, err
		}
		var cands []any
		if e.sub != nil {
			r, err := ev.query(e.sub, sc)
			if err != nil {
				return nil, err
			}
			for _, row := range r.Rows {
				cands = append(cands, row[0])
			}
		} else {
			a, err := ev.eval(e.arr, sc)
			if err != nil {
				return nil, err
			}
			arr, _ := a.([]any)
			if a == nil {
				return nil, nil
			}
			cands = arr
		}
		sawNull := false
		for _, c := range cands {
			r, err := compareOp(e.op, v, c)
			if err != nil {
				return nil, err
			}
			switch {
			case r == nil:
				sawNull = true
			case r == true && !e.all:
				return true, nil
			case r == false && e.all:
				return false, nil
			}
		}
		if sawNull {
			return nil, nil
		}
		return e.all, nil
	case *caseExpr:
		var operand any
		if e.operand != nil {
			v, err := ev.eval(e.operand, sc)
			if err != nil {
				return nil, err
			}
			operand = v
		}
		for _, w := range e.whens {
			c, err := ev.eval(w[0], sc)
			if err != nil {
				return nil, err
			}
			hit := c == true
			if e.operand != nil {
				r, err := compareOp("=", operand, c)
				if err != nil {
					return nil, err
				}
				hit = r == true
			}
			if hit {
				return ev.eval(w[1], sc)
			}
		}
		return ev.eval(e.els, sc)
	case *castExpr:
		v, err := ev.eval(e.x, sc)
		if err != nil {
			return nil, err
		}
		return ev.cast(v, e.typ)
	case *subquery:
		r, err := ev.query(e.q, sc)
		if err != nil {
			return nil, err
		}
		switch {
		case len(r.Rows) == 0:
			return nil, nil
		case len(r.Rows) > 1:
			return nil, errorf("21000", "more than one row returned by a subquery used as an expression")
		}
		return r.Rows[0][0], nil
	case *exists:
		r, err := ev.query(e.q, sc)
		if err != nil {
			return nil, err
		}
		return len(r.Rows) > 0, nil
	case *arrayOf:
		if e.sub != nil {
			r, err := ev.query(e.sub, sc)
			if err != nil {
				return nil, err
			}
			out := []any{}
			for _, row := range r.Rows {
				out = append(out, row[0])
			}
			return out, nil
		}
		out := []any{}
		for _, x := range e.elems {
			v, err := ev.eval(x, sc)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case *subscript:
		v, err := ev.eval(e.x, sc)
		if err != nil {
			return nil, err
		}
		i, err := ev.eval(e.idx, sc)
		if err != nil {
			return nil, err
		}
		arr, ok := v.([]any)
		n, isInt := toInt(i)
		if !ok || !isInt || n < 1 || int(n) > len(arr) {
			return nil, nil
		}
		return arr[n-1], nil
	case *likeExpr:
		v, err := ev.eval(e.x, sc)
		if err != nil {
			return nil, err
		}
		p, err := ev.eval(e.pat, sc)
		if err != nil || v == nil || p == nil {
			return nil, err
		}
		m := likeMatch(toText(v), toText(p), e.ci)
		return m != e.not, nil
	case *between:
		v, err := ev.eval(e.x, sc)
		if err != nil {
			return nil, err
		}
		lo, err := ev.eval(e.lo, sc)
		if err != nil {
			return nil, err
		}
		hi, err := ev.eval(e.hi, sc)
		if err != nil {
			return nil, err
		}
		a, err := compareOp(">=", v, lo)
		if err != nil {
			return nil, err
		}
		b, err := compareOp("<=", v, hi)
		if err != nil {
			return nil, err
		}
		r := and3(a, b)
		if r == nil {
			return nil, nil
		}
		return r.(bool) != e.not, nil
	}
	return nil, errorf("0A000", "unsupported expression %T", e)
}

func membership(v any, cands []any, not bool) any {
	if v == nil {
		return nil
	}
	sawNull := false
	for _, c := range cands {
		if c == nil {
			sawNull = true
			continue
		}
		if r, _ := compareOp("=", v, c); r == true {
			return !not
		}
	}
	if sawNull {
		return nil
	}
	return not
}

func and3(a, b any) any {
	if a == false || b == false {
		return false
	}
	if a == nil || b == nil {
		return nil
	}
	return true
}

func (ev *evaluator) binary(e *binary, sc *scope) (any, error) {
	l, err := ev.eval(e.l, sc)
	if err != nil {
		return nil, err
	}
	switch e.op {
	case "AND":
		if l == false {
			return false, nil
		}
		r, err := ev.eval(e.r, sc)
		if err != nil {
			return nil, err
		}
		return and3(l, r), nil
	case "OR":
		if l == true {
			return true, nil
		}
		r, err := ev.eval(e.r, sc)
		if err != nil {
			return nil, err
		}
		if r == true {
			return true, nil
		}
		if l == nil || r == nil {
			return nil, nil
		}
		return false, nil
	}
	r, err := ev.eval(e.r, sc)
	if err != nil {
		return nil, err
	}
	if l == nil || r == nil {
		return nil, nil
	}
	switch e.op {
	case "=", "<>", "<", ">", "<=", ">=":
		return compareOp(e.op, l, r)
	case "~", "!~", "~*", "!~*":
		pat := toText(r)
		if strings.HasSuffix(e.op, "*") {
			pat = "(?i)" + pat
		}
		// Catalog patterns are POSIX regular expressions built by psql
		// from the user's pattern; Go's RE2 syntax covers what psql emits.
		re, err := regexp.Compile(pat)
		if err != nil {
			return nil, errorf("2201B", "invalid regular expression: %v", err)
		}
		m := re.MatchString(toText(l))
		return m != strings.HasPrefix(e.op, "!"), nil
	case "||":
		la, lok := l.([]any)
		ra, rok := r.([]any)
		if lok || rok {
			if !lok {
				la = []any{l}
			}
			if !rok {
				ra = []any{r}
			}
			return append(append([]any{}, la...), ra...), nil
		}
		return toText(l) + toText(r), nil
	case "+", "-", "*", "/", "%":
		return arith(e.op, l, r)
	}
	return nil, errorf("42883", "operator does not exist: %s", e.op)
}

func arith(op string, l, r any) (any, error) {
	li, lInt := l.(int64)
	ri, rInt := r.(int64)
	if lInt && rInt {
		switch op {
		case "+":
			return li + ri, nil
		case "-":
			return li - ri, nil
		case "*":
			return li * ri, nil
		case "/", "%":
			if ri == 0 {
				return nil, errorf("22012", "division by zero")
			}
			if op == "/" {
				return li / ri, nil
			}
			return li % ri, nil
		}
	}
	lf, ok1 := toFloat(l)
	rf, ok2 := toFloat(r)
	if !ok1 || !ok2 {
		return nil, errorf("42883", "operator does not exist: %T %s %T", l, op, r)
	}
	switch op {
	case "+":
		return lf + rf, nil
	case "-":
		return lf - rf, nil
	case "*":
		return lf * rf, nil
	case "/":
		if rf == 0 {
			return nil, errorf("22012", "division by zero")
		}
		return lf / rf, nil
	}
	return math.Mod(lf, rf), nil
}

func compareOp(op string, l, r any) (any, error) {
	if l == nil || r == nil {
		return nil, nil
	}
	c, err := compare(l, r)
	if err != nil {
		return nil, err
	}
	switch op {
	case "=":
		return c == 0, nil
	case "<>":
		return c != 0, nil
	case "<":
		return c < 0, nil
	case ">":
		return c > 0, nil
	case "<=":
		return c <= 0, nil
	}
	return c >= 0, nil
}

// compare orders two non-NULL values. A string compared with a number is
// read as a number, as Postgres reads an unknown-typed literal ('16384' =
// c.oid).
func compare(l, r any) (int, error) {
	switch a := l.(type) {
	case int64, float64:
		bf, ok := toFloat(r)
		if !ok {
			if s, isStr := r.(string); isStr {
				f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
				if err != nil {
					return 0, errorf("22P02", "invalid input syntax for type bigint: %q", s)
				}
				bf = f
			} else {
				return 0, errorf("42883", "cannot compare %T with %T", l, r)
			}
		}
		af, _ := toFloat(a)
		return cmpFloat(af, bf), nil
	case string:
		switch r.(type) {
		case int64, float64:
			c, err := compare(r, l)
			return -c, err
		}
		return strings.Compare(a, toText(r)), nil
	case bool:
		b, ok := r.(bool)
		if !ok {
			if s, isStr := r.(string); isStr {
				b = s == "t" || s == "true"
			}
		}
		switch {
		case a == b:
			return 0, nil
		case !a:
			return -1, nil
		}
		return 1, nil
	case []any:
		return strings.Compare(toText(l), toText(r)), nil
	}
	return 0, errorf("42883", "cannot compare %T", l)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

func toInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case float64:
		return int64(n), true
	case string:
		i, err := strconv.ParseInt(strings.TrimSpace(n), 10, 64)
		return i, err == nil
	}
	return 0, false
}

// toText renders a value as Postgres' text output does.
func toText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		if v {
			return "t"
		}
		return "f"
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case []any:
		var b strings.Builder
		b.WriteByte('{')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			if e == nil {
				b.WriteString("NULL")
				continue
			}
			s := toText(e)
			if s == "" || strings.ContainsAny(s, `{},"\ `) || strings.EqualFold(s, "null") {
				b.WriteString(`"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`)
			} else {
				b.WriteString(s)
			}
		}
		b.WriteByte('}')
		return b.String()
	}
	return fmt.Sprint(v)
}

// likeMatch implements LIKE with % and _ and backslash escapes.
func likeMatch(s, pat string, ci bool) bool {
	var re strings.Builder
	re.WriteString("^")
	if ci {
		re.WriteString("(?i)")
	}
	for i := 0; i < len(pat); i++ {
		switch c := pat[i]; c {
		case '%':
			re.WriteString(".*")
		case '_':
			re.WriteString(".")
		case '\\':
			if i+1 < len(pat) {
				i++
				re.WriteString(regexp.QuoteMeta(string(pat[i])))
			}
		default:
			re.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	re.WriteString("$")
	m, err := regexp.MatchString("(?s)"+re.String(), s)
	return err == nil && m
}

// Text renders a value in Postgres' text format (arrays as {a,b}).
func Text(v any) string { return toText(v) }
