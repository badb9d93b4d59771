package sql

import "strings"

// Substitute replaces ${name} references in text by the values in vars, as
// ksqlDB does before parsing when ksql.variable.substitution.enable is on.
// Following ksqlDB, references inside string literals and quoted
// identifiers are replaced too (WITH (KAFKA_TOPIC='${topic}') is the common
// use); references inside comments are left alone. Names are matched
// exactly, then case-insensitively. An undefined name is an error at its
// position (42704), and values are inserted verbatim.
func Substitute(text string, vars map[string]string) (string, error) {
	if !strings.Contains(text, "${") {
		return text, nil
	}
	l := newLexer(text)
	var b strings.Builder
	var quote byte // the open quote character, or 0
	for l.off < len(text) {
		c := text[l.off]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '`' || c == '"':
			quote = c
		case c == '-' && l.peekByte(1) == '-' || c == '/' && l.peekByte(1) == '*':
			start := l.off
			if err := l.skipSpaceAndComments(); err != nil {
				return "", err
			}
			b.WriteString(text[start:l.off])
			continue
		}
		if c == '$' && l.peekByte(1) == '{' {
			at := l.pos()
			end := strings.IndexByte(text[l.off:], '}')
			name := ""
			if end > 2 {
				name = text[l.off+2 : l.off+end]
			}
			valid := name != "" && isIdentStart(name[0])
			for i := 0; valid && i < len(name); i++ {
				valid = isIdentChar(name[i]) && name[i] != '@'
			}
			if valid {
				v, ok := vars[name]
				if !ok {
					for k, kv := range vars {
						if strings.EqualFold(k, name) {
							v, ok = kv, true
							break
						}
					}
				}
				if !ok {
					return "", Errorf(CodeUndefinedObject, at, "variable %s is not defined", name).
						WithHint("DEFINE %s = 'value' first", name)
				}
				b.WriteString(v)
				for range end + 1 {
					l.advance()
				}
				continue
			}
		}
		b.WriteByte(c)
		l.off++ // byte-wise copy; positions are only needed at '$', which is ASCII
		if c == '\n' {
			l.line, l.col = l.line+1, 1
		} else if c < 0x80 || c >= 0xC0 {
			l.col++
		}
	}
	return b.String(), nil
}
