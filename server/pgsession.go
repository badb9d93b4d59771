package server

import (
	"sort"
	"strconv"
	"strings"

	"github.com/sluicedb/sluice/sql"
)

// The Postgres-compatibility statements. Drivers and psql send statements
// that have nothing to do with streams: SET extra_float_digits = 3, SHOW
// TimeZone, BEGIN, DECLARE ... CURSOR, COPY (...) TO STDOUT, and psql's
// catalog queries. classify recognises them on the statement's tokens; the
// server answers them itself and hands every other statement to the engine
// unchanged.

type stmtKind uint8

const (
	kindEngine   stmtKind = iota // sluice SQL, run by the engine
	kindEmpty                    // no tokens
	kindBegin                    // BEGIN, START TRANSACTION
	kindCommit                   // COMMIT, END
	kindRollback                 // ROLLBACK, ABORT
	kindSet                      // SET of a Postgres setting
	kindReset                    // RESET name | ALL
	kindShow                     // SHOW of a Postgres setting or ALL
	kindDiscard                  // DISCARD ALL
	kindDeclare                  // DECLARE name CURSOR FOR query
	kindFetch                    // FETCH [FORWARD] [n|ALL] FROM name
	kindClose                    // CLOSE name | ALL
	kindCopy                     // COPY (query) TO STDOUT
	kindCatalog                  // a SELECT answered from the virtual pg_catalog
)

// stmtInfo is a classified statement.
type stmtInfo struct {
	kind stmtKind
	text string
	toks []sql.PGToken // including the final PGEOF
	rows bool          // the statement returns rows

	name  string // SET/RESET/SHOW: the setting; DECLARE/FETCH/CLOSE: the cursor
	value string // SET: the value; "" means DEFAULT
	count int64  // FETCH: rows to fetch; -1 for ALL
	csv   bool   // COPY: FORMAT csv
	hdr   bool   // COPY: HEADER
	query *stmtInfo
}

// ksqlShowWords are what follows SHOW (or SHOW ALL) in sluice SQL.
var ksqlShowWords = map[string]bool{
	"STREAMS": true, "TABLES": true, "QUERIES": true, "TOPICS": true, "PROPERTIES": true,
	"FUNCTIONS": true, "TYPES": true, "VARIABLES": true,
}

// classify tokenizes one statement and says what it is.
func classify(text string) (*stmtInfo, error) {
	toks, err := sql.PGTokens(text)
	if err != nil {
		return nil, err
	}
	return classifyTokens(text, toks)
}

func classifyTokens(text string, toks []sql.PGToken) (*stmtInfo, error) {
	st := &stmtInfo{kind: kindEngine, text: text, toks: toks}
	p := &tokCursor{toks: toks}
	first := p.peek()
	switch {
	case first.Kind == sql.PGEOF:
		st.kind = kindEmpty
	case first.IsKw("BEGIN"), first.IsKw("START") && p.at(1).IsKw("TRANSACTION"):
		st.kind = kindBegin
	case first.IsKw("COMMIT"), first.IsKw("END"):
		st.kind = kindCommit
	case first.IsKw("ROLLBACK"), first.IsKw("ABORT"):
		st.kind = kindRollback
	case first.IsKw("SET"):
		// SET 'prop'='value' is ksqlDB's and goes to the engine.
		if p.at(1).Kind != sql.PGString {
			return st, parseSet(p, st)
		}
	case first.IsKw("RESET"):
		st.kind = kindReset
		p.next()
		st.name = settingName(p)
		if st.name == "" {
			return nil, syntaxAt(p.peek(), "RESET needs a setting name or ALL")
		}
	case first.IsKw("SHOW"):
		i := 1
		if p.at(1).IsKw("ALL") {
			i = 2
		}
		if !ksqlShowWords[p.at(i).Val] || p.at(i).Kind != sql.PGIdent {
			st.kind, st.rows = kindShow, true
			p.next()
			st.name = settingName(p)
			if st.name == "" {
				return nil, syntaxAt(p.peek(), "SHOW needs a setting name or ALL")
			}
		}
	case first.IsKw("DISCARD"):
		st.kind = kindDiscard
		if !p.at(1).IsKw("ALL") {
			return nil, sql.Errorf(sql.CodeFeatureNotSupported, p.at(1).Pos, "only DISCARD ALL is supported")
		}
	case first.IsKw("DECLARE"):
		return st, parseDeclare(p, st)
	case first.IsKw("FETCH"):
		return st, parseFetch(p, st)
	case first.IsKw("CLOSE"):
		st.kind = kindClose
		n := p.at(1)
		if n.Kind != sql.PGIdent && n.Kind != sql.PGQIdent {
			return nil, syntaxAt(n, "CLOSE needs a cursor name or ALL")
		}
		st.name = pgIdent(n)
		if n.IsKw("ALL") {
			st.name = ""
		}
	case first.IsKw("COPY"):
		return st, parseCopy(p, st)
	case first.IsKw("SELECT"):
		if isCatalogQuery(toks) {
			st.kind = kindCatalog
		}
		st.rows = true
	default:
		// Every other sluice statement returns rows unless it is one of
		// the statements that change things (SHOW, LIST, DESCRIBE,
		// EXPLAIN, PRINT and queries return rows).
		st.rows = first.Kind == sql.PGIdent && !commandWords[first.Val]
	}
	if st.kind == kindEngine && first.IsKw("SHOW") {
		st.rows = true
	}
	return st, nil
}

// commandWords start the sluice statements that return no rows.
var commandWords = map[string]bool{
	"CREATE": true, "DROP": true, "INSERT": true, "TERMINATE": true, "SET": true, "UNSET": true,
	"DEFINE": true, "UNDEFINE": true, "PAUSE": true, "RESUME": true, "ALTER": true, "RUN": true,
	"ASSERT": true,
}

// isCatalogQuery reports a SELECT for the compatibility layer: one without
// FROM (sluice queries always read a source: SELECT version()), or one that
// reads a pg_catalog or information_schema relation.
func isCatalogQuery(toks []sql.PGToken) bool {
	hasFrom := false
	for i, t := range toks {
		if t.IsKw("FROM") {
			hasFrom = true
		}
		if t.Kind == sql.PGIdent && (t.Val == "PG_CATALOG" || t.Val == "INFORMATION_SCHEMA") &&
			i+1 < len(toks) && toks[i+1].IsOp(".") {
			return true
		}
		if (t.IsKw("FROM") || t.IsKw("JOIN")) && i+1 < len(toks) && toks[i+1].Kind == sql.PGIdent &&
			strings.HasPrefix(toks[i+1].Val, "PG_") {
			return true
		}
	}
	return !hasFrom
}

// tokCursor walks a token slice; past the end it returns PGEOF.
type tokCursor struct {
	toks []sql.PGToken
	i    int
}

func (p *tokCursor) at(k int) sql.PGToken {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return p.toks[len(p.toks)-1]
}
func (p *tokCursor) peek() sql.PGToken { return p.at(0) }
func (p *tokCursor) next() sql.PGToken {
	t := p.peek()
	if p.i < len(p.toks)-1 {
		p.i++
	}
	return t
}
func (p *tokCursor) acceptKw(kw string) bool {
	if p.peek().IsKw(kw) {
		p.i++
		return true
	}
	return false
}

func syntaxAt(t sql.PGToken, msg string) error {
	return sql.Errorf(sql.CodeSyntax, t.Pos, "%s", msg)
}

// pgIdent is an identifier's name with Postgres folding: unquoted names are
// lower case.
func pgIdent(t sql.PGToken) string {
	if t.Kind == sql.PGIdent {
		return strings.ToLower(t.Val)
	}
	return t.Val
}

// settingName reads a (possibly dotted) setting name, or the two-word names
// TIME ZONE and TRANSACTION ISOLATION LEVEL. It returns "all" for ALL and ""
// when there is no name.
func settingName(p *tokCursor) string {
	t := p.peek()
	if t.Kind != sql.PGIdent && t.Kind != sql.PGQIdent {
		return ""
	}
	p.next()
	switch {
	case t.IsKw("TIME") && p.peek().IsKw("ZONE"):
		p.next()
		return "timezone"
	case t.IsKw("TRANSACTION") && p.peek().IsKw("ISOLATION"):
		p.next()
		p.acceptKw("LEVEL")
		return "transaction_isolation"
	}
	name := pgIdent(t)
	for p.peek().IsOp(".") {
		p.next()
		name += "." + pgIdent(p.next())
	}
	return name
}

// parseSet reads SET [SESSION|LOCAL] name {=|TO} value[, ...] | DEFAULT,
// SET TIME ZONE value and SET SESSION CHARACTERISTICS AS TRANSACTION ...
func parseSet(p *tokCursor, st *stmtInfo) error {
	st.kind = kindSet
	p.next()
	if p.peek().IsKw("SESSION") && p.at(1).IsKw("CHARACTERISTICS") {
		st.name = "" // accepted and ignored: sluice has no transactions
		return nil
	}
	if p.peek().IsKw("SESSION") || p.peek().IsKw("LOCAL") {
		p.next()
	}
	if p.peek().IsKw("TRANSACTION") {
		st.name = "" // SET TRANSACTION ...: accepted, there are no transactions
		return nil
	}
	timeZone := p.peek().IsKw("TIME") && p.at(1).IsKw("ZONE")
	st.name = settingName(p)
	if st.name == "" || st.name == "all" {
		return syntaxAt(p.peek(), "SET needs a setting name")
	}
	if !timeZone {
		if !p.peek().IsOp("=") && !p.peek().IsKw("TO") {
			return syntaxAt(p.peek(), "expected = or TO after the setting name")
		}
		p.next()
	}
	if p.peek().IsKw("DEFAULT") || timeZone && p.peek().IsKw("LOCAL") {
		p.next()
		st.value = ""
		return expectEnd(p)
	}
	var parts []string
	for {
		t := p.peek()
		var part []string
		for t.Kind == sql.PGIdent || t.Kind == sql.PGQIdent || t.Kind == sql.PGString ||
			t.Kind == sql.PGNumber || t.IsOp("-") || t.IsOp("+") {
			switch {
			case t.Kind == sql.PGIdent:
				part = append(part, strings.ToLower(t.Val))
			case t.Kind == sql.PGNumber && len(part) == 1 && (part[0] == "-" || part[0] == "+"):
				part[0] += t.Val
			default:
				part = append(part, t.Val)
			}
			p.next()
			t = p.peek()
		}
		if len(part) == 0 {
			return syntaxAt(t, "SET needs a value")
		}
		parts = append(parts, strings.Join(part, " "))
		if !p.peek().IsOp(",") {
			break
		}
		p.next()
	}
	st.value = strings.Join(parts, ", ")
	return expectEnd(p)
}

func expectEnd(p *tokCursor) error {
	if t := p.peek(); t.Kind != sql.PGEOF {
		return syntaxAt(t, "unexpected "+t.Text)
	}
	return nil
}

// parseDeclare reads DECLARE name [BINARY] [ASENSITIVE|INSENSITIVE]
// [[NO] SCROLL] CURSOR [{WITH|WITHOUT} HOLD] FOR query.
func parseDeclare(p *tokCursor, st *stmtInfo) error {
	st.kind = kindDeclare
	p.next()
	n := p.next()
	if n.Kind != sql.PGIdent && n.Kind != sql.PGQIdent {
		return syntaxAt(n, "DECLARE needs a cursor name")
	}
	st.name = pgIdent(n)
	for {
		switch t := p.peek(); {
		case t.IsKw("BINARY"):
			return sql.Errorf(sql.CodeFeatureNotSupported, t.Pos, "binary cursors are not supported")
		case t.IsKw("ASENSITIVE"), t.IsKw("INSENSITIVE"), t.IsKw("NO"), t.IsKw("SCROLL"):
			p.next()
			continue
		}
		break
	}
	if !p.acceptKw("CURSOR") {
		return syntaxAt(p.peek(), "expected CURSOR")
	}
	if p.peek().IsKw("WITH") || p.peek().IsKw("WITHOUT") {
		if p.peek().IsKw("WITH") && p.at(1).IsKw("HOLD") {
			return sql.Errorf(sql.CodeFeatureNotSupported, p.peek().Pos,
				"cursors WITH HOLD are not supported").WithHint("fetch inside a transaction block")
		}
		p.next()
		p.acceptKw("HOLD")
	}
	if !p.acceptKw("FOR") {
		return syntaxAt(p.peek(), "expected FOR")
	}
	q, err := subStatement(st, p.i, len(st.toks)-1)
	if err != nil {
		return err
	}
	if !q.rows || q.kind != kindEngine && q.kind != kindCatalog {
		return syntaxAt(p.peek(), "a cursor needs a query that returns rows")
	}
	st.query = q
	return nil
}

// subStatement classifies the tokens [lo, hi) of st as a statement of its
// own, for the query of DECLARE and COPY.
func subStatement(st *stmtInfo, lo, hi int) (*stmtInfo, error) {
	if lo >= hi {
		return nil, syntaxAt(st.toks[lo], "a query is missing")
	}
	start, end := st.toks[lo].Pos.Offset, st.toks[hi-1].End
	text := st.text[start:end]
	toks, err := sql.PGTokens(text)
	if err != nil {
		return nil, err
	}
	return classifyTokens(text, toks)
}

// parseFetch reads FETCH [NEXT|FORWARD [n|ALL]|n|ALL] [FROM|IN] name.
func parseFetch(p *tokCursor, st *stmtInfo) error {
	st.kind, st.rows, st.count = kindFetch, true, 1
	p.next()
	switch {
	case p.peek().IsKw("NEXT"):
		p.next()
	case p.peek().IsKw("FORWARD"):
		p.next()
		if p.peek().Kind == sql.PGNumber || p.peek().IsKw("ALL") {
			if err := fetchCount(p, st); err != nil {
				return err
			}
		}
	case p.peek().Kind == sql.PGNumber, p.peek().IsKw("ALL"):
		if err := fetchCount(p, st); err != nil {
			return err
		}
	case p.peek().IsKw("PRIOR"), p.peek().IsKw("FIRST"), p.peek().IsKw("LAST"), p.peek().IsKw("ABSOLUTE"),
		p.peek().IsKw("RELATIVE"), p.peek().IsKw("BACKWARD"):
		return sql.Errorf(sql.CodeFeatureNotSupported, p.peek().Pos,
			"cursors over sluice queries only move forward").WithHint("use FETCH FORWARD n")
	}
	if p.peek().IsKw("FROM") || p.peek().IsKw("IN") {
		p.next()
	}
	n := p.next()
	if n.Kind != sql.PGIdent && n.Kind != sql.PGQIdent {
		return syntaxAt(n, "FETCH needs a cursor name")
	}
	st.name = pgIdent(n)
	return expectEnd(p)
}

func fetchCount(p *tokCursor, st *stmtInfo) error {
	t := p.next()
	if t.IsKw("ALL") {
		st.count = -1
		return nil
	}
	n, err := strconv.ParseInt(t.Val, 10, 64)
	if err != nil || n < 0 {
		return syntaxAt(t, "FETCH needs a non-negative row count")
	}
	st.count = n
	return nil
}

// parseCopy reads COPY (query) TO STDOUT [[WITH] (option, ...)] and the old
// COPY ... TO STDOUT [WITH] [CSV] [HEADER] spelling.
func parseCopy(p *tokCursor, st *stmtInfo) error {
	st.kind, st.rows = kindCopy, true
	p.next()
	if !p.peek().IsOp("(") {
		return sql.Errorf(sql.CodeFeatureNotSupported, p.peek().Pos, "COPY supports only (query) TO STDOUT").
			WithHint("write COPY (SELECT * FROM s EMIT CHANGES) TO STDOUT")
	}
	lo := p.i + 1
	depth := 0
	for {
		t := p.next()
		switch {
		case t.Kind == sql.PGEOF:
			return syntaxAt(t, "unbalanced parentheses in COPY")
		case t.IsOp("("):
			depth++
		case t.IsOp(")"):
			depth--
		}
		if depth == 0 {
			break
		}
	}
	q, err := subStatement(st, lo, p.i-1)
	if err != nil {
		return err
	}
	if !q.rows || q.kind != kindEngine && q.kind != kindCatalog {
		return syntaxAt(st.toks[lo], "COPY needs a query that returns rows")
	}
	st.query = q
	if !p.acceptKw("TO") {
		if p.peek().IsKw("FROM") {
			return sql.Errorf(sql.CodeFeatureNotSupported, p.peek().Pos, "COPY FROM is not supported").
				WithHint("produce records into the source's Kafka topic, or use INSERT INTO ... VALUES")
		}
		return syntaxAt(p.peek(), "expected TO STDOUT")
	}
	if !p.acceptKw("STDOUT") {
		return sql.Errorf(sql.CodeFeatureNotSupported, p.peek().Pos, "COPY can only write TO STDOUT").
			WithHint("use psql's \\copy to write a file on the client")
	}
	p.acceptKw("WITH")
	paren := p.peek().IsOp("(")
	if paren {
		p.next()
	}
	for {
		t := p.peek()
		switch {
		case t.IsKw("FORMAT"):
			p.next()
			switch f := p.next(); strings.ToUpper(f.Val) {
			case "CSV":
				st.csv = true
			case "TEXT":
			default:
				return sql.Errorf(sql.CodeFeatureNotSupported, f.Pos, "COPY FORMAT %s is not supported", f.Text).
					WithHint("use FORMAT text or FORMAT csv")
			}
		case t.IsKw("CSV"):
			p.next()
			st.csv = true
		case t.IsKw("HEADER"):
			p.next()
			st.hdr = true
			if v := p.peek(); v.IsKw("TRUE") || v.IsKw("ON") || v.Kind == sql.PGNumber && v.Val == "1" {
				p.next()
			} else if v.IsKw("FALSE") || v.IsKw("OFF") || v.Kind == sql.PGNumber && v.Val == "0" {
				p.next()
				st.hdr = false
			}
		case t.IsOp(","):
			p.next()
		case paren && t.IsOp(")"):
			p.next()
			return expectEnd(p)
		case t.Kind == sql.PGEOF && !paren:
			return nil
		default:
			return sql.Errorf(sql.CodeFeatureNotSupported, t.Pos, "COPY option %s is not supported", t.Text).
				WithHint("COPY supports FORMAT text|csv and HEADER")
		}
	}
}

// Session settings.

// setting is one Postgres setting a session has.
type setting struct {
	name     string // as SHOW ALL prints it
	def      string
	reported bool // sent in ParameterStatus (GUC_REPORT in Postgres)
	readOnly bool
	// check validates a new value and returns its canonical spelling.
	check func(string) (string, bool)
}

// knownSettings are the settings drivers read or set. Others may be SET
// (their values are kept and shown), which is what Postgres does for
// customized options and keeps drivers that set exotic options working.
var knownSettings = []setting{
	{name: "application_name", reported: true},
	{name: "client_encoding", def: "UTF8", reported: true, check: checkEncoding},
	{name: "DateStyle", def: "ISO, MDY", reported: true, check: checkDateStyle},
	{name: "default_transaction_isolation", def: "read committed"},
	{name: "extra_float_digits", def: "1"},
	{name: "integer_datetimes", def: "on", reported: true, readOnly: true},
	{name: "IntervalStyle", def: "postgres", reported: true},
	{name: "is_superuser", def: "off", reported: true, readOnly: true},
	{name: "lc_messages", def: "C"},
	{name: "max_identifier_length", def: "63", readOnly: true},
	{name: "search_path", def: `"$user", public`},
	{name: "server_encoding", def: "UTF8", reported: true, readOnly: true},
	{name: "server_version", def: serverVersion, reported: true, readOnly: true},
	{name: "server_version_num", def: serverVersionNum, readOnly: true},
	{name: "session_authorization", reported: true, readOnly: true},
	{name: "standard_conforming_strings", def: "on", reported: true, check: checkOn},
	{name: "statement_timeout", def: "0"},
	{name: "TimeZone", def: "UTC", reported: true, check: checkTimeZone},
	{name: "transaction_isolation", def: "read committed", readOnly: true},
	{name: "transaction_read_only", def: "off", readOnly: true},
}

var settingByName = func() map[string]*setting {
	m := map[string]*setting{}
	for i := range knownSettings {
		m[strings.ToLower(knownSettings[i].name)] = &knownSettings[i]
	}
	return m
}()

func checkEncoding(v string) (string, bool) {
	switch strings.ToUpper(strings.ReplaceAll(v, "-", "")) {
	case "UTF8", "UNICODE":
		return "UTF8", true
	}
	return "", false
}

func checkDateStyle(v string) (string, bool) {
	if strings.Contains(strings.ToUpper(v), "ISO") || v == "" {
		return "ISO, MDY", true
	}
	return "", false
}

func checkOn(v string) (string, bool) {
	switch strings.ToLower(v) {
	case "on", "true", "1":
		return "on", true
	}
	return "", false
}

func checkTimeZone(v string) (string, bool) {
	switch strings.ToUpper(v) {
	case "UTC", "GMT", "ETC/UTC", "Z", "0", "+0", "00:00", "+00:00", "ZULU", "UCT":
		return "UTC", true
	}
	return "", false
}

// settings holds a session's values of Postgres settings.
type settings struct {
	vals map[string]string // by lower-cased name; absent = default
	user string
	app  string // application_name from the startup packet
}

func newSettings(user, app string) *settings {
	return &settings{vals: map[string]string{}, user: user, app: app}
}

func (s *settings) def(name string) string {
	switch name {
	case "application_name":
		return s.app
	case "session_authorization":
		return s.user
	}
	if k := settingByName[name]; k != nil {
		return k.def
	}
	return ""
}

// get returns a setting's value; ok=false for an unknown setting.
func (s *settings) get(name string) (string, bool) {
	name = strings.ToLower(name)
	if v, ok := s.vals[name]; ok {
		return v, true
	}
	if settingByName[name] != nil {
		return s.def(name), true
	}
	return "", false
}

// set changes a setting ("" restores the default). It returns the new
// value and whether it goes to the client in ParameterStatus. Settings
// Postgres does not know are kept too (Postgres refuses them; drivers that
// set an option of a newer Postgres keep working this way).
func (s *settings) set(name, value string) (newValue string, report bool, err error) {
	name = strings.ToLower(name)
	k := settingByName[name]
	if k != nil && k.readOnly {
		return "", false, sql.Errorf("55P02", sql.Pos{}, "parameter %q cannot be changed", k.name)
	}
	if value == "" {
		delete(s.vals, name)
		return s.def(name), k != nil && k.reported, nil
	}
	if k != nil && k.check != nil {
		v, ok := k.check(value)
		if !ok {
			return "", false, sql.Errorf("22023", sql.Pos{}, "invalid value for parameter %q: %q", k.name, value).
				WithHint("sluice supports only %s", k.def)
		}
		value = v
	}
	s.vals[name] = value
	return value, k != nil && k.reported, nil
}

// reset restores every setting and returns the reported ones that changed.
func (s *settings) reset() [][2]string {
	var changed [][2]string
	for name := range s.vals {
		if k := settingByName[name]; k != nil && k.reported {
			changed = append(changed, [2]string{k.name, s.def(name)})
		}
	}
	s.vals = map[string]string{}
	sort.Slice(changed, func(i, j int) bool { return changed[i][0] < changed[j][0] })
	return changed
}

// all returns every setting (known and set) for SHOW ALL, sorted by name.
func (s *settings) all() [][2]string {
	seen := map[string]bool{}
	var out [][2]string
	for _, k := range knownSettings {
		v, _ := s.get(k.name)
		out = append(out, [2]string{k.name, v})
		seen[strings.ToLower(k.name)] = true
	}
	for name, v := range s.vals {
		if !seen[name] {
			out = append(out, [2]string{name, v})
		}
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i][0]) < strings.ToLower(out[j][0]) })
	return out
}
