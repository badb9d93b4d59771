package sql

// Part is one statement of a script: its text without the trailing
// semicolon, and where it starts.
type Part struct {
	Text string
	At   Pos
}

// Split splits a script into statements at top-level semicolons, respecting
// comments, quoted strings and quoted identifiers. A part's text runs from
// its first token to the end of its last token, so comments before a
// statement and the semicolon after it are not included. Empty statements
// (";;" or a script of comments only) are skipped. An unterminated string,
// quoted identifier or block comment is a 42601 error at its opening quote.
func Split(script string) ([]Part, error) {
	toks, err := lexAll(script)
	if err != nil {
		return nil, err
	}
	var parts []Part
	for _, r := range splitTokens(toks) {
		parts = append(parts, Part{Text: script[toks[r.lo].Pos.Offset:toks[r.hi-1].End], At: toks[r.lo].Pos})
	}
	return parts, nil
}

// tokRange is a half-open range [lo, hi) of a token slice.
type tokRange struct{ lo, hi int }

// splitTokens groups tokens into non-empty statements separated by ";".
// The trailing tkEOF token is never part of a statement.
func splitTokens(toks []token) []tokRange {
	var out []tokRange
	lo := 0
	for i, t := range toks {
		if t.Kind == tkEOF || t.isOp(";") {
			if i > lo {
				out = append(out, tokRange{lo, i})
			}
			lo = i + 1
		}
	}
	return out
}
