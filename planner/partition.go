package planner

import (
	"strconv"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/sluicedb/sluice/exec/expr"
	"github.com/sluicedb/sluice/sql"
)

// partitionBy is a bound PARTITION BY clause of a query over a stream.
//
// ksqlDB re-keys the stream by the PARTITION BY expressions before the
// projection: the new key columns are the expressions (named after the
// column they reference, the struct field they dereference, or KSQL_COL_n),
// the old key columns move into the value, and the projection must select
// every new key exactly once. sluice plans the same result without a
// separate stage: the select items that equal a PARTITION BY expression
// become the result's key columns, and the sink writes them as the record
// key, which is the repartition (the producer's partitioner places each
// record by its new key). A Pre stage would only be needed if an operator
// after the re-keying needed the new partitioning, and no such operator can
// follow PARTITION BY (it cannot be combined with GROUP BY or a join's
// pre-join re-keying in the same SELECT).
type partitionBy struct {
	// exprs are the expressions, bound over the scan; names are the key
	// column names they get (for SELECT * and messages).
	exprs []expr.Node
	src   []sql.Expr
	names []string
	// keyless: PARTITION BY NULL, a result without key columns.
	keyless bool
}

// bindPartitionBy binds q's PARTITION BY clause over the scan; nil when the
// query has none, or when it re-keys a table by its own primary key (which
// is no re-keying at all).
func bindPartitionBy(b *binder, q *sql.Select, scan *Scan) (*partitionBy, error) {
	if len(q.PartitionBy) == 0 {
		return nil, nil
	}
	src := scan.Source
	at := q.PartitionBy[0].Position()
	if src.Window != nil {
		return nil, sql.Errorf(sql.CodeFeatureNotSupported, at,
			"Implicit repartitioning of windowed sources is not supported. See https://github.com/confluentinc/ksql/issues/4385.")
	}
	b.sc.clause = "PARTITION BY"
	defer func() { b.sc.clause = "" }()
	p := &partitionBy{src: q.PartitionBy}
	for _, e := range q.PartitionBy {
		if isPredicate(e) {
			// ksqlDB's grammar takes value expressions here, so a
			// predicate is a parse error there.
			return nil, sql.Errorf(sql.CodeSyntax, e.Position(), "Syntax Error: PARTITION BY takes value expressions, not the condition %s", exprText(e)).
				WithHint("partition by a column or a value computed from columns")
		}
		n, err := b.bind(e)
		if err != nil {
			return nil, explainPartitionScope(err, q)
		}
		p.exprs = append(p.exprs, n)
	}
	for i, n := range p.exprs {
		if !isNullLit(n) {
			continue
		}
		if len(p.exprs) > 1 {
			return nil, sql.Errorf(sql.CodeInvalidParameter, q.PartitionBy[i].Position(),
				"Cannot PARTITION BY multiple columns including NULL").
				WithHint("PARTITION BY NULL alone makes a stream without a key")
		}
		p.keyless = true
	}
	if src.Kind == sql.KindTable {
		if !p.keyless && partitionsByOwnKey(p.exprs, scan) {
			return nil, nil
		}
		return nil, sql.Errorf(sql.CodeFeatureNotSupported, at, "Cannot repartition a TABLE source. %s is keyed by its PRIMARY KEY", src.Name).
			WithHint("re-key a table with GROUP BY, or PARTITION BY a stream of its changes")
	}
	if p.keyless {
		p.exprs, p.src = nil, nil
		return p, nil
	}
	used := map[string]bool{}
	for _, c := range scan.Cols {
		used[c.Name] = true
	}
	gen := 0
	for _, e := range q.PartitionBy {
		name := derivedName(e)
		for name == "" {
			n := "KSQL_COL_" + strconv.Itoa(gen)
			gen++
			if !used[n] {
				name = n
			}
		}
		p.names = append(p.names, name)
	}
	for i, n := range p.exprs {
		c := Column{Name: p.names[i], Type: SQLType(n.DataType())}
		if c.Type == nil {
			return nil, sql.Errorf(sql.CodeDatatypeMismatch, q.PartitionBy[i].Position(),
				"PARTITION BY expression %s has no type", exprText(q.PartitionBy[i])).
				WithHint("CAST it to the key type you want")
		}
		if err := checkNoMapInKey(c, q.PartitionBy[i].Position()); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// isPredicate reports whether e is a condition (comparison, AND/OR/NOT, IS
// NULL, IN, BETWEEN, LIKE, IS DISTINCT FROM) rather than a value expression
// in ksqlDB's grammar.
func isPredicate(e sql.Expr) bool {
	switch e := e.(type) {
	case *sql.Binary:
		_, cmp := cmpNames[e.Op]
		return cmp || e.Op == "AND" || e.Op == "OR"
	case *sql.Unary:
		return e.Op == "NOT"
	case *sql.IsNull, *sql.InList, *sql.Between, *sql.Like, *sql.DistinctFrom:
		return true
	}
	return false
}

// explainPartitionScope adds ksqlDB's explanation to an unresolved column
// in PARTITION BY that names a select item: PARTITION BY is evaluated on
// the input, before the projection gives its aliases.
func explainPartitionScope(err error, q *sql.Select) error {
	se, ok := err.(*sql.Error)
	if !ok || se.Code != sql.CodeUndefinedColumn {
		return err
	}
	for _, it := range q.Items {
		name := it.Alias
		if name == "" && !it.Star {
			name = derivedName(it.Expr)
		}
		if name != "" && se.Msg == "PARTITION BY column '"+name+"' cannot be resolved" {
			se.Msg += ". '" + name + "' must be a column in the source schema since PARTITION BY is applied on the input"
			se.Hint = "repeat the expression in PARTITION BY instead of its alias"
			break
		}
	}
	return se
}

// partitionsByOwnKey reports whether exprs are exactly the source's key
// columns, in order.
func partitionsByOwnKey(exprs []expr.Node, scan *Scan) bool {
	var keys []int
	for i, c := range scan.Cols {
		if c.Role == sql.ColKey || c.Role == sql.ColPrimaryKey {
			keys = append(keys, i)
		}
	}
	if len(keys) != len(exprs) {
		return false
	}
	for i, n := range exprs {
		c, ok := n.(*expr.Col)
		if !ok || c.Index != keys[i] {
			return false
		}
	}
	return true
}

// keyOf returns the index of the PARTITION BY expression that n computes,
// or -1. Expressions are compared as bound trees, so `ABS(ID)` in the
// select list matches `ABS(id)` in PARTITION BY, as ksqlDB matches them
// after resolving names.
func (p *partitionBy) keyOf(n expr.Node) int {
	for i, k := range p.exprs {
		if sameExpr(n, k) {
			return i
		}
	}
	return -1
}

func sameExpr(a, b expr.Node) bool {
	return a.String() == b.String() && arrow.TypeEqual(a.DataType(), b.DataType())
}

// starItems expands `*` over the re-keyed stream: the new key columns, then
// the source's value (and window and header) columns, then its old key
// columns, leaving out the columns whose names the new key took.
func (p *partitionBy) starItems(scan *Scan, at sql.Pos) []boundItem {
	var items []boundItem
	taken := map[string]bool{}
	for i, n := range p.exprs {
		items = append(items, boundItem{node: n, name: p.names[i], role: sql.ColKey, at: at, keyOf: i})
		taken[p.names[i]] = true
	}
	for pass := 0; pass < 2; pass++ {
		for i, c := range scan.Cols {
			isKey := c.Role == sql.ColKey || c.Role == sql.ColPrimaryKey
			isWindow := c.Name == colWindowstart || c.Name == colWindowend
			if taken[c.Name] || (pass == 0) == isKey || (c.Pseudo && !isWindow) {
				continue
			}
			n := expr.Node(&expr.Col{Index: i, Name: c.Name, Type: c.Type})
			if c.Pseudo {
				n = asEpochMillis(n)
			}
			items = append(items, boundItem{node: n, name: c.Name, role: sql.ColValue, at: at, keyOf: -1})
		}
	}
	return items
}

// requiredKey is a key column that a persistent projection must select
// exactly once: a source key column, or a PARTITION BY expression.
type requiredKey struct {
	id int // the boundItem.keyOf that selects it
	// name is the key column's name; text is how messages quote it.
	name, text string
}

// requiredKeys lists the keys the projection must select, and what they
// are called in messages.
func requiredKeys(scan *Scan, p *partitionBy) ([]requiredKey, string) {
	var keys []requiredKey
	if p == nil {
		for i, c := range scan.Cols {
			if c.Role == sql.ColKey || c.Role == sql.ColPrimaryKey {
				keys = append(keys, requiredKey{id: i, name: c.Name, text: c.Name})
			}
		}
		return keys, "key column"
	}
	qual := scan.Source.Name
	if scan.Alias != "" {
		qual = scan.Alias
	}
	for i, e := range p.src {
		text := exprText(e)
		if id, ok := e.(*sql.Ident); ok && id.Qualifier == "" {
			// ksqlDB quotes the expression as it resolved it: qualified.
			text = qual + "." + id.Name
		}
		keys = append(keys, requiredKey{id: i, name: p.names[i], text: text})
	}
	return keys, "partitioning expression"
}

// plural makes the noun of a "must include the ..." message plural.
func plural(what string, n int) string {
	if n == 1 {
		return what
	}
	return what + "s"
}

// keepNullKeys makes the sink of a query that keeps its source's key write
// a null key for a record whose key was null (all key columns NULL), as
// ksqlDB does; a query that re-keys with PARTITION BY serializes its
// computed key even when every column is NULL. Single-column keys need no
// flag: a NULL column is a null key in every format.
func keepNullKeys(plan *Plan, sp *selectPlan) {
	if sp.partition == nil && len(plan.Sink.KeyCols) > 1 {
		plan.Sink.NullKeyIfAllNull = true
	}
}
