package pgcatalog

import (
	"strconv"
	"strings"

	"github.com/sluicedb/sluice/sql"
)

// Type OIDs used by the virtual catalogs (pg_type.oid; fixed by Postgres).
const (
	OIDBool        = 16
	OIDBytea       = 17
	OIDChar        = 18
	OIDName        = 19
	OIDInt8        = 20
	OIDInt2        = 21
	OIDInt4        = 23
	OIDRegproc     = 24
	OIDText        = 25
	OIDOID         = 26
	OIDJSON        = 114
	OIDFloat4      = 700
	OIDFloat8      = 701
	OIDTextArray   = 1009
	OIDVarchar     = 1043
	OIDDate        = 1082
	OIDTime        = 1083
	OIDTimestamp   = 1114
	OIDTimestampTZ = 1184
	OIDNumeric     = 1700
	OIDRegclass    = 2205
	OIDRegtype     = 2206
	OIDJSONB       = 3802
	// Pseudo-types, for the signatures of polymorphic functions.
	OIDAny         = 2276 // "any": an argument of any type (ksqlDB's ANY, lambdas)
	OIDAnyArray    = 2277 // ARRAY<T>
	OIDAnyElement  = 2283 // T, and results computed from the arguments
	OIDBoolArray   = 1000
	OIDByteaArray  = 1001
	OIDInt4Array   = 1007
	OIDInt8Array   = 1016
	OIDFloat8Array = 1022
	OIDNumArray    = 1231
)

// Fixed object ids.
const (
	nsPgCatalog = 11
	nsPublic    = 2200
	nsInfo      = 13000
	ownerOID    = 10
	databaseOID = 16383
	relOIDBase  = 16384 // relation i has oid relOIDBase+i
	procOIDBase = 50000 // overload i (see Catalog.procs) has oid procOIDBase+i
	// langInternal is pg_language's "internal" (its oid in Postgres):
	// sluice's functions are built in, as Postgres' internal ones are.
	langInternal = 12
)

// Relation is a stream or table to show.
type Relation struct {
	Name string
	// Table: a ksqlDB TABLE, shown as relkind 'r' ("table"); a STREAM is
	// shown as relkind 'v' ("view"): both are read-only relations one
	// queries, and \dt and \dv then list tables and streams apart.
	Table   bool
	Topic   string
	Columns []Column
	// Definition is the statement that created the relation; it is what
	// pg_get_viewdef answers (\d+ shows it as "View definition").
	Definition string
}

// Column is a relation's column.
type Column struct {
	Name    string
	TypeOID uint32
	Typmod  int32
	Key     bool // KEY or PRIMARY KEY: shown as not null
}

// Function is a function of the engine's library.
type Function struct {
	Name        string
	Category    string
	Description string
	// Signatures are the overloads; each is one pg_proc row, as each
	// overload is in Postgres.
	Signatures []Signature
}

// Signature is one overload of a function, in Postgres types.
type Signature struct {
	Args []uint32 // argument type OIDs
	// Variadic: the last argument repeats; Args ends with its array type
	// (text[] for STRING..., anyarray for T...), as Postgres declares
	// VARIADIC parameters.
	Variadic bool
	Result   uint32
}

// Catalog is what the virtual pg_catalog and information_schema describe.
type Catalog struct {
	Relations []Relation
	Functions []Function
	Database  string
	User      string
	Version   string // version()'s text
	PID       int64
	// Setting returns a session setting for current_setting() and
	// pg_settings.
	Setting func(name string) (string, bool)
	// Settings lists every setting (name, value) for pg_settings.
	Settings func() [][2]string

	procList []proc // built on first use by procs
}

// proc is a pg_proc row: one overload of a function.
type proc struct {
	fn  *Function
	sig *Signature // nil for a function without known signatures
}

// procs lists the pg_proc rows; row i has oid procOIDBase+i.
func (c *Catalog) procs() []proc {
	if c.procList != nil {
		return c.procList
	}
	c.procList = []proc{}
	for i := range c.Functions {
		f := &c.Functions[i]
		if len(f.Signatures) == 0 {
			c.procList = append(c.procList, proc{fn: f})
		}
		for j := range f.Signatures {
			c.procList = append(c.procList, proc{fn: f, sig: &f.Signatures[j]})
		}
	}
	return c.procList
}

// procByOID finds a pg_proc row.
func (c *Catalog) procByOID(v any) (proc, bool) {
	n, ok := toInt(v)
	if !ok {
		return proc{}, false
	}
	ps := c.procs()
	if i := n - procOIDBase; i >= 0 && i < int64(len(ps)) {
		return ps[i], true
	}
	return proc{}, false
}

// relationByOID finds a relation by its oid, or by its name when v is a
// string (pg_get_viewdef takes either).
func (c *Catalog) relationByOID(v any) (*Relation, bool) {
	if name, ok := v.(string); ok {
		for i, r := range c.Relations {
			if r.Name == name {
				return &c.Relations[i], true
			}
		}
		return nil, false
	}
	n, ok := toInt(v)
	if !ok {
		return nil, false
	}
	if i := n - relOIDBase; i >= 0 && i < int64(len(c.Relations)) {
		return &c.Relations[i], true
	}
	return nil, false
}

// Eval answers a SELECT over the virtual catalogs. toks are the statement's
// tokens (from sql.PGTokens, ending with PGEOF).
func Eval(toks []sql.PGToken, cat *Catalog) (*Result, error) {
	q, err := parseQuery(toks)
	if err != nil {
		return nil, err
	}
	ev := &evaluator{db: cat}
	res, err := ev.query(q, nil)
	if err != nil {
		return nil, err
	}
	// Columns whose type is not known statically take the type of their
	// first non-NULL value.
	for i, t := range res.Types {
		if t != 0 {
			continue
		}
		res.Types[i] = OIDText
		for _, row := range res.Rows {
			if row[i] == nil {
				continue
			}
			switch row[i].(type) {
			case bool:
				res.Types[i] = OIDBool
			case int64:
				res.Types[i] = OIDInt8
			case float64:
				res.Types[i] = OIDFloat8
			case []any:
				res.Types[i] = OIDTextArray
			}
			break
		}
	}
	return res, nil
}

// typeRow describes a type in pg_type and format_type.
type typeRow struct {
	oid      uint32
	name     string
	display  string // format_type's spelling
	length   int64
	category string
	elem     uint32
	array    uint32
}

var types = []typeRow{
	{OIDBool, "bool", "boolean", 1, "B", 0, 1000},
	{OIDBytea, "bytea", "bytea", -1, "U", 0, 1001},
	{OIDChar, "char", `"char"`, 1, "Z", 0, 1002},
	{OIDName, "name", "name", 64, "S", 0, 1003},
	{OIDInt8, "int8", "bigint", 8, "N", 0, 1016},
	{OIDInt2, "int2", "smallint", 2, "N", 0, 1005},
	{OIDInt4, "int4", "integer", 4, "N", 0, 1007},
	{OIDRegproc, "regproc", "regproc", 4, "N", 0, 1008},
	{OIDText, "text", "text", -1, "S", 0, 1009},
	{OIDOID, "oid", "oid", 4, "N", 0, 1028},
	{OIDJSON, "json", "json", -1, "U", 0, 199},
	{OIDFloat4, "float4", "real", 4, "N", 0, 1021},
	{OIDFloat8, "float8", "double precision", 8, "N", 0, 1022},
	{OIDTextArray, "_text", "text[]", -1, "A", OIDText, 0},
	{OIDVarchar, "varchar", "character varying", -1, "S", 0, 1015},
	{OIDDate, "date", "date", 4, "D", 0, 1182},
	{OIDTime, "time", "time without time zone", 8, "D", 0, 1183},
	{OIDTimestamp, "timestamp", "timestamp without time zone", 8, "D", 0, 1115},
	{OIDTimestampTZ, "timestamptz", "timestamp with time zone", 8, "D", 0, 1185},
	{OIDNumeric, "numeric", "numeric", -1, "N", 0, 1231},
	{OIDRegclass, "regclass", "regclass", 4, "N", 0, 2210},
	{OIDRegtype, "regtype", "regtype", 4, "N", 0, 2211},
	{OIDJSONB, "jsonb", "jsonb", -1, "U", 0, 3807},
	// Array types of the scalars function signatures use.
	{OIDBoolArray, "_bool", "boolean[]", -1, "A", OIDBool, 0},
	{OIDByteaArray, "_bytea", "bytea[]", -1, "A", OIDBytea, 0},
	{OIDInt4Array, "_int4", "integer[]", -1, "A", OIDInt4, 0},
	{OIDInt8Array, "_int8", "bigint[]", -1, "A", OIDInt8, 0},
	{OIDFloat8Array, "_float8", "double precision[]", -1, "A", OIDFloat8, 0},
	{OIDNumArray, "_numeric", "numeric[]", -1, "A", OIDNumeric, 0},
	{1182, "_date", "date[]", -1, "A", OIDDate, 0},
	{1183, "_time", "time without time zone[]", -1, "A", OIDTime, 0},
	{1115, "_timestamp", "timestamp without time zone[]", -1, "A", OIDTimestamp, 0},
	{199, "_json", "json[]", -1, "A", OIDJSON, 0},
	// Pseudo-types (category P): polymorphic arguments and results.
	{OIDAny, "any", `"any"`, 4, "P", 0, 0},
	{OIDAnyArray, "anyarray", "anyarray", -1, "P", 0, 0},
	{OIDAnyElement, "anyelement", "anyelement", 4, "P", 0, 0},
}

// ArrayOf returns the array type of a type, or 0 when the catalog has
// none.
func ArrayOf(oid uint32) uint32 {
	t, ok := typeByOID(oid)
	if !ok {
		return 0
	}
	return t.array
}

func typeByOID(oid uint32) (typeRow, bool) {
	for _, t := range types {
		if t.oid == oid {
			return t, true
		}
	}
	return typeRow{}, false
}

// typeOIDByName maps a cast's type name to an OID (0 when unknown).
func typeOIDByName(name string) uint32 {
	switch strings.TrimSuffix(name, "[]") {
	case "text", "varchar", "bpchar", "character", "unknown", "regnamespace", "regrole":
		if strings.HasSuffix(name, "[]") {
			return OIDTextArray
		}
		return OIDText
	case "int", "int4", "integer":
		return OIDInt4
	case "int2", "smallint":
		return OIDInt2
	case "int8", "bigint":
		return OIDInt8
	case "bool", "boolean":
		return OIDBool
	case "oid":
		return OIDOID
	case "name":
		return OIDName
	case "char":
		return OIDChar
	case "regclass":
		return OIDRegclass
	case "regtype":
		return OIDRegtype
	case "regproc", "regprocedure":
		return OIDRegproc
	case "float4", "real":
		return OIDFloat4
	case "float8":
		return OIDFloat8
	case "numeric", "decimal":
		return OIDNumeric
	case "json":
		return OIDJSON
	case "jsonb":
		return OIDJSONB
	}
	return 0
}

// Column sets of the virtual relations.
var (
	pgClassCols = []col{
		{"oid", OIDOID}, {"relname", OIDName}, {"relnamespace", OIDOID}, {"reltype", OIDOID},
		{"reloftype", OIDOID}, {"relowner", OIDOID}, {"relam", OIDOID}, {"relfilenode", OIDOID},
		{"reltablespace", OIDOID}, {"relpages", OIDInt4}, {"reltuples", OIDFloat4},
		{"relallvisible", OIDInt4}, {"reltoastrelid", OIDOID}, {"relhasindex", OIDBool},
		{"relisshared", OIDBool}, {"relpersistence", OIDChar}, {"relkind", OIDChar},
		{"relnatts", OIDInt2}, {"relchecks", OIDInt2}, {"relhasrules", OIDBool},
		{"relhastriggers", OIDBool}, {"relhassubclass", OIDBool}, {"relrowsecurity", OIDBool},
		{"relforcerowsecurity", OIDBool}, {"relispopulated", OIDBool}, {"relreplident", OIDChar},
		{"relispartition", OIDBool}, {"relrewrite", OIDOID}, {"relfrozenxid", OIDText},
		{"relminmxid", OIDText}, {"relacl", OIDTextArray}, {"reloptions", OIDTextArray},
		{"relpartbound", OIDText},
	}
	pgNamespaceCols = []col{{"oid", OIDOID}, {"nspname", OIDName}, {"nspowner", OIDOID}, {"nspacl", OIDTextArray}}
	pgAttributeCols = []col{
		{"attrelid", OIDOID}, {"attname", OIDName}, {"atttypid", OIDOID}, {"attstattarget", OIDInt4},
		{"attlen", OIDInt2}, {"attnum", OIDInt2}, {"attndims", OIDInt4}, {"attcacheoff", OIDInt4},
		{"atttypmod", OIDInt4}, {"attbyval", OIDBool}, {"attalign", OIDChar}, {"attstorage", OIDChar},
		{"attcompression", OIDChar}, {"attnotnull", OIDBool}, {"atthasdef", OIDBool},
		{"atthasmissing", OIDBool}, {"attidentity", OIDChar}, {"attgenerated", OIDChar},
		{"attisdropped", OIDBool}, {"attislocal", OIDBool}, {"attinhcount", OIDInt4},
		{"attcollation", OIDOID}, {"attacl", OIDTextArray}, {"attoptions", OIDTextArray},
		{"attfdwoptions", OIDTextArray},
	}
	pgTypeCols = []col{
		{"oid", OIDOID}, {"typname", OIDName}, {"typnamespace", OIDOID}, {"typowner", OIDOID},
		{"typlen", OIDInt2}, {"typbyval", OIDBool}, {"typtype", OIDChar}, {"typcategory", OIDChar},
		{"typispreferred", OIDBool}, {"typisdefined", OIDBool}, {"typdelim", OIDChar},
		{"typrelid", OIDOID}, {"typelem", OIDOID}, {"typarray", OIDOID}, {"typinput", OIDRegproc},
		{"typoutput", OIDRegproc}, {"typreceive", OIDRegproc}, {"typsend", OIDRegproc},
		{"typbasetype", OIDOID}, {"typtypmod", OIDInt4}, {"typndims", OIDInt4},
		{"typcollation", OIDOID}, {"typnotnull", OIDBool}, {"typdefault", OIDText},
		{"typacl", OIDTextArray},
	}
	pgProcCols = []col{
		{"oid", OIDOID}, {"proname", OIDName}, {"pronamespace", OIDOID}, {"proowner", OIDOID},
		{"prolang", OIDOID}, {"procost", OIDFloat4}, {"prorows", OIDFloat4}, {"provariadic", OIDOID},
		{"prosupport", OIDRegproc}, {"prokind", OIDChar}, {"prosecdef", OIDBool},
		{"proleakproof", OIDBool}, {"proisstrict", OIDBool}, {"proretset", OIDBool},
		{"provolatile", OIDChar}, {"proparallel", OIDChar}, {"pronargs", OIDInt2},
		{"pronargdefaults", OIDInt2}, {"prorettype", OIDOID}, {"proargtypes", OIDText},
		{"proallargtypes", OIDTextArray}, {"proargmodes", OIDTextArray},
		{"proargnames", OIDTextArray}, {"proargdefaults", OIDText}, {"protrftypes", OIDTextArray},
		{"prosrc", OIDText}, {"probin", OIDText}, {"prosqlbody", OIDText}, {"proconfig", OIDTextArray},
		{"proacl", OIDTextArray},
	}
	pgLanguageCols = []col{{"oid", OIDOID}, {"lanname", OIDName}, {"lanowner", OIDOID}, {"lanispl", OIDBool},
		{"lanpltrusted", OIDBool}, {"lanplcallfoid", OIDOID}, {"laninline", OIDOID}, {"lanvalidator", OIDOID},
		{"lanacl", OIDTextArray}}
	pgDatabaseCols = []col{
		{"oid", OIDOID}, {"datname", OIDName}, {"datdba", OIDOID}, {"encoding", OIDInt4},
		{"datlocprovider", OIDChar}, {"datistemplate", OIDBool}, {"datallowconn", OIDBool},
		{"datconnlimit", OIDInt4}, {"dattablespace", OIDOID}, {"datcollate", OIDText},
		{"datctype", OIDText}, {"daticulocale", OIDText}, {"datcollversion", OIDText},
		{"datacl", OIDTextArray},
	}
	pgRolesCols = []col{
		{"oid", OIDOID}, {"rolname", OIDName}, {"rolsuper", OIDBool}, {"rolinherit", OIDBool},
		{"rolcreaterole", OIDBool}, {"rolcreatedb", OIDBool}, {"rolcanlogin", OIDBool},
		{"rolreplication", OIDBool}, {"rolconnlimit", OIDInt4}, {"rolpassword", OIDText},
		{"rolvaliduntil", OIDTimestampTZ}, {"rolbypassrls", OIDBool}, {"rolconfig", OIDTextArray},
	}
	pgAmCols       = []col{{"oid", OIDOID}, {"amname", OIDName}, {"amhandler", OIDRegproc}, {"amtype", OIDChar}}
	pgSettingsCols = []col{{"name", OIDText}, {"setting", OIDText}, {"unit", OIDText}, {"category", OIDText},
		{"short_desc", OIDText}, {"context", OIDText}, {"vartype", OIDText}, {"source", OIDText}}
	pgTablesCols = []col{{"schemaname", OIDName}, {"tablename", OIDName}, {"tableowner", OIDName},
		{"tablespace", OIDName}, {"hasindexes", OIDBool}, {"hasrules", OIDBool}, {"hastriggers", OIDBool},
		{"rowsecurity", OIDBool}}
	pgViewsCols = []col{{"schemaname", OIDName}, {"viewname", OIDName}, {"viewowner", OIDName}, {"definition", OIDText}}
	// information_schema
	isTablesCols = []col{{"table_catalog", OIDName}, {"table_schema", OIDName}, {"table_name", OIDName},
		{"table_type", OIDText}, {"is_insertable_into", OIDText}, {"is_typed", OIDText}}
	isColumnsCols = []col{{"table_catalog", OIDName}, {"table_schema", OIDName}, {"table_name", OIDName},
		{"column_name", OIDName}, {"ordinal_position", OIDInt4}, {"column_default", OIDText},
		{"is_nullable", OIDText}, {"data_type", OIDText}, {"character_maximum_length", OIDInt4},
		{"numeric_precision", OIDInt4}, {"numeric_scale", OIDInt4}, {"udt_catalog", OIDName},
		{"udt_schema", OIDName}, {"udt_name", OIDName}, {"is_updatable", OIDText}}
	isSchemataCols = []col{{"catalog_name", OIDName}, {"schema_name", OIDName}, {"schema_owner", OIDName}}
	isRoutinesCols = []col{{"specific_catalog", OIDName}, {"specific_schema", OIDName}, {"specific_name", OIDName},
		{"routine_catalog", OIDName}, {"routine_schema", OIDName}, {"routine_name", OIDName},
		{"routine_type", OIDText}, {"data_type", OIDText}}
	isViewsCols = []col{{"table_catalog", OIDName}, {"table_schema", OIDName}, {"table_name", OIDName},
		{"view_definition", OIDText}, {"is_updatable", OIDText}}
)

type col struct {
	name string
	typ  uint32
}

func newTable(cols []col) *table {
	t := &table{}
	for _, c := range cols {
		t.cols = append(t.cols, c.name)
		t.types = append(t.types, c.typ)
	}
	return t
}

// row appends a row given as column name → value; unnamed columns are
// NULL, so each relation lists only what it knows.
func (t *table) row(vals map[string]any) {
	r := make([]any, len(t.cols))
	for i, c := range t.cols {
		r[i] = vals[c]
	}
	t.rows = append(t.rows, r)
}

// emptyCatalogs are relations that are always empty here: sluice has no
// indexes, constraints, inheritance, policies, triggers, publications or
// comments. psql's \d asks for them all.
var emptyCatalogs = map[string]bool{
	"pg_attrdef": true, "pg_collation": true, "pg_index": true, "pg_constraint": true,
	"pg_inherits": true, "pg_policy": true, "pg_statistic_ext": true, "pg_publication": true,
	"pg_publication_rel": true, "pg_publication_namespace": true, "pg_trigger": true,
	"pg_rewrite": true, "pg_foreign_table": true, "pg_foreign_server": true,
	"pg_foreign_data_wrapper": true, "pg_description": true, "pg_shdescription": true,
	"pg_extension": true, "pg_event_trigger": true, "pg_depend": true, "pg_sequence": true,
	"pg_partitioned_table": true, "pg_auth_members": true, "pg_opclass": true, "pg_operator": true,
	"pg_cast": true, "pg_conversion": true, "pg_enum": true, "pg_range": true, "pg_aggregate": true,
	"pg_tablespace": true, "pg_default_acl": true, "pg_init_privs": true,
	"pg_seclabel": true, "pg_stat_activity": true, "pg_locks": true, "pg_matviews": true,
	"pg_indexes": true, "pg_sequences": true, "pg_statistic_ext_data": true, "pg_ts_config": true,
	"pg_ts_dict": true, "pg_ts_parser": true, "pg_ts_template": true, "pg_user_mapping": true,
	"pg_largeobject_metadata": true, "pg_db_role_setting": true, "pg_prepared_xacts": true,
	"pg_transform": true, "pg_amop": true, "pg_amproc": true, "pg_opfamily": true,
	"pg_subscription": true, "pg_replication_slots": true, "pg_stat_user_tables": true,
	// information_schema relations without content here
	"key_column_usage": true, "table_constraints": true, "referential_constraints": true,
	"constraint_column_usage": true, "parameters": true, "sequences": true, "triggers": true,
	"check_constraints": true, "element_types": true,
}

// table builds a virtual relation by name.
func (c *Catalog) table(schema, name string) (*table, bool) {
	if schema != "" && schema != "pg_catalog" && schema != "information_schema" {
		return nil, false
	}
	if schema == "information_schema" {
		return c.infoSchema(name)
	}
	switch name {
	case "pg_class":
		t := newTable(pgClassCols)
		for i, r := range c.Relations {
			kind := "v"
			if r.Table {
				kind = "r"
			}
			t.row(map[string]any{
				"oid": int64(relOIDBase + i), "relname": r.Name, "relnamespace": int64(nsPublic),
				"reltype": int64(0), "reloftype": int64(0), "relowner": int64(ownerOID), "relam": int64(0),
				"relfilenode": int64(0), "reltablespace": int64(0), "relpages": int64(0), "reltuples": float64(-1),
				"relallvisible": int64(0), "reltoastrelid": int64(0), "relhasindex": false, "relisshared": false,
				"relpersistence": "p", "relkind": kind, "relnatts": int64(len(r.Columns)), "relchecks": int64(0),
				"relhasrules": false, "relhastriggers": false, "relhassubclass": false, "relrowsecurity": false,
				"relforcerowsecurity": false, "relispopulated": true, "relreplident": "d", "relispartition": false,
				"relrewrite": int64(0),
			})
		}
		return t, true
	case "pg_namespace":
		t := newTable(pgNamespaceCols)
		for _, ns := range [][2]any{{int64(nsPgCatalog), "pg_catalog"}, {int64(nsPublic), "public"}, {int64(nsInfo), "information_schema"}} {
			t.row(map[string]any{"oid": ns[0], "nspname": ns[1], "nspowner": int64(ownerOID)})
		}
		return t, true
	case "pg_attribute":
		t := newTable(pgAttributeCols)
		for i, r := range c.Relations {
			for j, cl := range r.Columns {
				tr, _ := typeByOID(cl.TypeOID)
				t.row(map[string]any{
					"attrelid": int64(relOIDBase + i), "attname": cl.Name, "atttypid": int64(cl.TypeOID),
					"attstattarget": int64(-1), "attlen": tr.length, "attnum": int64(j + 1), "attndims": int64(0),
					"attcacheoff": int64(-1), "atttypmod": int64(cl.Typmod), "attbyval": tr.length > 0,
					"attalign": "i", "attstorage": "x", "attcompression": "", "attnotnull": cl.Key,
					"atthasdef": false, "atthasmissing": false, "attidentity": "", "attgenerated": "",
					"attisdropped": false, "attislocal": true, "attinhcount": int64(0), "attcollation": int64(0),
				})
			}
		}
		return t, true
	case "pg_type":
		t := newTable(pgTypeCols)
		for _, tr := range types {
			typtype := "b"
			if tr.category == "P" {
				typtype = "p"
			}
			t.row(map[string]any{
				"oid": int64(tr.oid), "typname": tr.name, "typnamespace": int64(nsPgCatalog),
				"typowner": int64(ownerOID), "typlen": tr.length, "typbyval": tr.length > 0 && tr.length <= 8,
				"typtype": typtype, "typcategory": tr.category, "typispreferred": false, "typisdefined": true,
				"typdelim": ",", "typrelid": int64(0), "typelem": int64(tr.elem), "typarray": int64(tr.array),
				"typbasetype": int64(0), "typtypmod": int64(-1), "typndims": int64(0), "typcollation": int64(0),
				"typnotnull": false,
			})
		}
		return t, true
	case "pg_proc":
		t := newTable(pgProcCols)
		for i, p := range c.procs() {
			vals := map[string]any{
				"oid": int64(procOIDBase + i), "proname": strings.ToLower(p.fn.Name), "pronamespace": int64(nsPublic),
				"proowner": int64(ownerOID), "prolang": int64(langInternal), "procost": float64(1),
				"prorows": float64(0), "provariadic": int64(0), "prosupport": int64(0), "prokind": "f",
				"prosecdef": false, "proleakproof": false, "proisstrict": false, "proretset": false,
				// sluice does not record which functions are deterministic;
				// volatile is Postgres' default and promises nothing.
				"provolatile": "v", "proparallel": "s", "pronargs": int64(0), "pronargdefaults": int64(0),
				"prorettype": int64(0), "proargtypes": "", "prosrc": p.fn.Name,
			}
			if sig := p.sig; sig != nil {
				vals["pronargs"] = int64(len(sig.Args))
				vals["prorettype"] = int64(sig.Result)
				oids := make([]string, len(sig.Args))
				for j, a := range sig.Args {
					oids[j] = strconv.FormatUint(uint64(a), 10)
				}
				// oidvector's text form: space-separated oids.
				vals["proargtypes"] = strings.Join(oids, " ")
				if sig.Variadic && len(sig.Args) > 0 {
					vals["provariadic"] = int64(variadicElem(sig.Args[len(sig.Args)-1]))
					modes := make([]any, len(sig.Args))
					for j := range modes {
						modes[j] = "i"
					}
					modes[len(modes)-1] = "v"
					vals["proargmodes"] = modes
					all := make([]any, len(sig.Args))
					for j, a := range sig.Args {
						all[j] = int64(a)
					}
					vals["proallargtypes"] = all
				}
			}
			t.row(vals)
		}
		return t, true
	case "pg_language":
		t := newTable(pgLanguageCols)
		t.row(map[string]any{"oid": int64(langInternal), "lanname": "internal", "lanowner": int64(ownerOID),
			"lanispl": false, "lanpltrusted": false, "lanplcallfoid": int64(0), "laninline": int64(0),
			"lanvalidator": int64(0)})
		return t, true
	case "pg_database":
		t := newTable(pgDatabaseCols)
		t.row(map[string]any{
			"oid": int64(databaseOID), "datname": c.Database, "datdba": int64(ownerOID), "encoding": int64(6),
			"datlocprovider": "c", "datistemplate": false, "datallowconn": true, "datconnlimit": int64(-1),
			"dattablespace": int64(0), "datcollate": "C", "datctype": "C",
		})
		return t, true
	case "pg_roles", "pg_user", "pg_authid":
		t := newTable(pgRolesCols)
		t.row(map[string]any{
			"oid": int64(ownerOID), "rolname": c.User, "rolsuper": false, "rolinherit": true,
			"rolcreaterole": false, "rolcreatedb": false, "rolcanlogin": true, "rolreplication": false,
			"rolconnlimit": int64(-1), "rolpassword": "********", "rolbypassrls": false,
		})
		if name == "pg_user" {
			t.cols[1] = "usename"
		}
		return t, true
	case "pg_am":
		t := newTable(pgAmCols)
		t.row(map[string]any{"oid": int64(2), "amname": "heap", "amtype": "t"})
		return t, true
	case "pg_settings":
		t := newTable(pgSettingsCols)
		if c.Settings != nil {
			for _, kv := range c.Settings() {
				t.row(map[string]any{"name": kv[0], "setting": kv[1], "context": "user", "vartype": "string", "source": "default"})
			}
		}
		return t, true
	case "pg_tables", "pg_views":
		cols := pgTablesCols
		if name == "pg_views" {
			cols = pgViewsCols
		}
		t := newTable(cols)
		for _, r := range c.Relations {
			if r.Table != (name == "pg_tables") {
				continue
			}
			t.row(map[string]any{"schemaname": "public", "tablename": r.Name, "viewname": r.Name,
				"tableowner": c.User, "viewowner": c.User, "hasindexes": false, "hasrules": false,
				"hastriggers": false, "rowsecurity": false, "definition": nonEmpty(r.Definition)})
		}
		return t, true
	}
	if emptyCatalogs[name] {
		return &table{open: true}, true
	}
	return nil, false
}

func (c *Catalog) infoSchema(name string) (*table, bool) {
	switch name {
	case "tables":
		t := newTable(isTablesCols)
		for _, r := range c.Relations {
			typ := "VIEW"
			if r.Table {
				typ = "BASE TABLE"
			}
			t.row(map[string]any{"table_catalog": c.Database, "table_schema": "public", "table_name": r.Name,
				"table_type": typ, "is_insertable_into": "YES", "is_typed": "NO"})
		}
		return t, true
	case "views":
		t := newTable(isViewsCols)
		for _, r := range c.Relations {
			if !r.Table {
				t.row(map[string]any{"table_catalog": c.Database, "table_schema": "public", "table_name": r.Name,
					"view_definition": nonEmpty(r.Definition), "is_updatable": "NO"})
			}
		}
		return t, true
	case "columns":
		t := newTable(isColumnsCols)
		for _, r := range c.Relations {
			for j, cl := range r.Columns {
				tr, _ := typeByOID(cl.TypeOID)
				nullable := "YES"
				if cl.Key {
					nullable = "NO"
				}
				vals := map[string]any{"table_catalog": c.Database, "table_schema": "public", "table_name": r.Name,
					"column_name": cl.Name, "ordinal_position": int64(j + 1), "is_nullable": nullable,
					"data_type": tr.display, "udt_catalog": c.Database, "udt_schema": "pg_catalog",
					"udt_name": tr.name, "is_updatable": "NO"}
				if cl.TypeOID == OIDNumeric && cl.Typmod >= 4 {
					vals["numeric_precision"] = int64((cl.Typmod - 4) >> 16)
					vals["numeric_scale"] = int64((cl.Typmod - 4) & 0xffff)
				}
				t.row(vals)
			}
		}
		return t, true
	case "schemata":
		t := newTable(isSchemataCols)
		for _, n := range []string{"pg_catalog", "public", "information_schema"} {
			t.row(map[string]any{"catalog_name": c.Database, "schema_name": n, "schema_owner": c.User})
		}
		return t, true
	case "routines":
		t := newTable(isRoutinesCols)
		for i, p := range c.procs() {
			n := strings.ToLower(p.fn.Name)
			vals := map[string]any{"specific_catalog": c.Database, "specific_schema": "public",
				// Postgres names an overload name_oid, unique per overload.
				"specific_name":   n + "_" + strconv.Itoa(procOIDBase+i),
				"routine_catalog": c.Database, "routine_schema": "public", "routine_name": n,
				"routine_type": "FUNCTION"}
			if p.sig != nil {
				if tr, ok := typeByOID(p.sig.Result); ok {
					vals["data_type"] = tr.display
					if tr.category == "A" {
						vals["data_type"] = "ARRAY"
					}
				}
			}
			t.row(vals)
		}
		return t, true
	}
	if emptyCatalogs[name] {
		return &table{open: true}, true
	}
	return nil, false
}

// variadicElem is the element type a VARIADIC parameter of type arr
// repeats (pg_proc.provariadic).
func variadicElem(arr uint32) uint32 {
	switch arr {
	case OIDAnyArray:
		return OIDAnyElement
	case OIDAny:
		return OIDAny
	}
	if t, ok := typeByOID(arr); ok && t.elem != 0 {
		return t.elem
	}
	return OIDAny
}

// nonEmpty is s, or NULL for "".
func nonEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
