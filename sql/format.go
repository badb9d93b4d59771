package sql

import (
	"strconv"
	"strings"
)

// Format renders a statement in canonical ksqlDB style on one line: keywords
// upper case, names back-quoted when they need it, every binary operation
// parenthesized. Parse(Format(s)) yields s again (up to positions), which
// makes the output usable for golden tests, EXPLAIN and the command topic.
func Format(s Stmt) string {
	var b strings.Builder
	formatStmt(&b, s)
	return b.String()
}

// FormatExpr renders an expression the way Format does.
func FormatExpr(e Expr) string {
	var b strings.Builder
	formatExpr(&b, e)
	return b.String()
}

// FormatType renders a type for DDL: like Type.String, but custom type
// names print as their names.
func FormatType(t *Type) string {
	var b strings.Builder
	formatType(&b, t)
	return b.String()
}

// reserved are words that must be quoted to be read as names: ksqlDB's
// reserved words plus the non-reserved ones this front end treats as
// clause keywords.
var reserved = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`SELECT FROM AS ALL DISTINCT WHERE WITHIN WINDOW GROUP BY HAVING
		LIMIT AT OR AND IN NOT EXISTS BETWEEN LIKE IS NULL TRUE FALSE TUMBLING HOPPING SESSION
		SIZE ADVANCE RETENTION CASE WHEN THEN ELSE END JOIN FULL OUTER INNER LEFT RIGHT ON WITH
		VALUES CREATE TABLE TOPIC STREAM STREAMS INSERT DELETE INTO DESCRIBE EXTENDED PRINT CAST
		LIST TOPICS QUERY QUERIES TERMINATE PAUSE RESUME LOAD DROP TO RENAME UNSET RUN SCRIPT
		DECIMAL CONNECTOR CONNECTORS NAMESPACE MATERIALIZED VIEW PROPERTIES BEGINNING SAMPLE
		EXPORT CATALOG EMIT PARTITION ESCAPE CROSS ORDER ARRAY MAP STRUCT KEY PRIMARY HEADER
		HEADERS GRACE PERIOD INTERVAL DAY DAYS HOUR HOURS MINUTE MINUTES SECOND SECONDS
		MILLISECOND MILLISECONDS YEARS MONTHS`) {
		reserved[w] = true
	}
}

// quoteIdent renders a folded name so that it reads back as itself.
func quoteIdent(name string) string {
	plain := name != "" && !reserved[name] && isIdentStart(name[0]) && name[0] < 'a'
	for i := 0; plain && i < len(name); i++ {
		c := name[i]
		plain = c >= 'A' && c <= 'Z' || isDigit(c) || c == '_' || c == '@'
	}
	if plain {
		return name
	}
	return quoteBacktick(name)
}

func formatType(b *strings.Builder, t *Type) {
	if t == nil {
		b.WriteString("NULL")
		return
	}
	switch {
	case t.Kind == TypeUnknown && t.Name != "":
		b.WriteString(quoteIdent(t.Name))
	case t.Kind == TypeArray:
		b.WriteString("ARRAY<")
		formatType(b, t.Elem)
		b.WriteString(">")
	case t.Kind == TypeMap:
		b.WriteString("MAP<")
		formatType(b, t.Key)
		b.WriteString(", ")
		formatType(b, t.Value)
		b.WriteString(">")
	case t.Kind == TypeStruct:
		b.WriteString("STRUCT<")
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quoteIdent(f.Name) + " ")
			formatType(b, f.Type)
		}
		b.WriteString(">")
	default:
		b.WriteString(t.String())
	}
}

func formatDuration(d Duration) string {
	if d.Millis == 0 {
		return "0 SECONDS"
	}
	units := []struct {
		ms   int64
		name string
	}{{86_400_000, "DAY"}, {3_600_000, "HOUR"}, {60_000, "MINUTE"}, {1000, "SECOND"}, {1, "MILLISECOND"}}
	for _, u := range units {
		if d.Millis != 0 && d.Millis%u.ms == 0 || u.ms == 1 {
			n := d.Millis / u.ms
			s := strconv.FormatInt(n, 10) + " " + u.name
			if n != 1 {
				s += "S"
			}
			return s
		}
	}
	return ""
}

func formatLiteral(l *Literal) string {
	switch l.Kind {
	case LitNull:
		return "NULL"
	case LitString:
		return quoteString(l.Text)
	case LitBytes:
		return "X" + quoteString(l.Text)
	}
	return l.Text
}

func formatProps(b *strings.Builder, ps Properties) {
	b.WriteString("WITH (")
	for i, p := range ps {
		if i > 0 {
			b.WriteString(", ")
		}
		if quoteIdent(p.Key) == p.Key {
			b.WriteString(p.Key)
		} else {
			b.WriteString(quoteString(p.Key))
		}
		b.WriteString("=" + formatLiteral(p.Value))
	}
	b.WriteString(")")
}

func formatStmt(b *strings.Builder, s Stmt) {
	switch s := s.(type) {
	case *CreateSource:
		b.WriteString("CREATE ")
		if s.OrReplace {
			b.WriteString("OR REPLACE ")
		}
		if s.Source {
			b.WriteString("SOURCE ")
		}
		b.WriteString(s.Kind.String() + " ")
		if s.IfNotExists {
			b.WriteString("IF NOT EXISTS ")
		}
		b.WriteString(quoteIdent(s.Name))
		if s.Columns != nil {
			b.WriteString(" (")
			for i, c := range s.Columns {
				if i > 0 {
					b.WriteString(", ")
				}
				formatColumn(b, c)
			}
			b.WriteString(")")
		}
		if len(s.With) > 0 {
			b.WriteString(" ")
			formatProps(b, s.With)
		}
		if s.Query != nil {
			b.WriteString(" AS ")
			formatSelect(b, s.Query)
		}
	case *InsertInto:
		b.WriteString("INSERT INTO " + quoteIdent(s.Target) + " ")
		if len(s.With) > 0 {
			formatProps(b, s.With)
			b.WriteString(" ")
		}
		formatSelect(b, s.Query)
	case *InsertValues:
		b.WriteString("INSERT INTO " + quoteIdent(s.Target) + " ")
		if len(s.Columns) > 0 {
			b.WriteString("(")
			for i, c := range s.Columns {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(quoteIdent(c.Name))
			}
			b.WriteString(") ")
		}
		b.WriteString("VALUES (")
		formatList(b, s.Values)
		b.WriteString(")")
	case *Query:
		formatSelect(b, s.Select)
	case *Show:
		b.WriteString("SHOW " + showName(s.What))
		if s.Extended {
			b.WriteString(" EXTENDED")
		}
	case *Describe:
		b.WriteString("DESCRIBE ")
		switch {
		case s.Function:
			b.WriteString("FUNCTION " + quoteIdent(s.Name))
		case s.All != 0:
			b.WriteString(showName(s.All))
		default:
			b.WriteString(quoteIdent(s.Name))
		}
		if s.Extended {
			b.WriteString(" EXTENDED")
		}
	case *Explain:
		b.WriteString("EXPLAIN ")
		if s.Stmt != nil {
			formatStmt(b, s.Stmt)
		} else {
			b.WriteString(quoteIdent(s.QueryID))
		}
	case *Drop:
		b.WriteString("DROP ")
		if s.Type {
			b.WriteString("TYPE ")
		} else {
			b.WriteString(s.Kind.String() + " ")
		}
		if s.IfExists {
			b.WriteString("IF EXISTS ")
		}
		b.WriteString(quoteIdent(s.Name))
		if s.DeleteTopic {
			b.WriteString(" DELETE TOPIC")
		}
	case *Terminate:
		if s.All {
			b.WriteString("TERMINATE ALL")
		} else {
			b.WriteString("TERMINATE " + quoteIdent(s.QueryID))
		}
	case *SetProperty:
		b.WriteString("SET " + quoteString(s.Name) + "=" + quoteString(s.Value))
	case *UnsetProperty:
		b.WriteString("UNSET " + quoteString(s.Name))
	case *DefineVariable:
		b.WriteString("DEFINE " + s.Name + " = " + quoteString(s.Value))
	case *UndefineVariable:
		b.WriteString("UNDEFINE " + s.Name)
	case *CreateType:
		b.WriteString("CREATE TYPE ")
		if s.IfNotExists {
			b.WriteString("IF NOT EXISTS ")
		}
		b.WriteString(quoteIdent(s.Name) + " AS ")
		formatType(b, s.Type)
	}
}

func showName(w ShowWhat) string {
	return map[ShowWhat]string{
		ShowStreams: "STREAMS", ShowTables: "TABLES", ShowQueries: "QUERIES", ShowTopics: "TOPICS",
		ShowProperties: "PROPERTIES", ShowFunctions: "FUNCTIONS", ShowTypes: "TYPES", ShowVariables: "VARIABLES",
	}[w]
}

func formatColumn(b *strings.Builder, c ColumnDef) {
	b.WriteString(quoteIdent(c.Name) + " ")
	formatType(b, c.Type)
	switch c.Constraint {
	case ColKey:
		b.WriteString(" KEY")
	case ColPrimaryKey:
		b.WriteString(" PRIMARY KEY")
	case ColHeaders:
		b.WriteString(" HEADERS")
	case ColHeader:
		b.WriteString(" HEADER(" + quoteString(c.HeaderKey) + ")")
	}
}

func formatList(b *strings.Builder, es []Expr) {
	for i, e := range es {
		if i > 0 {
			b.WriteString(", ")
		}
		formatExpr(b, e)
	}
}

func formatSelect(b *strings.Builder, s *Select) {
	b.WriteString("SELECT ")
	for i, it := range s.Items {
		if i > 0 {
			b.WriteString(", ")
		}
		switch {
		case it.Star && it.Expr != nil:
			formatExpr(b, it.Expr)
			b.WriteString("->*")
		case it.Star && it.Qualifier != "":
			b.WriteString(quoteIdent(it.Qualifier) + ".*")
		case it.Star:
			b.WriteString("*")
		default:
			formatExpr(b, it.Expr)
			if it.Alias != "" {
				b.WriteString(" AS " + quoteIdent(it.Alias))
			}
		}
	}
	b.WriteString(" FROM ")
	formatRelation(b, s.From)
	if w := s.Window; w != nil {
		b.WriteString(" WINDOW ")
		switch w.Kind {
		case WindowTumbling:
			b.WriteString("TUMBLING (SIZE " + formatDuration(w.Size))
		case WindowHopping:
			b.WriteString("HOPPING (SIZE " + formatDuration(w.Size) + ", ADVANCE BY " + formatDuration(w.Advance))
		case WindowSession:
			b.WriteString("SESSION (" + formatDuration(w.Size))
		}
		if w.Retention != nil {
			b.WriteString(", RETENTION " + formatDuration(*w.Retention))
		}
		if w.Grace != nil {
			b.WriteString(", GRACE PERIOD " + formatDuration(*w.Grace))
		}
		b.WriteString(")")
	}
	if s.Where != nil {
		b.WriteString(" WHERE ")
		formatExpr(b, s.Where)
	}
	if len(s.GroupBy) > 0 {
		b.WriteString(" GROUP BY ")
		formatList(b, s.GroupBy)
	}
	if len(s.PartitionBy) > 0 {
		b.WriteString(" PARTITION BY ")
		formatList(b, s.PartitionBy)
	}
	if s.Having != nil {
		b.WriteString(" HAVING ")
		formatExpr(b, s.Having)
	}
	switch s.Emit {
	case EmitChanges:
		b.WriteString(" EMIT CHANGES")
	case EmitFinal:
		b.WriteString(" EMIT FINAL")
	}
	if s.Limit != nil {
		b.WriteString(" LIMIT " + strconv.FormatInt(*s.Limit, 10))
	}
}

func formatRelation(b *strings.Builder, r Relation) {
	switch r := r.(type) {
	case *SourceRef:
		b.WriteString(quoteIdent(r.Name))
		if r.Alias != "" {
			b.WriteString(" " + quoteIdent(r.Alias))
		}
	case *Join:
		formatRelation(b, r.Left)
		b.WriteString(map[JoinKind]string{JoinInner: " INNER JOIN ", JoinLeft: " LEFT OUTER JOIN ",
			JoinRight: " RIGHT OUTER JOIN ", JoinFull: " FULL OUTER JOIN "}[r.Kind])
		formatRelation(b, r.Right)
		if w := r.Within; w != nil {
			if w.Before.Millis == w.After.Millis {
				b.WriteString(" WITHIN " + formatDuration(w.Before))
			} else {
				b.WriteString(" WITHIN (" + formatDuration(w.Before) + ", " + formatDuration(w.After) + ")")
			}
			if w.Grace != nil {
				b.WriteString(" GRACE PERIOD " + formatDuration(*w.Grace))
			}
		}
		b.WriteString(" ON ")
		formatExpr(b, r.On)
	}
}

func formatExpr(b *strings.Builder, e Expr) {
	switch e := e.(type) {
	case nil:
		b.WriteString("NULL")
	case *Ident:
		if e.Qualifier != "" {
			b.WriteString(quoteIdent(e.Qualifier) + ".")
		}
		b.WriteString(quoteIdent(e.Name))
	case *Literal:
		b.WriteString(formatLiteral(e))
	case *Binary:
		b.WriteString("(")
		formatExpr(b, e.L)
		b.WriteString(" " + e.Op + " ")
		formatExpr(b, e.R)
		b.WriteString(")")
	case *Unary:
		if e.Op == "NOT" {
			b.WriteString("(NOT ")
			formatExpr(b, e.X)
			b.WriteString(")")
			return
		}
		b.WriteString(e.Op)
		simple := false
		switch x := e.X.(type) {
		case *Ident, *Call, *Binary, *Subscript, *Deref:
			simple = true
		case *Literal:
			simple = !strings.HasPrefix(x.Text, "-") && !strings.HasPrefix(x.Text, "+")
		}
		if simple {
			formatExpr(b, e.X)
		} else {
			b.WriteString("(")
			formatExpr(b, e.X)
			b.WriteString(")")
		}
	case *IsNull:
		b.WriteString("(")
		formatExpr(b, e.X)
		if e.Not {
			b.WriteString(" IS NOT NULL)")
		} else {
			b.WriteString(" IS NULL)")
		}
	case *DistinctFrom:
		b.WriteString("(")
		formatExpr(b, e.L)
		if e.Not {
			b.WriteString(" IS NOT DISTINCT FROM ")
		} else {
			b.WriteString(" IS DISTINCT FROM ")
		}
		formatExpr(b, e.R)
		b.WriteString(")")
	case *InList:
		b.WriteString("(")
		formatExpr(b, e.X)
		if e.Not {
			b.WriteString(" NOT")
		}
		b.WriteString(" IN (")
		formatList(b, e.List)
		b.WriteString("))")
	case *Between:
		b.WriteString("(")
		formatExpr(b, e.X)
		if e.Not {
			b.WriteString(" NOT")
		}
		b.WriteString(" BETWEEN ")
		formatExpr(b, e.Lo)
		b.WriteString(" AND ")
		formatExpr(b, e.Hi)
		b.WriteString(")")
	case *Like:
		b.WriteString("(")
		formatExpr(b, e.X)
		if e.Not {
			b.WriteString(" NOT")
		}
		b.WriteString(" LIKE ")
		formatExpr(b, e.Pattern)
		if e.Escape != "" {
			b.WriteString(" ESCAPE " + quoteString(e.Escape))
		}
		b.WriteString(")")
	case *Case:
		b.WriteString("(CASE")
		if e.Operand != nil {
			b.WriteString(" ")
			formatExpr(b, e.Operand)
		}
		for _, w := range e.Whens {
			b.WriteString(" WHEN ")
			formatExpr(b, w.Cond)
			b.WriteString(" THEN ")
			formatExpr(b, w.Result)
		}
		if e.Else != nil {
			b.WriteString(" ELSE ")
			formatExpr(b, e.Else)
		}
		b.WriteString(" END)")
	case *Cast:
		b.WriteString("CAST(")
		formatExpr(b, e.X)
		b.WriteString(" AS ")
		formatType(b, e.Type)
		b.WriteString(")")
	case *Call:
		b.WriteString(quoteIdent(e.Name) + "(")
		if e.Star {
			b.WriteString("*")
		}
		formatList(b, e.Args)
		b.WriteString(")")
	case *Subscript:
		formatPostfixBase(b, e.X)
		b.WriteString("[")
		formatExpr(b, e.Index)
		b.WriteString("]")
	case *Deref:
		formatPostfixBase(b, e.X)
		b.WriteString("->" + quoteIdent(e.Field))
	case *ArrayCtor:
		b.WriteString("ARRAY[")
		formatList(b, e.Elems)
		b.WriteString("]")
	case *MapCtor:
		b.WriteString("MAP(")
		for i := range e.Keys {
			if i > 0 {
				b.WriteString(", ")
			}
			formatExpr(b, e.Keys[i])
			b.WriteString(" := ")
			formatExpr(b, e.Values[i])
		}
		b.WriteString(")")
	case *StructCtor:
		b.WriteString("STRUCT(")
		for i := range e.Names {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quoteIdent(e.Names[i]) + " := ")
			formatExpr(b, e.Values[i])
		}
		b.WriteString(")")
	case *Lambda:
		if len(e.Params) == 1 {
			b.WriteString(quoteIdent(e.Params[0]))
		} else {
			b.WriteString("(")
			for i, p := range e.Params {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(quoteIdent(p))
			}
			b.WriteString(")")
		}
		b.WriteString(" => ")
		formatExpr(b, e.Body)
	case *IntervalUnit:
		b.WriteString(e.Unit)
	case *Param:
		b.WriteString("$" + strconv.Itoa(e.N))
	default:
		b.WriteString("?")
	}
}

// formatPostfixBase renders the operand of [] or ->, parenthesizing
// anything that is not itself a primary.
func formatPostfixBase(b *strings.Builder, x Expr) {
	switch x := x.(type) {
	case *Ident, *Call, *Subscript, *Deref, *ArrayCtor, *MapCtor, *StructCtor, *Cast, *Param:
		formatExpr(b, x)
	case *Literal:
		if strings.HasPrefix(x.Text, "-") {
			b.WriteString("(")
			formatExpr(b, x)
			b.WriteString(")")
		} else {
			formatExpr(b, x)
		}
	default:
		b.WriteString("(")
		formatExpr(b, x)
		b.WriteString(")")
	}
}
