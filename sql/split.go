package sql

// Part is one statement of a script: its text without the trailing
// semicolon, and where it starts.
type Part struct {
	Text string
	At   Pos
}
