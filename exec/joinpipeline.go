package exec

import "fmt"

// BuildJoinPipeline builds the pipeline of a stage with several inputs (a
// join): ops is the main chain (planner.Plan.Ops) and contains one JoinSpec
// (value or pointer) per join; sides[k] are the operators applied to the
// right input of the k-th JoinSpec of ops, in front of that join's right
// port. It returns the heads: heads[0] takes the main input (the left side
// of the first join), heads[1+k] the right input of join k, matching the
// task's inputs (NewMultiTask) and planner.Plan.Joins.
//
// Without a JoinSpec and with no sides it is BuildPipeline.
func BuildJoinPipeline(ops []any, sides [][]any, tail Operator) ([]Operator, error) {
	var joinAt []int
	for i, op := range ops {
		switch op.(type) {
		case JoinSpec, *JoinSpec:
			joinAt = append(joinAt, i)
		}
	}
	if len(joinAt) != len(sides) {
		return nil, fmt.Errorf("pipeline: %d joins but %d join inputs", len(joinAt), len(sides))
	}
	heads := make([]Operator, 1+len(sides))
	next := tail
	end := len(ops)
	for k := len(joinAt) - 1; k >= 0; k-- {
		at := joinAt[k]
		head, err := BuildPipeline(ops[at+1:end], next)
		if err != nil {
			return nil, err
		}
		spec, ok := ops[at].(JoinSpec)
		if !ok {
			spec = *ops[at].(*JoinSpec)
		}
		j, err := NewJoin(spec, head)
		if err != nil {
			return nil, fmt.Errorf("pipeline: operator %d: %w", at, err)
		}
		if heads[1+k], err = BuildPipeline(sides[k], j.Port(1)); err != nil {
			return nil, fmt.Errorf("pipeline: join input %d: %w", k, err)
		}
		next, end = j.Port(0), at
	}
	head, err := BuildPipeline(ops[:end], next)
	if err != nil {
		return nil, err
	}
	heads[0] = head
	return heads, nil
}
