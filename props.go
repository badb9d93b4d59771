package sluice

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sluicedb/sluice/sql"
)

// Properties the engine itself reads. Users set them with SET (per session),
// WithProperties (engine defaults), or `sluice serve --set` style flags.
const (
	// propOffsetReset is where a new query starts reading: "latest" (the
	// default, as in ksqlDB) or "earliest".
	propOffsetReset = "auto.offset.reset"
	// propCompression is the sink producer's codec: none (default), gzip,
	// snappy, lz4, zstd.
	propCompression = "compression.type"
	// propLinger is how long the sink producer waits to fill a batch, in ms
	// (default 5).
	propLinger = "linger.ms"
	// propGuarantee is the processing guarantee of persistent queries:
	// exactly_once_v2 (the default) or at_least_once (see eos.go).
	propGuarantee = "processing.guarantee"
	// propCommitInterval is how long a persistent query's processing cycle
	// keeps taking records before it commits (its transaction, under
	// exactly-once), in ms (default 100, as Kafka Streams under
	// exactly-once; see stage.cycle).
	propCommitInterval = "commit.interval.ms"
	// propSessionTimeout is the consumer-group session timeout of a
	// persistent query's stages, in ms (default 10000): how long the group
	// waits for a silent instance before it moves its partitions.
	propSessionTimeout = "session.timeout.ms"
	// propHeartbeat is the stages' group heartbeat interval, in ms
	// (default 1000); it must be below the session timeout.
	propHeartbeat = "heartbeat.interval.ms"
	// propTxnTimeout is the transaction timeout of a stage's
	// transactional producer under exactly-once, in ms (default 15000):
	// how long the brokers keep a killed instance's transaction open
	// before they abort it, which bounds how long the partitions' new
	// owner waits for their committed offsets.
	propTxnTimeout = "transaction.timeout.ms"
)

// queryTiming is the timing of a persistent query's stages, from its
// properties.
type queryTiming struct {
	commitInterval time.Duration
	session        time.Duration
	heartbeat      time.Duration
	txn            time.Duration
}

// timingProps are the timing properties with their defaults and bounds.
var timingProps = []struct {
	name     string
	def      time.Duration
	min, max time.Duration
	field    func(*queryTiming) *time.Duration
}{
	{propCommitInterval, 100 * time.Millisecond, 0, cycleTimeout / 2, func(t *queryTiming) *time.Duration { return &t.commitInterval }},
	{propSessionTimeout, 10 * time.Second, time.Second, time.Hour, func(t *queryTiming) *time.Duration { return &t.session }},
	{propHeartbeat, time.Second, 100 * time.Millisecond, time.Hour, func(t *queryTiming) *time.Duration { return &t.heartbeat }},
	{propTxnTimeout, 15 * time.Second, time.Second, 15 * time.Minute, func(t *queryTiming) *time.Duration { return &t.txn }},
}

// timingOf reads a query's timing properties. ksqlDB's prefixed form
// (ksql.streams.commit.interval.ms) is accepted too; the plain name wins.
// A value that is not a whole number of ms within bounds is an error
// naming the property and its range.
func timingOf(props map[string]string) (queryTiming, error) {
	var t queryTiming
	for _, tp := range timingProps {
		*tp.field(&t) = tp.def
		v, ok := props[tp.name]
		if !ok {
			v, ok = props["ksql.streams."+tp.name]
		}
		if !ok {
			continue
		}
		ms, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		d := time.Duration(ms) * time.Millisecond
		if err != nil || d < tp.min || d > tp.max {
			return t, sql.Errorf(sql.CodeInvalidParameter, sql.Pos{}, "invalid value '%s' for property %s", v, tp.name).
				WithHint("set %s to a number of milliseconds from %d to %d", tp.name, tp.min.Milliseconds(), tp.max.Milliseconds())
		}
		*tp.field(&t) = d
	}
	if t.heartbeat >= t.session {
		return t, sql.Errorf(sql.CodeInvalidParameter, sql.Pos{}, "%s (%d) must be below %s (%d)",
			propHeartbeat, t.heartbeat.Milliseconds(), propSessionTimeout, t.session.Milliseconds()).
			WithHint("a member sends several heartbeats per session timeout; Kafka's default is a third of it")
	}
	return t, nil
}

// knownProperties lists the properties SHOW PROPERTIES reports even when
// unset, with their defaults.
var knownProperties = map[string]string{
	propOffsetReset:                       "latest",
	propCompression:                       "none",
	propLinger:                            "5",
	propGuarantee:                         guaranteeExactlyOnce,
	propCommitInterval:                    "100",
	propSessionTimeout:                    "10000",
	propHeartbeat:                         "1000",
	propTxnTimeout:                        "15000",
	"ksql.persistence.wrap.single.values": "true",
	"ksql.output.topic.name.prefix":       "",
}

func lingerOf(props map[string]string) time.Duration {
	v, ok := props[propLinger]
	if !ok {
		return 5 * time.Millisecond
	}
	ms, err := strconv.Atoi(v)
	if err != nil || ms < 0 {
		return 5 * time.Millisecond
	}
	return time.Duration(ms) * time.Millisecond
}

// mergeProps returns base overlaid with over.
func mergeProps(base, over map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
