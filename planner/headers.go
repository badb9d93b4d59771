package planner

import (
	"github.com/sluicedb/sluice/exec"
	"github.com/sluicedb/sluice/exec/expr"
)

// hiddenHeadersName names the hidden column that carries each input
// record's Kafka headers through a persistent query to its sink. Like
// hiddenTimeName it cannot clash with a SQL name, and it is found by name
// only among hidden columns.
const hiddenHeadersName = "$HEADERS"

// addHeadersColumn makes a single-stage persistent query copy every input
// record's headers to the record it writes, as Kafka Streams does for a
// topology of stateless operators (ksqlDB's tests expect them on the
// output, and the absence of headers is checked as strictly as their
// presence). The scan gets a hidden column with all headers of the record
// (decoded like a HEADERS column, see sourceSpec), and root, the
// projection that addTimeColumn returned, passes it on after the hidden
// row time; addSink then writes it as the records' headers.
func addHeadersColumn(sp *selectPlan, root Node) Node {
	proj := root.(*Project)
	scan := sp.scan
	idx := len(scan.Cols)
	scan.Cols = append(scan.Cols, OutCol{Name: hiddenHeadersName, Type: exec.HeadersType, Pseudo: true, Hidden: true})
	p := &Project{Input: proj.Input, Exprs: append([]expr.Node(nil), proj.Exprs...),
		Cols: append(append([]OutCol(nil), proj.Cols...), OutCol{Name: hiddenHeadersName, Type: exec.HeadersType, Hidden: true})}
	flatMapShift(p, idx)
	p.Exprs = append(p.Exprs, &expr.Col{Index: idx, Name: hiddenHeadersName, Type: exec.HeadersType})
	return p
}

// isHiddenHeaders reports whether c is the hidden headers column.
func isHiddenHeaders(c OutCol) bool {
	return c.Hidden && c.Name == hiddenHeadersName
}
