package sql

import (
	"strings"
	"unicode/utf8"
)

// This file is the token API for the Postgres-compatibility layer of the
// wire server (package server). Postgres clients send text that is not
// sluice SQL: psql's catalog queries use OPERATOR(pg_catalog.~), !~,
// E'...' strings and :: casts, drivers send SET and SHOW of Postgres
// settings, BEGIN, DECLARE ... CURSOR. The server recognises and evaluates
// those itself, on tokens from PGTokens, and passes everything else on to the
// engine unchanged. Keeping the lexer here means there is one definition of
// what a string, a comment or an identifier is, and no regular expression
// ever looks at SQL text.

// PGTokenKind classifies a PGToken.
type PGTokenKind uint8

// Kinds of PGToken.
const (
	PGEOF    PGTokenKind = iota
	PGIdent              // unquoted identifier or keyword; Val is upper-cased
	PGQIdent             // "quoted" or `quoted` identifier; Val is verbatim
	PGString             // '...' or E'...'; Val is unescaped
	PGNumber             // 1, 1.5, 1e3; Val is the text
	PGParam              // $1; Val is the digits
	PGOp                 // operator or punctuation; Val is its text
)

// PGToken is one token of Postgres-flavoured SQL text.
type PGToken struct {
	Kind PGTokenKind
	Text string // the exact source slice
	Val  string
	Pos  Pos // where the token starts
	End  int // byte offset just past the token
}

// IsKw reports whether t is the unquoted keyword kw (given in upper case).
func (t PGToken) IsKw(kw string) bool { return t.Kind == PGIdent && t.Val == kw }

// IsOp reports whether t is the operator op.
func (t PGToken) IsOp(op string) bool { return t.Kind == PGOp && t.Val == op }

// pgOperators are the operators Postgres text uses that sluice SQL does not,
// longest first. The rest come from the sluice lexer.
var pgOperators = []string{"!~~*", "!~~", "!~*", "~~*", "!~", "~*", "~~", "~", "^", "&&", "&", "#", "@>", "<@", "@", "?", "!"}

// PGTokens tokenizes Postgres-flavoured SQL. It accepts everything the
// sluice lexer accepts, plus E” strings with backslash escapes and the
// pattern-match operators. The last token is always PGEOF. Errors are
// *Error with a position, like the sluice lexer's.
func PGTokens(src string) ([]PGToken, error) {
	l := newLexer(src)
	var out []PGToken
	for {
		if err := l.skipSpaceAndComments(); err != nil {
			return nil, err
		}
		start := l.pos()
		if l.off >= len(l.src) {
			return append(out, PGToken{Kind: PGEOF, Pos: start, End: l.off}), nil
		}
		c := l.src[l.off]
		if (c == 'E' || c == 'e') && l.peekByte(1) == '\'' {
			l.advance()
			s, err := l.escapedString(start)
			if err != nil {
				return nil, err
			}
			out = append(out, PGToken{Kind: PGString, Text: src[start.Offset:l.off], Val: s, Pos: start, End: l.off})
			continue
		}
		if op := pgOperator(src[l.off:]); op != "" {
			for range len(op) {
				l.advance()
			}
			out = append(out, PGToken{Kind: PGOp, Text: op, Val: op, Pos: start, End: l.off})
			continue
		}
		t, err := l.next()
		if err != nil {
			return nil, err
		}
		pt := PGToken{Text: t.Text, Val: t.Val, Pos: t.Pos, End: t.End}
		switch t.Kind {
		case tkIdent:
			pt.Kind = PGIdent
		case tkQIdent:
			pt.Kind = PGQIdent
		case tkString:
			pt.Kind = PGString
		case tkInt, tkDecimal, tkDouble:
			pt.Kind = PGNumber
		case tkParam:
			pt.Kind = PGParam
		case tkVar:
			// ${name} means nothing to Postgres; keep it as an operator
			// token so callers reject it where it matters.
			pt.Kind = PGOp
		default:
			pt.Kind = PGOp
		}
		out = append(out, pt)
	}
}

// pgOperator returns the Postgres-only operator s starts with, or "". "!="
// and "||" are left to the sluice lexer.
func pgOperator(s string) string {
	if strings.HasPrefix(s, "!=") || strings.HasPrefix(s, "||") {
		return ""
	}
	if strings.HasPrefix(s, "|") {
		return "|"
	}
	for _, op := range pgOperators {
		if strings.HasPrefix(s, op) {
			return op
		}
	}
	return ""
}

// escapedString lexes the quoted part of an E'...' string: backslash escapes
// as Postgres defines them (\n, \t, \b, \f, \r, \\, \', octal and \xHH) and
// ” for a quote.
func (l *lexer) escapedString(start Pos) (string, error) {
	l.advance() // the opening quote
	var b strings.Builder
	for {
		if l.off >= len(l.src) {
			return "", Errorf(CodeSyntax, start, "unterminated string literal").
				WithHint("close the string with '")
		}
		c := l.src[l.off]
		switch {
		case c == '\'' && l.peekByte(1) == '\'':
			b.WriteByte('\'')
			l.advance()
			l.advance()
		case c == '\'':
			l.advance()
			return b.String(), nil
		case c == '\\' && l.off+1 < len(l.src):
			l.advance()
			e := l.src[l.off]
			l.advance()
			switch e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'r':
				b.WriteByte('\r')
			case 'x':
				v, n := 0, 0
				for n < 2 && isHex(l.peekByte(0)) {
					v = v*16 + hexVal(l.peekByte(0))
					l.advance()
					n++
				}
				if n == 0 {
					b.WriteByte('x')
				} else {
					b.WriteByte(byte(v))
				}
			case '0', '1', '2', '3', '4', '5', '6', '7':
				v := int(e - '0')
				for n := 1; n < 3 && l.peekByte(0) >= '0' && l.peekByte(0) <= '7'; n++ {
					v = v*8 + int(l.peekByte(0)-'0')
					l.advance()
				}
				b.WriteByte(byte(v))
			default:
				b.WriteByte(e)
			}
		default:
			r, n := utf8.DecodeRuneInString(l.src[l.off:])
			if r == utf8.RuneError && n == 1 {
				return "", Errorf(CodeSyntax, l.pos(), "invalid UTF-8 in string literal").
					WithHint("SQL text must be UTF-8")
			}
			b.WriteString(l.src[l.off : l.off+n])
			l.advance()
		}
	}
}

func isHex(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func hexVal(c byte) int {
	switch {
	case isDigit(c):
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return int(c-'A') + 10
}
