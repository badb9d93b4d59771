package sluice

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice/exec/codec"
	"github.com/sluicedb/sluice/internal/pgclient"
	"github.com/sluicedb/sluice/sql"
)

// Pull queries across instances. A table's rows live in the materialized
// stores of the tasks of the final stage of the query that writes it, and
// the stage's consumer group spreads those tasks over the instances of the
// service. Each instance tells the group the address of its Postgres-wire
// server (memberMeta, in the user data of its join metadata), so the
// group's description (DescribeGroups) says who owns which partition and
// where to reach it.
//
// A pull query reads the partitions this instance owns from local state
// and asks the owner of each other partition for that partition's stored
// rows: a key lookup asks only the owner of the key's partition (the
// default partitioner's, murmur2 of the key bytes) and, for keys that
// partition does not hold (a topic its producer partitioned otherwise), the
// owners of the rest; a scan asks every owner. The owners return stored
// rows (key, value, time), not results: the asking instance runs the
// query's filter, projection and LIMIT over the merged rows, in the order
// a single instance reads them, so a query gives the same answer on every
// instance.
//
// A forwarded request is a pull query sent over the Postgres wire protocol
// with the property propPullPartitions set: the receiver answers it from
// its own state only, so requests never loop. A partition it does not own
// (any more) fails the request, as an unreachable owner does; the asking
// instance then describes the group again and retries (once for an
// unreachable owner; for up to pullSettleTimeout, a rebalance settling,
// when the owner says the ownership moved), and otherwise
// fails the query with an error naming the instance and partitions: a pull
// query never returns a silent partial result.

// propPullPartitions marks a forwarded pull query: the comma-separated
// partitions of the table's final stage to read from local state. The
// answer is those partitions' stored rows (pullRawColumns).
const propPullPartitions = "sluice.internal.pull.partitions"

// pullRawColumns are the columns of a forwarded pull query's answer.
var pullRawColumns = []Column{{Name: "PARTITION", Type: "INTEGER"}, {Name: "KEY", Type: "BYTES"},
	{Name: "VALUE", Type: "BYTES"}, {Name: "ROWTIME", Type: "BIGINT"}}

// Routing timing: how long a pull query waits for the group to settle on
// an assignment (a rebalance in progress) and retries forwarded reads that
// found the ownership moved, how long a forwarded request may take, and
// the pause between retries.
const (
	pullSettleTimeout = 10 * time.Second
	pullForwardTimout = 30 * time.Second
	pullRetryWait     = time.Second
)

// memberMeta is what an instance tells its stages' groups about itself:
// its instance id, by which taskBalancer orders members, and the address
// of its Postgres-wire server ("" when it serves none: an embedded engine
// without WithAdvertisedAddr).
type memberMeta struct {
	Instance string `json:"instance"`
	Addr     string `json:"pgAddr,omitempty"`
}

func (m memberMeta) encode() []byte {
	b, _ := json.Marshal(m)
	return b
}

// parseMemberMeta decodes a member's user data; an older sluice sent its
// instance id alone.
func parseMemberMeta(b []byte) memberMeta {
	var m memberMeta
	if json.Unmarshal(b, &m) != nil || m.Instance == "" {
		return memberMeta{Instance: string(b)}
	}
	return m
}

// errNotSettled reports a group without a complete, stable assignment.
var errNotSettled = errors.New("the group is rebalancing")

// stageOwners returns the member that owns each partition of s, as the
// stage's group assigned them; errNotSettled while the group rebalances or
// leaves a partition unassigned.
func (e *Engine) stageOwners(ctx context.Context, s *stage) (map[int32]memberMeta, error) {
	groups, err := e.kafka.Admin().DescribeGroups(ctx, s.group)
	if err != nil {
		return nil, err
	}
	g, ok := groups[s.group]
	switch {
	case !ok:
		return nil, errNotSettled
	case g.Err != nil:
		return nil, fmt.Errorf("describe group %s: %w", s.group, g.Err)
	case g.State != "Stable":
		return nil, errNotSettled
	}
	owners := map[int32]memberMeta{}
	for _, m := range g.Members {
		join, ok := m.Join.AsConsumer()
		asg, ok2 := m.Assigned.AsConsumer()
		if !ok || !ok2 {
			continue
		}
		meta := parseMemberMeta(join.UserData)
		for _, t := range asg.Topics {
			if t.Topic != s.topics[0] {
				continue
			}
			for _, p := range t.Partitions {
				owners[p] = meta
			}
		}
	}
	if len(owners) != int(s.parts) {
		return nil, errNotSettled
	}
	return owners, nil
}

// settledOwners waits (up to pullSettleTimeout) for stageOwners to return
// a complete assignment whose partitions owned here have their tasks.
func (e *Engine) settledOwners(ctx context.Context, s *stage) (map[int32]memberMeta, error) {
	deadline := time.Now().Add(pullSettleTimeout)
	for {
		owners, err := e.stageOwners(ctx, s)
		if err == nil {
			local := s.owned(false)
			for p, o := range owners {
				if o.Instance == e.instance && !slices.Contains(local, p) {
					err = errNotSettled // assigned here, task not created yet
				}
			}
		}
		if err == nil {
			return owners, nil
		}
		if !errors.Is(err, errNotSettled) || time.Now().After(deadline) {
			return nil, sql.Errorf(sql.CodeConnectionFailure, sql.Pos{},
				"cannot tell which instance owns the partitions of %s: %v", s.name, err).
				WithHint("retry the pull query when the service's instances have settled their partitions")
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// pullRequest is one pull query's reads of a table's final stage.
type pullRequest struct {
	stage  *stage
	topic  string // the table's topic, as which stored rows are decoded
	window codec.WindowType
	keys   [][]byte // lookup keys, in the order the query lists them
	lookup bool
	// text and props are the query and its session properties, forwarded
	// to the owners of other partitions.
	text  string
	props map[string]string
}

// gather reads the rows of req from every partition that may hold them,
// locally or from their owners, and returns them in the order one instance
// owning every partition reads them: a scan partition by partition, each
// in key order; a lookup key by key, each from every partition.
func (e *Engine) gather(ctx context.Context, req *pullRequest) ([]pullRead, error) {
	// Ownership may move (a rebalance: an instance joined or left) between
	// describing the group and reading from the owner: retry from a fresh
	// description, for as long as a rebalance may take to settle.
	// An owner that is unreachable gets one retry (it may have been
	// replaced); one that answers that the ownership moved, retries until
	// pullSettleTimeout.
	deadline := time.Now().Add(pullSettleTimeout)
	byPart, err := e.gatherOnce(ctx, req)
	for tries := 1; err != nil; tries++ {
		var fe *forwardError
		if !errors.As(err, &fe) || time.Now().Add(pullRetryWait).After(deadline) || tries > 1 && !ownershipMoved(err) {
			return nil, err
		}
		e.log.Info("pull query: retrying a forwarded read", "err", err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pullRetryWait):
		}
		byPart, err = e.gatherOnce(ctx, req)
	}
	parts := slices.Sorted(maps.Keys(byPart))
	var out []pullRead
	if !req.lookup {
		for _, p := range parts {
			out = append(out, pullRead{p, byPart[p]})
		}
		return out, nil
	}
	for _, k := range req.keys {
		for _, p := range parts {
			var recs []*kgo.Record
			for _, r := range byPart[p] {
				if storedKeyMatches(r.Key, k, req.window) {
					recs = append(recs, r)
				}
			}
			out = append(out, pullRead{p, recs})
		}
	}
	return out, nil
}

// pullRead is the stored rows read from one partition.
type pullRead struct {
	p    int32
	recs []*kgo.Record
}

// gatherOnce does gather's reads against one description of the group.
func (e *Engine) gatherOnce(ctx context.Context, req *pullRequest) (map[int32][]*kgo.Record, error) {
	s := req.stage
	local := s.owned(false)
	out := map[int32][]*kgo.Record{}
	if len(local) == int(s.parts) {
		// Every partition's task runs here (one instance, or the
		// others own nothing of this stage).
		for _, p := range local {
			recs, err := e.readLocal(req, p)
			if err != nil {
				return nil, err
			}
			out[p] = recs
		}
		return out, nil
	}
	owners, err := e.settledOwners(ctx, s)
	if err != nil {
		return nil, err
	}
	remote := map[memberMeta][]int32{}
	for p := int32(0); p < s.parts; p++ {
		if o := owners[p]; o.Instance == e.instance {
			recs, err := e.readLocal(req, p)
			if err != nil {
				return nil, err
			}
			out[p] = recs
		} else {
			remote[o] = append(remote[o], p)
		}
	}
	if req.lookup {
		// First the owners of the keys' partitions.
		first := map[memberMeta][]int32{}
		for _, k := range req.keys {
			p := keyPartition(k, s.parts)
			if o := owners[p]; o.Instance != e.instance && !slices.Contains(first[o], p) {
				first[o] = append(first[o], p)
			}
		}
		if err := e.forwardAll(ctx, req, first, out); err != nil {
			return nil, err
		}
		// Then, for keys still missing, every partition not read yet.
		missing := false
		for _, k := range req.keys {
			missing = missing || !found(out, k, req.window)
		}
		if !missing {
			return out, nil
		}
		e.log.Debug("pull lookup: keys not in their partitions' stores; reading the other partitions", "stage", s.name)
		for o, ps := range remote {
			remote[o] = slices.DeleteFunc(ps, func(p int32) bool { _, read := out[p]; return read })
		}
	}
	return out, e.forwardAll(ctx, req, remote, out)
}

// readLocal reads partition p's stored rows of req from local state.
func (e *Engine) readLocal(req *pullRequest, p int32) ([]*kgo.Record, error) {
	if !req.lookup {
		return e.readMaterialized(req.stage.name, p, req.topic, nil, req.window)
	}
	var out []*kgo.Record
	for _, k := range req.keys {
		recs, err := e.readMaterialized(req.stage.name, p, req.topic, k, req.window)
		if err != nil {
			return nil, err
		}
		out = append(out, recs...)
	}
	return out, nil
}

// found reports whether any partition read holds key k.
func found(byPart map[int32][]*kgo.Record, k []byte, window codec.WindowType) bool {
	for _, recs := range byPart {
		for _, r := range recs {
			if storedKeyMatches(r.Key, k, window) {
				return true
			}
		}
	}
	return false
}

// keyPartition is the partition the default partitioner (murmur2, as Java
// clients and sluice's producers use) gives key among n.
func keyPartition(key []byte, n int32) int32 {
	return int32(kgo.StickyKeyPartitioner(nil).ForTopic("").Partition(&kgo.Record{Key: key}, int(n)))
}

// forwardError is a forwarded read that failed: the owner is unreachable
// or no longer owns the partitions.
type forwardError struct {
	owner memberMeta
	parts []int32
	err   error
}

func (f *forwardError) Error() string {
	who := "instance " + f.owner.Instance
	if f.owner.Addr != "" {
		who += " at " + f.owner.Addr
	}
	return fmt.Sprintf("%s, owner of partitions %s: %v", who, partList(f.parts), f.err)
}

func (f *forwardError) Unwrap() error { return f.err }

// ownershipMoved reports whether err is an owner's answer that it does not
// own the partitions it was asked for (any more).
func ownershipMoved(err error) bool {
	var pe *pgclient.Error
	return errors.As(err, &pe) && pe.Code == string(sql.CodeObjectNotInState)
}

func partList(ps []int32) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = strconv.Itoa(int(p))
	}
	return strings.Join(s, ",")
}

// forwardAll asks each owner for its partitions' rows and adds them to out.
func (e *Engine) forwardAll(ctx context.Context, req *pullRequest, owners map[memberMeta][]int32, out map[int32][]*kgo.Record) error {
	for o, ps := range owners {
		if len(ps) == 0 {
			continue
		}
		slices.Sort(ps)
		rows, err := e.forward(ctx, req, o, ps)
		if err != nil {
			return err
		}
		for _, p := range ps {
			out[p] = rows[p]
			if out[p] == nil {
				out[p] = []*kgo.Record{}
			}
		}
	}
	return nil
}

// forward sends req to owner o as a pull query marked with the partitions
// ps, and returns the stored rows it answered, by partition.
func (e *Engine) forward(ctx context.Context, req *pullRequest, o memberMeta, ps []int32) (map[int32][]*kgo.Record, error) {
	fail := func(err error) error { return &forwardError{owner: o, parts: ps, err: err} }
	if o.Addr == "" {
		return nil, fail(errors.New("it serves no Postgres-wire address to forward pull queries to (sluice serve --pg-addr, or WithAdvertisedAddr when embedded)"))
	}
	ctx, cancel := context.WithTimeout(ctx, pullForwardTimout)
	defer cancel()
	conn, err := pgclient.Dial(ctx, o.Addr, map[string]string{"user": "sluice", "database": "sluice",
		"application_name": "sluice " + e.instance})
	if err != nil {
		return nil, fail(err)
	}
	defer conn.Close()
	var text strings.Builder
	for _, k := range sortedKeys(req.props) {
		fmt.Fprintf(&text, "SET '%s'='%s';\n", quoteLit(k), quoteLit(req.props[k]))
	}
	fmt.Fprintf(&text, "SET '%s'='%s';\n%s;", propPullPartitions, partList(ps), req.text)
	res, err := conn.Query(ctx, text.String())
	if err != nil {
		return nil, fail(err)
	}
	if len(res.Columns) != len(pullRawColumns) {
		return nil, fail(fmt.Errorf("unexpected answer with columns %v", res.Columns))
	}
	out := map[int32][]*kgo.Record{}
	for _, row := range res.Rows {
		r, err := rawRecord(req.topic, row)
		if err != nil {
			return nil, fail(err)
		}
		out[r.Partition] = append(out[r.Partition], r)
	}
	return out, nil
}

func quoteLit(s string) string { return strings.ReplaceAll(s, "'", "''") }

// rawRecord decodes a row of a forwarded answer (pullRawColumns, as text).
func rawRecord(topic string, row [][]byte) (*kgo.Record, error) {
	p, err := strconv.ParseInt(string(row[0]), 10, 32)
	if err != nil {
		return nil, fmt.Errorf("partition %q: %w", row[0], err)
	}
	key, err := byteaText(row[1])
	if err != nil {
		return nil, err
	}
	val, err := byteaText(row[2])
	if err != nil {
		return nil, err
	}
	ts, err := strconv.ParseInt(string(row[3]), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("rowtime %q: %w", row[3], err)
	}
	return &kgo.Record{Topic: topic, Partition: int32(p), Key: key, Value: val, Timestamp: time.UnixMilli(ts)}, nil
}

// byteaText decodes bytea's hex text format (\x...).
func byteaText(b []byte) ([]byte, error) {
	h, ok := strings.CutPrefix(string(b), `\x`)
	if !ok {
		return nil, fmt.Errorf("bytea %q is not in hex format", b)
	}
	return hex.DecodeString(h)
}

// answerForwarded answers a forwarded pull query: the stored rows of the
// partitions parts (propPullPartitions) from local state only.
func (e *Engine) answerForwarded(req *pullRequest, parts string) (*Rows, error) {
	local := req.stage.owned(false)
	var rows []Row
	for _, f := range strings.Split(parts, ",") {
		p, err := strconv.ParseInt(f, 10, 32)
		if err != nil {
			return nil, sql.Errorf(sql.CodeInvalidParameter, sql.Pos{}, "%s: %q is not a partition number", propPullPartitions, f)
		}
		if !slices.Contains(local, int32(p)) {
			return nil, sql.Errorf(sql.CodeObjectNotInState, sql.Pos{},
				"partition %d of %s is not on instance %s (any more): its ownership moved", p, req.stage.name, e.instance)
		}
		recs, err := e.readLocal(req, int32(p))
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			rows = append(rows, Row{Values: []any{int32(p), r.Key, r.Value, r.Timestamp.UnixMilli()}})
		}
	}
	return newStaticRows(pullRawColumns, rows), nil
}
