package sluice

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Scale-out (DESIGN.md decision 2). Every stage of a persistent query is a
// consumer group ("_sluice-<service>-query-<stage>"); instances with the same
// service id run the same queries and the group spreads each stage's
// partitions over them. A partition of a stage is a task: the balancer
// (taskBalancer) gives partition p of every input topic of the stage to the
// same member, so a join's co-partitioned inputs stay together.
//
// The consumer blocks rebalances from a poll until the cycle that processes
// it has committed (kgo.BlockRebalanceOnPoll), so revocation always happens
// between cycles: a revoked task has committed (or aborted) its last cycle
// and only releases its task and state. On assignment, adjustOffsets
// compares the group's committed offsets of a partition with the local
// checkpoint and decides where the task starts and whether its state must be
// rebuilt from the changelogs (another instance may have advanced it); the
// next cycle creates the task. The group's committed offsets are the stage's
// progress under both guarantees: under exactly-once they are committed
// inside the cycle's transaction (KIP-447, kgo.GroupTransactSession), so
// progress, output and changelog records commit together.

// instanceMetaKey names the engine metadata that holds this instance's id.
const instanceMetaKey = "instance"

// loadInstanceID returns the instance id kept in the data directory,
// creating it on first use. It names the instance's transactional
// producers, so that a restarted instance fences its own previous
// incarnation, and orders members in taskBalancer, so that an instance gets
// the same partitions back when it returns.
func (e *Engine) loadInstanceID() (string, error) {
	b, ok, err := e.state.GetMeta(instanceMetaKey)
	if err != nil {
		return "", err
	}
	if ok && len(b) > 0 {
		return string(b), nil
	}
	raw := make([]byte, 8)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("instance id: %w", err)
	}
	id := hex.EncodeToString(raw)
	if err := e.state.PutMeta(instanceMetaKey, []byte(id)); err != nil {
		return "", err
	}
	return id, nil
}

// taskBalancer is the group balancer of query stages: it assigns partition
// numbers, not topic partitions. Members are ordered by instance id (carried,
// with the instance's Postgres-wire address, in the user data of the join
// metadata: memberMeta), then member id, and partition p of every topic goes
// to member p mod n. The assignment is the same for every rebalance with
// the same members, so tasks move only when membership changes.
//
// It is an eager protocol: every rebalance revokes all partitions and
// assigns them again; a task that stays keeps its local state (its
// checkpoint equals the committed offsets) and is recreated without a
// restore.
type taskBalancer struct{ meta memberMeta }

var _ kgo.GroupBalancer = taskBalancer{}

func (taskBalancer) ProtocolName() string { return "sluice-task" }
func (taskBalancer) IsCooperative() bool  { return false }

func (b taskBalancer) JoinGroupMetadata(interests []string, _ map[string][]int32, generation int32) []byte {
	meta := kmsg.NewConsumerMemberMetadata()
	meta.Version = 3
	meta.Topics = interests
	meta.Generation = generation
	meta.UserData = b.meta.encode()
	return meta.AppendTo(nil)
}

func (taskBalancer) ParseSyncAssignment(assignment []byte) (map[string][]int32, error) {
	return kgo.ParseConsumerSyncAssignment(assignment)
}

func (b taskBalancer) MemberBalancer(members []kmsg.JoinGroupResponseMember) (kgo.GroupMemberBalancer, map[string]struct{}, error) {
	cb, err := kgo.NewConsumerBalancer(b, members)
	if err != nil {
		return nil, nil, err
	}
	return cb, cb.MemberTopics(), nil
}

// Balance implements kgo.ConsumerBalancerBalance.
func (taskBalancer) Balance(cb *kgo.ConsumerBalancer, topics map[string]int32) kgo.IntoSyncAssignment {
	type member struct {
		m        *kmsg.JoinGroupResponseMember
		instance string
		topics   []string
	}
	var ms []member
	cb.EachMember(func(m *kmsg.JoinGroupResponseMember, meta *kmsg.ConsumerMemberMetadata) {
		ms = append(ms, member{m, parseMemberMeta(meta.UserData).Instance, meta.Topics})
	})
	sort.Slice(ms, func(i, j int) bool {
		if ms[i].instance != ms[j].instance {
			return ms[i].instance < ms[j].instance
		}
		return ms[i].m.MemberID < ms[j].m.MemberID
	})
	plan := cb.NewPlan()
	if len(ms) == 0 {
		return plan
	}
	var parts int32
	for topic := range cb.MemberTopics() {
		parts = max(parts, topics[topic])
	}
	for p := int32(0); p < parts; p++ {
		m := ms[int(p)%len(ms)]
		for _, topic := range m.topics {
			if p < topics[topic] {
				plan.AddPartition(m.m, topic, p)
			}
		}
	}
	return plan
}

// groupOpts are the consumer-group options of a stage's client.
func (s *stage) groupOpts() []kgo.Opt {
	e := s.q.e
	reset := kgo.NewOffset().AtStart()
	if s.q.info.Props[propOffsetReset] != "earliest" && !s.q.internalTopic(s.topics[0]) {
		// Only reached when the group has no offsets for a partition,
		// which the query's creation committed (commitStartOffsets).
		reset = kgo.NewOffset().AtEnd()
	}
	return []kgo.Opt{
		kgo.ConsumerGroup(s.group),
		kgo.ConsumeTopics(s.topics...),
		kgo.Balancers(taskBalancer{meta: memberMeta{Instance: e.instance, Addr: e.cfg.advertisedAddr}}),
		// Static membership: a restarted instance (a crash, a restart)
		// takes its member's place at once, without a rebalance that
		// would wait for the dead member's session to expire. A clean
		// stop leaves the group explicitly (leaveGroup).
		kgo.InstanceID(e.instance),
		kgo.BlockRebalanceOnPoll(),
		kgo.DisableAutoCommit(),
		// A killed instance's partitions move when the coordinator
		// misses its heartbeats for the session timeout
		// (session.timeout.ms, heartbeat.interval.ms).
		kgo.SessionTimeout(s.q.timing.session),
		kgo.HeartbeatInterval(s.q.timing.heartbeat),
		// A callback, even an empty one, makes the assign phase wait for
		// a running cycle too (BlockRebalanceOnPoll gates it only then).
		kgo.OnPartitionsAssigned(func(context.Context, *kgo.Client, map[string][]int32) {}),
		kgo.OnPartitionsRevoked(s.onRevoked),
		kgo.OnPartitionsLost(s.onRevoked),
		kgo.AdjustFetchOffsetsFn(s.adjustOffsets),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(),
		kgo.FetchMaxWait(e.cfg.pollWait),
		kgo.ConsumeResetOffset(reset),
	}
}

// adjustOffsets runs when the group assigns partitions to this instance,
// with the group's committed offsets of each. For each partition it decides
// where the task starts and whether its state is rebuilt:
//
//   - the local checkpoint equals the committed offsets (under
//     at-least-once: is at least as new, being written before the group
//     commit): reuse the local state, start at the checkpoint;
//   - otherwise (no local state, or another instance advanced the task
//     since): start at the committed offsets and restore the state from
//     the changelogs, which hold exactly what those offsets committed.
//
// The task itself is created by the next cycle (takeAssigned).
func (s *stage) adjustOffsets(_ context.Context, offsets map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	parts := map[int32]bool{}
	for _, topic := range s.topics {
		for p := range offsets[topic] {
			parts[p] = true
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for p := range parts {
		n := len(s.topics)
		committed := make([]int64, n)
		have := true
		for i, topic := range s.topics {
			o, ok := offsets[topic][p]
			if !ok || o.EpochOffset().Offset < 0 {
				have = false
				continue
			}
			committed[i] = o.EpochOffset().Offset
		}
		local, ok, err := s.q.e.readCheckpoints(s.name, p, n)
		if err != nil {
			return nil, err
		}
		restore := true
		start := committed
		switch {
		case ok && have && slices.Equal(local, committed):
			restore = false
		case ok && !s.q.eos && (!have || notBehind(local, committed)):
			restore, start = false, local
		case !have:
			// Nothing committed (the query's creation commits its start
			// offsets, so this is a partition added since): the reset
			// offset applies; restoring finds empty changelogs.
			start = nil
		}
		if start != nil {
			for i, topic := range s.topics {
				if offsets[topic] == nil {
					offsets[topic] = map[int32]kgo.Offset{}
				}
				offsets[topic][p] = kgo.NewOffset().At(start[i])
			}
		}
		s.assigned++
		s.pending[p] = assignment{restore: restore, start: start, seq: s.assigned}
		s.q.e.log.Info("task assigned", "query", s.q.id, "stage", s.name, "partition", p,
			"restore", restore, "start", start)
	}
	return offsets, nil
}

func notBehind(local, committed []int64) bool {
	for i := range local {
		if local[i] < committed[i] {
			return false
		}
	}
	return true
}

// onRevoked releases the tasks of revoked (or lost) partitions. It runs
// between cycles (the consumer blocks rebalances while a cycle works), so
// each task's last cycle has committed or aborted and nothing is in flight.
func (s *stage) onRevoked(_ context.Context, _ *kgo.Client, revoked map[string][]int32) {
	parts := map[int32]bool{}
	for _, topic := range s.topics {
		for _, p := range revoked[topic] {
			parts[p] = true
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for p := range parts {
		s.releaseLocked(p)
	}
}

// releaseLocked closes partition p's task and state; s.mu is held.
func (s *stage) releaseLocked(p int32) {
	delete(s.pending, p)
	if t := s.tasks[p]; t != nil {
		if err := t.close(); err != nil {
			s.q.e.log.Warn("close task", "query", s.q.id, "partition", p, "err", err)
		}
		delete(s.tasks, p)
	}
	if ts := s.states[p]; ts != nil {
		ts.close()
		delete(s.states, p)
	}
	delete(s.pos, p)
	delete(s.done, p)
	delete(s.ends, p)
	delete(s.idleSince, p)
}

// assignment is a partition assigned to this instance whose task the next
// cycle creates.
type assignment struct {
	restore bool    // rebuild the task's state from the changelogs
	start   []int64 // next offset per input; nil: the reset offset
	seq     uint64  // tells a later assignment of the same partition apart
}

// takeAssigned creates the tasks of partitions assigned since the last
// cycle, restoring their state where adjustOffsets said so. The consumer
// returns records of a partition only after adjustOffsets set its start,
// and the cycle calls this after its poll, so every fetched partition has
// its task. It may run while a group callback runs (after a poll that
// returned nothing, rebalances are not blocked), so it changes the maps
// under mu and drops a task whose partition was revoked meanwhile.
func (s *stage) takeAssigned() error {
	s.mu.Lock()
	pending := maps.Clone(s.pending)
	s.mu.Unlock()
	for p, a := range pending {
		t, ts, err := s.newTask(p, a.restore)
		if err != nil {
			return err
		}
		start := a.start
		if start == nil {
			// The reset offset applies; the first fetch sets the
			// position.
			start = make([]int64, len(s.topics))
		}
		s.mu.Lock()
		if now, ok := s.pending[p]; !ok || now.seq != a.seq {
			// Revoked meanwhile.
			s.mu.Unlock()
			t.close()
			ts.close()
			continue
		}
		delete(s.pending, p)
		s.tasks[p], s.states[p] = t, ts
		s.pos[p], s.done[p] = start, slices.Clone(start)
		s.mu.Unlock()
	}
	return nil
}

// owned returns the partitions of the stage whose tasks run here; with
// pending, also those assigned here whose tasks the next cycle creates.
func (s *stage) owned(pending bool) []int32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Collect(maps.Keys(s.tasks))
	if pending {
		out = slices.AppendSeq(out, maps.Keys(s.pending))
	}
	slices.Sort(out)
	return out
}

// ownedText describes, per stage, the partitions whose tasks run on this
// instance, e.g. "CSAS_X_0#0: 0, 2 of 4; CSAS_X_0: 0, 2 of 4" (DESCRIBE
// EXTENDED).
func (q *persistentQuery) ownedText() string {
	var b strings.Builder
	for i, s := range q.stages {
		if i > 0 {
			b.WriteString("; ")
		}
		parts := make([]string, 0, s.parts)
		for _, p := range s.owned(true) {
			parts = append(parts, strconv.Itoa(int(p)))
		}
		list := strings.Join(parts, ", ")
		if list == "" {
			list = "none"
		}
		fmt.Fprintf(&b, "%s: %s of %d", s.name, list, s.parts)
	}
	return b.String()
}

// leaveGroup removes this instance's static member from the stage's group
// after the client closed (a static member does not leave on close), so
// that the other instances take its partitions now rather than after the
// session timeout.
func (s *stage) leaveGroup(ctx context.Context) {
	req := kmsg.NewPtrLeaveGroupRequest()
	req.Group = s.group
	m := kmsg.NewLeaveGroupRequestMember()
	m.InstanceID = &s.q.e.instance
	req.Members = append(req.Members, m)
	resp, err := req.RequestWith(ctx, s.q.e.kafka.Client())
	if err == nil {
		err = kerr.ErrorForCode(resp.ErrorCode)
	}
	if err == nil && len(resp.Members) > 0 {
		err = kerr.ErrorForCode(resp.Members[0].ErrorCode)
	}
	if err != nil && !errors.Is(err, kerr.UnknownMemberID) && !errors.Is(err, kerr.GroupIDNotFound) {
		s.q.e.log.Warn("leave the group", "query", s.q.id, "group", s.group, "err", err)
	}
}
