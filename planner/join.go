package planner

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/sluicedb/sluice/exec"
	"github.com/sluicedb/sluice/exec/codec"
	"github.com/sluicedb/sluice/exec/expr"
	"github.com/sluicedb/sluice/sql"
)

// Joins.
//
// Binding. `FROM s0 JOIN s1 ON ... JOIN s2 ON ...` nests on the left
// (sql.Join). The sources are flattened in FROM order and every expression
// (ON, WHERE, SELECT) is bound over the virtual layout V: the scan layouts
// of all sources one after the other, plus, when the join key is
// synthetic, a ROWKEY column at the end. Names resolve as in ksqlDB: a
// qualified name within its source; an unqualified one in the one source
// that has it, or it is ambiguous. ROWTIME written unqualified is the join
// result's time (a hidden column at the end of V).
//
// Physical plan. Each source becomes a side: its decoded topic layout, or,
// when the source is a stream not partitioned by its join expression (or
// its key format differs from the other side's, which would partition equal
// keys differently), the layout of an internal repartition topic written by
// a Pre stage:
//
//	stage i: source -> Project ($JOINKEY := key expr, columns..., ROWTIME) -> sink _sluice-<query>-Join-<i>-repartition
//
// The final stage reads the sides' topics (Plan.Input for side 0,
// Plan.Joins[k] for side k+1) and runs
//
//	Join 0 (side 0, side 1) -> Join 1 (Join 0, side 2) -> ... -> [Filter WHERE] -> Project (items)
//
// Join k's output is [K_k, left columns..., side k+1 columns..., T_k]
// (exec.JoinSpec), so V maps onto the last join's output by offsets.
//
// PARTITION BY on a join result needs no stage either: the select items
// that compute its expressions become the result's key columns and the
// sink's record key (bindPartitionBy, as partition.go for one stream).
//
// A push query creates no topics: it runs one task over every partition
// of its inputs, and a re-keyed side is re-keyed in place (inlineSides).
//
// Windowed sources (both windowed, session with session, time with time
// of the same size, never re-keyed) join on their key and window, as
// Kafka Streams compares windowed keys by their bytes: the window start,
// and the end of a session window, are part of the join key
// (exec.JoinSide.WindowCols). A persistent query writes the result with a
// windowed key in the first source's window type (resultWindow).
//
// The second and later joins of an N-way join must use the key the
// previous join produced (a column equal to the previous join key);
// re-keying an intermediate result needs a multi-input Pre stage, which is
// not supported.

// joinSrc is one source of a join query.
type joinSrc struct {
	src   *Source
	alias string // the alias, or the source name
	at    sql.Pos
	scan  *Scan
	base  int // index of the source's first column in V
	// Physical side, set by lower.
	spec    exec.SourceSpec
	colMap  []int // scan column -> side layout column (-1: unavailable)
	width   int   // side layout width
	keyCol  int   // side column of the join key
	timeCol int
	table   bool
	pre     *Stage // the repartition stage, when re-keyed
	// inline replaces pre in a push query (inlineSides): pre's projection
	// extended to the layout the repartition topic gives back. Nil for a
	// foreign-key subscription.
	inline []any
	// changeCol is the side column holding the change kinds of a
	// foreign-key join's subscription (see subscribe).
	changeCol int
}

// joinStep is one JOIN of the query: the accumulated left input joined
// with source right.
type joinStep struct {
	kind   sql.JoinKind
	within *sql.Within
	on     sql.Expr
	at     sql.Pos
	right  int
	// lexpr is over V and reads sources before right; rexpr reads right.
	lexpr, rexpr expr.Node
	lsrc         int // the source lexpr reads
	ltext, rtext string
	// table: the accumulated left input is a table (all its sources are).
	leftTable bool
	// fk: a table-table join on a foreign key (lexpr is not the left
	// table's primary key).
	fk bool
}

// joinQuery is a bound join SELECT.
type joinQuery struct {
	q       *sql.Select
	srcs    []*joinSrc
	steps   []*joinStep
	cols    []OutCol // V
	rowkey  int      // index of the synthetic ROWKEY in V, or -1
	rowtime int      // index of the result's ROWTIME in V (hidden)
	joinKey int      // index of the last join's key in V (hidden)
	where   expr.Node
	items   []boundItem
	keyItem int // persistent: the item that is the result key
	// partition are the PARTITION BY expressions over V: the result is
	// re-keyed by them instead of keyed by the join key.
	partition []expr.Node
	result    sql.SourceKind
	// windowKey is set for a persistent join of windowed sources: its
	// sink's key is windowed, so the projection carries the result's
	// window bounds as hidden columns before the row time.
	windowKey bool
}

func isJoinQuery(q *sql.Select) bool {
	_, ok := q.From.(*sql.Join)
	return ok
}

// joinScope resolves names over V (see scope.join).
type joinScope struct {
	jq *joinQuery
	// upto limits resolution to sources [0, upto) while binding an ON
	// clause, so that a condition cannot reference a later source.
	upto int
}

// joinIdent resolves a column reference in a join query.
func (b *binder) joinIdent(id *sql.Ident) (expr.Node, error) {
	js := b.sc.join
	jq := js.jq
	colRef := func(i int) expr.Node {
		c := jq.cols[i]
		n := expr.Node(&expr.Col{Index: i, Name: c.Name, Type: c.Type})
		if c.Pseudo {
			n = asEpochMillis(n)
		}
		return n
	}
	if id.Qualifier != "" {
		for si, s := range jq.srcs[:js.upto] {
			if s.alias != id.Qualifier {
				continue
			}
			for i, c := range s.scan.Cols {
				if c.Name == id.Name {
					return colRef(jq.srcs[si].base + i), nil
				}
			}
			return nil, b.unresolved(id)
		}
		return nil, jq.unknownSource(id, js.upto)
	}
	if jq.rowkey >= 0 && id.Name == jq.cols[jq.rowkey].Name {
		return colRef(jq.rowkey), nil
	}
	if id.Name == colRowtime && js.upto == len(jq.srcs) {
		// Unqualified, ROWTIME is the join result's time.
		return colRef(jq.rowtime), nil
	}
	var found []int
	var quals []string
	for _, s := range jq.srcs[:js.upto] {
		for i, c := range s.scan.Cols {
			if c.Name == id.Name {
				found = append(found, s.base+i)
				quals = append(quals, s.alias+"."+c.Name)
			}
		}
	}
	switch {
	case len(found) == 1:
		return colRef(found[0]), nil
	case len(found) > 1:
		return nil, sql.Errorf(sql.CodeAmbiguousColumn, id.At, "Column '%s' is ambiguous. Could be %s.", id.Name, joinOr(quals)).
			WithHint("qualify the column with its source name or alias")
	}
	// Columns the scope adds after V: an aggregation's window bounds.
	for i := len(jq.cols); i < len(b.sc.cols); i++ {
		if c := b.sc.cols[i]; c.Name == id.Name && !c.Hidden {
			n := expr.Node(&expr.Col{Index: i, Name: c.Name, Type: c.Type})
			if c.Pseudo {
				n = asEpochMillis(n)
			}
			return n, nil
		}
	}
	return nil, b.unresolved(id)
}

// checkQualifiers reports the first qualifier of e that names none of the
// sources [0, upto): as in ksqlDB, an unknown source is reported before
// any ambiguity of an unqualified column of the same condition.
func (jq *joinQuery) checkQualifiers(e sql.Expr, upto int) error {
	var bad *sql.Ident
	walkSQL(e, func(x sql.Expr) {
		id, ok := x.(*sql.Ident)
		if !ok || id.Qualifier == "" || bad != nil {
			return
		}
		for _, s := range jq.srcs[:upto] {
			if s.alias == id.Qualifier {
				return
			}
		}
		bad = id
	})
	if bad == nil {
		return nil
	}
	return jq.unknownSource(bad, upto)
}

// unknownSource is the error of a qualifier that names none of the
// sources [0, upto).
func (jq *joinQuery) unknownSource(id *sql.Ident, upto int) error {
	return sql.Errorf(sql.CodeUndefinedTable, id.At, "'%s' is not a valid stream/table name or alias.", id.Qualifier).
		WithHint("qualify columns with %s", strings.Join(jq.aliases()[:upto], " or "))
}

func joinOr(names []string) string {
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

func (jq *joinQuery) aliases() []string {
	out := make([]string, len(jq.srcs))
	for i, s := range jq.srcs {
		out[i] = s.alias
	}
	return out
}

// srcOf returns the source that V column i belongs to, or -1 (ROWKEY).
func (jq *joinQuery) srcOf(i int) int {
	for j, s := range jq.srcs {
		if i >= s.base && i < s.base+len(s.scan.Cols) {
			return j
		}
	}
	return -1
}

// colRowkey is the name of a join's synthetic key column, unless a
// source has a column of that name (syntheticKeyName).
const colRowkey = "ROWKEY"

// syntheticKeyName names a join's synthetic key column as ksqlDB does:
// ROWKEY, or, when the sources have columns named ROWKEY or ROWKEY_<n>,
// ROWKEY_<largest n + 1> (ROWKEY counting as 0).
func (jq *joinQuery) syntheticKeyName() string {
	top := -1
	for _, s := range jq.srcs {
		for _, c := range s.scan.Cols {
			if c.Name == colRowkey {
				top = max(top, 0)
			} else if n, ok := strings.CutPrefix(c.Name, colRowkey+"_"); ok {
				if i, err := strconv.Atoi(n); err == nil && i > 0 {
					top = max(top, i)
				}
			}
		}
	}
	if top < 0 {
		return colRowkey
	}
	return colRowkey + "_" + strconv.Itoa(top+1)
}

// bindJoin binds a join query.
func bindJoin(cat Catalog, q *sql.Select, mode queryMode, sinkName string) (*joinQuery, error) {
	jq, b, err := bindJoinFrom(cat, q)
	if err != nil {
		return nil, err
	}
	sc := b.sc
	if err := jq.bindPartitionBy(b); err != nil {
		return nil, err
	}
	if q.Where != nil {
		p, err := b.bindPredicate(q.Where, "WHERE")
		if err != nil {
			return nil, err
		}
		jq.where = p
	}
	sc.clause = "SELECT"
	if err := jq.bindItems(b, mode, sinkName); err != nil {
		return nil, err
	}
	return jq, nil
}

// bindPartitionBy binds the PARTITION BY clause of a join over V. The
// sink writes the result keyed by the select items that equal the
// expressions, which is the repartition, as for a single stream
// (partition.go).
func (jq *joinQuery) bindPartitionBy(b *binder) error {
	q := jq.q
	if len(q.PartitionBy) == 0 {
		return nil
	}
	at := q.PartitionBy[0].Position()
	if jq.result == sql.KindTable {
		return sql.Errorf(sql.CodeFeatureNotSupported, at, "Cannot repartition a TABLE source. The join of tables is keyed by its PRIMARY KEY").
			WithHint("re-key a table with GROUP BY")
	}
	for _, s := range jq.srcs {
		if s.src.Window != nil {
			return sql.Errorf(sql.CodeFeatureNotSupported, at,
				"Implicit repartitioning of windowed sources is not supported. See https://github.com/confluentinc/ksql/issues/4385.")
		}
	}
	b.sc.clause = "PARTITION BY"
	defer func() { b.sc.clause = "" }()
	for _, e := range q.PartitionBy {
		if isPredicate(e) {
			return sql.Errorf(sql.CodeSyntax, e.Position(), "Syntax Error: PARTITION BY takes value expressions, not the condition %s", exprText(e)).
				WithHint("partition by a column or a value computed from columns")
		}
		n, err := b.bind(e)
		if err != nil {
			return explainPartitionScope(err, q)
		}
		if isNullLit(n) {
			return sql.Errorf(sql.CodeFeatureNotSupported, e.Position(), "PARTITION BY NULL on a join is not supported").
				WithHint("partition by a column of one of the joined sources")
		}
		if err := checkNoMapInKey(Column{Name: exprText(e), Type: SQLType(n.DataType())}, e.Position()); err != nil {
			return err
		}
		jq.partition = append(jq.partition, n)
	}
	return nil
}

// orderKeyPartition is orderKey for a join re-keyed by PARTITION BY: the
// items that compute the expressions become the key columns, in the
// clause's order; each must be selected exactly once.
func (jq *joinQuery) orderKeyPartition(items []boundItem, sinkName string) ([]boundItem, error) {
	var keys, values []boundItem
	for k, p := range jq.partition {
		at := -1
		for i, it := range items {
			c, isCol := it.node.(*expr.Col)
			pc, pIsCol := p.(*expr.Col)
			if isCol && pIsCol && c.Index == pc.Index || sameExpr(it.node, p) {
				if at >= 0 {
					return nil, sql.Errorf(sql.CodeDuplicateColumn, it.at,
						"The projection contains a key column (`%s`) more than once, aliased as: %s and %s.", exprText(jq.q.PartitionBy[k]), items[at].name, it.name).
						WithHint("keep one; to also copy the key into the value use AS_VALUE(...)")
				}
				at = i
			}
		}
		if at < 0 {
			text := exprText(jq.q.PartitionBy[k])
			return nil, sql.Errorf(sql.CodeInvalidParameter, jq.q.At,
				"Key missing from projection (ie, SELECT). See https://cnfl.io/2LV7ouS.\nThe query used to build `%s` must include the partitioning expression %s in its projection (eg, SELECT %s...).", sinkName, text, text).
				WithHint("add %s to the SELECT list", text)
		}
		it := items[at]
		it.role, it.keyOf = sql.ColKey, -1
		keys = append(keys, it)
		items[at].keyOf = -2 // taken
	}
	for _, it := range items {
		if it.keyOf != -2 {
			it.role, it.keyOf = sql.ColValue, -1
			values = append(values, it)
		}
	}
	if len(values) == 0 {
		return nil, sql.Errorf(sql.CodeInvalidParameter, keys[0].at, "The projection contains no value columns").
			WithHint("select at least one value column")
	}
	jq.keyItem = 0
	return append(keys, values...), nil
}

// bindJoinFrom binds the FROM clause of a join query: its sources, their
// ON conditions and the result's key and time columns. It returns a
// binder whose scope resolves names over V, for the rest of the query
// (a projection, or an aggregation's clauses).
func bindJoinFrom(cat Catalog, q *sql.Select) (*joinQuery, *binder, error) {
	jq := &joinQuery{q: q, rowkey: -1, keyItem: -1}
	var flatten func(r sql.Relation) error
	flatten = func(r sql.Relation) error {
		switch r := r.(type) {
		case *sql.SourceRef:
			return jq.addSource(cat, r)
		case *sql.Join:
			if err := flatten(r.Left); err != nil {
				return err
			}
			if err := jq.addSource(cat, r.Right); err != nil {
				return err
			}
			jq.steps = append(jq.steps, &joinStep{kind: r.Kind, within: r.Within, on: r.On, at: r.At, right: len(jq.srcs) - 1})
			return nil
		}
		return sql.Errorf(sql.CodeSyntax, q.At, "FROM must name streams or tables")
	}
	if err := flatten(q.From); err != nil {
		return nil, nil, err
	}
	if err := jq.checkSources(); err != nil {
		return nil, nil, err
	}
	for _, s := range jq.srcs {
		s.base = len(jq.cols)
		jq.cols = append(jq.cols, s.scan.Cols...)
	}
	// The result's time and key: hidden, never resolved by name.
	jq.rowtime = len(jq.cols)
	jq.cols = append(jq.cols, OutCol{Name: colRowtime, Type: expr.TimestampType, Pseudo: true, Hidden: true})
	jq.joinKey = len(jq.cols)
	jq.cols = append(jq.cols, OutCol{Name: "$JOINKEY", Hidden: true})
	sc := &scope{cols: jq.cols, join: &joinScope{jq: jq}}
	b := &binder{cat: cat, sc: sc}
	for _, st := range jq.steps {
		if err := jq.bindOn(b, st); err != nil {
			return nil, nil, err
		}
	}
	if err := jq.checkCombinations(); err != nil {
		return nil, nil, err
	}
	last := jq.steps[len(jq.steps)-1]
	if !last.fk && (last.kind == sql.JoinFull || !isPlainCol(last.lexpr) && !isPlainCol(last.rexpr)) {
		jq.rowkey = len(jq.cols)
		jq.cols = append(jq.cols, OutCol{Name: jq.syntheticKeyName(), Type: last.lexpr.DataType(), Role: sql.ColKey})
		sc.cols = jq.cols
	}
	sc.join.upto = len(jq.srcs)
	jq.result = sql.KindStream
	if jq.srcs[0].src.Kind == sql.KindTable {
		jq.result = sql.KindTable
	}
	return jq, b, nil
}

func (jq *joinQuery) addSource(cat Catalog, ref *sql.SourceRef) error {
	src, ok := cat.Source(ref.Name)
	if !ok {
		return unknownSource(cat, ref.Name, ref.At)
	}
	alias := ref.Alias
	if alias == "" {
		alias = src.Name
	}
	for _, s := range jq.srcs {
		if s.src.Name == src.Name {
			return sql.Errorf(sql.CodeFeatureNotSupported, ref.At, "Can not join '%s' to '%s': self joins are not yet supported.", s.src.Name, src.Name).
				WithHint("copy the source with CREATE STREAM ... AS SELECT and join the copy")
		}
		if s.alias == alias {
			return sql.Errorf(sql.CodeDuplicateObject, ref.At, "duplicate source alias %s in FROM", alias).WithHint("give each source its own alias")
		}
	}
	jq.srcs = append(jq.srcs, &joinSrc{src: src, alias: alias, at: ref.At, scan: NewScan(src, ref.Alias)})
	return nil
}

// checkSources applies ksqlDB's per-source restrictions.
func (jq *joinQuery) checkSources() error {
	var kafka []string
	for _, s := range jq.srcs {
		if s.src.ValueFormat.Name == codec.Kafka {
			kafka = append(kafka, s.src.Name)
		}
	}
	if len(kafka) > 0 {
		return sql.Errorf(sql.CodeFeatureNotSupported, jq.q.At,
			"Source(s) %s are using the 'KAFKA' value format. This format does not yet support JOIN.", strings.Join(kafka, ", ")).
			WithHint("declare the sources with another VALUE_FORMAT, e.g. JSON")
	}
	windowed := -1
	for i, s := range jq.srcs {
		if s.src.Window != nil {
			windowed = i
		}
	}
	if windowed < 0 {
		return nil
	}
	for i, s := range jq.srcs {
		if s.src.Window == nil {
			w := jq.srcs[windowed]
			a, b := w, s
			if i < windowed {
				a, b = s, w
			}
			desc := func(x *joinSrc) string {
				if x.src.Window == nil {
					return "`" + x.src.Name + "` is not windowed"
				}
				return "`" + x.src.Name + "` is " + x.src.Window.Type + " windowed"
			}
			return sql.Errorf(sql.CodeFeatureNotSupported, jq.q.At, "Can not join windowed source to non-windowed source.\n%s\n%s", desc(a), desc(b))
		}
	}
	lw, rw := jq.srcs[0].src.Window, jq.srcs[1].src.Window
	l, r := lw.Type, rw.Type
	if (l == "SESSION") != (r == "SESSION") {
		return sql.Errorf(sql.CodeFeatureNotSupported, jq.q.At, "Incompatible windowed sources.\nLeft source: %s\nRight source: %s\n"+
			"Session windowed sources can only be joined to other session windowed sources, and may still not result in expected behaviour as session bounds must be an exact match for the join to work\n"+
			"Hopping and tumbling windowed sources can only be joined to other hopping and tumbling windowed sources", l, r)
	}
	if lw.Size != rw.Size {
		// Windowed keys of different sizes serialize differently, so
		// ksqlDB would have to re-key one side.
		return sql.Errorf(sql.CodeFeatureNotSupported, jq.q.At,
			"Implicit repartitioning of windowed sources is not supported. See https://github.com/confluentinc/ksql/issues/4385.")
	}
	return nil
}

// bindOn binds and checks the ON clause of st.
func (jq *joinQuery) bindOn(b *binder, st *joinStep) error {
	bin, ok := st.on.(*sql.Binary)
	if !ok || bin.Op != "=" {
		if ok && strings.EqualFold(bin.Op, "AND") {
			return sql.Errorf(sql.CodeFeatureNotSupported, st.on.Position(),
				"Invalid join condition: joins on multiple conditions are not yet supported. Got %s.", exprText(st.on)).
				WithHint("join on one equality and filter the rest with WHERE")
		}
		return sql.Errorf(sql.CodeFeatureNotSupported, st.on.Position(),
			"Unsupported join expression: %s. Only equality joins between two sources are supported.", exprText(st.on)).
			WithHint("write the condition as <left expression> = <right expression>")
	}
	b.sc.join.upto = st.right + 1
	b.sc.clause = "JOIN ON"
	if err := jq.checkQualifiers(st.on, b.sc.join.upto); err != nil {
		return err
	}
	l, err := b.bind(bin.L)
	if err != nil {
		return err
	}
	r, err := b.bind(bin.R)
	if err != nil {
		return err
	}
	sides := func(n expr.Node) map[int]bool {
		set := map[int]bool{}
		used := map[int]bool{}
		colsUsed(n, used)
		for c := range used {
			set[jq.srcOf(c)] = true
		}
		return set
	}
	ls, rs := sides(l), sides(r)
	for _, x := range []struct {
		set  map[int]bool
		text string
	}{{ls, exprText(bin.L)}, {rs, exprText(bin.R)}} {
		if len(x.set) != 1 {
			return sql.Errorf(sql.CodeFeatureNotSupported, st.on.Position(),
				"Invalid comparison expression '%s' in join '%s'. Each side of the join comparision must contain references from exactly one source.",
				x.text, exprText(st.on))
		}
	}
	lt, rt := jq.qualifiedText(bin.L, st.right+1), jq.qualifiedText(bin.R, st.right+1)
	if rs[st.right] {
		// left = right: as written.
	} else if ls[st.right] {
		l, r, ls, rs, lt, rt = r, l, rs, ls, rt, lt
	}
	if !rs[st.right] || ls[st.right] {
		return sql.Errorf(sql.CodeFeatureNotSupported, st.on.Position(),
			"Invalid join condition: each side of %s must read one of the joined sources, and one of them %s.", exprText(st.on), jq.srcs[st.right].alias)
	}
	for s := range ls {
		st.lsrc = s
	}
	st.lexpr, st.rexpr, st.ltext, st.rtext = l, r, lt, rt
	if !arrow.TypeEqual(l.DataType(), r.DataType()) {
		return sql.Errorf(sql.CodeDatatypeMismatch, st.on.Position(), "Invalid join condition: types don't match. Got %s{%s} = %s{%s}.",
			lt, ksqlTypeName(l.DataType()), rt, ksqlTypeName(r.DataType())).
			WithHint("CAST one side to the other's type")
	}
	if hasMap(l.DataType()) {
		return sql.Errorf(sql.CodeFeatureNotSupported, st.on.Position(),
			"Map keys, including types that contain maps, are not supported as they may lead to unexpected behavior due to inconsistent serialization. Key column name: `%s`. Column type: %s. See https://github.com/confluentinc/ksql/issues/6621 for more.",
			jq.keyColName(st), expr.TypeName(l.DataType()))
	}
	return nil
}

// qualifiedText renders e as ksqlDB's join messages print a condition:
// each unqualified column qualified by the one source of srcs[:upto]
// that has it (LEFT_TABLE.FOREIGN_KEY).
func (jq *joinQuery) qualifiedText(e sql.Expr, upto int) string {
	var set []*sql.Ident
	walkSQL(e, func(x sql.Expr) {
		id, ok := x.(*sql.Ident)
		if !ok || id.Qualifier != "" {
			return
		}
		owner := ""
		for _, s := range jq.srcs[:upto] {
			for _, c := range s.scan.Cols {
				if c.Name == id.Name {
					if owner != "" && owner != s.alias {
						return // ambiguous: left as written
					}
					owner = s.alias
				}
			}
		}
		if owner != "" {
			id.Qualifier = owner
			set = append(set, id)
		}
	})
	text := exprText(e)
	for _, id := range set {
		id.Qualifier = ""
	}
	return text
}

// ksqlTypeName is a type as ksqlDB's join messages print it.
func ksqlTypeName(t arrow.DataType) string {
	if t.ID() == arrow.INT32 {
		return "INTEGER"
	}
	return expr.TypeName(t)
}

func hasMap(t arrow.DataType) bool {
	switch t := t.(type) {
	case *arrow.MapType:
		return true
	case *arrow.ListType:
		return hasMap(t.Elem())
	case *arrow.StructType:
		for _, f := range t.Fields() {
			if hasMap(f.Type) {
				return true
			}
		}
	}
	return false
}

// keyColName is the name ksqlDB gives the key column of st's result when
// it names a source column: ALIAS_COL of the left expression.
func (jq *joinQuery) keyColName(st *joinStep) string {
	if c, ok := st.lexpr.(*expr.Col); ok {
		return jq.srcs[jq.srcOf(c.Index)].alias + "_" + jq.cols[c.Index].Name
	}
	return colRowkey
}

func isPlainCol(n expr.Node) bool {
	_, ok := n.(*expr.Col)
	return ok
}

// checkCombinations applies ksqlDB's rules on which sources join how.
func (jq *joinQuery) checkCombinations() error {
	leftTable := jq.srcs[0].src.Kind == sql.KindTable
	for _, st := range jq.steps {
		st.leftTable = leftTable
		right := jq.srcs[st.right]
		rightTable := right.src.Kind == sql.KindTable
		kindName := map[sql.JoinKind]string{sql.JoinInner: "INNER", sql.JoinLeft: "LEFT", sql.JoinRight: "RIGHT", sql.JoinFull: "FULL OUTER"}[st.kind]
		switch {
		case leftTable && !rightTable:
			return sql.Errorf(sql.CodeFeatureNotSupported, st.at,
				"Invalid join order: table-stream joins are not supported; only stream-table joins. Got %s %s JOIN %s.",
				jq.leftName(st), kindName, right.src.Name).WithHint("swap the sides: the stream goes first")
		case !leftTable && rightTable:
			if st.kind == sql.JoinRight || st.kind == sql.JoinFull {
				return sql.Errorf(sql.CodeFeatureNotSupported, st.at,
					"Invalid join type: %s join not supported for stream-table join. Got %s %s JOIN %s.",
					strings.ToLower(strings.ReplaceAll(kindName, " ", "-")), jq.leftName(st), kindName, right.src.Name).
					WithHint("use INNER or LEFT JOIN")
			}
			if st.within != nil {
				return sql.Errorf(sql.CodeSyntax, st.at, "A window definition was provided for a Stream-Table join. These joins are not windowed. Please drop the window definition (i.e. the WITHIN clause) and try to rerun your query.")
			}
			if err := jq.checkTableKey(st, st.rexpr, "stream-table joins require to join on the table's primary key"); err != nil {
				return err
			}
		case leftTable && rightTable:
			if st.within != nil {
				return sql.Errorf(sql.CodeSyntax, st.at, "A window definition was provided for a Table-Table join. These joins are not windowed. Please drop the window definition (i.e. the WITHIN clause) and try to rerun your query.")
			}
			if err := jq.checkTableKey(st, st.rexpr, "table-table joins require to join on the primary key of the right input table"); err != nil {
				return err
			}
			if !jq.isTableKey(st.lexpr) {
				switch {
				case st.kind == sql.JoinRight:
					return sql.Errorf(sql.CodeFeatureNotSupported, st.at, "RIGHT OUTER JOIN on a foreign key is not supported")
				case st.kind == sql.JoinFull:
					return sql.Errorf(sql.CodeFeatureNotSupported, st.at, "FULL OUTER JOIN on a foreign key is not supported")
				case len(jq.steps) > 1:
					return sql.Errorf(sql.CodeFeatureNotSupported, st.at, "foreign-key joins in a multi-way join (%s = %s) are not supported yet", st.ltext, st.rtext).
						WithHint("write the foreign-key join to a table with CREATE TABLE ... AS SELECT, then join that")
				}
				st.fk = true
			}
		default:
			if st.within == nil {
				return sql.Errorf(sql.CodeSyntax, st.at, "Stream-Stream joins must have a WITHIN clause specified. None was provided. To learn about how to specify a WITHIN clause with a stream-stream join, please visit: https://docs.confluent.io/current/ksql/docs/syntax-reference.html#create-stream-as-select")
			}
		}
		leftTable = leftTable && rightTable
	}
	return nil
}

func (jq *joinQuery) leftName(st *joinStep) string {
	if st.right == 1 {
		return jq.srcs[0].src.Name
	}
	return "(join result)"
}

// isTableKey reports whether n is the single primary key column of a table.
func (jq *joinQuery) isTableKey(n expr.Node) bool {
	c, ok := n.(*expr.Col)
	if !ok {
		return false
	}
	s := jq.srcs[jq.srcOf(c.Index)]
	return s.src.Kind == sql.KindTable && len(s.src.KeyColumns()) == 1 && jq.cols[c.Index].Role == sql.ColPrimaryKey
}

func (jq *joinQuery) checkTableKey(st *joinStep, n expr.Node, msg string) error {
	if jq.isTableKey(n) {
		return nil
	}
	return sql.Errorf(sql.CodeFeatureNotSupported, st.on.Position(), "Invalid join condition: %s. Got %s = %s.", msg, st.ltext, st.rtext).
		WithHint("join on the table's PRIMARY KEY column")
}

// viableKeys are the V columns that hold the result key (for a key that
// is not synthetic): the last join's column expressions.
func (jq *joinQuery) viableKeys() []int {
	if jq.rowkey >= 0 {
		return []int{jq.rowkey}
	}
	last := jq.steps[len(jq.steps)-1]
	if last.fk {
		return jq.leftPK()
	}
	var out []int
	for _, n := range []expr.Node{last.lexpr, last.rexpr} {
		if c, ok := n.(*expr.Col); ok {
			out = append(out, c.Index)
		}
	}
	return out
}

// bindItems binds the select list with ksqlDB's naming rules for joins: a
// star expands to ALIAS_COL names (an unqualified star starts with a
// synthetic ROWKEY); an unaliased column keeps its name unless several
// sources have a column of that name, in which case it is ALIAS_COL.
func (jq *joinQuery) bindItems(b *binder, mode queryMode, sinkName string) error {
	common := map[string]int{}
	for _, s := range jq.srcs {
		seen := map[string]bool{}
		for _, c := range s.scan.Cols {
			if !seen[c.Name] {
				seen[c.Name] = true
				common[c.Name]++
			}
		}
	}
	viable := map[int]bool{}
	for _, k := range jq.viableKeys() {
		viable[k] = true
	}
	var items []boundItem
	gen := 0
	used := map[string]bool{}
	for _, c := range jq.cols {
		used[c.Name] = true
	}
	starCol := func(i int, at sql.Pos, name string) boundItem {
		c := jq.cols[i]
		n := expr.Node(&expr.Col{Index: i, Name: name, Type: c.Type})
		if c.Pseudo {
			n = asEpochMillis(n)
		}
		bi := boundItem{node: n, name: name, role: sql.ColValue, at: at, keyOf: -1}
		if viable[i] {
			bi.keyOf = i
		}
		return bi
	}
	sel, err := expandStructStars(b, jq.q.Items)
	if err != nil {
		return err
	}
	for _, it := range sel {
		if it.Star {
			srcs := jq.srcs
			if it.Qualifier != "" {
				srcs = nil
				for _, s := range jq.srcs {
					if s.alias == it.Qualifier {
						srcs = append(srcs, s)
					}
				}
				if len(srcs) == 0 {
					return sql.Errorf(sql.CodeUndefinedTable, it.At, "'%s' is not a valid stream/table name or alias.", it.Qualifier)
				}
			} else if jq.rowkey >= 0 {
				items = append(items, starCol(jq.rowkey, it.At, jq.cols[jq.rowkey].Name))
			}
			for _, s := range srcs {
				for _, i := range jq.starCols(s) {
					items = append(items, starCol(s.base+i, it.At, s.alias+"_"+s.scan.Cols[i].Name))
				}
			}
			continue
		}
		n, err := b.bind(it.Expr)
		if err != nil {
			return err
		}
		bi := boundItem{node: n, at: it.At, role: sql.ColValue, keyOf: -1}
		if c, ok := n.(*expr.Col); ok && viable[c.Index] {
			bi.keyOf = c.Index
		}
		switch {
		case it.Alias != "":
			if isReservedName(it.Alias) {
				return sql.Errorf(sql.CodeDuplicateColumn, it.At,
					"`%s` is a reserved column name. You cannot use it as an alias for a column", it.Alias).WithHint("choose another alias")
			}
			bi.name, bi.aliased = it.Alias, true
		default:
			if id, ok := it.Expr.(*sql.Ident); ok {
				bi.name = id.Name
				if c := baseCol(n); c != nil && common[id.Name] > 1 && jq.srcOf(c.Index) >= 0 {
					bi.name = jq.srcs[jq.srcOf(c.Index)].alias + "_" + id.Name
				}
			} else {
				bi.name = derivedName(it.Expr)
			}
			if bi.name == "" {
				for {
					bi.name = "KSQL_COL_" + strconv.Itoa(gen)
					gen++
					if !used[bi.name] {
						break
					}
				}
			}
			used[bi.name] = true
		}
		if mode == modePersistent && !bi.aliased && isReservedName(bi.name) && bi.name != colRowkey {
			return sql.Errorf(sql.CodeDuplicateColumn, it.At,
				"Reserved column name in select: `%s`. Please remove or alias the column", bi.name).
				WithHint("e.g. %s AS %s_COPY", bi.name, bi.name)
		}
		items = append(items, bi)
	}
	if mode == modePersistent {
		var err error
		if items, err = jq.orderKey(items, sinkName); err != nil {
			return err
		}
	}
	seen := map[string]int{}
	for i, it := range items {
		if j, dup := seen[it.name]; dup {
			return sql.Errorf(sql.CodeDuplicateColumn, it.at, "Duplicate column name '%s' in the projection", it.name).
				WithHint("alias one of them with AS (the first is item %d)", j+1)
		}
		seen[it.name] = i
	}
	jq.items = items
	return nil
}

// starCols are the scan columns of s that a star selects, in order: its
// columns and header columns. Over a join re-keyed by PARTITION BY, ksqlDB
// expands a star over the repartitioned join's value schema, which holds
// each source's value columns, its ROWTIME, ROWPARTITION and ROWOFFSET, then
// its key columns.
func (jq *joinQuery) starCols(s *joinSrc) []int {
	var out []int
	if len(jq.partition) == 0 {
		for i, c := range s.scan.Cols {
			if !c.Pseudo {
				out = append(out, i)
			}
		}
		return out
	}
	var keys []int
	for i, c := range s.scan.Cols {
		switch {
		case c.Role == sql.ColKey || c.Role == sql.ColPrimaryKey:
			keys = append(keys, i)
		case !c.Pseudo:
			out = append(out, i)
		}
	}
	for _, name := range []string{colRowtime, colRowpartition, colRowoffset} {
		out = append(out, scanIndex(s.scan, name))
	}
	return append(out, keys...)
}

// orderKey picks the result key among the items, moves it first and
// checks ksqlDB's key rules. The key is the first item that is the left
// join expression's column, else the first that is the right one's (or
// ROWKEY when the key is synthetic).
func (jq *joinQuery) orderKey(items []boundItem, sinkName string) ([]boundItem, error) {
	if jq.partition != nil {
		return jq.orderKeyPartition(items, sinkName)
	}
	if jq.steps[len(jq.steps)-1].fk {
		return jq.orderKeyFK(items)
	}
	key := -1
	for _, want := range jq.viableKeys() {
		for i, it := range items {
			if it.keyOf == want {
				key = i
				break
			}
		}
		if key >= 0 {
			break
		}
	}
	if key < 0 {
		if jq.rowkey >= 0 {
			msg := "The query used to build `%s` must include the join expression ROWKEY in its projection (eg, SELECT ROWKEY...).\n" +
				"ROWKEY was added as a synthetic key column because the join criteria did not match any source column. " +
				"This expression must be included in the projection and may be aliased."
			return nil, sql.Errorf(sql.CodeInvalidParameter, jq.q.At, "Key missing from projection (ie, SELECT). See https://cnfl.io/2LV7ouS.\n"+msg, sinkName).
				WithHint("add ROWKEY (or ROWKEY AS <name>) to the SELECT list")
		}
		var names []string
		last := jq.steps[len(jq.steps)-1]
		for _, n := range []expr.Node{last.lexpr, last.rexpr} {
			if c, ok := n.(*expr.Col); ok {
				names = append(names, jq.srcs[jq.srcOf(c.Index)].alias+"."+jq.cols[c.Index].Name)
			}
		}
		what := "join expression " + names[0]
		if len(names) > 1 {
			what = "join expressions " + strings.Join(names, " or ")
		}
		return nil, sql.Errorf(sql.CodeInvalidParameter, jq.q.At,
			"The query used to build `%s` must include the %s in its projection (eg, SELECT %s...).", sinkName, what, names[0]).
			WithHint("Key missing from projection: add %s to the SELECT list", names[0])
	}
	var dups []string
	for _, it := range items {
		if it.keyOf == items[key].keyOf {
			dups = append(dups, it.name)
		}
	}
	if len(dups) > 1 {
		sort.Strings(dups)
		c := items[key].keyOf
		name := jq.cols[c].Name
		if s := jq.srcOf(c); s >= 0 {
			name = jq.srcs[s].alias + "_" + jq.cols[c].Name
		}
		return nil, sql.Errorf(sql.CodeDuplicateColumn, items[key].at,
			"The projection contains a key column (`%s`) more than once, aliased as: %s.", name, joinAnd(dups)).
			WithHint("keep one; to also copy the key into the value use AS_VALUE(...)")
	}
	out := []boundItem{items[key]}
	// The key column holds the join key, which for a row with no left side
	// is the right side's key: read it from the join output, not from the
	// source column.
	out[0].node = &expr.Col{Index: jq.joinKey, Name: out[0].name, Type: out[0].node.DataType()}
	out[0].role = sql.ColKey
	if jq.srcs[0].src.Kind == sql.KindTable {
		out[0].role = sql.ColPrimaryKey
	}
	for i, it := range items {
		if i != key {
			it.role = sql.ColValue
			it.keyOf = -1
			out = append(out, it)
		}
	}
	if len(out) == 1 {
		return nil, sql.Errorf(sql.CodeInvalidParameter, out[0].at, "The projection contains no value columns").
			WithHint("select at least one value column")
	}
	jq.keyItem = 0
	return out, nil
}

// leftPK returns the V columns of the first source's primary key, in
// declaration order: a foreign-key join's result key.
func (jq *joinQuery) leftPK() []int {
	var out []int
	s := jq.srcs[0]
	for i, c := range s.scan.Cols {
		if !c.Pseudo && c.Role == sql.ColPrimaryKey {
			out = append(out, s.base+i)
		}
	}
	return out
}

// orderKeyFK is orderKey for a foreign-key join: its result is keyed by
// the left table's primary key, so, as in ksqlDB, the projection must hold
// every primary key column once; they become the key columns, in the
// table's order.
func (jq *joinQuery) orderKeyFK(items []boundItem) ([]boundItem, error) {
	var out []boundItem
	var missing []string
	isKey := map[int]bool{}
	for _, pk := range jq.leftPK() {
		at := -1
		var dups []string
		for i, it := range items {
			if it.keyOf == pk {
				if at < 0 {
					at = i
				}
				dups = append(dups, it.name)
			}
		}
		if at < 0 {
			missing = append(missing, "`"+jq.cols[pk].Name+"`")
			continue
		}
		if len(dups) > 1 {
			sort.Strings(dups)
			return nil, sql.Errorf(sql.CodeDuplicateColumn, items[at].at,
				"The projection contains a key column (`%s`) more than once, aliased as: %s.", jq.srcs[0].alias+"_"+jq.cols[pk].Name, joinAnd(dups)).
				WithHint("keep one; to also copy the key into the value use AS_VALUE(...)")
		}
		isKey[at] = true
		it := items[at]
		it.role = sql.ColPrimaryKey
		out = append(out, it)
	}
	if len(missing) > 0 {
		what := "column"
		if len(missing) > 1 {
			what = "columns"
		}
		return nil, sql.Errorf(sql.CodeInvalidParameter, jq.q.At,
			"Primary key %s missing in projection. For foreign-key table-table joins, the projection must include all primary key columns from the left input table (`%s`). Missing %s: %s.",
			what, jq.srcs[0].src.Name, what, strings.Join(missing, ", ")).
			WithHint("add the left table's primary key columns to the SELECT list")
	}
	for i, it := range items {
		if !isKey[i] {
			it.role = sql.ColValue
			it.keyOf = -1
			out = append(out, it)
		}
	}
	if len(out) == len(isKey) {
		return nil, sql.Errorf(sql.CodeInvalidParameter, out[0].at, "The projection contains no value columns").
			WithHint("select at least one value column")
	}
	jq.keyItem = 0
	return out, nil
}

// ---- physical plan ----

// lowerJoin builds the physical plan of a bound join. queryID names the
// internal topics; timeExpr, when not nil, is the sink's TIMESTAMP column
// expression over the items (index into items), else ROWTIME.
func (jq *joinQuery) lowerJoin(queryID string, timeItem int) (*Plan, error) {
	plan, ops, remap, err := jq.lowerJoinInputs(queryID)
	if err != nil {
		return nil, err
	}
	where, ops := jq.pushDownWhere(jq.where, ops)
	if where != nil {
		p, err := remap(where)
		if err != nil {
			return nil, err
		}
		ops = append(ops, exec.FilterSpec{Pred: p})
	}
	proj := exec.ProjectSpec{}
	var outCols []OutCol
	for _, it := range jq.items {
		n, err := remap(it.node)
		if err != nil {
			return nil, err
		}
		proj.Exprs = append(proj.Exprs, n)
		proj.Names = append(proj.Names, it.name)
		outCols = append(outCols, OutCol{Name: it.name, Type: n.DataType(), Role: it.role})
	}
	timeExpr, _ := remap(&expr.Col{Index: jq.rowtime, Name: colRowtime, Type: expr.TimestampType})
	if timeItem >= 0 {
		timeExpr = proj.Exprs[timeItem]
	}
	if jq.windowKey {
		for _, name := range []string{colWindowstart, colWindowend} {
			n, err := jq.resultWindow(name)
			if err == nil {
				n, err = remap(n)
			}
			if err != nil {
				return nil, err
			}
			proj.Exprs = append(proj.Exprs, n)
			proj.Names = append(proj.Names, "$"+name)
		}
	}
	proj.Exprs = append(proj.Exprs, timeExpr)
	proj.Names = append(proj.Names, hiddenTimeName)
	ops = append(ops, proj)
	plan.Ops = ops
	plan.OutputTimeCol = len(proj.Exprs) - 1
	for _, c := range outCols {
		plan.Output = append(plan.Output, Column{Name: c.Name, Type: SQLType(c.Type), Role: c.Role})
	}
	plan.Logical = jq.logical(outCols, proj)
	return plan, nil
}

// resultWindow is the window bound name (WINDOWSTART or WINDOWEND) of a
// join of windowed sources, over V: the first source's, which an inner or
// left join always has (the sources' keys, window included, are equal); a
// row that an outer join pads on the left takes the first source that
// has one.
func (jq *joinQuery) resultWindow(name string) (expr.Node, error) {
	var args []expr.Node
	for _, s := range jq.srcs {
		args = append(args, &expr.Col{Index: s.base + scanIndex(s.scan, name), Name: name, Type: expr.TimestampType})
	}
	for _, st := range jq.steps {
		if st.kind == sql.JoinRight || st.kind == sql.JoinFull {
			return call("COALESCE", args, sql.Pos{})
		}
	}
	return args[0], nil
}

// lowerJoinInputs builds the part of a join's physical plan that every
// join query shares: the Pre stages that re-key its sides, the final
// stage's inputs (plan.Input, plan.Joins) and its JoinSpecs (ops). remap
// maps an expression over V onto the layout of the last join's output.
func (jq *joinQuery) lowerJoinInputs(queryID string) (plan *Plan, ops []any, remap func(expr.Node) (expr.Node, error), err error) {
	plan = &Plan{}
	// Sides.
	for i, s := range jq.srcs {
		in, err := sourceSpec(s.scan)
		if err != nil {
			return nil, nil, nil, err
		}
		s.spec, s.table = in, s.src.Kind == sql.KindTable
		s.width = len(s.scan.Cols)
		s.colMap = make([]int, len(s.scan.Cols))
		for c := range s.colMap {
			s.colMap[c] = c
		}
		s.timeCol = scanIndex(s.scan, colRowtime)
		keyExpr := jq.joinKeyExpr(i) // over V, reading s only
		if i == 0 && jq.steps[0].lsrc != 0 {
			return nil, nil, nil, sql.Errorf(sql.CodeInternal, jq.q.At, "join: the first condition does not read the first source")
		}
		if i == 0 && jq.steps[0].fk {
			right, err := sourceSpec(jq.srcs[1].scan)
			if err != nil {
				return nil, nil, nil, err
			}
			jq.subscribe(queryID, s, keyExpr, right.Key, max(jq.srcs[1].src.Partitions, 1))
			plan.Pre = append(plan.Pre, s.pre)
			continue
		}
		if jq.readsDirectly(i) {
			s.keyCol = keyCol(keyExpr, s)
			continue
		}
		if s.src.Window != nil {
			return nil, nil, nil, sql.Errorf(sql.CodeFeatureNotSupported, s.at,
				"Implicit repartitioning of windowed sources is not supported. See https://github.com/confluentinc/ksql/issues/4385.")
		}
		if i > 1 && i != jq.steps[i-1].right {
			return nil, nil, nil, sql.Errorf(sql.CodeInternal, jq.q.At, "join: source order")
		}
		if err := jq.repartition(queryID, i, s, keyExpr); err != nil {
			return nil, nil, nil, err
		}
		plan.Pre = append(plan.Pre, s.pre)
	}
	if err := jq.checkPartitions(); err != nil {
		return nil, nil, nil, err
	}
	// Joins: offsets of each source in the current left layout.
	offs := make([]int, len(jq.srcs))
	width := jq.srcs[0].width
	leftKey := jq.srcs[0].keyCol
	leftTime := jq.srcs[0].timeCol
	var leftSchema *arrow.Schema = sideSchema(jq.srcs[0])
	leftTable := jq.srcs[0].table
	keyOf := map[int]bool{} // V columns equal to the current left key
	for k, st := range jq.steps {
		right := jq.srcs[st.right]
		if k > 0 {
			c, ok := st.lexpr.(*expr.Col)
			if !ok || !keyOf[c.Index] {
				return nil, nil, nil, sql.Errorf(sql.CodeFeatureNotSupported, st.on.Position(),
					"joining the result of a join on %s, which is not its key, is not supported yet", st.ltext).
					WithHint("join on the previous join's key, or write the first join to a stream and join that")
			}
		}
		spec := exec.JoinSpec{Name: "Join-" + strconv.Itoa(k), Type: joinType(st.kind),
			Left: exec.JoinSide{Schema: leftSchema, KeyCol: leftKey, TimeCol: leftTime,
				WindowCols: jq.srcs[st.lsrc].windowCols(offs[st.lsrc])},
			Right: exec.JoinSide{Schema: sideSchema(right), KeyCol: right.keyCol, TimeCol: right.timeCol,
				WindowCols: right.windowCols(0)},
			KeyName: fmt.Sprintf("$JOINKEY%d", k)}
		switch {
		case st.fk:
			l := jq.srcs[0]
			spec.Kind = exec.ForeignKey
			spec.LeftChangeCol = l.changeCol
			for _, pk := range jq.leftPK() {
				spec.LeftPK = append(spec.LeftPK, l.colMap[pk-l.base])
			}
		case !leftTable && !right.table:
			spec.Kind = exec.StreamStream
			w := st.within
			spec.Window = &exec.JoinWindow{Before: w.Before.Millis, After: w.After.Millis}
			if w.Grace != nil {
				spec.Window.Grace, spec.Window.DeferOuter = w.Grace.Millis, true
			} else {
				spec.Window.Grace = exec.DefaultJoinGrace(w.Before.Millis)
			}
		case !leftTable:
			spec.Kind = exec.StreamTable
		default:
			spec.Kind = exec.TableTable
		}
		ops = append(ops, spec)
		// New layout: [K, left..., right..., T].
		for j := 0; j < st.right; j++ {
			offs[j]++
		}
		offs[st.right] = 1 + width
		width = 1 + width + right.width + 1
		schema, err := spec.Schema()
		if err != nil {
			return nil, nil, nil, sql.Errorf(sql.CodeInternal, st.at, "%v", err)
		}
		leftSchema, leftKey, leftTime = schema, 0, width-1
		leftTable = leftTable && right.table
		keyOf = map[int]bool{}
		for _, n := range []expr.Node{st.lexpr, st.rexpr} {
			if c, ok := n.(*expr.Col); ok {
				keyOf[c.Index] = true
			}
		}
		if k > 0 {
			// The previous key columns still equal the key.
			for _, prev := range jq.steps[:k] {
				for _, n := range []expr.Node{prev.lexpr, prev.rexpr} {
					if c, ok := n.(*expr.Col); ok && keyOf[st.lexpr.(*expr.Col).Index] {
						keyOf[c.Index] = true
					}
				}
			}
		}
	}
	// V -> final layout.
	mapping := make([]int, len(jq.cols))
	for i := range mapping {
		mapping[i] = -1
	}
	for j, s := range jq.srcs {
		for c, m := range s.colMap {
			if m >= 0 {
				mapping[s.base+c] = offs[j] + m
			}
		}
	}
	if jq.rowkey >= 0 {
		mapping[jq.rowkey] = 0
	}
	mapping[jq.rowtime] = leftTime
	mapping[jq.joinKey] = 0
	remapped := func(n expr.Node) (expr.Node, error) {
		var bad string
		out := mapCols(n, func(c *expr.Col) expr.Node {
			m := mapping[c.Index]
			if m < 0 {
				bad = c.Name
				return c
			}
			return &expr.Col{Index: m, Name: c.Name, Type: c.Type}
		})
		if bad != "" {
			return nil, sql.Errorf(sql.CodeFeatureNotSupported, jq.q.At, "column %s is not available after the join's repartitioning", bad)
		}
		return out, nil
	}
	plan.Input = jq.srcs[0].spec
	for _, s := range jq.srcs[1:] {
		plan.Joins = append(plan.Joins, JoinInput{Input: s.spec})
	}
	return plan, ops, remapped, nil
}

// windowCols are the side-layout columns, plus off, of s's window bounds
// that belong to its key (exec.JoinSide.WindowCols): WINDOWSTART, and
// WINDOWEND for a session window. Nil for an unwindowed source.
func (s *joinSrc) windowCols(off int) []int {
	w := s.src.Window
	if w == nil {
		return nil
	}
	names := []string{colWindowstart}
	if w.Type == "SESSION" {
		names = append(names, colWindowend)
	}
	var out []int
	for _, n := range names {
		out = append(out, off+s.colMap[scanIndex(s.scan, n)])
	}
	return out
}

func joinType(k sql.JoinKind) exec.JoinType {
	switch k {
	case sql.JoinLeft:
		return exec.JoinLeft
	case sql.JoinRight:
		return exec.JoinRight
	case sql.JoinFull:
		return exec.JoinOuter
	}
	return exec.JoinInner
}

func scanIndex(scan *Scan, name string) int {
	for i, c := range scan.Cols {
		if c.Name == name && c.Pseudo {
			return i
		}
	}
	return -1
}

func keyCol(n expr.Node, s *joinSrc) int {
	if c, ok := n.(*expr.Col); ok {
		return c.Index - s.base
	}
	return -1
}

// isPartitionKey reports whether scan column c of s is what s's topic is
// partitioned by: its single key column.
func (jq *joinQuery) isPartitionKey(s *joinSrc, c int) bool {
	keys := s.src.KeyColumns()
	if len(keys) != 1 || c < 0 || c >= len(s.scan.Cols) {
		return false
	}
	col := s.scan.Cols[c]
	return !col.Pseudo && (col.Role == sql.ColKey || col.Role == sql.ColPrimaryKey)
}

// joinKeyExpr is the expression (over V) that side i is joined on.
func (jq *joinQuery) joinKeyExpr(i int) expr.Node {
	if i == 0 {
		return jq.steps[0].lexpr
	}
	return jq.steps[i-1].rexpr
}

// readsDirectly reports whether side i is read from its source topic as
// it is: a table (joined on its primary key, checked, so never re-keyed)
// or a stream partitioned by its join expression with the key format of
// the side it joins. Other sides are re-keyed by a Pre stage.
func (jq *joinQuery) readsDirectly(i int) bool {
	s := jq.srcs[i]
	if s.src.Kind == sql.KindTable {
		return true
	}
	c, ok := jq.joinKeyExpr(i).(*expr.Col)
	return ok && jq.isPartitionKey(s, c.Index-s.base) && !jq.keyFormatDiffers(i)
}

// keyFormatDiffers reports whether source i (a stream, i > 0) would
// serialize the join key differently from the left input, so that equal
// keys could land in different partitions: then it is re-keyed into the
// left's partitioning. Only the first join is checked.
func (jq *joinQuery) keyFormatDiffers(i int) bool {
	if i != 1 || jq.srcs[1].src.Kind == sql.KindTable {
		return false
	}
	l, r := jq.srcs[0].src.KeyFormat, jq.srcs[1].src.KeyFormat
	return l.Name != r.Name || l.Delimiter != r.Delimiter
}

// checkPartitions: the final stage's topics must have equal partition
// counts.
func (jq *joinQuery) checkPartitions() error {
	first := jq.srcs[0]
	parts := func(s *joinSrc) int32 {
		if s.pre != nil {
			return s.pre.Partitions
		}
		return max(s.src.Partitions, 1)
	}
	for _, s := range jq.srcs[1:] {
		if parts(s) != parts(first) {
			return sql.Errorf(sql.CodeInvalidParameter, s.at,
				"Can't join `%s` with `%s` since the number of partitions don't match. `%s` partitions = %d; `%s` partitions = %d. Please repartition either one so that the number of partitions match.",
				first.src.Name, s.src.Name, first.src.Name, parts(first), s.src.Name, parts(s)).
				WithHint("e.g. CREATE STREAM %s_REPART WITH (PARTITIONS=%d) AS SELECT * FROM %s; and join that", s.src.Name, parts(first), s.src.Name)
		}
	}
	return nil
}

// projectColumns appends the side's stored columns (not pseudo columns nor
// headers) to proj and to the value format of the internal topic that
// re-keys the side, after proj's key expression (position 0), and points
// s.colMap at their positions there (-1 for columns not carried). It
// returns how many columns it appended.
func (s *joinSrc) projectColumns(proj *exec.ProjectSpec, value *codec.Spec) int {
	s.colMap = make([]int, len(s.scan.Cols))
	for c := range s.colMap {
		s.colMap[c] = -1
	}
	nv := 0
	for c, col := range s.scan.Cols {
		if col.Pseudo || col.Role == sql.ColHeaders || col.Role == sql.ColHeader {
			continue
		}
		proj.Exprs = append(proj.Exprs, &expr.Col{Index: c, Name: col.Name, Type: col.Type})
		proj.Names = append(proj.Names, col.Name)
		value.Fields = append(value.Fields, expr.Field(col.Name, col.Type))
		nv++
		s.colMap[c] = nv
	}
	return nv
}

// mapPseudoColumns points s.colMap's ROWTIME, ROWPARTITION and ROWOFFSET
// at positions at, at+1 and at+2 of an internal topic read back.
func (s *joinSrc) mapPseudoColumns(at int) {
	for c, col := range s.scan.Cols {
		switch {
		case col.Pseudo && col.Name == colRowtime:
			s.colMap[c] = at
		case col.Pseudo && col.Name == colRowpartition:
			s.colMap[c] = at + 1
		case col.Pseudo && col.Name == colRowoffset:
			s.colMap[c] = at + 2
		}
	}
}

// repartition re-keys stream source i by keyExpr through an internal topic
// and points the side at that topic.
func (jq *joinQuery) repartition(queryID string, i int, s *joinSrc, keyExpr expr.Node) error {
	topic := "_sluice-" + queryID + "-Join-" + strconv.Itoa(i) + "-repartition"
	local := mapCols(keyExpr, func(c *expr.Col) expr.Node {
		return &expr.Col{Index: c.Index - s.base, Name: c.Name, Type: c.Type}
	})
	proj := exec.ProjectSpec{Exprs: []expr.Node{local}, Names: []string{"$JOINKEY"}}
	// Equal keys must land in equal partitions: the topic is partitioned
	// (by the hash of the key's bytes) as the side this one joins, so its
	// key is serialized in that side's key format. Side 0 joins side 1;
	// every later side joins the result of the joins before it, which is
	// in side 0's partitioning.
	key := codec.Spec{Format: codec.JSON, Unwrapped: true}
	parts := s.src.Partitions
	switch {
	case i > 0:
		key, parts = jq.srcs[0].spec.Key, jq.srcs[0].src.Partitions
		if l := jq.srcs[0]; l.pre != nil {
			parts = l.pre.Partitions
		}
	case jq.readsDirectly(1):
		right, err := sourceSpec(jq.srcs[1].scan)
		if err != nil {
			return err
		}
		key, parts = right.Key, jq.srcs[1].src.Partitions
	}
	key.Fields = []arrow.Field{expr.Field("$JOINKEY", local.DataType())}
	value := codec.Spec{Format: codec.JSON}
	nv := s.projectColumns(&proj, &value)
	rt := scanIndex(s.scan, colRowtime)
	proj.Exprs = append(proj.Exprs, &expr.Col{Index: rt, Name: colRowtime, Type: expr.TimestampType})
	proj.Names = append(proj.Names, hiddenTimeName)
	sink := exec.SinkSpec{Topic: topic, Key: key, Value: value, KeyCols: []int{0}, TimeCol: nv + 1}
	for c := 1; c <= nv; c++ {
		sink.ValueCols = append(sink.ValueCols, c)
	}
	s.pre = &Stage{Input: s.spec, Ops: []any{proj}, Sink: sink, Topic: topic, Partitions: max(parts, 1)}
	s.spec = exec.SourceSpec{Topic: topic, Key: key, Value: value, TimestampCol: -1}
	inline := exec.ProjectSpec{Exprs: append([]expr.Node(nil), proj.Exprs...), Names: append([]string(nil), proj.Names...)}
	for _, name := range []string{colRowpartition, colRowoffset} {
		c := scanIndex(s.scan, name)
		if c < 0 {
			return sql.Errorf(sql.CodeInternal, s.at, "join: source %s has no %s column", s.src.Name, name)
		}
		inline.Exprs = append(inline.Exprs, &expr.Col{Index: c, Name: name, Type: s.scan.Cols[c].Type})
		inline.Names = append(inline.Names, name)
	}
	s.inline = []any{inline}
	// Layout: $JOINKEY, the columns, ROWTIME, ROWPARTITION, ROWOFFSET.
	s.mapPseudoColumns(nv + 1)
	s.width = nv + 4
	s.keyCol = 0
	s.timeCol = nv + 1
	return nil
}

// subscribe routes the left table of a foreign-key join to the right
// table's partitions: a Pre stage materializes the left table, so that an
// update also retracts the row's old foreign key, and writes its changes
// keyed by the foreign key, serialized as the right table's key (rightKey)
// so that equal keys land in the same partition, into rightParts
// partitions, the change kinds in a column:
//
//	stage 0: source -> TableSource -> Project ($FK := fk expr, columns..., ROWTIME) -> ChangeColumn -> sink _sluice-<query>-FkJoin-subscription
//
// The final stage's tasks then hold each right row next to the left rows
// that reference it; the results are written keyed by the left primary key.
func (jq *joinQuery) subscribe(queryID string, s *joinSrc, keyExpr expr.Node, rightKey codec.Spec, rightParts int32) {
	topic := "_sluice-" + queryID + "-FkJoin-subscription"
	ts := exec.TableSourceSpec{Name: "TableSource"}
	for i, c := range s.scan.Cols {
		switch {
		case c.Role == sql.ColKey || c.Role == sql.ColPrimaryKey:
			ts.KeyCols = append(ts.KeyCols, i)
			ts.StoredCols = append(ts.StoredCols, i)
		case c.Role == sql.ColValue && !c.Pseudo:
			ts.StoredCols = append(ts.StoredCols, i)
		}
	}
	local := mapCols(keyExpr, func(c *expr.Col) expr.Node {
		return &expr.Col{Index: c.Index - s.base, Name: c.Name, Type: c.Type}
	})
	proj := exec.ProjectSpec{Exprs: []expr.Node{local}, Names: []string{"$FK"}}
	key := rightKey
	key.Fields = []arrow.Field{expr.Field("$FK", local.DataType())}
	value := codec.Spec{Format: codec.JSON}
	nv := s.projectColumns(&proj, &value)
	proj.Exprs = append(proj.Exprs, &expr.Col{Index: scanIndex(s.scan, colRowtime), Name: colRowtime, Type: expr.TimestampType})
	proj.Names = append(proj.Names, hiddenTimeName)
	// After ChangeColumn: $FK, columns (1..nv), ROWTIME (nv+1), $CHANGE (nv+2).
	value.Fields = append(value.Fields, expr.Field(changeColName, expr.IntType))
	sink := exec.SinkSpec{Topic: topic, Key: key, Value: value, KeyCols: []int{0}, TimeCol: nv + 1}
	for c := 1; c <= nv; c++ {
		sink.ValueCols = append(sink.ValueCols, c)
	}
	sink.ValueCols = append(sink.ValueCols, nv+2)
	s.pre = &Stage{Input: s.spec, Ops: []any{ts, proj, exec.ChangeColumnSpec{Name: changeColName}}, Sink: sink, Topic: topic, Partitions: rightParts}
	s.spec = exec.SourceSpec{Topic: topic, Key: key, Value: value, TimestampCol: -1}
	// Read back: $FK, the columns, $CHANGE, ROWTIME, ROWPARTITION, ROWOFFSET.
	s.mapPseudoColumns(nv + 2)
	s.width = nv + 5
	s.keyCol = 0
	s.changeCol = nv + 1
	s.timeCol = nv + 2
}

// sideSchema is the Arrow layout of a side's batches.
func sideSchema(s *joinSrc) *arrow.Schema {
	if s.pre == nil {
		fields := make([]arrow.Field, len(s.scan.Cols))
		for i, c := range s.scan.Cols {
			fields[i] = arrow.Field{Name: c.Name, Type: c.Type, Nullable: true}
		}
		return arrow.NewSchema(fields, nil)
	}
	fields := []arrow.Field{{Name: "$JOINKEY", Type: s.spec.Key.Fields[0].Type, Nullable: true}}
	for _, f := range s.spec.Value.Fields {
		f.Nullable = true
		fields = append(fields, f)
	}
	fields = append(fields,
		arrow.Field{Name: colRowtime, Type: expr.TimestampType, Nullable: true},
		arrow.Field{Name: colRowpartition, Type: expr.IntType, Nullable: true},
		arrow.Field{Name: colRowoffset, Type: expr.BigintType, Nullable: true})
	return arrow.NewSchema(fields, nil)
}

// logical builds the logical plan shown by EXPLAIN.
func (jq *joinQuery) logical(out []OutCol, proj exec.ProjectSpec) Node {
	n := jq.joinNode()
	if jq.where != nil {
		n = &Filter{Input: n, Pred: jq.where}
	}
	cols := append([]OutCol(nil), out...)
	for i := len(out); i < len(proj.Exprs); i++ {
		cols = append(cols, OutCol{Name: proj.Names[i], Type: proj.Exprs[i].DataType(), Hidden: true})
	}
	return &Project{Input: n, Exprs: proj.Exprs, Cols: cols}
}

// joinNode is the logical plan of the FROM clause: the joins, nested on
// the left.
func (jq *joinQuery) joinNode() Node {
	var n Node = jq.srcs[0].scan
	for _, st := range jq.steps {
		j := &Join{Kind: st.kind, Left: n, Right: jq.srcs[st.right].scan, Within: st.within,
			On: &expr.Call{Name: "=", Args: []expr.Node{st.lexpr, st.rexpr}, Type: expr.BooleanType}}
		j.Cols = append(append([]OutCol(nil), Columns(n)...), jq.srcs[st.right].scan.Cols...)
		n = j
	}
	return n
}

// explainJoin renders a JoinSpec for EXPLAIN.
func explainJoin(op exec.JoinSpec) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Join %s %s %s key #%d/#%d time #%d/#%d", op.Name, op.Kind, op.Type,
		op.Left.KeyCol, op.Right.KeyCol, op.Left.TimeCol, op.Right.TimeCol)
	if len(op.Left.WindowCols) > 0 {
		fmt.Fprintf(&b, " window %v/%v", op.Left.WindowCols, op.Right.WindowCols)
	}
	if w := op.Window; w != nil {
		fmt.Fprintf(&b, " within (%dms, %dms) grace %dms", w.Before, w.After, w.Grace)
		if w.DeferOuter {
			b.WriteString(" deferred outer")
		}
	}
	return b.String()
}

// ---- entry points ----

// planCreateJoin plans CREATE STREAM|TABLE AS SELECT over a join.
func planCreateJoin(cat Catalog, st *sql.CreateSource, w withProps, queryID string, props Props) (*Plan, *Source, error) {
	jq, err := bindJoin(cat, st.Query, modePersistent, st.Name)
	if err != nil {
		return nil, nil, err
	}
	if jq.result == sql.KindTable && st.Kind == sql.KindStream {
		return nil, nil, sql.Errorf(sql.CodeSyntax, st.At,
			"Invalid result type. Your SELECT query produces a TABLE. Please use CREATE TABLE AS SELECT statement instead.")
	}
	if jq.result == sql.KindStream && st.Kind == sql.KindTable {
		return nil, nil, sql.Errorf(sql.CodeSyntax, st.At,
			"Invalid result type. Your SELECT query produces a STREAM. Please use CREATE STREAM AS SELECT statement instead.")
	}
	var out []OutCol
	for _, it := range jq.items {
		out = append(out, OutCol{Name: it.name, Type: it.node.DataType(), Role: it.role})
	}
	sink, err := createAsSink(st, w, jq.srcs[0].src, out, queryID, props)
	if err != nil {
		return nil, nil, err
	}
	if win := jq.srcs[0].src.Window; win != nil {
		// The result is keyed by the join key and the window, in the
		// first source's window type (ksqlDB takes the left's key format).
		w := *win
		sink.Window, jq.windowKey = &w, true
	}
	timeItem := -1
	if sink.TimestampColumn != "" {
		for i, it := range jq.items {
			if it.name == sink.TimestampColumn {
				timeItem = i
			}
		}
	}
	plan, err := jq.lowerJoin(queryID, timeItem)
	if err != nil {
		return nil, nil, err
	}
	if timeItem >= 0 && plan.Ops[len(plan.Ops)-1].(exec.ProjectSpec).Exprs[plan.OutputTimeCol].DataType().ID() == arrow.STRING {
		p := plan.Ops[len(plan.Ops)-1].(exec.ProjectSpec)
		fmtLit := &expr.Lit{Value: sink.TimestampFormat, Type: expr.StringType}
		t, err := call("STRINGTOTIMESTAMP", []expr.Node{p.Exprs[plan.OutputTimeCol], fmtLit}, sql.Pos{})
		if err != nil {
			return nil, nil, err
		}
		p.Exprs[plan.OutputTimeCol] = t
	}
	if err := addSink(plan, sink); err != nil {
		return nil, nil, err
	}
	if jq.windowKey {
		// The windowed key ends with the hidden window bounds before the
		// row time (lowerJoin).
		t := plan.OutputTimeCol
		plan.Sink.KeyCols = append(plan.Sink.KeyCols, t-2, t-1)
	}
	plan.Emit = sql.EmitChanges
	plan.Explain = Explain(plan)
	return plan, sink, nil
}

// planInsertJoin plans INSERT INTO target SELECT over a join.
func planInsertJoin(cat Catalog, st *sql.InsertInto, target *Source, queryID string) (*Plan, *Source, error) {
	jq, err := bindJoin(cat, st.Query, modePersistent, target.Name)
	if err != nil {
		return nil, nil, err
	}
	if jq.srcs[0].src.Window != nil {
		return nil, nil, sql.Errorf(sql.CodeFeatureNotSupported, st.TargetAt, "INSERT INTO a stream from a join of windowed sources is not supported yet").
			WithHint("create the join's result with CREATE STREAM ... AS SELECT")
	}
	var out []OutCol
	for _, it := range jq.items {
		out = append(out, OutCol{Name: it.name, Type: it.node.DataType(), Role: it.role})
	}
	if err := checkInsertResult(st, target, jq.result, out); err != nil {
		return nil, nil, err
	}
	plan, err := jq.lowerJoin(queryID, -1)
	if err != nil {
		return nil, nil, err
	}
	if err := addSink(plan, target); err != nil {
		return nil, nil, err
	}
	plan.Emit = sql.EmitChanges
	plan.Explain = Explain(plan)
	return plan, target, nil
}

// planQueryJoin plans a push query over a join.
func planQueryJoin(cat Catalog, q *sql.Select) (*Plan, error) {
	if q.Emit == sql.EmitNone {
		return nil, errPullUnsupported(q.At, "JOIN")
	}
	jq, err := bindJoin(cat, q, modeTransient, "")
	if err != nil {
		return nil, err
	}
	plan, err := jq.lowerJoin("transient", -1)
	if err != nil {
		return nil, err
	}
	if err := jq.inlineSides(plan); err != nil {
		return nil, err
	}
	plan.Limit = q.Limit
	plan.Emit = q.Emit
	plan.Explain = Explain(plan)
	return plan, nil
}

// inlineSides turns a join plan into the plan of a push query, which
// creates no topics and runs as one task over every partition of its
// inputs (Plan.SingleTask): a side that a Pre stage re-keys reads its
// source directly, through the stage's projection extended to the layout
// the repartition topic would give back, so the join keys on the same
// column. The plan's Pre stages must be the sides' (an aggregation folds
// its own stage first).
func (jq *joinQuery) inlineSides(plan *Plan) error {
	n := 0
	for i, s := range jq.srcs {
		if s.pre == nil {
			continue
		}
		n++
		if s.inline == nil {
			return sql.Errorf(sql.CodeFeatureNotSupported, jq.q.At, "a push query over a foreign-key join is not supported yet").
				WithHint("create the join with CREATE TABLE ... AS SELECT and query its result with EMIT CHANGES")
		}
		if i == 0 {
			plan.Input = s.pre.Input
			plan.Ops = append(append([]any(nil), s.inline...), plan.Ops...)
			continue
		}
		plan.Joins[i-1] = JoinInput{Input: s.pre.Input, Ops: s.inline}
	}
	if n != len(plan.Pre) {
		return sql.Errorf(sql.CodeInternal, jq.q.At, "join: %d stages for %d re-keyed sides", len(plan.Pre), n)
	}
	plan.Pre = nil
	plan.SingleTask = true
	return nil
}

// baseCol returns the column a bound column reference reads: the column
// itself, or the column under the EPOCH_MILLIS conversion of a time pseudo
// column. It returns nil for other expressions.
func baseCol(n expr.Node) *expr.Col {
	switch n := n.(type) {
	case *expr.Col:
		return n
	case *expr.Call:
		if len(n.Args) == 1 {
			if c, ok := n.Args[0].(*expr.Col); ok && isTimePseudo(n) {
				return c
			}
		}
	}
	return nil
}
