package planner

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/sluicedb/sluice/exec/codec"
	"github.com/sluicedb/sluice/sql"
)

// WITH property names (upper case, as the front end delivers them).
const (
	withKafkaTopic      = "KAFKA_TOPIC"
	withKeyFormat       = "KEY_FORMAT"
	withValueFormat     = "VALUE_FORMAT"
	withFormat          = "FORMAT"
	withPartitions      = "PARTITIONS"
	withReplicas        = "REPLICAS"
	withTimestamp       = "TIMESTAMP"
	withTimestampFormat = "TIMESTAMP_FORMAT"
	withValueDelimiter  = "VALUE_DELIMITER"
	withKeyDelimiter    = "KEY_DELIMITER"
	withWrapSingle      = "WRAP_SINGLE_VALUE"
	withKeySchemaID     = "KEY_SCHEMA_ID"
	withValueSchemaID   = "VALUE_SCHEMA_ID"
	withWindowType      = "WINDOW_TYPE"
	withWindowSize      = "WINDOW_SIZE"
	withRetentionMs     = "RETENTION_MS"
	withQueryID         = "QUERY_ID"
)

// Which statements accept which properties.
var (
	createSourceProps = []string{withKafkaTopic, withKeyFormat, withValueFormat, withFormat,
		withPartitions, withReplicas, withTimestamp, withTimestampFormat, withValueDelimiter,
		withKeyDelimiter, withWrapSingle, withKeySchemaID, withValueSchemaID, withWindowType,
		withWindowSize, withRetentionMs}
	createAsProps = []string{withKafkaTopic, withKeyFormat, withValueFormat, withFormat,
		withPartitions, withReplicas, withTimestamp, withTimestampFormat, withValueDelimiter,
		withKeyDelimiter, withWrapSingle, withKeySchemaID, withValueSchemaID, withRetentionMs}
	insertIntoProps = []string{withQueryID}
)

// withProps is a checked WITH clause: every key is one the statement accepts.
type withProps struct {
	ps sql.Properties
	at sql.Pos // the statement, for errors about missing properties
}

func checkWith(ps sql.Properties, valid []string, stmtAt sql.Pos) (withProps, error) {
	for _, p := range ps {
		found := false
		for _, v := range valid {
			if p.Key == v {
				found = true
				break
			}
		}
		if !found {
			names := append([]string(nil), valid...)
			sort.Strings(names)
			return withProps{}, sql.Errorf(sql.CodeInvalidParameter, p.At,
				"invalid config variable in the WITH clause: %s", p.Key).
				WithHint("valid properties are %s", strings.Join(names, ", "))
		}
		if p.Value == nil {
			return withProps{}, sql.Errorf(sql.CodeInvalidParameter, p.At, "property %s has no value", p.Key)
		}
	}
	return withProps{ps: ps, at: stmtAt}, nil
}

func (w withProps) get(key string) *sql.Property { return w.ps.Get(key) }

func (w withProps) has(key string) bool { return w.ps.Get(key) != nil }

// str returns a property's value as text. Strings and numbers are both
// accepted, as ksqlDB's config parser does.
func (w withProps) str(key string) (string, sql.Pos, bool) {
	p := w.ps.Get(key)
	if p == nil {
		return "", sql.Pos{}, false
	}
	return p.Value.Text, p.At, true
}

func (w withProps) integer(key string, bits int) (int64, bool, error) {
	p := w.ps.Get(key)
	if p == nil {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(p.Value.Text), 10, bits)
	if err != nil || (p.Value.Kind != sql.LitInt && p.Value.Kind != sql.LitString) {
		return 0, false, sql.Errorf(sql.CodeInvalidParameter, p.At,
			"invalid value for %s: %s", key, p.Value.Text).
			WithHint("%s takes an integer", key)
	}
	return n, true, nil
}

func (w withProps) boolean(key string) (val, ok bool, err error) {
	p := w.ps.Get(key)
	if p == nil {
		return false, false, nil
	}
	switch strings.ToLower(strings.TrimSpace(p.Value.Text)) {
	case "true":
		return true, true, nil
	case "false":
		return false, true, nil
	}
	return false, false, sql.Errorf(sql.CodeInvalidParameter, p.At,
		"invalid value for %s: %s", key, p.Value.Text).WithHint("%s takes true or false", key)
}

// formats works out KEY_FORMAT and VALUE_FORMAT from FORMAT, KEY_FORMAT and
// VALUE_FORMAT. Empty results mean "not given".
func (w withProps) formats() (key, value string, keyAt, valAt sql.Pos, err error) {
	f, fAt, hasF := w.str(withFormat)
	k, kAt, hasK := w.str(withKeyFormat)
	v, vAt, hasV := w.str(withValueFormat)
	if hasF && hasK {
		return "", "", kAt, vAt, sql.Errorf(sql.CodeInvalidParameter, kAt,
			"Cannot supply both 'KEY_FORMAT' and 'FORMAT' properties, as 'FORMAT' sets both key and value formats").
			WithHint("either use just 'FORMAT', or use 'KEY_FORMAT' and 'VALUE_FORMAT'")
	}
	if hasF && hasV {
		return "", "", kAt, vAt, sql.Errorf(sql.CodeInvalidParameter, vAt,
			"Cannot supply both 'VALUE_FORMAT' and 'FORMAT' properties, as 'FORMAT' sets both key and value formats").
			WithHint("either use just 'FORMAT', or use 'KEY_FORMAT' and 'VALUE_FORMAT'")
	}
	if hasF {
		f = strings.ToUpper(strings.TrimSpace(f))
		return f, f, fAt, fAt, nil
	}
	return strings.ToUpper(strings.TrimSpace(k)), strings.ToUpper(strings.TrimSpace(v)), kAt, vAt, nil
}

// delimiter parses VALUE_DELIMITER / KEY_DELIMITER: one character, or TAB
// or SPACE.
func (w withProps) delimiter(key string) (byte, bool, error) {
	s, at, ok := w.str(key)
	if !ok {
		return 0, false, nil
	}
	switch strings.ToUpper(s) {
	case "TAB":
		return '\t', true, nil
	case "SPACE":
		return ' ', true, nil
	}
	if strings.TrimSpace(s) == "" {
		// ksqlDB trims the value, so a literal space or tab is "empty":
		// they must be written as SPACE or TAB.
		return 0, false, sql.Errorf(sql.CodeInvalidParameter, at,
			"Configuration %s is invalid: Delimiter cannot be empty, if you meant to have a tab or space for delimiter, please use the special values 'TAB' or 'SPACE'", key).
			WithHint("Example valid value: ';'")
	}
	if len([]rune(s)) != 1 {
		return 0, false, sql.Errorf(sql.CodeInvalidParameter, at,
			"Configuration %s is invalid: Invalid delimiter value: '%s'. Delimiter must be a single character or TAB,SPACE", key, s).
			WithHint("Example valid value: ';'")
	}
	if len(s) != 1 {
		// The DELIMITED codec splits on a byte; a multi-byte UTF-8
		// character would need a rune-aware splitter.
		return 0, false, sql.Errorf(sql.CodeFeatureNotSupported, at,
			"Configuration %s is invalid: non-ASCII delimiter '%s' is not supported yet", key, s).
			WithHint("use an ASCII character, TAB or SPACE")
	}
	return s[0], true, nil
}

// checkDelimiters validates KEY_DELIMITER and VALUE_DELIMITER on their own
// and against an explicitly named format. ksqlDB checks the WITH clause
// before the column list, so these errors come first; formats taken from
// the defaults are checked later, in bindFormats.
func (w withProps) checkDelimiters() error {
	kf, vf, _, _, err := w.formats()
	if err != nil {
		return nil // reported with the formats
	}
	for _, side := range []struct{ key, format string }{{withKeyDelimiter, kf}, {withValueDelimiter, vf}} {
		_, ok, err := w.delimiter(side.key)
		if err != nil {
			return err
		}
		if ok && side.format != "" && side.format != codec.Delimited {
			return sql.Errorf(sql.CodeInvalidParameter, w.get(side.key).At,
				"%s does not support the following configs: [delimiter]", side.format).
				WithHint("%s applies to the DELIMITED format only", side.key)
		}
	}
	return nil
}

// topicName folds TIMESTAMP's column name the way ksqlDB does: the value
// is an identifier, upper-cased unless quoted.
func foldIdentText(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && (s[0] == '`' && s[len(s)-1] == '`' || s[0] == '"' && s[len(s)-1] == '"') {
		return s[1 : len(s)-1]
	}
	return strings.ToUpper(s)
}

// parseDuration parses WINDOW_SIZE: '<n> <unit>', unit with or without the
// trailing S.
// durationProblem says why parseDuration rejects s, in ksqlDB's words.
func durationProblem(s string) string {
	reason := "Duration must be positive"
	fs := strings.Fields(s)
	switch {
	case len(fs) != 2:
		reason = fmt.Sprintf("Expected 2 tokens, got: %d", len(fs))
	case !isDigits(fs[0]):
		reason = fmt.Sprintf("Not numeric: '%s'", fs[0])
	default:
		if _, ok := parseDuration("1 " + fs[1]); !ok {
			reason = fmt.Sprintf("Unknown time unit: '%s'", strings.ToUpper(fs[1]))
		}
	}
	return fmt.Sprintf("Invalid duration: '%s'. %s", s, reason)
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func parseDuration(s string) (int64, bool) {
	fs := strings.Fields(s)
	if len(fs) != 2 {
		return 0, false
	}
	n, err := strconv.ParseInt(fs[0], 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	unit := strings.TrimSuffix(strings.ToUpper(fs[1]), "S")
	var ms int64
	switch unit {
	case "MILLISECOND":
		ms = 1
	case "SECOND":
		ms = 1000
	case "MINUTE":
		ms = 60 * 1000
	case "HOUR":
		ms = 3600 * 1000
	case "DAY":
		ms = 24 * 3600 * 1000
	default:
		return 0, false
	}
	return n * ms, true
}
