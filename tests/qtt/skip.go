package qtt

import (
	"sort"
	"strings"
)

// schemaRegistryFormats are the formats that need a schema registry (or, for
// PROTOBUF_NOSR, a Protobuf schema), which sluice does not support yet.
var schemaRegistryFormats = map[string]bool{
	"AVRO": true, "PROTOBUF": true, "PROTOBUF_NOSR": true, "JSON_SR": true,
}

// testOnlyFunctions are defined only in ksqlDB's Java test code (SPEC 3.11).
var testOnlyFunctions = map[string]bool{
	"TEST_UDF": true, "TEST_UDTF": true, "TEST_UDAF": true, "VAR_ARG": true,
	"MID_VAR_ARG": true, "GENERIC_VAR_ARG": true, "OBJ_COL_ARG": true,
	"MULTI_ARG": true, "FOUR_ARG": true, "FIVE_ARG": true,
	"WHENCONDITION": true, "WHENRESULT": true, "THROWING_UDTF": true,
}

// SkipReason returns why c cannot run against sluice today, or "".
func (c *Case) SkipReason() string {
	if c.Test.Enabled != nil && !*c.Test.Enabled {
		return "disabled in the test file"
	}
	formats := map[string]bool{}
	for _, s := range c.Statements {
		for _, lit := range sqlStringLiterals(s) {
			if u := strings.ToUpper(lit); schemaRegistryFormats[u] {
				formats[u] = true
			}
		}
	}
	for k, v := range c.Properties {
		if strings.HasPrefix(k, "ksql.persistence.default.format.") && schemaRegistryFormats[strings.ToUpper(v)] {
			formats[strings.ToUpper(v)] = true
		}
	}
	if len(formats) > 0 {
		return "needs schema-registry format " + strings.Join(sortedKeys(formats), ", ")
	}
	fns := map[string]bool{}
	for _, s := range c.Statements {
		for _, f := range sqlCalledFunctions(s) {
			u := strings.ToUpper(f)
			if testOnlyFunctions[u] || strings.HasPrefix(u, "BAD_") {
				fns[u] = true
			}
		}
	}
	if len(fns) > 0 {
		return "uses ksqlDB test-only function " + strings.Join(sortedKeys(fns), ", ")
	}
	return ""
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// sqlScan walks SQL text and calls lit for each single-quoted string literal
// (unescaped) and word for each unquoted identifier-like word together with
// the next significant character after it (0 at the end). Comments, quoted
// identifiers and backquoted identifiers are skipped.
func sqlScan(s string, lit func(string), word func(w string, next byte)) {
	isWord := func(c byte) bool {
		return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	nextSignificant := func(i int) byte {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			i++
		}
		if i < len(s) {
			return s[i]
		}
		return 0
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\'':
			var b strings.Builder
			i++
			for i < len(s) {
				if s[i] == '\'' {
					if i+1 < len(s) && s[i+1] == '\'' {
						b.WriteByte('\'')
						i += 2
						continue
					}
					i++
					break
				}
				b.WriteByte(s[i])
				i++
			}
			if lit != nil {
				lit(b.String())
			}
		case c == '"' || c == '`':
			end := strings.IndexByte(s[i+1:], c)
			if end < 0 {
				return
			}
			i += end + 2
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			end := strings.IndexByte(s[i:], '\n')
			if end < 0 {
				return
			}
			i += end
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return
			}
			i += end + 4
		case isWord(c):
			j := i
			for j < len(s) && isWord(s[j]) {
				j++
			}
			if word != nil {
				word(s[i:j], nextSignificant(j))
			}
			i = j
		default:
			i++
		}
	}
}

// sqlStringLiterals returns the string literals of SQL text.
func sqlStringLiterals(s string) []string {
	var out []string
	sqlScan(s, func(l string) { out = append(out, l) }, nil)
	return out
}

// sqlCalledFunctions returns the words of SQL text that are followed by "(".
func sqlCalledFunctions(s string) []string {
	var out []string
	sqlScan(s, nil, func(w string, next byte) {
		if next == '(' {
			out = append(out, w)
		}
	})
	return out
}

// firstWord returns the first keyword of a statement, upper-cased.
func firstWord(s string) string {
	var first string
	sqlScan(s, nil, func(w string, _ byte) {
		if first == "" {
			first = strings.ToUpper(w)
		}
	})
	return first
}
