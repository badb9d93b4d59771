package sql

import (
	"strings"
	"unicode/utf8"
)

// tokKind classifies a token.
type tokKind uint8

const (
	tkEOF     tokKind = iota
	tkIdent           // unquoted identifier or keyword; Val is upper-cased
	tkQIdent          // `quoted` or "quoted" identifier; Val is verbatim, unescaped
	tkString          // 'string'; Val is unescaped
	tkInt             // 123
	tkDecimal         // 1.5, 1., .5
	tkDouble          // 1e3, 1.5E-2
	tkParam           // $1; Val is the digits
	tkVar             // ${name}; Val is the name
	tkOp              // punctuation and operators; Val is the operator text
)

// token is one lexical token. Text is the exact source slice, so that
// literals keep their written form.
type token struct {
	Kind tokKind
	Text string
	Val  string
	Pos  Pos
	End  int // byte offset just past the token
}

// isKw reports whether t is the unquoted keyword kw (upper case).
func (t token) isKw(kw string) bool { return t.Kind == tkIdent && t.Val == kw }

// isOp reports whether t is the operator op.
func (t token) isOp(op string) bool { return t.Kind == tkOp && t.Val == op }

// describe renders t for error messages.
func (t token) describe() string {
	switch t.Kind {
	case tkEOF:
		return "end of input"
	case tkString:
		return "'" + strings.ReplaceAll(t.Val, "'", "''") + "'"
	}
	return "'" + t.Text + "'"
}

// lexer turns text into tokens. It tracks line and rune column as it goes
// so that every token carries its position in the original text.
type lexer struct {
	src  string
	off  int
	line int
	col  int
}

func newLexer(src string) *lexer { return &lexer{src: src, line: 1, col: 1} }

func (l *lexer) pos() Pos { return Pos{Offset: l.off, Line: l.line, Col: l.col} }

// advance moves past one rune, updating line and column.
func (l *lexer) advance() {
	if l.off >= len(l.src) {
		return
	}
	r, n := utf8.DecodeRuneInString(l.src[l.off:])
	l.off += n
	if r == '\n' {
		l.line++
		l.col = 1
	} else {
		l.col++
	}
}

func (l *lexer) peekByte(k int) byte {
	if l.off+k < len(l.src) {
		return l.src[l.off+k]
	}
	return 0
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func isIdentChar(c byte) bool { return isIdentStart(c) || isDigit(c) || c == '@' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// operators, longest first so that "->" wins over "-".
var operators = []string{
	"->", "=>", ":=", "::", "||", "<>", "!=", "<=", ">=",
	"<", ">", "=", "+", "-", "*", "/", "%", "(", ")", "[", "]", ",", ".", ";",
}

// lexAll tokenizes the whole text. The final token is always tkEOF, placed
// just past the last byte.
func lexAll(src string) ([]token, error) {
	l := newLexer(src)
	var toks []token
	for {
		t, err := l.next()
		if err != nil {
			return nil, err
		}
		toks = append(toks, t)
		if t.Kind == tkEOF {
			return toks, nil
		}
	}
}

// skipSpaceAndComments skips whitespace and both comment forms.
func (l *lexer) skipSpaceAndComments() error {
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			l.advance()
		case c == '-' && l.peekByte(1) == '-':
			for l.off < len(l.src) && l.src[l.off] != '\n' {
				l.advance()
			}
		case c == '/' && l.peekByte(1) == '*':
			start := l.pos()
			l.advance()
			l.advance()
			for {
				if l.off >= len(l.src) {
					return Errorf(CodeSyntax, start, "unterminated comment").
						WithHint("close the comment with */")
				}
				if l.src[l.off] == '*' && l.peekByte(1) == '/' {
					l.advance()
					l.advance()
					break
				}
				l.advance()
			}
		default:
			return nil
		}
	}
	return nil
}

// next returns the next token.
func (l *lexer) next() (token, error) {
	if err := l.skipSpaceAndComments(); err != nil {
		return token{}, err
	}
	start := l.pos()
	if l.off >= len(l.src) {
		return token{Kind: tkEOF, Pos: start, End: l.off}, nil
	}
	c := l.src[l.off]
	mk := func(k tokKind, val string) token {
		return token{Kind: k, Text: l.src[start.Offset:l.off], Val: val, Pos: start, End: l.off}
	}
	switch {
	case isIdentStart(c):
		for l.off < len(l.src) && isIdentChar(l.src[l.off]) {
			l.advance()
		}
		return mk(tkIdent, strings.ToUpper(l.src[start.Offset:l.off])), nil
	case isDigit(c) || c == '.' && isDigit(l.peekByte(1)):
		return l.number(start)
	case c == '\'':
		s, err := l.quoted('\'', start, "string literal", "close the string with ' (write '' for a quote inside it)")
		if err != nil {
			return token{}, err
		}
		return mk(tkString, s), nil
	case c == '`' || c == '"':
		s, err := l.quoted(c, start, "quoted identifier", "close the identifier with "+string(c))
		if err != nil {
			return token{}, err
		}
		if s == "" {
			return token{}, Errorf(CodeSyntax, start, "empty quoted identifier").
				WithHint("an identifier needs at least one character")
		}
		return mk(tkQIdent, s), nil
	case c == '$':
		if l.peekByte(1) == '{' {
			l.advance()
			l.advance()
			nameStart := l.off
			for l.off < len(l.src) && isIdentChar(l.src[l.off]) {
				l.advance()
			}
			name := l.src[nameStart:l.off]
			if l.off >= len(l.src) || l.src[l.off] != '}' || name == "" {
				return token{}, Errorf(CodeSyntax, start, "malformed variable reference").
					WithHint("write a variable reference as ${name}")
			}
			l.advance()
			return mk(tkVar, name), nil
		}
		if isDigit(l.peekByte(1)) {
			l.advance()
			for l.off < len(l.src) && isDigit(l.src[l.off]) {
				l.advance()
			}
			return mk(tkParam, l.src[start.Offset+1:l.off]), nil
		}
	}
	for _, op := range operators {
		if strings.HasPrefix(l.src[l.off:], op) {
			for range len(op) {
				l.advance()
			}
			return mk(tkOp, op), nil
		}
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.off:])
	return token{}, Errorf(CodeSyntax, start, "unexpected character %q", r).
		WithHint("quote identifiers that contain special characters with backticks")
}

// number lexes an integer, decimal or double literal, or a digit identifier
// such as 1abc.
func (l *lexer) number(start Pos) (token, error) {
	kind := tkInt
	for l.off < len(l.src) && isDigit(l.src[l.off]) {
		l.advance()
	}
	if l.off < len(l.src) && l.src[l.off] == '.' {
		kind = tkDecimal
		l.advance()
		for l.off < len(l.src) && isDigit(l.src[l.off]) {
			l.advance()
		}
	}
	if c := l.peekByte(0); c == 'e' || c == 'E' {
		save := *l
		l.advance()
		if c := l.peekByte(0); c == '+' || c == '-' {
			l.advance()
		}
		if isDigit(l.peekByte(0)) {
			kind = tkDouble
			for l.off < len(l.src) && isDigit(l.src[l.off]) {
				l.advance()
			}
		} else {
			*l = save
		}
	}
	if kind != tkDecimal && l.off < len(l.src) && isIdentChar(l.src[l.off]) {
		// A digit identifier (1abc): re-read from the start as an identifier.
		*l = lexer{src: l.src, off: start.Offset, line: start.Line, col: start.Col}
		for l.off < len(l.src) && isIdentChar(l.src[l.off]) {
			l.advance()
		}
		text := l.src[start.Offset:l.off]
		return token{Kind: tkIdent, Text: text, Val: strings.ToUpper(text), Pos: start, End: l.off}, nil
	}
	text := l.src[start.Offset:l.off]
	return token{Kind: kind, Text: text, Val: text, Pos: start, End: l.off}, nil
}

// quoted lexes text between quote characters q, where a doubled q stands
// for one q. It returns the unescaped content.
func (l *lexer) quoted(q byte, start Pos, what, hint string) (string, error) {
	l.advance()
	var b strings.Builder
	for {
		if l.off >= len(l.src) {
			return "", Errorf(CodeSyntax, start, "unterminated %s", what).WithHint("%s", hint)
		}
		c := l.src[l.off]
		if c == q {
			if l.peekByte(1) == q {
				b.WriteByte(q)
				l.advance()
				l.advance()
				continue
			}
			l.advance()
			return b.String(), nil
		}
		r, n := utf8.DecodeRuneInString(l.src[l.off:])
		if r == utf8.RuneError && n == 1 {
			return "", Errorf(CodeSyntax, l.pos(), "invalid UTF-8 in %s", what).
				WithHint("SQL text must be UTF-8")
		}
		b.WriteString(l.src[l.off : l.off+n])
		l.advance()
	}
}
