package server

import (
	"strings"

	"github.com/sluicedb/sluice"
	"github.com/sluicedb/sluice/server/pgcatalog"
)

// catalog returns the engine's catalog, or nil.
func (c *conn) catalog() Catalog {
	cat, _ := c.srv.eng.(Catalog)
	return cat
}

// columnTypes resolves parameter types from column types (see
// inferParamTypes).
func (c *conn) columnTypes() columnTypes {
	cat := c.catalog()
	if cat == nil {
		return nil
	}
	return func(rels []string, column string) (uint32, bool) {
		for _, r := range cat.Relations() {
			for _, name := range rels {
				if r.Name != name {
					continue
				}
				for _, col := range r.Columns {
					if col.Name == column {
						return pgTypeOf(col.Type).OID, true
					}
				}
			}
		}
		return 0, false
	}
}

// engineText is the text of a statement for the engine: quoted literals
// typed by their context (see typeQuotedLiterals).
func (c *conn) engineText(st *stmtInfo) string {
	return typeQuotedLiterals(st.text, st.toks, c.columnTypes())
}

// catalogRows evaluates a catalog query (see package pgcatalog).
func (c *conn) catalogRows(st *stmtInfo) (Rows, []pgType, error) {
	pc := &pgcatalog.Catalog{
		Database: c.database,
		User:     c.user,
		Version:  "PostgreSQL " + serverVersion + " on sluice, compiled by Go",
		PID:      int64(c.pid),
		Setting:  c.settings.get,
		Settings: c.settings.all,
	}
	if cat := c.catalog(); cat != nil {
		for _, r := range cat.Relations() {
			pr := pgcatalog.Relation{Name: pgName(r.Name), Table: r.Table, Topic: r.Topic, Definition: r.SQL}
			for _, col := range r.Columns {
				t := pgTypeOf(col.Type)
				pr.Columns = append(pr.Columns, pgcatalog.Column{Name: pgName(col.Name), TypeOID: t.OID, Typmod: t.Typmod, Key: col.Key})
			}
			pc.Relations = append(pc.Relations, pr)
		}
		for _, f := range cat.Functions() {
			pf := pgcatalog.Function{Name: f.Name, Category: f.Category, Description: f.Description}
			for _, s := range f.Signatures {
				if sig, ok := parseSignature(s); ok {
					pf.Signatures = append(pf.Signatures, sig)
				}
			}
			pc.Functions = append(pc.Functions, pf)
		}
	}
	res, err := pgcatalog.Eval(st.toks, pc)
	if err != nil {
		return nil, nil, err
	}
	cols := make([]sluice.Column, len(res.Columns))
	types := make([]pgType, len(res.Columns))
	for i, name := range res.Columns {
		cols[i] = sluice.Column{Name: name}
		types[i] = pgTypeByOID(res.Types[i])
	}
	rows := make([]sluice.Row, len(res.Rows))
	for i, r := range res.Rows {
		vals := make([]any, len(r))
		for j, v := range r {
			vals[j] = catalogValue(v, res.Types[j])
		}
		rows[i] = sluice.Row{Values: vals}
	}
	return newTableRows(cols, rows), types, nil
}

// pgName shows a sluice name as Postgres users expect it. sluice folds
// unquoted identifiers to upper case and Postgres to lower case, so a name
// in upper case is one the user wrote unquoted: the catalog shows it in
// lower case, and psql's \d orders (which looks for "orders") finds ORDERS.
// Names with lower-case letters were quoted and are shown as they are.
func pgName(name string) string {
	if name == strings.ToUpper(name) {
		return strings.ToLower(name)
	}
	return name
}

// catalogValue converts an evaluated value to what the row encoders take:
// text for arrays (Postgres' {a,b} form) and for values whose column type
// is text.
func catalogValue(v any, oid uint32) any {
	switch x := v.(type) {
	case nil, bool, string:
		if b, ok := x.(bool); ok && oid != pgcatalog.OIDBool {
			if b {
				return "t"
			}
			return "f"
		}
		return v
	case int64:
		switch oid {
		case pgcatalog.OIDInt2:
			return int16(x)
		case pgcatalog.OIDInt4:
			return int32(x)
		case pgcatalog.OIDOID, pgcatalog.OIDRegproc:
			return uint32(x)
		case pgcatalog.OIDInt8:
			return x
		case pgcatalog.OIDFloat4, pgcatalog.OIDFloat8, pgcatalog.OIDNumeric:
			return float64(x)
		}
		return pgcatalog.Text(v)
	case float64:
		if oid == pgcatalog.OIDFloat4 || oid == pgcatalog.OIDFloat8 {
			return x
		}
		return pgcatalog.Text(v)
	}
	return pgcatalog.Text(v)
}
