package sluice

import (
	"context"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedb/sluice/planner"
)

// Exactly-once (DESIGN.md decision 7), the default processing guarantee of
// persistent queries (processing.guarantee=exactly_once_v2).
//
// Each stage's client is a kgo.GroupTransactSession: one client that
// consumes in the stage's group and produces transactionally. A processing
// cycle is one transaction: the output records, the changelog records of
// the tasks' state and the stage's next input offsets (committed to the
// group with TxnOffsetCommit, KIP-447) commit together or not at all.
// Consumers read with read_committed, so nobody sees the output of an
// aborted cycle, and a group member reading offsets waits for an open
// transaction that holds them ("require stable").
//
// The transactional id is per stage and per instance
// ("_sluice-<service>-<stage>-<instance>"): instances sharing a stage do not
// fence each other, and a restarted instance fences its own previous
// incarnation (FenceTransactionalID at open aborts its open transaction at
// once). A member that lost its partitions cannot commit: the group
// rejects a TxnOffsetCommit of an old generation, and the session aborts.
//
// The local Pebble state is committed after the transaction, with a
// checkpoint holding the same offsets: on assignment, a task whose local
// checkpoint equals the group's committed offsets reuses its local state;
// any other task (a crash between the two commits, a new data directory, a
// task another instance advanced) rebuilds its state from the changelogs
// (group.go, adjustOffsets).

const (
	guaranteeAtLeastOnce = "at_least_once"
	guaranteeExactlyOnce = "exactly_once_v2"
)

// isTaskTopic reports whether topic is partitioned by task, not by key: a
// changelog, whose partition p belongs to task p.
func (e *Engine) isTaskTopic(topic string) bool {
	return strings.HasPrefix(topic, "_sluice-"+e.cfg.serviceID+"-") && strings.HasSuffix(topic, "-changelog")
}

// transactionalID names the transactional producer of a stage on this
// instance.
func (e *Engine) transactionalID(stage string) string {
	return "_sluice-" + e.cfg.serviceID + "-" + stage + "-" + e.instance
}

// openClient creates the stage's group client: under exactly-once a
// transactional session that also produces the stage's records, otherwise a
// consumer (the query's shared producer writes).
func (s *stage) openClient(ctx context.Context) error {
	q, e := s.q, s.q.e
	if !q.eos {
		opts := append([]kgo.Opt{kgo.SeedBrokers(e.seeds...), kgo.ClientID("sluice-" + q.id)}, s.groupOpts()...)
		cl, err := kgo.NewClient(opts...)
		if err != nil {
			return fmt.Errorf("query %s: consumer: %w", q.id, err)
		}
		s.consumer, s.producer = cl, q.producer
		return nil
	}
	txnID := e.transactionalID(s.name)
	// A killed instance's open transaction is aborted by the brokers after
	// the transaction timeout (transaction.timeout.ms), which bounds how
	// long the partitions' new owner waits for their committed offsets.
	txnTimeout := q.timing.txn
	if err := e.kafka.FenceTransactionalID(ctx, txnID, txnTimeout); err != nil {
		return fmt.Errorf("query %s: %w", q.id, err)
	}
	o := q.prodO
	o.TransactionalID = txnID
	opts, err := o.ClientOpts(e.seeds)
	if err != nil {
		return fmt.Errorf("query %s: transactional producer: %w", q.id, err)
	}
	opts = append(opts, kgo.TransactionTimeout(txnTimeout))
	sess, err := kgo.NewGroupTransactSession(append(opts, s.groupOpts()...)...)
	if err != nil {
		return fmt.Errorf("query %s: transactional session: %w", q.id, err)
	}
	s.sess, s.consumer, s.producer = sess, sess.Client(), sess.Client()
	return nil
}

// commitStartOffsets commits, for every stage of a new query, the offsets
// its partitions start from (auto.offset.reset resolved to concrete
// offsets), before the query is in the command topic: no instance runs the
// query's groups yet, and a query that starts at "latest" and is restarted
// before it processed anything does not skip what arrived in between.
// Internal topics (created here) are always read from their start; only
// the user's topics honour auto.offset.reset. Partitions that already have offsets (a
// replaced query) keep them.
func (e *Engine) commitStartOffsets(ctx context.Context, qi *queryInfo, plan *planner.Plan) error {
	internal := map[string]bool{}
	for _, pre := range plan.Pre {
		// The query's internal topics must exist to hold offsets.
		if err := e.kafka.CreateTopic(ctx, pre.Topic, pre.Partitions, 0, nil); err != nil {
			return fmt.Errorf("query %s: internal topic: %w", qi.ID, err)
		}
		internal[pre.Topic] = true
	}
	for _, spec := range stageSpecs(qi.ID, plan) {
		group := e.groupFor(spec.name)
		committed, err := e.kafka.CommittedOffsets(ctx, group)
		if err != nil {
			return err
		}
		os := kadm.Offsets{}
		for _, topic := range spec.inputTopics() {
			var ends map[int32]int64
			var parts int32
			if internal[topic] {
				for _, pre := range plan.Pre {
					if pre.Topic == topic {
						parts = pre.Partitions
					}
				}
			} else {
				info, ok, err := e.kafka.DescribeTopic(ctx, topic)
				if err != nil {
					return err
				}
				if !ok {
					return fmt.Errorf("query %s: Kafka topic does not exist: %s", qi.ID, topic)
				}
				parts = info.Partitions
				if qi.Props[propOffsetReset] != "earliest" {
					end, err := e.kafka.EndOffsets(ctx, topic)
					if err != nil {
						return err
					}
					ends = end[topic]
				}
			}
			for p := int32(0); p < parts; p++ {
				if _, ok := committed[topic][p]; !ok {
					os.Add(kadm.Offset{Topic: topic, Partition: p, At: ends[p], LeaderEpoch: -1})
				}
			}
		}
		if len(os) == 0 {
			continue
		}
		resp, err := e.kafka.Admin().CommitOffsets(ctx, group, os)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			return fmt.Errorf("query %s: commit start offsets of %s: %w", qi.ID, spec.name, err)
		}
	}
	return nil
}
