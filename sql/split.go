package sql

// Part is one statement of a script: its text without the trailing
// semicolon, and where it starts.
type Part struct {
	Text string
	At   Pos
}

// Split splits a script into statements, respecting comments, quoted strings
// and quoted identifiers.
func Split(script string) ([]Part, error) {
	panic("sql.Split: implemented by the front end")
}
