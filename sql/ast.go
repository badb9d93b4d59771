package sql

// This file is the statement and expression AST: the contract between the
// front end (which builds it) and the planner (which binds it). Every
// identifier in the AST is already folded the ksqlDB way: unquoted names are
// upper-cased, quoted (`x` or "x") names keep their case. Every node records
// the position of its first token in the user's text.

// Stmt is a parsed statement.
type Stmt interface {
	// Text is the statement's source text, without the trailing semicolon.
	Text() string
	// Position is where the statement starts in the script it came from.
	Position() Pos
	stmt()
}

// StmtBase carries what every statement has. The front end fills it.
type StmtBase struct {
	Src string
	At  Pos
}

func (b *StmtBase) Text() string  { return b.Src }
func (b *StmtBase) Position() Pos { return b.At }
func (*StmtBase) stmt()           {}

// SourceKind distinguishes streams from tables.
type SourceKind uint8

const (
	KindStream SourceKind = iota + 1
	KindTable
)

func (k SourceKind) String() string {
	if k == KindTable {
		return "TABLE"
	}
	return "STREAM"
}

// ColumnConstraint says which part of a Kafka record a declared column lives in.
type ColumnConstraint uint8

const (
	ColValue      ColumnConstraint = iota // the record value (default)
	ColKey                                // KEY (streams)
	ColPrimaryKey                         // PRIMARY KEY (tables)
	ColHeaders                            // HEADERS: all headers, ARRAY<STRUCT<KEY STRING, VALUE BYTES>>
	ColHeader                             // HEADER('k'): one header's last value, BYTES
)

// ColumnDef is one element of a CREATE STREAM/TABLE column list.
type ColumnDef struct {
	Name       string
	Type       *Type
	Constraint ColumnConstraint
	HeaderKey  string // for ColHeader
	At         Pos
}

// Property is one `KEY=value` of a WITH clause. Key is upper-cased. Value is
// a literal: a *Literal of kind LitString, LitInt, LitDecimal, LitDouble or
// LitBool.
type Property struct {
	Key   string
	Value *Literal
	At    Pos
}

// Properties is a WITH clause, in the order written. Keys are unique (the
// front end rejects duplicates).
type Properties []Property

// Get returns the property named key (upper case) or nil.
func (ps Properties) Get(key string) *Property {
	for i := range ps {
		if ps[i].Key == key {
			return &ps[i]
		}
	}
	return nil
}

// CreateSource is CREATE [OR REPLACE] [SOURCE] STREAM|TABLE [IF NOT EXISTS]
// name [(columns)] [WITH (...)] [AS SELECT ...].
type CreateSource struct {
	StmtBase
	Kind        SourceKind
	Name        string
	NameAt      Pos
	OrReplace   bool
	IfNotExists bool
	Source      bool        // CREATE SOURCE STREAM|TABLE: read-only, materialized
	Columns     []ColumnDef // nil for CREATE ... AS SELECT
	With        Properties
	Query       *Select // non-nil for CREATE STREAM/TABLE AS SELECT
}

// InsertInto is INSERT INTO target SELECT ...
type InsertInto struct {
	StmtBase
	Target   string
	TargetAt Pos
	With     Properties // INSERT INTO x WITH (QUERY_ID='...') SELECT
	Query    *Select
}

// InsertValues is INSERT INTO target [(cols)] VALUES (exprs).
type InsertValues struct {
	StmtBase
	Target   string
	TargetAt Pos
	Columns  []Ident // empty: all columns in schema order (key columns first)
	Values   []Expr
}

// Query is a SELECT used as a statement: a push query (Select.Emit set) or a
// pull query.
type Query struct {
	StmtBase
	Select *Select
}

// ShowWhat names what SHOW / LIST lists.
type ShowWhat uint8

const (
	ShowStreams ShowWhat = iota + 1
	ShowTables
	ShowQueries
	ShowTopics
	ShowProperties
	ShowFunctions
	ShowTypes
	ShowVariables
)

// Show is SHOW|LIST STREAMS|TABLES|QUERIES|TOPICS|PROPERTIES|FUNCTIONS|TYPES|VARIABLES [EXTENDED].
type Show struct {
	StmtBase
	What     ShowWhat
	Extended bool
}

// Describe is DESCRIBE name [EXTENDED], DESCRIBE STREAMS|TABLES [EXTENDED] or
// DESCRIBE FUNCTION name.
type Describe struct {
	StmtBase
	Name     string
	NameAt   Pos
	Extended bool
	Function bool     // DESCRIBE FUNCTION name
	All      ShowWhat // DESCRIBE STREAMS|TABLES: ShowStreams or ShowTables, Name empty
}

// Explain is EXPLAIN <statement> or EXPLAIN <query id>.
type Explain struct {
	StmtBase
	Stmt    Stmt   // the statement to explain, or nil
	QueryID string // when explaining a running query
}

// Drop is DROP STREAM|TABLE [IF EXISTS] name [DELETE TOPIC], or DROP TYPE.
type Drop struct {
	StmtBase
	Kind        SourceKind
	Type        bool // DROP TYPE
	Name        string
	NameAt      Pos
	IfExists    bool
	DeleteTopic bool
}

// Terminate is TERMINATE id | TERMINATE ALL.
type Terminate struct {
	StmtBase
	QueryID string // upper-cased
	All     bool
}

// SetProperty is SET 'name'='value'.
type SetProperty struct {
	StmtBase
	Name  string
	Value string
}

// UnsetProperty is UNSET 'name'.
type UnsetProperty struct {
	StmtBase
	Name string
}

// DefineVariable is DEFINE name = 'value'; UndefineVariable is UNDEFINE name.
type DefineVariable struct {
	StmtBase
	Name  string
	Value string
}

type UndefineVariable struct {
	StmtBase
	Name string
}

// CreateType is CREATE TYPE [IF NOT EXISTS] name AS type.
type CreateType struct {
	StmtBase
	Name        string
	IfNotExists bool
	Type        *Type
}

// ---- SELECT ----

// EmitMode is the EMIT clause.
type EmitMode uint8

const (
	EmitNone    EmitMode = iota // no EMIT: a pull query, or the body of CSAS/CTAS
	EmitChanges                 // EMIT CHANGES
	EmitFinal                   // EMIT FINAL
)

// Select is a query body.
type Select struct {
	At          Pos
	Items       []SelectItem
	From        Relation
	Window      *WindowSpec
	Where       Expr
	GroupBy     []Expr
	PartitionBy []Expr
	Having      Expr
	Emit        EmitMode
	Limit       *int64
}

// SelectItem is one element of the select list: an expression with an
// optional alias, or a star (`*` or `alias.*`).
type SelectItem struct {
	Expr      Expr   // nil for a star
	Alias     string // "" when none was written
	Star      bool
	Qualifier string // for `alias.*`
	At        Pos
}

// Relation is a FROM item: *SourceRef or *Join.
type Relation interface{ relation() }

// SourceRef names a stream or table in FROM, with an optional alias.
type SourceRef struct {
	Name  string
	Alias string // "" when none was written
	At    Pos
}

// JoinKind is the join type.
type JoinKind uint8

const (
	JoinInner JoinKind = iota + 1
	JoinLeft
	JoinRight
	JoinFull
)

// Join is `Left [INNER|LEFT [OUTER]|RIGHT [OUTER]|FULL [OUTER]] JOIN Right
// [WITHIN ...] ON cond`. N-way joins nest on the left.
type Join struct {
	Kind   JoinKind
	Left   Relation
	Right  *SourceRef
	Within *Within
	On     Expr
	At     Pos
}

func (*SourceRef) relation() {}
func (*Join) relation()      {}

// Duration is `N unit` as written in WINDOW, WITHIN, RETENTION and GRACE
// PERIOD clauses, normalized to milliseconds.
type Duration struct {
	Millis int64
	At     Pos
}

// Within is a stream-stream join window: WITHIN d, or WITHIN (before, after),
// with an optional GRACE PERIOD.
type Within struct {
	Before, After Duration
	Grace         *Duration
}

// WindowKind is the WINDOW clause's type.
type WindowKind uint8

const (
	WindowTumbling WindowKind = iota + 1
	WindowHopping
	WindowSession
)

// WindowSpec is WINDOW TUMBLING (SIZE d [, RETENTION d] [, GRACE PERIOD d]),
// HOPPING (SIZE d, ADVANCE BY d, ...) or SESSION (gap, ...).
type WindowSpec struct {
	Kind      WindowKind
	Size      Duration // the gap for SESSION
	Advance   Duration // HOPPING
	Retention *Duration
	Grace     *Duration
	At        Pos
}

// ---- Expressions ----

// Expr is an expression node. Position returns the position of the node's
// first token.
type Expr interface {
	Position() Pos
	expr()
}

// ExprBase carries the position of an expression.
type ExprBase struct{ At Pos }

func (b *ExprBase) Position() Pos { return b.At }
func (*ExprBase) expr()           {}

// Ident is a column reference: NAME, or QUALIFIER.NAME. Parts are folded.
type Ident struct {
	ExprBase
	Qualifier string // source name or alias; "" when unqualified
	Name      string
}

// LiteralKind is the kind of a literal.
type LiteralKind uint8

const (
	LitNull    LiteralKind = iota + 1
	LitBool                // Text is "TRUE" or "FALSE"
	LitInt                 // an integer literal; INT if it fits in 32 bits, else BIGINT
	LitDecimal             // 1.5: DECIMAL with the written precision and scale
	LitDouble              // 1.5E3: DOUBLE
	LitString              // Text is the unescaped string
	LitBytes               // X'0A1B' (Text holds the raw bytes)
)

// Literal is a constant as written. Text keeps the literal's text (without
// quotes, unescaped for strings) so that exact numbers survive.
type Literal struct {
	ExprBase
	Kind LiteralKind
	Text string
}

// Binary operators. Op is one of "+", "-", "*", "/", "%", "=", "<>", "<",
// "<=", ">", ">=", "AND", "OR", "||" (string concatenation).
type Binary struct {
	ExprBase
	Op   string
	L, R Expr
}

// Unary operators: "NOT", "-", "+".
type Unary struct {
	ExprBase
	Op string
	X  Expr
}

// IsNull is `X IS [NOT] NULL`.
type IsNull struct {
	ExprBase
	X   Expr
	Not bool
}

// InList is `X [NOT] IN (list)`.
type InList struct {
	ExprBase
	X    Expr
	List []Expr
	Not  bool
}

// Between is `X [NOT] BETWEEN Lo AND Hi`.
type Between struct {
	ExprBase
	X, Lo, Hi Expr
	Not       bool
}

// Like is `X [NOT] LIKE Pattern [ESCAPE 'c']`.
type Like struct {
	ExprBase
	X, Pattern Expr
	Escape     string // "" when no ESCAPE was written
	Not        bool
}

// When is one WHEN ... THEN ... arm of a CASE.
type When struct {
	Cond, Result Expr
}

// Case is a searched CASE (Operand nil) or a simple CASE.
type Case struct {
	ExprBase
	Operand Expr
	Whens   []When
	Else    Expr // nil when no ELSE was written
}

// Cast is CAST(X AS Type) (also `X::Type`).
type Cast struct {
	ExprBase
	X    Expr
	Type *Type
}

// Call is a function call. Name is upper-cased. Star is COUNT(*).
type Call struct {
	ExprBase
	Name     string
	Args     []Expr
	Star     bool
	Distinct bool
}

// Subscript is `X[Index]`: 1-based array index (negative counts from the
// end) or map key.
type Subscript struct {
	ExprBase
	X, Index Expr
}

// Deref is struct field access `X->Field`.
type Deref struct {
	ExprBase
	X     Expr
	Field string
}

// ArrayCtor is ARRAY[e, ...].
type ArrayCtor struct {
	ExprBase
	Elems []Expr
}

// MapCtor is MAP(k := v, ...).
type MapCtor struct {
	ExprBase
	Keys, Values []Expr
}

// StructCtor is STRUCT(name := v, ...).
type StructCtor struct {
	ExprBase
	Names  []string
	Values []Expr
}

// Lambda is `x => body` or `(x, y) => body`. Params are folded.
type Lambda struct {
	ExprBase
	Params []string
	Body   Expr
}

// IntervalUnit is a time unit keyword used as a function argument, as in
// TIMESTAMPADD(SECONDS, 5, ts).
type IntervalUnit struct {
	ExprBase
	Unit string // upper-cased, e.g. "SECONDS", "DAYS"
}

// Param is a `$n` placeholder (extended query protocol).
type Param struct {
	ExprBase
	N int
}
