package exec

import "fmt"

// BuildPipeline chains the operators of a plan (planner.Plan.Ops:
// FilterSpec, ProjectSpec, FlatMapSpec and the stateful specs of
// aggspecs.go, as values or pointers) in order in front of tail, and
// returns the head: the operator the task pushes into.
//
// Every operator of the chain forwards Open, Watermark, Flush and Close to
// the next one, so the task drives the whole chain through its head.
func BuildPipeline(ops []any, tail Operator) (Operator, error) {
	if tail == nil {
		return nil, fmt.Errorf("pipeline: no tail operator")
	}
	head := tail
	for i := len(ops) - 1; i >= 0; i-- {
		var err error
		switch op := ops[i].(type) {
		case FilterSpec:
			head, err = NewFilter(op, head)
		case *FilterSpec:
			head, err = NewFilter(*op, head)
		case ProjectSpec:
			head, err = NewProject(op, head)
		case *ProjectSpec:
			head, err = NewProject(*op, head)
		case FlatMapSpec:
			head, err = NewFlatMap(op, head)
		case *FlatMapSpec:
			head, err = NewFlatMap(*op, head)
		case AggregateSpec:
			head, err = NewAggregate(op, head)
		case *AggregateSpec:
			head, err = NewAggregate(*op, head)
		case TableSourceSpec:
			head, err = NewTableSource(op, head)
		case *TableSourceSpec:
			head, err = NewTableSource(*op, head)
		case ChangeColumnSpec:
			head = NewChangeColumn(op, head)
		case *ChangeColumnSpec:
			head = NewChangeColumn(*op, head)
		default:
			return nil, fmt.Errorf("pipeline: operator %d: unsupported spec %T", i, ops[i])
		}
		if err != nil {
			return nil, fmt.Errorf("pipeline: operator %d: %w", i, err)
		}
	}
	return head, nil
}
