package planner

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/sluicedb/sluice/exec"
	"github.com/sluicedb/sluice/exec/agg"
	"github.com/sluicedb/sluice/exec/codec"
	"github.com/sluicedb/sluice/exec/expr"
	"github.com/sluicedb/sluice/sql"
)

// Aggregation queries (GROUP BY, HAVING, WINDOW, aggregate calls).
//
// Binding: GROUP BY expressions, aggregate arguments and WHERE are bound
// over the source layout. SELECT items and HAVING are bound over the source
// layout extended with WINDOWSTART/WINDOWEND (windowed queries) and with
// one placeholder column per distinct aggregate call (aggScope.bindCall);
// then rewrite maps them onto the aggregate's output layout
// (exec.AggregateSpec): a subtree equal to a GROUP BY expression becomes
// that key column, a placeholder its result column, and any other source
// column is an error ("not part of GROUP BY").
//
// Physical plan, one stage when the source is a stream already keyed by the
// single grouping column:
//
//	[Filter WHERE] -> Project (keys, arguments, ROWTIME) -> Aggregate -> Project (items)
//
// Otherwise the rows are re-keyed through an internal repartition topic
// (Plan.Pre), so that each group lives in one partition:
//
//	stage 0: [TableSource] [Filter] -> Project -> [ChangeColumn] -> sink _sluice-<query>-Aggregate-GroupBy-repartition
//	stage 1: source of that topic -> Aggregate -> Project
//
// A table source is first materialized (exec.TableSourceSpec) so that an
// update retracts the row's old contribution; across the repartition topic
// the change kinds travel in a column (exec.ChangeColumnSpec).
//
// Over a join, the clauses bind over the join's V (bindJoinFrom) and the
// join's final stage becomes stage 0: its JoinSpecs, then WHERE and the
// pre-aggregation projection, into the repartition topic (a table-table
// join's output already carries retractions, so it needs no TableSource).
// A push query folds that stage into one task over all partitions
// (joinQuery.inlineSides).

// codeGrouping is PostgreSQL's grouping_error SQLSTATE, for misuse of
// GROUP BY and aggregates.
const codeGrouping = "42803"

// aggScope collects the aggregate calls met while binding SELECT and
// HAVING. The binder calls bindCall for every aggregate function call when
// its aggs field is set.
type aggScope struct {
	base   int // index of the first placeholder column
	calls  []*aggCall
	byKey  map[string]int
	outer  string // text of the aggregate call whose arguments are being bound
	forbid bool   // GROUP BY: aggregates are not allowed
	cfg    agg.Config
}

type aggCall struct {
	name string
	args []expr.Node // over the source layout
	fn   *agg.Func
}

func (s *aggScope) bindCall(b *binder, e *sql.Call) (expr.Node, error) {
	if s.forbid {
		return nil, sql.Errorf(codeGrouping, e.At, "GROUP BY does not support aggregate functions: %s is an aggregate function.", e.Name)
	}
	if s.outer != "" {
		return nil, sql.Errorf(codeGrouping, e.At, "Aggregate functions can not be nested: %s", s.outer)
	}
	if e.Distinct {
		return nil, sql.Errorf(sql.CodeFeatureNotSupported, e.At, "DISTINCT in aggregate calls is not supported").
			WithHint("use COUNT_DISTINCT(x) or COLLECT_SET(x)")
	}
	if e.Star && e.Name != "COUNT" {
		return nil, sql.Errorf(sql.CodeSyntax, e.At, "%s(*) is not valid; only COUNT(*) takes a star", e.Name)
	}
	s.outer = exprText(e)
	defer func() { s.outer = "" }()
	args := make([]expr.Node, 0, len(e.Args))
	aargs := make([]agg.Arg, 0, len(e.Args))
	for _, a := range e.Args {
		if _, ok := a.(*sql.Lambda); ok {
			return nil, sql.Errorf(sql.CodeSyntax, a.Position(), "aggregate functions do not take lambda arguments")
		}
		n, err := b.bind(a)
		if err != nil {
			return nil, err
		}
		arg := agg.Arg{Type: n.DataType()}
		if isConstExpr(n) {
			v, err := evalConst(n)
			if err != nil {
				return nil, sql.Errorf(sql.CodeDataException, a.Position(), "%s: %v", exprText(a), err)
			}
			arg.Const, arg.Value = true, v
		}
		args, aargs = append(args, n), append(aargs, arg)
	}
	fn, err := agg.Resolve(e.Name, aargs, s.cfg)
	if err != nil {
		var re *agg.ResolveError
		if errors.As(err, &re) {
			return nil, sql.Errorf(sql.CodeUndefinedFunction, e.At, "%s", re.Msg)
		}
		return nil, err
	}
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = a.String()
	}
	key := e.Name + "(" + strings.Join(parts, ", ") + ")"
	k, ok := s.byKey[key]
	if !ok {
		k = len(s.calls)
		s.byKey[key] = k
		s.calls = append(s.calls, &aggCall{name: e.Name, args: args, fn: fn})
	}
	return &expr.Col{Index: s.base + k, Name: e.Name, Type: fn.Result}, nil
}

// isConstExpr reports whether n reads no column.
func isConstExpr(n expr.Node) bool {
	c := true
	walkExpr(n, func(m expr.Node) {
		switch m.(type) {
		case *expr.Col, *expr.LambdaVar:
			c = false
		}
	})
	return c
}

// isAggregation reports whether q is an aggregation: it has GROUP BY,
// WINDOW or HAVING, or calls an aggregate function in its select list.
func isAggregation(q *sql.Select) bool {
	if len(q.GroupBy) > 0 || q.Window != nil || q.Having != nil {
		return true
	}
	for _, it := range q.Items {
		if it.Expr != nil && hasAggregateCall(it.Expr) {
			return true
		}
	}
	return false
}

func hasAggregateCall(e sql.Expr) bool {
	found := false
	walkSQL(e, func(x sql.Expr) {
		if c, ok := x.(*sql.Call); ok && (aggregateFuncs[c.Name] || agg.IsAggregate(c.Name)) {
			found = true
		}
	})
	return found
}

var (
	sqlExprType = reflect.TypeOf((*sql.Expr)(nil)).Elem()
	sqlWhenType = reflect.TypeOf(sql.When{})
)

// walkSQL calls f on e and every expression below it. It walks struct
// fields by reflection, so that it knows every node type of package sql,
// including ones added later.
func walkSQL(e sql.Expr, f func(sql.Expr)) {
	if e == nil || reflect.ValueOf(e).IsNil() {
		return
	}
	f(e)
	walkValue(reflect.ValueOf(e).Elem(), f)
}

func walkValue(v reflect.Value, f func(sql.Expr)) {
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			fv := v.Field(i)
			switch {
			case fv.Type() == sqlExprType:
				if !fv.IsNil() {
					walkSQL(fv.Interface().(sql.Expr), f)
				}
			case fv.Kind() == reflect.Slice && (fv.Type().Elem() == sqlExprType || fv.Type().Elem() == sqlWhenType):
				walkValue(fv, f)
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			el := v.Index(i)
			if el.Type() == sqlExprType {
				if !el.IsNil() {
					walkSQL(el.Interface().(sql.Expr), f)
				}
			} else {
				walkValue(el, f)
			}
		}
	}
}

// aggQuery is a bound aggregation.
type aggQuery struct {
	q   *sql.Select
	src *Source // the source, or a join's first source
	// scan is the source's scan; nil over a join.
	scan *Scan
	// join is the bound FROM of an aggregation over a join; nil otherwise.
	join *joinQuery
	// cols is the layout WHERE, GROUP BY and the aggregate arguments are
	// bound over: the scan's columns, or a join's V.
	cols []OutCol
	// timeCol is the column of cols that is the row's time (ROWTIME).
	timeCol int
	where   expr.Node
	groups  []expr.Node // over the source layout
	gtext   []string
	window  *exec.WindowSpec
	calls   []*aggCall
	having  expr.Node // over the aggregate output
	items   []aggItem
	// keyNames are the names of the key columns, in GROUP BY order.
	keyNames []string
	// keyItem[i] is the item that is GROUP BY expression i, or -1.
	keyItem []int
}

type aggItem struct {
	node    expr.Node // over the aggregate output
	name    string
	at      sql.Pos
	keyOf   int // the GROUP BY expression the item is, or -1
	aliased bool
}

// outWindow is the number of window columns in the aggregate output.
func (a *aggQuery) outWindow() int {
	if a.window != nil {
		return 2
	}
	return 0
}

// bindAggregate binds an aggregation query over one source or a join.
func bindAggregate(cat Catalog, q *sql.Select, mode queryMode, sinkName string, props Props) (*aggQuery, error) {
	if len(q.PartitionBy) > 0 {
		return nil, sql.Errorf(sql.CodeSyntax, q.PartitionBy[0].Position(), "PARTITION BY cannot be combined with GROUP BY").
			WithHint("an aggregation is keyed by its GROUP BY expressions")
	}
	var (
		a *aggQuery
		b *binder
	)
	if isJoinQuery(q) {
		jq, jb, err := bindJoinFrom(cat, q)
		if err != nil {
			return nil, err
		}
		a = &aggQuery{q: q, src: jq.srcs[0].src, join: jq, cols: jq.cols, timeCol: jq.rowtime}
		b = jb
	} else {
		var err error
		if a, b, err = bindAggregateSource(cat, q); err != nil {
			return nil, err
		}
	}
	return a.bind(b, mode, sinkName, props)
}

// bindAggregateSource starts binding an aggregation over one source: the
// aggQuery and a binder whose scope is the source's columns.
func bindAggregateSource(cat Catalog, q *sql.Select) (*aggQuery, *binder, error) {
	ref, ok := q.From.(*sql.SourceRef)
	if !ok {
		return nil, nil, sql.Errorf(sql.CodeSyntax, q.At, "FROM must name a stream or table")
	}
	src, ok := cat.Source(ref.Name)
	if !ok {
		return nil, nil, unknownSource(cat, ref.Name, ref.At)
	}
	if src.Window != nil {
		if src.Kind == sql.KindTable {
			return nil, nil, sql.Errorf(sql.CodeFeatureNotSupported, ref.At, "KSQL does not support persistent queries on windowed tables")
		}
		return nil, nil, sql.Errorf(sql.CodeFeatureNotSupported, ref.At,
			"Implicit repartitioning of windowed sources is not supported. See https://github.com/confluentinc/ksql/issues/4385.")
	}
	if len(q.GroupBy) > 0 && src.ValueFormat.Name == codec.Kafka {
		return nil, nil, sql.Errorf(sql.CodeFeatureNotSupported, q.GroupBy[0].Position(),
			"Source(s) %s are using the 'KAFKA' value format. This format does not yet support GROUP BY.", src.Name).
			WithHint("declare the source with another VALUE_FORMAT, e.g. JSON")
	}
	scan := NewScan(src, ref.Alias)
	quals := []string{src.Name}
	if ref.Alias != "" {
		quals = append(quals, ref.Alias)
	}
	a := &aggQuery{q: q, src: src, scan: scan, cols: scan.Cols, timeCol: -1}
	for i, c := range scan.Cols {
		if c.Name == colRowtime && c.Pseudo {
			a.timeCol = i
		}
	}
	return a, &binder{cat: cat, sc: &scope{cols: scan.Cols, quals: quals}}, nil
}

// starCol is a column a star in the select list stands for.
type starCol struct {
	index     int    // in a.cols
	qualifier string // the source alias, over a join
	name      string // the item's name
}

// starCols expands a star (qualified or not): the visible columns of the
// source, or of the join's sources named ALIAS_COL, as a join's
// projection names them.
func (a *aggQuery) starCols(qualifier string) []starCol {
	visible := func(c OutCol) bool {
		return !c.Pseudo && c.Role != sql.ColHeaders && c.Role != sql.ColHeader
	}
	var out []starCol
	if a.join == nil {
		for i, c := range a.cols {
			if visible(c) {
				out = append(out, starCol{index: i, name: c.Name})
			}
		}
		return out
	}
	for _, s := range a.join.srcs {
		if qualifier != "" && s.alias != qualifier {
			continue
		}
		for i, c := range s.scan.Cols {
			if visible(c) {
				out = append(out, starCol{index: s.base + i, qualifier: s.alias, name: s.alias + "_" + c.Name})
			}
		}
	}
	return out
}

// table reports whether the aggregation's input is a table (a changelog).
func (a *aggQuery) table() bool {
	if a.join != nil {
		return a.join.result == sql.KindTable
	}
	return a.src.Kind == sql.KindTable
}

// bind binds the clauses of an aggregation over the scope of b.
func (a *aggQuery) bind(b *binder, mode queryMode, sinkName string, props Props) (*aggQuery, error) {
	q, sc := a.q, b.sc
	if q.Where != nil {
		p, err := b.bindPredicate(q.Where, "WHERE")
		if err != nil {
			return nil, windowBoundsInWhere(err, q)
		}
		a.where = p
	}
	// GROUP BY.
	sc.clause = "GROUP BY"
	b.aggs = &aggScope{forbid: true}
	seen := map[string]bool{}
	for _, g := range q.GroupBy {
		if isPredicate(g) {
			// ksqlDB's grammar takes value expressions here, so a
			// condition is a parse error there.
			return nil, sql.Errorf(sql.CodeSyntax, g.Position(), "Syntax Error: GROUP BY takes value expressions, not the condition %s", exprText(g)).
				WithHint("group by a column or a value computed from columns")
		}
		n, err := b.bind(g)
		if err != nil {
			return nil, err
		}
		if seen[n.String()] {
			return nil, sql.Errorf(codeGrouping, g.Position(), "Duplicate GROUP BY expression: %s", exprText(g))
		}
		seen[n.String()] = true
		a.groups = append(a.groups, n)
		a.gtext = append(a.gtext, exprText(g))
	}
	if err := a.bindWindow(q); err != nil {
		return nil, err
	}
	// SELECT and HAVING, with WINDOWSTART/WINDOWEND and the aggregate
	// placeholders after the source columns.
	if a.join != nil && a.window != nil {
		if err := rejectJoinWindowBounds(q); err != nil {
			return nil, err
		}
	}
	cols := append([]OutCol(nil), a.cols...)
	wsIdx := len(cols)
	if a.window != nil {
		cols = append(cols,
			OutCol{Name: colWindowstart, Type: expr.TimestampType, Pseudo: true},
			OutCol{Name: colWindowend, Type: expr.TimestampType, Pseudo: true})
	}
	as := &aggScope{base: len(cols) + 2, byKey: map[string]int{}, cfg: aggConfig(props)}
	b.aggs = as
	sc.cols = cols
	sc.clause = "SELECT"
	type rawItem struct {
		node  expr.Node
		it    sql.SelectItem
		name  string
		alias bool
	}
	var raws []rawItem
	sel, err := expandStructStars(b, q.Items)
	if err != nil {
		return nil, err
	}
	for _, it := range sel {
		if it.Star {
			stars := a.starCols(it.Qualifier)
			if it.Qualifier != "" && (a.join == nil && !b.qualifies(it.Qualifier) || a.join != nil && len(stars) == 0) {
				return nil, sql.Errorf(sql.CodeUndefinedTable, it.At, "'%s' is not a valid stream/table name or alias", it.Qualifier)
			}
			for _, sc := range stars {
				c := a.cols[sc.index]
				raws = append(raws, rawItem{node: &expr.Col{Index: sc.index, Name: c.Name, Type: c.Type},
					it: sql.SelectItem{Expr: &sql.Ident{ExprBase: sql.ExprBase{At: it.At}, Qualifier: sc.qualifier, Name: c.Name}, At: it.At}, name: sc.name})
			}
			continue
		}
		n, err := b.bind(it.Expr)
		if err != nil {
			return nil, err
		}
		r := rawItem{node: n, it: it}
		switch {
		case it.Alias != "":
			if isReservedName(it.Alias) {
				return nil, sql.Errorf(sql.CodeDuplicateColumn, it.At,
					"`%s` is a reserved column name. You cannot use it as an alias for a column", it.Alias)
			}
			r.name, r.alias = it.Alias, true
		default:
			r.name = derivedName(it.Expr)
			if mode == modePersistent && isReservedName(r.name) {
				return nil, sql.Errorf(sql.CodeDuplicateColumn, it.At,
					"Reserved column name in select: `%s`. Please remove or alias the column", r.name)
			}
		}
		raws = append(raws, r)
	}
	if q.Having != nil {
		sc.clause = "HAVING"
		if a.window != nil {
			if err := rejectWindowBounds(q.Having); err != nil {
				return nil, err
			}
		}
		h, err := b.bindPredicate(q.Having, "HAVING")
		if err != nil {
			return nil, err
		}
		a.having = h
	}
	a.calls = as.calls
	if len(a.calls) == 0 {
		return nil, sql.Errorf(codeGrouping, q.At, "GROUP BY requires aggregate functions in either the SELECT or HAVING clause.").
			WithHint("add an aggregate such as COUNT(*), or use a projection without GROUP BY")
	}
	if a.table() {
		var bad []string
		for _, c := range a.calls {
			if !c.fn.Undoable && !contains(bad, c.name) {
				bad = append(bad, c.name)
			}
		}
		if len(bad) == 1 {
			return nil, sql.Errorf(sql.CodeFeatureNotSupported, q.At,
				"The aggregation function %s cannot be applied to a table source, only to a stream source.", bad[0])
		} else if len(bad) > 1 {
			return nil, sql.Errorf(sql.CodeFeatureNotSupported, q.At,
				"The aggregation functions %s cannot be applied to a table source, only to a stream source.", joinAnd(bad))
		}
	}
	// Rewrite SELECT and HAVING onto the aggregate output.
	rw := &aggRewriter{a: a, wsIdx: wsIdx, base: as.base}
	var badItems []string
	gen := 0
	used := map[string]bool{}
	for _, c := range a.cols {
		used[c.Name] = true
	}
	for _, r := range raws {
		var bad []expr.Node
		n := rw.rewrite(r.node, &bad)
		if len(bad) > 0 {
			if hasAggregateCall(r.it.Expr) {
				for _, x := range bad {
					badItems = append(badItems, colName(x))
				}
			} else {
				badItems = append(badItems, exprText(r.it.Expr))
			}
			continue
		}
		item := aggItem{node: n, name: r.name, at: r.it.At, keyOf: -1, aliased: r.alias}
		if c, ok := n.(*expr.Col); ok && c.Index < len(a.groups) {
			item.keyOf = c.Index
		}
		if item.name == "" {
			for {
				item.name = "KSQL_COL_" + strconv.Itoa(gen)
				gen++
				if !used[item.name] {
					break
				}
			}
		}
		used[item.name] = true
		a.items = append(a.items, item)
	}
	if len(badItems) > 0 {
		// ksqlDB's message has two lines; the second says what to do.
		return nil, sql.Errorf(codeGrouping, q.At, "Non-aggregate SELECT expression(s) not part of GROUP BY: %s\n"+
			"Either add the column(s) to the GROUP BY or remove them from the SELECT", strings.Join(badItems, ", "))
	}
	if len(q.GroupBy) == 0 && q.Window != nil {
		// A windowed aggregate without GROUP BY: bindWindow let it
		// through so that the non-aggregate items above are named first.
		return nil, errWindowWithoutGroupBy(q.Window)
	}
	if a.having != nil {
		var bad []expr.Node
		a.having = rw.rewrite(a.having, &bad)
		if len(bad) > 0 {
			return nil, sql.Errorf(codeGrouping, q.Having.Position(), "Non-aggregate HAVING expression not part of GROUP BY: %s",
				colName(bad[0])).WithHint("HAVING may use aggregates and GROUP BY expressions only")
		}
	}
	seenName := map[string]int{}
	for i, it := range a.items {
		if j, dup := seenName[it.name]; dup {
			if first := a.items[j]; (first.keyOf >= 0) != (it.keyOf >= 0) {
				// A key column and a value column of the same name:
				// ksqlDB names the value column.
				val := it
				if it.keyOf >= 0 {
					val = first
				}
				return nil, sql.Errorf(sql.CodeDuplicateColumn, it.at, "Duplicate value columns found in schema: `%s` %s",
					it.name, expr.TypeName(val.node.DataType())).
					WithHint("alias one of them with AS (the first is item %d)", j+1)
			}
			return nil, sql.Errorf(sql.CodeDuplicateColumn, it.at, "Duplicate column name '%s' in the projection", it.name).
				WithHint("alias one of them with AS (the first is item %d)", j+1)
		}
		seenName[it.name] = i
	}
	return a, a.nameKeys(mode, sinkName)
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func colName(n expr.Node) string {
	if c, ok := n.(*expr.Col); ok {
		return c.Name
	}
	return n.String()
}

// nameKeys decides the key columns: GROUP BY expression i is named after
// the item that selects it. A persistent query must select every grouping
// expression exactly once.
func (a *aggQuery) nameKeys(mode queryMode, sinkName string) error {
	a.keyNames = make([]string, len(a.groups))
	a.keyItem = make([]int, len(a.groups))
	var missing []string
	for g := range a.groups {
		a.keyItem[g] = -1
		var names []string
		for i, it := range a.items {
			if it.keyOf == g {
				names = append(names, "`"+it.name+"`")
				if a.keyItem[g] < 0 {
					a.keyItem[g] = i
				}
			}
		}
		if mode == modePersistent && len(names) > 1 {
			return sql.Errorf(sql.CodeDuplicateColumn, a.items[a.keyItem[g]].at,
				"The projection contains a key column more than once: %s.", joinAnd(names)).
				WithHint("keep one; to also copy the key into the value use AS_VALUE(%s) AS <name>", a.gtext[g])
		}
		if a.keyItem[g] >= 0 {
			a.keyNames[g] = a.items[a.keyItem[g]].name
			continue
		}
		missing = append(missing, a.gtext[g])
		// A transient query needs no key column; name it for EXPLAIN.
		a.keyNames[g] = "KSQL_GROUP_" + strconv.Itoa(g)
	}
	if mode != modePersistent {
		return nil
	}
	if len(missing) > 0 {
		what, keys := "grouping expression", "Key"
		if len(missing) > 1 {
			what, keys = "grouping expressions", "Keys"
		}
		return sql.Errorf(sql.CodeInvalidParameter, a.q.At,
			"%s missing from projection (ie, SELECT). The query used to build `%s` must include the %s %s in its projection (eg, SELECT %s...).",
			keys, sinkName, what, joinAnd(missing), strings.Join(missing, ", ")).
			WithHint("add %s to the SELECT list", strings.Join(missing, ", "))
	}
	values := 0
	for _, it := range a.items {
		if it.keyOf < 0 {
			values++
		}
	}
	if values == 0 {
		return sql.Errorf(sql.CodeInvalidParameter, a.q.At, "The projection contains no value columns.").
			WithHint("select at least one aggregate or AS_VALUE(<key>)")
	}
	return nil
}

// rejectJoinWindowBounds rejects WINDOWSTART and WINDOWEND in the select
// list of a windowed aggregation over a join, as ksqlDB does: the window
// bounds of its rows are only in the result's windowed key.
func rejectJoinWindowBounds(q *sql.Select) error {
	var err error
	for _, it := range q.Items {
		if it.Star {
			continue
		}
		walkSQL(it.Expr, func(e sql.Expr) {
			if id, ok := e.(*sql.Ident); ok && err == nil && (id.Name == colWindowstart || id.Name == colWindowend) {
				err = sql.Errorf(sql.CodeUndefinedColumn, id.At, "SELECT column '%s' cannot be resolved", id.Name).
					WithHint("a windowed aggregation over a join keeps the window bounds in its key only")
			}
		})
	}
	return err
}

func errWindowWithoutGroupBy(w *sql.WindowSpec) error {
	return sql.Errorf(codeGrouping, w.At, "WINDOW clause requires a GROUP BY clause").
		WithHint("group the windowed rows, e.g. GROUP BY <key column>")
}

// selectsAggregate reports whether a select item or HAVING calls an
// aggregate function.
func selectsAggregate(q *sql.Select) bool {
	for _, it := range q.Items {
		if !it.Star && hasAggregateCall(it.Expr) {
			return true
		}
	}
	return q.Having != nil && hasAggregateCall(q.Having)
}

// bindWindow converts the WINDOW clause.
func (a *aggQuery) bindWindow(q *sql.Select) error {
	w := q.Window
	if w == nil {
		if q.Emit == sql.EmitFinal {
			return sql.Errorf(sql.CodeFeatureNotSupported, q.At, "EMIT FINAL is only supported for windowed aggregations.").
				WithHint("add a WINDOW clause or use EMIT CHANGES")
		}
		return nil
	}
	if a.table() {
		return sql.Errorf(sql.CodeFeatureNotSupported, w.At, "Windowing not supported for table aggregations.")
	}
	if len(q.GroupBy) == 0 && !selectsAggregate(q) {
		return errWindowWithoutGroupBy(w)
	}
	spec := &exec.WindowSpec{Size: w.Size.Millis}
	switch w.Kind {
	case sql.WindowTumbling:
		spec.Kind, spec.Advance = exec.WindowTumbling, w.Size.Millis
	case sql.WindowHopping:
		spec.Kind, spec.Advance = exec.WindowHopping, w.Advance.Millis
		if spec.Advance <= 0 || spec.Advance > spec.Size {
			return sql.Errorf(sql.CodeInvalidParameter, w.At,
				"Window advance must be positive and at most the window size, got ADVANCE BY %dms for SIZE %dms", spec.Advance, spec.Size)
		}
	case sql.WindowSession:
		spec.Kind = exec.WindowSession
	}
	if spec.Size <= 0 {
		return sql.Errorf(sql.CodeInvalidParameter, w.At, "Window size must be positive")
	}
	switch {
	case w.Grace != nil:
		spec.Grace = w.Grace.Millis
	case q.Emit == sql.EmitFinal:
		// ksqlDB's EMIT FINAL closes a window at its end when no grace
		// period is given (suppress.json "should emit at window end if no
		// grace period given").
		spec.Grace = 0
	default:
		spec.Grace = exec.DefaultGrace(spec.Size)
	}
	spec.Retention = spec.Size + spec.Grace
	if w.Retention != nil {
		if w.Retention.Millis < spec.Size+spec.Grace {
			return sql.Errorf(sql.CodeInvalidParameter, w.Retention.At,
				"The retention period (%dms) must be at least the window size plus the grace period (%dms)",
				w.Retention.Millis, spec.Size+spec.Grace)
		}
		spec.Retention = w.Retention.Millis
	}
	a.window = spec
	return nil
}

func aggConfig(props Props) agg.Config {
	var c agg.Config
	if v, ok := props.get("ksql.functions.collect_list.limit"); ok {
		c.CollectListLimit, _ = strconv.Atoi(v)
	}
	if v, ok := props.get("ksql.functions.collect_set.limit"); ok {
		c.CollectSetLimit, _ = strconv.Atoi(v)
	}
	return c
}

// windowBoundsInWhere gives ksqlDB's message for WINDOWSTART/WINDOWEND in
// the WHERE clause of a windowed aggregation: WHERE filters the input,
// before rows are assigned to windows, so the bounds do not exist yet.
func windowBoundsInWhere(err error, q *sql.Select) error {
	se, ok := err.(*sql.Error)
	if !ok || se.Code != sql.CodeUndefinedColumn || q.Window == nil {
		return err
	}
	for _, name := range []string{colWindowstart, colWindowend} {
		if se.Msg == "WHERE column '"+name+"' cannot be resolved" {
			se.Msg = "Error in WHERE expression: Unknown column " + name + "."
			se.Hint = "WHERE applies before windowing; filter on the window bounds in a query over the result"
		}
	}
	return err
}

// rejectWindowBounds refuses WINDOWSTART/WINDOWEND in a windowed
// aggregation's HAVING clause, as ksqlDB does: the bounds are the key of
// the result row, not something to filter groups or aggregate over.
func rejectWindowBounds(e sql.Expr) error {
	var bad *sql.Ident
	walkSQL(e, func(x sql.Expr) {
		if id, ok := x.(*sql.Ident); ok && bad == nil && (id.Name == colWindowstart || id.Name == colWindowend) {
			bad = id
		}
	})
	if bad == nil {
		return nil
	}
	return sql.Errorf(codeGrouping, bad.At, "Window bounds column %s can only be used in the SELECT clause of windowed aggregations", bad.Name).
		WithHint("select %s and filter the result in another query", bad.Name)
}

// aggRewriter maps an expression bound over the extended source scope onto
// the aggregate output layout.
type aggRewriter struct {
	a     *aggQuery
	wsIdx int // scope index of WINDOWSTART (WINDOWEND follows)
	base  int // scope index of the first aggregate placeholder
}

func (r *aggRewriter) rewrite(n expr.Node, bad *[]expr.Node) expr.Node {
	a := r.a
	if n == nil {
		return nil
	}
	s := n.String()
	for i, g := range a.groups {
		if g.String() == s {
			return &expr.Col{Index: i, Name: a.gtext[i], Type: g.DataType()}
		}
	}
	nk, nw := len(a.groups), a.outWindow()
	switch n := n.(type) {
	case *expr.Col:
		switch {
		case n.Index >= r.base:
			return &expr.Col{Index: nk + nw + n.Index - r.base, Name: n.Name, Type: n.Type}
		case a.window != nil && n.Index == r.wsIdx:
			return &expr.Col{Index: nk, Name: colWindowstart, Type: n.Type}
		case a.window != nil && n.Index == r.wsIdx+1:
			return &expr.Col{Index: nk + 1, Name: colWindowend, Type: n.Type}
		}
		*bad = append(*bad, n)
		return n
	case *expr.Call:
		args := make([]expr.Node, len(n.Args))
		for i, x := range n.Args {
			args[i] = r.rewrite(x, bad)
		}
		return &expr.Call{Name: n.Name, Args: args, Fn: n.Fn, Type: n.Type}
	case *expr.Case:
		c := &expr.Case{Whens: make([]expr.CaseWhen, len(n.Whens)), Type: n.Type}
		for i, w := range n.Whens {
			c.Whens[i] = expr.CaseWhen{Cond: r.rewrite(w.Cond, bad), Result: r.rewrite(w.Result, bad)}
		}
		c.Else = r.rewrite(n.Else, bad)
		return c
	case *expr.Cast:
		return &expr.Cast{X: r.rewrite(n.X, bad), Type: n.Type}
	case *expr.Lambda:
		return &expr.Lambda{Params: n.Params, Types: n.Types, Body: r.rewrite(n.Body, bad)}
	}
	return n
}

// ---- lowering ----

// aggLayout is the pre-aggregation projection: keys, distinct argument
// expressions, ROWTIME.
type aggLayout struct {
	exprs   []expr.Node
	names   []string
	argCols [][]int // per call: indexes in exprs
	nArgs   int
	timeCol int
}

func (a *aggQuery) layout() *aggLayout {
	l := &aggLayout{}
	for i, g := range a.groups {
		l.exprs = append(l.exprs, g)
		l.names = append(l.names, "K"+strconv.Itoa(i))
	}
	idx := map[string]int{}
	for _, c := range a.calls {
		cols := make([]int, len(c.args))
		for j, x := range c.args {
			k, ok := idx[x.String()]
			if !ok {
				k = len(l.exprs)
				idx[x.String()] = k
				l.exprs = append(l.exprs, x)
				l.names = append(l.names, "A"+strconv.Itoa(k-len(a.groups)))
				l.nArgs++
			}
			cols[j] = k
		}
		l.argCols = append(l.argCols, cols)
	}
	l.timeCol = len(l.exprs)
	l.exprs = append(l.exprs, &expr.Col{Index: a.timeCol, Name: colRowtime, Type: a.cols[a.timeCol].Type})
	l.names = append(l.names, hiddenTimeName)
	return l
}

// needsRepartition: the rows must move to the partition of their group
// unless the source is a stream keyed by exactly the one grouping column.
func (a *aggQuery) needsRepartition() bool {
	if len(a.groups) == 0 {
		return false // a global aggregation (push queries only) runs per partition
	}
	if a.table() || a.join != nil {
		return true
	}
	keys := 0
	for _, c := range a.scan.Cols {
		if c.Role == sql.ColKey || c.Role == sql.ColPrimaryKey {
			keys++
		}
	}
	if keys != 1 || len(a.groups) != 1 {
		return true
	}
	c, ok := a.groups[0].(*expr.Col)
	return !ok || a.scan.Cols[c.Index].Role != sql.ColKey
}

// changeColName names the change-kind column of a repartition topic; '$'
// keeps it apart from SQL names.
const changeColName = "$CHANGE"

// lowerAggregate builds the physical plan. persistent selects the final
// projection's order (keys first) and queryID names internal topics.
func (a *aggQuery) lowerAggregate(queryID string, persistent bool) (*Plan, error) {
	l := a.layout()
	plan := &Plan{}
	var (
		in    exec.SourceSpec
		front []any
		err   error
	)
	if a.join != nil {
		if front, err = a.joinFront(queryID, plan, l); err != nil {
			return nil, err
		}
		in = plan.Input
	} else if in, err = sourceSpec(a.scan); err != nil {
		return nil, err
	}
	switch {
	case a.join != nil:
		// The join's output carries its change kinds.
	case a.src.Kind == sql.KindTable:
		ts := exec.TableSourceSpec{Name: "TableSource"}
		for i, c := range a.scan.Cols {
			switch {
			case c.Role == sql.ColKey || c.Role == sql.ColPrimaryKey:
				ts.KeyCols = append(ts.KeyCols, i)
				ts.StoredCols = append(ts.StoredCols, i)
			case c.Role == sql.ColValue && !c.Pseudo:
				ts.StoredCols = append(ts.StoredCols, i)
			}
		}
		front = append(front, ts)
		fallthrough
	default:
		if a.where != nil {
			front = append(front, exec.FilterSpec{Pred: a.where})
		}
		front = append(front, exec.ProjectSpec{Exprs: l.exprs, Names: l.names})
	}

	spec := exec.AggregateSpec{Name: "Aggregate", KeyNames: a.keyNames, TimeCol: l.timeCol, ChangeCol: -1,
		Window: a.window, EmitFinal: a.q.Emit == sql.EmitFinal && a.window != nil, Having: a.having}
	for g := range a.groups {
		spec.KeyCols = append(spec.KeyCols, g)
	}
	for i, c := range a.calls {
		spec.Aggs = append(spec.Aggs, exec.AggCall{Fn: c.fn, Args: l.argCols[i], Name: "AGG" + strconv.Itoa(i)})
	}
	final := a.finalProject(persistent)

	if !a.needsRepartition() {
		plan.Input = in
		plan.Ops = append(front, spec, final)
	} else {
		stage, next, err := a.repartition(queryID, in, front, l)
		if err != nil {
			return nil, err
		}
		stage.Joins, plan.Joins = plan.Joins, nil
		plan.Pre = append(plan.Pre, stage)
		plan.Input = next
		spec.TimeCol = len(a.groups) + l.nArgs
		if a.table() {
			spec.ChangeCol = spec.TimeCol
			spec.TimeCol++
		}
		plan.Ops = []any{spec, final}
	}
	plan.OutputTimeCol = len(final.Exprs) - 1
	for _, c := range a.finalCols(persistent) {
		if !c.Hidden {
			plan.Output = append(plan.Output, Column{Name: c.Name, Type: SQLType(c.Type), Role: c.Role})
		}
	}
	plan.Logical = a.logical(persistent)
	return plan, nil
}

// joinFront lowers the join an aggregation reads: it sets plan's Pre
// stages (re-keyed join sides), Input and Joins, and returns the final
// join stage's operators up to the pre-aggregation projection: the
// JoinSpecs, WHERE and the projection of l, mapped onto the join's output.
func (a *aggQuery) joinFront(queryID string, plan *Plan, l *aggLayout) ([]any, error) {
	jp, ops, remap, err := a.join.lowerJoinInputs(queryID)
	if err != nil {
		return nil, err
	}
	plan.Pre, plan.Input, plan.Joins = jp.Pre, jp.Input, jp.Joins
	where, ops := a.join.pushDownWhere(a.where, ops)
	if where != nil {
		p, err := remap(where)
		if err != nil {
			return nil, err
		}
		ops = append(ops, exec.FilterSpec{Pred: p})
	}
	proj := exec.ProjectSpec{Names: l.names}
	for _, x := range l.exprs {
		n, err := remap(x)
		if err != nil {
			return nil, err
		}
		proj.Exprs = append(proj.Exprs, n)
	}
	return append(ops, proj), nil
}

// repartition builds stage 0 (which writes the re-keyed rows to an internal
// topic) and the source spec of the stage that reads them back.
func (a *aggQuery) repartition(queryID string, in exec.SourceSpec, front []any, l *aggLayout) (*Stage, exec.SourceSpec, error) {
	topic := "_sluice-" + queryID + "-Aggregate-GroupBy-repartition"
	nk := len(a.groups)
	key := codec.Spec{Format: codec.JSON, Unwrapped: nk == 1}
	value := codec.Spec{Format: codec.JSON}
	for i := 0; i < nk; i++ {
		key.Fields = append(key.Fields, expr.Field(l.names[i], l.exprs[i].DataType()))
	}
	for i := nk; i < nk+l.nArgs; i++ {
		t := l.exprs[i].DataType()
		if t.ID() == arrow.NULL {
			// A NULL literal argument has no type to serialize; any
			// nullable type carries it.
			t = expr.StringType
		}
		value.Fields = append(value.Fields, expr.Field(l.names[i], t))
	}
	sink := exec.SinkSpec{Topic: topic, Key: key, Value: value, TimeCol: l.timeCol}
	for i := 0; i < nk; i++ {
		sink.KeyCols = append(sink.KeyCols, i)
	}
	for i := nk; i < nk+l.nArgs; i++ {
		sink.ValueCols = append(sink.ValueCols, i)
	}
	ops := front
	if a.table() {
		ops = append(ops, exec.ChangeColumnSpec{Name: changeColName})
		value.Fields = append(value.Fields, expr.Field(changeColName, expr.IntType))
		sink.Value = value
		sink.ValueCols = append(sink.ValueCols, l.timeCol+1)
	}
	for i, x := range l.exprs[nk : nk+l.nArgs] {
		if x.DataType().ID() == arrow.NULL {
			// Give the NULL literal the type its field declares.
			ops[len(front)-1] = retypeNull(ops[len(front)-1].(exec.ProjectSpec), nk+i, expr.StringType)
		}
	}
	parts := a.src.Partitions
	if parts <= 0 {
		parts = 1
	}
	stage := &Stage{Input: in, Ops: ops, Sink: sink, Topic: topic, Partitions: parts}
	next := exec.SourceSpec{Topic: topic, Key: key, Value: value, TimestampCol: -1}
	return stage, next, nil
}

func retypeNull(p exec.ProjectSpec, i int, t arrow.DataType) exec.ProjectSpec {
	exprs := append([]expr.Node(nil), p.Exprs...)
	exprs[i] = &expr.Lit{Type: t}
	return exec.ProjectSpec{Exprs: exprs, Names: p.Names}
}

// finalCols are the columns of the final projection: for a persistent
// query the key items in GROUP BY order, then the other items; for a push
// query the items in order. Then WINDOWSTART and WINDOWEND (hidden; the
// sink's windowed key) and the hidden row time.
func (a *aggQuery) finalCols(persistent bool) []OutCol {
	var cols []OutCol
	for _, i := range a.itemOrder(persistent) {
		it := a.items[i]
		role := sql.ColValue
		if persistent && it.keyOf >= 0 {
			role = sql.ColPrimaryKey
		}
		cols = append(cols, OutCol{Name: it.name, Type: it.node.DataType(), Role: role})
	}
	if a.window != nil {
		cols = append(cols,
			OutCol{Name: colWindowstart, Type: expr.TimestampType, Pseudo: true, Hidden: true},
			OutCol{Name: colWindowend, Type: expr.TimestampType, Pseudo: true, Hidden: true})
	}
	return append(cols, OutCol{Name: hiddenTimeName, Type: expr.TimestampType, Hidden: true})
}

func (a *aggQuery) itemOrder(persistent bool) []int {
	var order []int
	if persistent {
		for _, i := range a.keyItem {
			if i >= 0 {
				order = append(order, i)
			}
		}
		for i, it := range a.items {
			if it.keyOf < 0 {
				order = append(order, i)
			}
		}
		return order
	}
	for i := range a.items {
		order = append(order, i)
	}
	return order
}

func (a *aggQuery) finalProject(persistent bool) exec.ProjectSpec {
	var p exec.ProjectSpec
	nk, nw := len(a.groups), a.outWindow()
	for _, i := range a.itemOrder(persistent) {
		p.Exprs = append(p.Exprs, a.items[i].node)
		p.Names = append(p.Names, a.items[i].name)
	}
	if a.window != nil {
		p.Exprs = append(p.Exprs,
			&expr.Col{Index: nk, Name: colWindowstart, Type: expr.TimestampType},
			&expr.Col{Index: nk + 1, Name: colWindowend, Type: expr.TimestampType})
		p.Names = append(p.Names, colWindowstart, colWindowend)
	}
	p.Exprs = append(p.Exprs, &expr.Col{Index: nk + nw + len(a.calls), Name: colRowtime, Type: expr.TimestampType})
	p.Names = append(p.Names, hiddenTimeName)
	return p
}

// logical builds the logical plan shown by EXPLAIN.
func (a *aggQuery) logical(persistent bool) Node {
	var n Node = a.scan
	if a.join != nil {
		n = a.join.joinNode()
	}
	if a.where != nil {
		n = &Filter{Input: n, Pred: a.where}
	}
	if w := a.window; w != nil {
		grace := w.Grace
		kind := map[exec.WindowKind]sql.WindowKind{exec.WindowTumbling: sql.WindowTumbling,
			exec.WindowHopping: sql.WindowHopping, exec.WindowSession: sql.WindowSession}[w.Kind]
		n = &WindowNode{Input: n, Kind: kind, Size: w.Size, Advance: w.Advance, Grace: &grace}
	}
	ag := &Aggregate{Input: n, GroupBy: a.groups}
	for i, g := range a.groups {
		ag.Cols = append(ag.Cols, OutCol{Name: a.keyNames[i], Type: g.DataType(), Role: sql.ColKey})
	}
	if a.window != nil {
		ag.Cols = append(ag.Cols,
			OutCol{Name: colWindowstart, Type: expr.TimestampType, Pseudo: true},
			OutCol{Name: colWindowend, Type: expr.TimestampType, Pseudo: true})
	}
	for i, c := range a.calls {
		ag.Aggs = append(ag.Aggs, &expr.Call{Name: c.name, Args: c.args, Type: c.fn.Result})
		ag.Cols = append(ag.Cols, OutCol{Name: "AGG" + strconv.Itoa(i), Type: c.fn.Result})
	}
	ag.Cols = append(ag.Cols, OutCol{Name: colRowtime, Type: expr.TimestampType, Pseudo: true})
	n = ag
	if a.having != nil {
		n = &Filter{Input: n, Pred: a.having}
	}
	fp := a.finalProject(persistent)
	return &Project{Input: n, Exprs: fp.Exprs, Cols: a.finalCols(persistent)}
}

// planCreateAggregate plans CREATE TABLE AS SELECT with an aggregation.
func planCreateAggregate(cat Catalog, st *sql.CreateSource, w withProps, queryID string, props Props) (*Plan, *Source, error) {
	q := st.Query
	a, err := bindAggregate(cat, q, modePersistent, st.Name, props)
	if err != nil {
		return nil, nil, err
	}
	if st.Kind != sql.KindTable {
		return nil, nil, sql.Errorf(sql.CodeSyntax, st.At,
			"Invalid result type. Your SELECT query produces a TABLE. Please use CREATE TABLE AS SELECT statement instead.")
	}
	if len(a.groups) == 0 {
		return nil, nil, sql.Errorf(codeGrouping, q.At,
			"CREATE TABLE AS SELECT statement does not support aggregate function %s without a GROUP BY clause.", a.calls[0].name).
			WithHint("add GROUP BY, or run the aggregation as a push query (EMIT CHANGES)")
	}
	if f := a.src.ValueFormat.Name; f == codec.Delimited || f == codec.Kafka {
		for _, c := range a.calls {
			if c.fn.ComplexState {
				return nil, nil, sql.Errorf(sql.CodeFeatureNotSupported, q.At,
					"One of the functions used in the statement has an intermediate type that the value format can not handle. Please remove the function or change the format.").
					WithHint("%s keeps a structured state, which %s cannot serialize", c.name, f)
			}
		}
	}
	plan, err := a.lowerAggregate(queryID, true)
	if err != nil {
		return nil, nil, err
	}
	var out []OutCol
	for _, c := range a.finalCols(true) {
		if !c.Hidden {
			out = append(out, c)
		}
	}
	sink, err := createAsSink(st, w, a.src, out, queryID, props)
	if err != nil {
		return nil, nil, err
	}
	if win := a.window; win != nil {
		sink.Window = &Window{Type: win.Kind.String()}
		if win.Kind != exec.WindowSession {
			sink.Window.Size = win.Size
		}
	}
	if err := addSink(plan, sink); err != nil {
		return nil, nil, err
	}
	if a.window != nil {
		// The windowed key ends with WINDOWSTART and WINDOWEND, the hidden
		// columns before the row time.
		t := plan.OutputTimeCol
		plan.Sink.KeyCols = append(plan.Sink.KeyCols, t-2, t-1)
	}
	plan.Emit = sql.EmitChanges
	plan.Explain = Explain(plan)
	return plan, sink, nil
}

// planQueryAggregate plans a push query with an aggregation.
func planQueryAggregate(cat Catalog, q *sql.Select, props Props) (*Plan, error) {
	if q.Emit == sql.EmitNone {
		if len(q.GroupBy) == 0 && q.Window != nil {
			return nil, errPullUnsupported(q.Window.At, "WINDOW")
		}
		return nil, errPullUnsupported(q.At, "GROUP BY")
	}
	a, err := bindAggregate(cat, q, modeTransient, "", props)
	if err != nil {
		return nil, err
	}
	plan, err := a.lowerAggregate("transient", false)
	if err != nil {
		return nil, err
	}
	if len(plan.Pre) > 0 {
		// A push query creates no internal topics: instead of re-keying
		// through one, it groups in place, in one task that reads every
		// partition of the source (Plan.SingleTask), so each group has
		// one accumulator.
		if plan, err = a.lowerSingleStage(plan); err != nil {
			return nil, err
		}
		plan.SingleTask = true
	}
	if a.join != nil {
		// Over a join it runs one task over all partitions: exact.
		if err := a.join.inlineSides(plan); err != nil {
			return nil, err
		}
	}
	plan.Limit = q.Limit
	plan.Emit = q.Emit
	plan.Explain = Explain(plan)
	return plan, nil
}

// lowerSingleStage folds a two-stage plan into one: stage 0's operators up
// to the pre-aggregation projection, then the aggregate over that
// projection's layout (kinds flow in the batches, no change column).
func (a *aggQuery) lowerSingleStage(full *Plan) (*Plan, error) {
	pre := full.Pre[len(full.Pre)-1]
	ops := append([]any(nil), pre.Ops...)
	if _, ok := ops[len(ops)-1].(exec.ChangeColumnSpec); ok {
		ops = ops[:len(ops)-1]
	}
	spec, ok := full.Ops[0].(exec.AggregateSpec)
	if !ok {
		return nil, sql.Errorf(sql.CodeInternal, sql.Pos{}, "aggregate plan does not start with an aggregate")
	}
	l := a.layout()
	spec.TimeCol, spec.ChangeCol = l.timeCol, -1
	spec.Aggs = append([]exec.AggCall(nil), spec.Aggs...)
	for i := range spec.Aggs {
		spec.Aggs[i].Args = l.argCols[i]
	}
	out := *full
	out.Pre, out.Input, out.Joins = full.Pre[:len(full.Pre)-1], pre.Input, pre.Joins
	out.Ops = append(append(ops, spec), full.Ops[1:]...)
	return &out, nil
}

// explainStateful renders a stateful operator spec for EXPLAIN.
func explainStateful(op any) string {
	switch op := op.(type) {
	case exec.TableSourceSpec:
		return fmt.Sprintf("TableSource %s key %v stores %v", op.Name, op.KeyCols, op.StoredCols)
	case exec.ChangeColumnSpec:
		return "ChangeColumn " + op.Name
	case exec.JoinSpec:
		return explainJoin(op)
	case exec.AggregateSpec:
		var b strings.Builder
		fmt.Fprintf(&b, "Aggregate %s key %v", op.Name, op.KeyCols)
		parts := make([]string, len(op.Aggs))
		for i, c := range op.Aggs {
			parts[i] = fmt.Sprintf("%s := %s%v", c.Name, c.Fn.Name, c.Args)
		}
		fmt.Fprintf(&b, " computing [%s] time #%d", strings.Join(parts, ", "), op.TimeCol)
		if op.ChangeCol >= 0 {
			fmt.Fprintf(&b, " changes #%d", op.ChangeCol)
		}
		if w := op.Window; w != nil {
			fmt.Fprintf(&b, " window %s size %dms", w.Kind, w.Size)
			if w.Kind == exec.WindowHopping {
				fmt.Fprintf(&b, " advance %dms", w.Advance)
			}
			fmt.Fprintf(&b, " grace %dms retention %dms", w.Grace, w.Retention)
		}
		if op.EmitFinal {
			b.WriteString(" emit final")
		}
		if op.Having != nil {
			fmt.Fprintf(&b, " having %s", op.Having)
		}
		return b.String()
	}
	return fmt.Sprintf("%T", op)
}

// explainStages renders the stages that run before the final one.
func explainStages(b *strings.Builder, stages []*Stage) {
	for n, st := range stages {
		fmt.Fprintf(b, "  Stage %d: source topic %q key %s value %s\n", n, st.Input.Topic, specString(st.Input.Key), specString(st.Input.Value))
		explainJoinInputs(b, "    ", st.Joins)
		for i, op := range st.Ops {
			switch op := op.(type) {
			case exec.FilterSpec:
				fmt.Fprintf(b, "    %d. Filter %s\n", i+1, op.Pred)
			case exec.ProjectSpec:
				parts := make([]string, len(op.Exprs))
				for j, e := range op.Exprs {
					parts[j] = op.Names[j] + " := " + e.String()
				}
				fmt.Fprintf(b, "    %d. Project %s\n", i+1, strings.Join(parts, ", "))
			default:
				fmt.Fprintf(b, "    %d. %s\n", i+1, explainStateful(op))
			}
		}
		fmt.Fprintf(b, "    Sink internal topic %q (%d partitions) key %s%v value %s%v time #%d\n", st.Topic, st.Partitions,
			specString(st.Sink.Key), st.Sink.KeyCols, specString(st.Sink.Value), st.Sink.ValueCols, st.Sink.TimeCol)
	}
}
