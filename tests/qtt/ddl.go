package qtt

import (
	"strconv"
	"strings"

	"github.com/sluicedb/sluice"
	"github.com/sluicedb/sluice/sql"
)

// token is a lexical token of SQL text, as far as the runner needs to look
// into statements (which topics a CREATE declares, whether a SELECT is a
// push query). The engine parses the statements; this only reads them.
type token struct {
	kind byte   // 'w' word, 's' string literal, 'q' quoted identifier, 'p' punctuation
	text string // the word (as written), the unescaped literal or identifier, or the character
}

func sqlTokens(s string) []token {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return out
			}
			i += end + 4
		case c == '\'' || c == '"' || c == '`':
			var b strings.Builder
			i++
			for i < len(s) {
				if s[i] == c {
					if i+1 < len(s) && s[i+1] == c {
						b.WriteByte(c)
						i += 2
						continue
					}
					i++
					break
				}
				b.WriteByte(s[i])
				i++
			}
			kind := byte('q')
			if c == '\'' {
				kind = 's'
			}
			out = append(out, token{kind: kind, text: b.String()})
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9':
			j := i
			for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			out = append(out, token{kind: 'w', text: s[i:j]})
			i = j
		default:
			out = append(out, token{kind: 'p', text: string(c)})
			i++
		}
	}
	return out
}

func (t token) is(word string) bool { return t.kind == 'w' && strings.EqualFold(t.text, word) }

// declaredTopic reports the topic of a CREATE STREAM/TABLE statement that
// declares its columns (not CREATE ... AS SELECT), with the PARTITIONS of
// its WITH clause (0 when absent). The Java harness creates these topics
// before running statements (SPEC 3.4).
func declaredTopic(stmt string) (topic string, partitions int32, ok bool) {
	ts := sqlTokens(stmt)
	i := 0
	next := func(w string) bool {
		if i < len(ts) && ts[i].is(w) {
			i++
			return true
		}
		return false
	}
	if !next("CREATE") {
		return "", 0, false
	}
	if next("OR") && !next("REPLACE") {
		return "", 0, false
	}
	next("SOURCE")
	if !next("STREAM") && !next("TABLE") {
		return "", 0, false
	}
	if next("IF") {
		next("NOT")
		next("EXISTS")
	}
	i++ // the name
	if i >= len(ts) || ts[i].kind != 'p' || ts[i].text != "(" {
		return "", 0, false
	}
	// Skip the column list to find WITH (...).
	depth := 0
	for ; i < len(ts); i++ {
		if ts[i].kind == 'p' {
			switch ts[i].text {
			case "(", "<":
				depth++
			case ")", ">":
				depth--
			}
		}
		if depth == 0 {
			i++
			break
		}
	}
	for ; i < len(ts); i++ {
		if ts[i].is("AS") {
			return "", 0, false
		}
		if !ts[i].is("WITH") {
			continue
		}
		for j := i + 1; j+2 < len(ts); j++ {
			if ts[j].kind != 'w' || ts[j+1].text != "=" {
				continue
			}
			v := ts[j+2]
			switch strings.ToUpper(ts[j].text) {
			case "KAFKA_TOPIC":
				topic = v.text
			case "PARTITIONS":
				if n, err := strconv.ParseInt(v.text, 10, 32); err == nil {
					partitions = int32(n)
				}
			}
		}
		break
	}
	return topic, partitions, topic != ""
}

// isPushQuery reports a SELECT with EMIT CHANGES or EMIT FINAL.
func isPushQuery(stmt string) bool {
	ts := sqlTokens(stmt)
	for i := 0; i+1 < len(ts); i++ {
		if ts[i].is("EMIT") && (ts[i+1].is("CHANGES") || ts[i+1].is("FINAL")) {
			return true
		}
	}
	return false
}

// pullsFromTable reports whether stmt is a pull query (no EMIT) whose FROM
// names a table among sources.
func pullsFromTable(stmt string, sources []*sluice.Source) bool {
	if isPushQuery(stmt) {
		return false
	}
	ts := sqlTokens(stmt)
	for i := 0; i+1 < len(ts); i++ {
		if !ts[i].is("FROM") {
			continue
		}
		name := ts[i+1].text
		if ts[i+1].kind == 'w' {
			name = strings.ToUpper(name)
		}
		for _, s := range sources {
			if s.Name == name {
				return s.Kind == sql.KindTable
			}
		}
		return false
	}
	return false
}
