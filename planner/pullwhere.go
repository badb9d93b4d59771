package planner

import (
	"strings"

	"github.com/sluicedb/sluice/sql"
)

// PropPullTableScan is ksqlDB's switch for pull queries that scan a table
// (a WHERE clause that does not pin every key column). sluice scans by
// default, as ksqlDB does; set to false, pull queries must look keys up.
const PropPullTableScan = "ksql.query.pull.table.scan.enabled"

// errPullUnsupported rejects a clause in a pull query. ksqlDB's message
// has two lines; the second says what to do.
func errPullUnsupported(at sql.Pos, clause string) error {
	return sql.Errorf(sql.CodeFeatureNotSupported, at,
		"Pull queries don't support %s clauses. See https://cnfl.io/queries for more info.\n"+
			"Add EMIT CHANGES if you intended to issue a push query.", clause)
}

// checkPullColumns rejects the pseudo columns ksqlDB's pull queries do not
// serve (ROWPARTITION, ROWOFFSET) in the select list and in WHERE.
func checkPullColumns(q *sql.Select) error {
	check := func(clause string, es ...sql.Expr) error {
		var bad []string
		var at sql.Pos
		for _, e := range es {
			walkSQL(e, func(x sql.Expr) {
				if id, ok := x.(*sql.Ident); ok && (id.Name == colRowpartition || id.Name == colRowoffset) &&
					!contains(bad, "`"+id.Name+"`") {
					if bad == nil {
						at = id.At
					}
					bad = append(bad, "`"+id.Name+"`")
				}
			})
		}
		if bad == nil {
			return nil
		}
		return sql.Errorf(sql.CodeFeatureNotSupported, at,
			"Pull queries don't support the following columns in %s clauses: %s", clause, strings.Join(bad, ", ")).
			WithHint("read them with a push query (EMIT CHANGES)")
	}
	var items []sql.Expr
	for _, it := range q.Items {
		if !it.Star {
			items = append(items, it.Expr)
		}
	}
	if err := check("SELECT", items...); err != nil {
		return err
	}
	return check("WHERE", q.Where)
}

// checkPullWhere applies ksqlDB's rules for the WHERE clause of a pull
// query over a table. Always: an IN list on a key column holds no NULL and
// no string for a non-string key. With table scans disabled, in addition,
// every disjunct must constrain every key column exactly once, with = (or
// a range bound, or IN) against an expression that reads no column.
func checkPullWhere(src *Source, where sql.Expr, props Props) error {
	if where == nil {
		return nil
	}
	keys := map[string]Column{}
	for _, c := range src.KeyColumns() {
		keys[c.Name] = c
	}
	keyOf := func(e sql.Expr) (Column, bool) {
		id, ok := e.(*sql.Ident)
		if !ok {
			return Column{}, false
		}
		c, ok := keys[id.Name]
		return c, ok
	}
	var err error
	walkSQL(where, func(e sql.Expr) {
		in, ok := e.(*sql.InList)
		if !ok || err != nil {
			return
		}
		key, ok := keyOf(in.X)
		if !ok {
			return
		}
		for _, x := range in.List {
			lit, ok := x.(*sql.Literal)
			switch {
			case !ok:
			case lit.Kind == sql.LitNull:
				err = sql.Errorf(sql.CodeInvalidParameter, lit.At, "Primary key columns can not be NULL: (%s = null)", key.Name)
			case lit.Kind == sql.LitString && key.Type.Kind != sql.TypeString:
				err = sql.Errorf(sql.CodeDatatypeMismatch, lit.At, "'%s' can not be converted to the type of the key column: %s %s KEY",
					lit.Text, key.Name, key.Type).WithHint("write the value as a %s literal", key.Type)
			}
			if err != nil {
				return
			}
		}
	})
	if err != nil {
		return err
	}
	if v, ok := props.get(PropPullTableScan); !ok || !strings.EqualFold(v, "false") {
		return nil
	}
	noScan := func(at sql.Pos, format string, args ...any) error {
		return sql.Errorf(sql.CodeFeatureNotSupported, at, format, args...).
			WithHint("pin every key column with =, or SET '%s'='true' to let pull queries scan", PropPullTableScan)
	}
	for _, d := range split(where, "OR") {
		pinned := map[string]int{}
		for _, c := range split(d, "AND") {
			var key Column
			var other []sql.Expr
			switch c := c.(type) {
			case *sql.Binary:
				switch c.Op {
				case "=", "<>", "!=", "<", "<=", ">", ">=":
				default:
					continue
				}
				if k, ok := keyOf(c.L); ok {
					key, other = k, []sql.Expr{c.R}
				} else if k, ok := keyOf(c.R); ok {
					key, other = k, []sql.Expr{c.L}
				} else {
					if mentions(c, keys) {
						return noScan(c.At, "A comparison must directly reference a key column.")
					}
					continue
				}
				if c.Op != "=" && c.Op != "<" && c.Op != "<=" && c.Op != ">" && c.Op != ">=" {
					return noScan(c.At, "Bound on key columns '[`%s` %s KEY]' must currently be '='. ", key.Name, key.Type)
				}
			case *sql.InList:
				k, ok := keyOf(c.X)
				if !ok || c.Not {
					continue
				}
				key, other = k, c.List
			case *sql.Like:
				return noScan(c.At, "Like condition must be between strings")
			default:
				continue
			}
			for _, o := range other {
				if readsColumn(o) {
					return noScan(o.Position(), "A comparison must be between a key column and a resolvable expression.")
				}
			}
			pinned[key.Name]++
			if pinned[key.Name] > 1 {
				return noScan(c.Position(),
					"A comparison condition on the key column cannot be combined with other comparisons such as an IN predicate")
			}
		}
		switch {
		case len(pinned) == 0 && len(keys) == 1:
			return noScan(d.Position(), "WHERE clause missing key column for disjunct: %s", exprText(d))
		case len(pinned) < len(keys):
			return noScan(d.Position(), "Multi-column sources must specify every key in the WHERE clause")
		}
	}
	return nil
}

// split returns the operands of a chain of binary op (AND or OR).
func split(e sql.Expr, op string) []sql.Expr {
	if b, ok := e.(*sql.Binary); ok && b.Op == op {
		return append(split(b.L, op), split(b.R, op)...)
	}
	return []sql.Expr{e}
}

// mentions reports whether e refers to one of the columns.
func mentions(e sql.Expr, cols map[string]Column) bool {
	found := false
	walkSQL(e, func(x sql.Expr) {
		if id, ok := x.(*sql.Ident); ok {
			_, is := cols[id.Name]
			found = found || is
		}
	})
	return found
}

// readsColumn reports whether e refers to any column.
func readsColumn(e sql.Expr) bool {
	found := false
	walkSQL(e, func(x sql.Expr) {
		_, is := x.(*sql.Ident)
		found = found || is
	})
	return found
}
