package sluice

import (
	"sort"
	"strconv"
	"time"
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
)

// knownProperties lists the properties SHOW PROPERTIES reports even when
// unset, with their defaults.
var knownProperties = map[string]string{
	propOffsetReset:                       "latest",
	propCompression:                       "none",
	propLinger:                            "5",
	propGuarantee:                         "at_least_once",
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
