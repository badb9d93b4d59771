package planner

import (
	"sort"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/sluicedb/sluice/exec/codec"
	"github.com/sluicedb/sluice/exec/expr"
	"github.com/sluicedb/sluice/sql"
)

// ResolveType replaces named types (CREATE TYPE) in t by their definitions.
func ResolveType(cat Catalog, t *sql.Type) (*sql.Type, error) {
	return resolveType(cat, t, sql.Pos{})
}

// queryMode is what a SELECT is planned for: the rules for projections
// differ between transient and persistent queries.
type queryMode uint8

const (
	modeTransient queryMode = iota
	modePersistent
)

// selectPlan is a bound SELECT before optimization.
type selectPlan struct {
	root   Node
	scan   *Scan
	source *Source
	// out are the visible output columns of root, in order.
	out []OutCol
	// partition is the bound PARTITION BY clause, nil without one.
	partition *partitionBy
}

// PlanQuery plans a transient query: a push query (EMIT CHANGES) over a
// stream or a table (read as its changelog), or a pull query over a stream
// (Emit is EmitNone; the engine ends it at the end offsets it saw when the
// query started), or a pull query over a table (Emit is EmitNone and
// Input.Table is set; the engine feeds the pipeline from the table's
// materialized state instead of its topic).
func PlanQuery(cat Catalog, q *sql.Select, props Props) (*Plan, error) {
	if q.Emit == sql.EmitNone {
		if err := checkPullColumns(q); err != nil {
			return nil, err
		}
	}
	if isJoinQuery(q) && !isAggregation(q) {
		return planQueryJoin(cat, q)
	}
	if isAggregation(q) {
		return planQueryAggregate(cat, q, props)
	}
	if q.Emit == sql.EmitFinal {
		return nil, sql.Errorf(sql.CodeFeatureNotSupported, q.At, "EMIT FINAL is only valid on windowed aggregations, which are not supported yet").
			WithHint("use EMIT CHANGES")
	}
	sp, err := bindSelect(cat, q, modeTransient, "")
	if err != nil {
		return nil, err
	}
	if q.Emit == sql.EmitNone && sp.source.Kind == sql.KindTable {
		if err := checkPullWhere(sp.source, q.Where, props); err != nil {
			return nil, err
		}
	}
	if q.Limit != nil && *q.Limit < 0 {
		return nil, sql.Errorf(sql.CodeSyntax, q.At, "LIMIT must not be negative, got %d", *q.Limit)
	}
	root := addTimeColumn(sp, nil)
	plan, err := finish(root, sp)
	if err != nil {
		return nil, err
	}
	plan.Limit = q.Limit
	plan.Emit = q.Emit
	plan.Explain = Explain(plan)
	return plan, nil
}

// PlanPersistent plans CREATE STREAM AS SELECT and INSERT INTO ... SELECT.
// For CSAS it also returns the sink's catalog entry (the engine fills SQL
// and Query); for INSERT INTO it returns the existing target.
func PlanPersistent(cat Catalog, stmt sql.Stmt, queryID string, props Props) (*Plan, *Source, error) {
	switch st := stmt.(type) {
	case *sql.CreateSource:
		if st.Query == nil {
			return nil, nil, sql.Errorf(sql.CodeInternal, st.At, "CREATE %s without AS SELECT must be bound with BindCreateSource", st.Kind)
		}
		return planCreateAs(cat, st, queryID, props)
	case *sql.InsertInto:
		return planInsertInto(cat, st, queryID)
	}
	return nil, nil, sql.Errorf(sql.CodeInternal, stmt.Position(), "PlanPersistent: unexpected statement %T", stmt)
}

func planCreateAs(cat Catalog, st *sql.CreateSource, queryID string, props Props) (*Plan, *Source, error) {
	q := st.Query
	kind := "STREAM"
	if st.Kind == sql.KindTable {
		kind = "TABLE"
	}
	if q.Limit != nil {
		return nil, nil, sql.Errorf(sql.CodeSyntax, st.At, "CREATE %s AS SELECT statements don't support LIMIT clause", kind).
			WithHint("remove the LIMIT clause")
	}
	w, err := checkWith(st.With, createAsProps, st.At)
	if err != nil {
		return nil, nil, err
	}
	if isJoinQuery(q) && !isAggregation(q) {
		return planCreateJoin(cat, st, w, queryID, props)
	}
	if isAggregation(q) {
		return planCreateAggregate(cat, st, w, queryID, props)
	}
	if q.Emit == sql.EmitFinal {
		return nil, nil, sql.Errorf(sql.CodeFeatureNotSupported, st.At, "EMIT FINAL is only supported for windowed aggregations.").
			WithHint("remove EMIT FINAL")
	}
	sp, err := bindSelect(cat, q, modePersistent, st.Name)
	if err != nil {
		return nil, nil, err
	}
	in := sp.source
	if in.Kind == sql.KindTable && st.Kind == sql.KindStream {
		return nil, nil, sql.Errorf(sql.CodeSyntax, st.At,
			"Invalid result type. Your SELECT query produces a TABLE. Please use CREATE TABLE AS SELECT statement instead").
			WithHint("%s is a table", in.Name)
	}
	if in.Kind == sql.KindStream && st.Kind == sql.KindTable {
		return nil, nil, sql.Errorf(sql.CodeSyntax, st.At,
			"Invalid result type. Your SELECT query produces a STREAM. Please use CREATE STREAM AS SELECT statement instead.").
			WithHint("%s is a stream; a table needs GROUP BY", in.Name)
	}
	sink, err := createAsSink(st, w, in, sp.out, queryID, props)
	if err != nil {
		return nil, nil, err
	}
	timeExpr, err := sinkTimeExpr(sp, sink)
	if err != nil {
		return nil, nil, err
	}
	if in.Window != nil {
		win := *in.Window
		sink.Window = &win
		addWindowColumns(sp)
	}
	root := addHeadersColumn(sp, addTimeColumn(sp, timeExpr))
	plan, err := finish(root, sp)
	if err != nil {
		return nil, nil, err
	}
	if err := addSink(plan, sink); err != nil {
		return nil, nil, err
	}
	if in.Window != nil {
		// The windowed key ends with the source's window bounds, the
		// hidden columns before the row time.
		t := plan.OutputTimeCol
		plan.Sink.KeyCols = append(plan.Sink.KeyCols, t-2, t-1)
	}
	keepNullKeys(plan, sp)
	plan.Emit = sql.EmitChanges
	plan.Explain = Explain(plan)
	return plan, sink, nil
}

// createAsSink builds the catalog entry of a CSAS/CTAS sink with columns
// out (key columns first) read from in: topic, partitions, formats
// (inherited from in unless the WITH clause sets them) and TIMESTAMP.
func createAsSink(st *sql.CreateSource, w withProps, in *Source, out []OutCol, queryID string, props Props) (*Source, error) {
	sink := &Source{Name: st.Name, Kind: st.Kind, SQL: st.Text(), Query: queryID,
		Partitions: in.Partitions, Replicas: in.Replicas}
	for _, c := range out {
		role := c.Role
		if st.Kind == sql.KindTable && role == sql.ColKey {
			role = sql.ColPrimaryKey
		}
		sink.Columns = append(sink.Columns, Column{Name: c.Name, Type: SQLType(c.Type), Role: role})
	}
	for _, c := range sink.Columns {
		if c.Type == nil {
			return nil, sql.Errorf(sql.CodeDatatypeMismatch, st.Query.At, "column %s has no type: CAST the NULL it is computed from", c.Name)
		}
	}
	topic, at, ok := w.str(withKafkaTopic)
	if ok {
		if strings.TrimSpace(topic) == "" {
			return nil, sql.Errorf(sql.CodeInvalidParameter, at, "KAFKA_TOPIC must not be empty")
		}
		sink.Topic = topic
	} else {
		prefix, _ := props.get(PropOutputTopicPrefix)
		sink.Topic = prefix + st.Name
	}
	if err := bindTopicConfig(w, sink); err != nil {
		return nil, err
	}
	if !w.has(withPartitions) {
		if v, ok := props.get(PropSinkPartitions); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				sink.Partitions = int32(n)
			}
		}
	}
	kf, vf, kAt, vAt, err := w.formats()
	if err != nil {
		return nil, err
	}
	keyless := len(sink.KeyColumns()) == 0
	if keyless && st.Kind == sql.KindStream && w.has(withKeyFormat) {
		// A result without key columns (PARTITION BY NULL, or a key-less
		// source) has nothing to write with a key format.
		return nil, sql.Errorf(sql.CodeInvalidParameter, kAt, "Key format specified for stream without key columns").
			WithHint("remove KEY_FORMAT from the WITH clause")
	}
	if kf == "" {
		kf = in.KeyFormat.Name
		switch {
		case kf == codec.None && !keyless:
			kf = props.defaultKeyFormat()
		case keyless && len(in.KeyColumns()) > 0:
			// The query dropped the source's key (PARTITION BY NULL).
			kf = codec.None
		}
	}
	if vf == "" {
		vf = in.ValueFormat.Name
	}
	if err := bindFormats(w, sink, kf, vf, kAt, vAt, props, st.At); err != nil {
		return nil, err
	}
	// An inherited DELIMITED format keeps its delimiter unless one is given.
	if sink.KeyFormat.Name == in.KeyFormat.Name && !w.has(withKeyDelimiter) && in.KeyFormat.Delimiter != 0 {
		sink.KeyFormat.Delimiter = in.KeyFormat.Delimiter
	}
	if sink.ValueFormat.Name == in.ValueFormat.Name && !w.has(withValueDelimiter) && in.ValueFormat.Delimiter != 0 {
		sink.ValueFormat.Delimiter = in.ValueFormat.Delimiter
	}
	if err := bindTimestamp(w, sink); err != nil {
		return nil, err
	}
	return sink, nil
}

func planInsertInto(cat Catalog, st *sql.InsertInto, queryID string) (*Plan, *Source, error) {
	if _, err := checkWith(st.With, insertIntoProps, st.At); err != nil {
		return nil, nil, err
	}
	target, ok := cat.Source(st.Target)
	if !ok {
		return nil, nil, unknownSource(cat, st.Target, st.TargetAt)
	}
	if target.Kind == sql.KindTable {
		return nil, nil, sql.Errorf(sql.CodeFeatureNotSupported, st.TargetAt,
			"INSERT INTO can only be used to insert into a stream. %s is a table", target.Name)
	}
	if target.IsSource {
		return nil, nil, sql.Errorf(sql.CodeFeatureNotSupported, st.TargetAt, "Cannot insert into read-only stream: %s", target.Name)
	}
	for _, c := range target.Columns {
		if c.Role == sql.ColHeaders || c.Role == sql.ColHeader {
			return nil, nil, sql.Errorf(sql.CodeFeatureNotSupported, st.TargetAt,
				"Cannot insert into %s because it has header columns", target.Name)
		}
	}
	if target.Window != nil {
		return nil, nil, sql.Errorf(sql.CodeFeatureNotSupported, st.TargetAt, "INSERT INTO a windowed stream is not supported yet")
	}
	if st.Query.Limit != nil {
		return nil, nil, sql.Errorf(sql.CodeSyntax, st.At, "INSERT INTO statements don't support LIMIT clause")
	}
	if isJoinQuery(st.Query) {
		return planInsertJoin(cat, st, target, queryID)
	}
	sp, err := bindSelect(cat, st.Query, modePersistent, target.Name)
	if err != nil {
		return nil, nil, err
	}
	if err := checkInsertResult(st, target, sp.source.Kind, sp.out); err != nil {
		return nil, nil, err
	}
	root := addHeadersColumn(sp, addTimeColumn(sp, nil))
	plan, err := finish(root, sp)
	if err != nil {
		return nil, nil, err
	}
	if err := addSink(plan, target); err != nil {
		return nil, nil, err
	}
	keepNullKeys(plan, sp)
	plan.Emit = sql.EmitChanges
	plan.Explain = Explain(plan)
	return plan, target, nil
}

// checkInsertResult checks that a query whose result is a kind with
// columns out may write to the stream target.
func checkInsertResult(st *sql.InsertInto, target *Source, kind sql.SourceKind, out []OutCol) error {
	if kind == sql.KindTable {
		return sql.Errorf(sql.CodeDatatypeMismatch, st.At,
			"Incompatible data sink and query result. Data sink (%s) type is KSTREAM but select query result is KTABLE", target.Name)
	}
	var result []Column
	for _, c := range out {
		result = append(result, Column{Name: c.Name, Type: SQLType(c.Type), Role: c.Role})
	}
	want := append(target.KeyColumns(), target.ValueColumns()...)
	if !sameSchema(result, want) {
		return sql.Errorf(sql.CodeDatatypeMismatch, st.Query.At, "Incompatible schema between results and sink.\nResult schema is %s\nSink schema is %s",
			schemaString(result), schemaString(want)).
			WithHint("select the sink's columns, with their names and types, in the sink's order")
	}
	return nil
}

func sameSchema(a, b []Column) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		ka := a[i].Role == sql.ColKey || a[i].Role == sql.ColPrimaryKey
		kb := b[i].Role == sql.ColKey || b[i].Role == sql.ColPrimaryKey
		if a[i].Name != b[i].Name || !a[i].Type.Equal(b[i].Type) || ka != kb {
			return false
		}
	}
	return true
}

func schemaString(cs []Column) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = columnString(c)
	}
	return strings.Join(parts, ", ")
}

func unknownSource(cat Catalog, name string, at sql.Pos) error {
	err := sql.Errorf(sql.CodeUndefinedTable, at, "%s does not exist", name)
	if up := strings.ToUpper(name); up != name {
		if _, ok := cat.Source(up); ok {
			return err.WithHint("did you mean %s? Quoted names are case-sensitive", up)
		}
	}
	return err.WithHint("create it with CREATE STREAM or CREATE TABLE, or check the name with SHOW STREAMS and SHOW TABLES")
}

// bindSelect binds a SELECT over one source into Scan -> Filter -> Project.
// sinkName is the CSAS/INSERT target, for messages.
func bindSelect(cat Catalog, q *sql.Select, mode queryMode, sinkName string) (*selectPlan, error) {
	if err := rejectUnsupported(q); err != nil {
		return nil, err
	}
	ref := q.From.(*sql.SourceRef)
	src, ok := cat.Source(ref.Name)
	if !ok {
		return nil, unknownSource(cat, ref.Name, ref.At)
	}
	if mode == modePersistent && src.Window != nil {
		if src.Kind == sql.KindTable {
			return nil, sql.Errorf(sql.CodeFeatureNotSupported, ref.At, "KSQL does not support persistent queries on windowed tables")
		}
	}
	scan := NewScan(src, ref.Alias)
	quals := []string{src.Name}
	if ref.Alias != "" {
		quals = append(quals, ref.Alias)
	}
	sc := &scope{cols: scan.Cols, quals: quals}
	b := &binder{cat: cat, sc: sc}
	var root Node = scan
	if q.Where != nil {
		p, err := b.bindPredicate(q.Where, "WHERE")
		if err != nil {
			return nil, err
		}
		root = &Filter{Input: root, Pred: p}
	}
	pb, err := bindPartitionBy(b, q, scan)
	if err != nil {
		return nil, err
	}
	sc.clause = "SELECT"
	b.tfs = &tableFuncScope{base: len(scan.Cols)}
	items, err := bindItems(b, q, scan, mode, sinkName, pb)
	if err != nil {
		return nil, err
	}
	if len(b.tfs.funcs) > 0 {
		if src.Kind == sql.KindTable {
			return nil, sql.Errorf(sql.CodeFeatureNotSupported, ref.At, "Table source is not supported with table functions").
				WithHint("%s is a table; table functions apply to streams", src.Name)
		}
		root = &FlatMap{Input: root, Funcs: b.tfs.funcs, Cols: b.tfs.cols}
	}
	proj := &Project{Input: root}
	for _, it := range items {
		proj.Exprs = append(proj.Exprs, it.node)
		proj.Cols = append(proj.Cols, OutCol{Name: it.name, Type: it.node.DataType(), Role: it.role})
	}
	return &selectPlan{root: proj, scan: scan, source: src, out: proj.Cols, partition: pb}, nil
}

func rejectUnsupported(q *sql.Select) error {
	notYet := func(at sql.Pos, what string) error {
		return sql.Errorf(sql.CodeFeatureNotSupported, at, "%s is not supported yet", what).
			WithHint("this version of sluice runs stateless queries: projections and WHERE over one source")
	}
	if j, ok := q.From.(*sql.Join); ok {
		return notYet(j.At, "JOIN")
	}
	if _, ok := q.From.(*sql.SourceRef); !ok {
		return sql.Errorf(sql.CodeSyntax, q.At, "FROM must name a stream or table")
	}
	if q.Window != nil {
		return notYet(q.Window.At, "WINDOW")
	}
	if len(q.GroupBy) > 0 {
		return notYet(q.GroupBy[0].Position(), "GROUP BY")
	}
	if q.Having != nil {
		return notYet(q.Having.Position(), "HAVING")
	}
	return nil
}

type boundItem struct {
	node expr.Node
	name string
	role sql.ColumnConstraint
	at   sql.Pos
	// aliased: the name was written with AS.
	aliased bool
	// keyOf is the scan index of the source key column the item is a plain
	// reference to, or -1.
	keyOf int
}

// bindItems binds the select list: stars expanded, names given, key
// columns recognised, and ksqlDB's projection rules checked. With a
// PARTITION BY clause (pb), the key columns are the items that compute its
// expressions instead of the source's key columns.
func bindItems(b *binder, q *sql.Select, scan *Scan, mode queryMode, sinkName string, pb *partitionBy) ([]boundItem, error) {
	sel, err := expandStructStars(b, q.Items)
	if err != nil {
		return nil, err
	}
	var items []boundItem
	used := map[string]bool{}
	for _, c := range scan.Cols {
		used[c.Name] = true
	}
	gen := 0
	nextGenerated := func() string {
		for {
			n := "KSQL_COL_" + strconv.Itoa(gen)
			gen++
			if !used[n] {
				used[n] = true
				return n
			}
		}
	}
	for _, it := range sel {
		if it.Star {
			if it.Qualifier != "" && !b.qualifies(it.Qualifier) {
				return nil, sql.Errorf(sql.CodeUndefinedTable, it.At, "'%s' is not a valid stream/table name or alias", it.Qualifier)
			}
			if pb != nil {
				items = append(items, pb.starItems(scan, it.At)...)
				continue
			}
			// * is key columns, then WINDOWSTART/WINDOWEND of windowed
			// sources, then value and header columns; never the other
			// pseudo columns. The scan layout puts the window columns
			// after the values, so expand in three passes.
			for pass := 0; pass < 3; pass++ {
				for i, c := range scan.Cols {
					isKey := c.Role == sql.ColKey || c.Role == sql.ColPrimaryKey
					isWindow := c.Name == colWindowstart || c.Name == colWindowend
					switch {
					case pass == 0 && !isKey, pass == 1 && !isWindow, pass == 2 && (isKey || c.Pseudo):
						continue
					case pass == 1 && mode == modePersistent:
						// A persistent query's sink keeps the window in
						// its windowed key (addWindowColumns).
						continue
					}
					n := expr.Node(&expr.Col{Index: i, Name: c.Name, Type: c.Type})
					if c.Pseudo {
						n = asEpochMillis(n)
					}
					role := sql.ColValue
					keyOf := -1
					if isKey {
						role, keyOf = c.Role, i
					} else if isWindow && mode == modeTransient {
						// A windowed table's key includes its window.
						role = windowKeyRole(scan)
					}
					items = append(items, boundItem{node: n, name: c.Name, role: role, at: it.At, keyOf: keyOf})
				}
			}
			continue
		}
		n, err := b.bind(it.Expr)
		if err != nil {
			return nil, err
		}
		bi := boundItem{node: n, at: it.At, role: sql.ColValue, keyOf: -1}
		if pb != nil {
			if k := pb.keyOf(n); k >= 0 {
				bi.role, bi.keyOf = sql.ColKey, k
			}
		} else if c, ok := n.(*expr.Col); ok && c.Index < len(scan.Cols) {
			// (Higher indexes are table function results, never keys.)
			if r := scan.Cols[c.Index].Role; r == sql.ColKey || r == sql.ColPrimaryKey {
				bi.role, bi.keyOf = r, c.Index
			}
		}
		if id, ok := it.Expr.(*sql.Ident); ok && mode == modeTransient &&
			(id.Name == colWindowstart || id.Name == colWindowend) && it.Alias == "" {
			bi.role = windowKeyRole(scan)
		}
		switch {
		case it.Alias != "":
			if isReservedName(it.Alias) {
				return nil, sql.Errorf(sql.CodeDuplicateColumn, it.At,
					"`%s` is a reserved column name. You cannot use it as an alias for a column", it.Alias).
					WithHint("choose another alias")
			}
			bi.name, bi.aliased = it.Alias, true
		default:
			bi.name = derivedName(it.Expr)
			if bi.name == "" {
				bi.name = nextGenerated()
			} else if _, isDeref := it.Expr.(*sql.Deref); isDeref {
				base := bi.name
				for k := 1; nameTaken(items, bi.name); k++ {
					bi.name = base + "_" + strconv.Itoa(k)
				}
			}
		}
		if mode == modePersistent && !bi.aliased && isReservedName(bi.name) {
			return nil, sql.Errorf(sql.CodeDuplicateColumn, it.At,
				"Reserved column name in select: `%s`. Please remove or alias the column", bi.name).
				WithHint("e.g. %s AS %s_COPY", bi.name, bi.name)
		}
		items = append(items, bi)
	}
	seen := map[string]int{}
	for i, it := range items {
		if j, dup := seen[it.name]; dup {
			return nil, sql.Errorf(sql.CodeDuplicateColumn, it.at, "Duplicate column name '%s' in the projection", it.name).
				WithHint("alias one of them with AS (the first is item %d)", j+1)
		}
		seen[it.name] = i
	}
	if mode == modeTransient {
		return items, nil
	}
	keys, what := requiredKeys(scan, pb)
	return orderPersistent(items, keys, what, sinkName)
}

func nameTaken(items []boundItem, name string) bool {
	for _, it := range items {
		if it.name == name {
			return true
		}
	}
	return false
}

// derivedName is ksqlDB's name for an unaliased select item: a column keeps
// its name, a struct dereference takes the field's name, anything else gets
// a generated name ("").
func derivedName(e sql.Expr) string {
	switch e := e.(type) {
	case *sql.Ident:
		return e.Name
	case *sql.Deref:
		return e.Field
	}
	return ""
}

// orderPersistent applies the key rules of a persistent projection: every
// required key (a source key column, or a PARTITION BY expression; what
// names them in messages) is selected exactly once, key columns go first
// (in the order of keys), and there is at least one value column.
func orderPersistent(items []boundItem, keys []requiredKey, what, sinkName string) ([]boundItem, error) {
	var selected, values []boundItem
	var missing []string
	for _, k := range keys {
		var names []string
		var first *boundItem
		for i := range items {
			if items[i].keyOf == k.id {
				names = append(names, items[i].name)
				if first == nil {
					first = &items[i]
				}
			}
		}
		if len(names) > 1 {
			sort.Strings(names)
			return nil, sql.Errorf(sql.CodeDuplicateColumn, first.at,
				"The projection contains a key column (`%s`) more than once, aliased as: %s",
				k.name, joinAnd(names)).
				WithHint("keep one; to also copy the key into the value use AS_VALUE(%s) AS <name>", k.text)
		}
		if first == nil {
			missing = append(missing, k.text)
			continue
		}
		selected = append(selected, *first)
	}
	if len(missing) > 0 {
		all := make([]string, len(keys))
		for i, k := range keys {
			all[i] = k.text
		}
		at := sql.Pos{}
		if len(items) > 0 {
			at = items[0].at
		}
		return nil, sql.Errorf(sql.CodeInvalidParameter, at,
			"The query used to build `%s` must include the %s %s in its projection (eg, SELECT %s...)",
			sinkName, plural(what, len(keys)), joinAnd(all), strings.Join(all, ", ")).
			WithHint("Key missing from projection: add %s to the SELECT list", strings.Join(missing, ", "))
	}
	for _, it := range items {
		if it.keyOf < 0 {
			values = append(values, it)
		}
	}
	if len(values) == 0 {
		return nil, sql.Errorf(sql.CodeInvalidParameter, items[0].at, "The projection contains no value columns").
			WithHint("select at least one value column; AS_VALUE(<key>) copies a key column into the value")
	}
	for _, v := range values {
		for _, k := range selected {
			if v.name == k.name {
				return nil, sql.Errorf(sql.CodeDuplicateColumn, v.at, "Value columns clash with key columns: %s", v.name)
			}
		}
	}
	return append(selected, values...), nil
}

func joinAnd(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// addWindowColumns appends the hidden window bounds of a windowed stream
// to the select's projection: a persistent query over a windowed stream
// writes each record with its window, as Kafka Streams does.
func addWindowColumns(sp *selectPlan) {
	proj := sp.root.(*Project)
	for i, c := range sp.scan.Cols {
		if c.Pseudo && (c.Name == colWindowstart || c.Name == colWindowend) {
			proj.Exprs = append(proj.Exprs, &expr.Col{Index: i, Name: c.Name, Type: c.Type})
			proj.Cols = append(proj.Cols, OutCol{Name: "$" + c.Name, Type: c.Type, Hidden: true})
		}
	}
}

// addTimeColumn appends the hidden row-time column to the select's
// projection: timeExpr when given (a sink's TIMESTAMP column), else ROWTIME.
func addTimeColumn(sp *selectPlan, timeExpr expr.Node) Node {
	proj := sp.root.(*Project)
	if timeExpr == nil {
		for i, c := range sp.scan.Cols {
			if c.Name == colRowtime && c.Pseudo {
				timeExpr = &expr.Col{Index: i, Name: c.Name, Type: c.Type}
			}
		}
	}
	p := &Project{Input: proj.Input, Exprs: append(append([]expr.Node(nil), proj.Exprs...), timeExpr),
		Cols: append(append([]OutCol(nil), proj.Cols...), OutCol{Name: hiddenTimeName, Type: timeExpr.DataType(), Hidden: true})}
	return p
}

// sinkTimeExpr computes a CSAS sink's record timestamp from its TIMESTAMP
// column, expressed over the projection's input.
func sinkTimeExpr(sp *selectPlan, sink *Source) (expr.Node, error) {
	if sink.TimestampColumn == "" {
		return nil, nil
	}
	proj := sp.root.(*Project)
	for i, c := range proj.Cols {
		if c.Name != sink.TimestampColumn {
			continue
		}
		e := proj.Exprs[i]
		switch e.DataType().ID() {
		case arrow.INT64, arrow.TIMESTAMP:
			return e, nil
		case arrow.STRING:
			fmtLit := &expr.Lit{Value: sink.TimestampFormat, Type: expr.StringType}
			return call("STRINGTOTIMESTAMP", []expr.Node{e, fmtLit}, sql.Pos{})
		}
	}
	return nil, sql.Errorf(sql.CodeInternal, sql.Pos{}, "timestamp column %s not in the projection", sink.TimestampColumn)
}

// hiddenTimeName names the hidden row-time column in operator schemas. It
// cannot clash with a SQL column name: identifiers never contain '$'
// unquoted, and sluice rejects no quoted names, but the column is found by
// index (Plan.OutputTimeCol), never by name.
const hiddenTimeName = "$ROWTIME"

// windowKeyRole is the role of WINDOWSTART/WINDOWEND in a transient query's
// result: part of the key when the source is a windowed table (its rows are
// keyed by key and window), a value otherwise.
func windowKeyRole(scan *Scan) sql.ColumnConstraint {
	for _, c := range scan.Cols {
		if c.Role == sql.ColPrimaryKey {
			return sql.ColPrimaryKey
		}
	}
	return sql.ColValue
}

// expandStructStars replaces each `x->*` of a select list by one item per
// field of the STRUCT x, `x->F AS F`, in the struct's field order, as ksqlDB
// does. Other items are kept as they are.
func expandStructStars(b *binder, items []sql.SelectItem) ([]sql.SelectItem, error) {
	var out []sql.SelectItem
	for _, it := range items {
		if !it.Star || it.Expr == nil {
			out = append(out, it)
			continue
		}
		x, err := b.bind(it.Expr)
		if err != nil {
			return nil, err
		}
		st, ok := x.DataType().(*arrow.StructType)
		if !ok {
			return nil, sql.Errorf(sql.CodeDatatypeMismatch, it.At, "%s->* needs a STRUCT, but %s is %s",
				exprText(it.Expr), exprText(it.Expr), expr.TypeName(x.DataType())).
				WithHint("->* selects every field of a STRUCT column")
		}
		for _, f := range st.Fields() {
			out = append(out, sql.SelectItem{
				Expr:  &sql.Deref{ExprBase: sql.ExprBase{At: it.At}, X: it.Expr, Field: f.Name},
				Alias: f.Name,
				At:    it.At,
			})
		}
	}
	return out, nil
}
